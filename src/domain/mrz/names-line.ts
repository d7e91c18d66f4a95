import { foldLatin } from '../documents/normalise-field.ts';

/** A name as the MRZ spells it: capitals without accents, every run of other characters one filler. */
export const mrzForm = (s: string): string =>
  foldLatin(s)
    .replace(/[^A-Z]+/g, '<')
    .replace(/^<+|<+$/g, '');

/**
 * The MRZ names line with the letters its OCR dropped put back from the visual zone's names. The names
 * line carries no check digit, and PP-OCR drops letters on long monospace lines ("CHERKAOUI<<KAWTAR" read
 * "CHERKAUI<<AWTAR"). When the line read is the visual zone's names with letters missing (a subsequence,
 * at most a few) and those names fit the line, the line is rebuilt from them; otherwise it stays as read.
 * Names the line does not hold (a letter it has that they lack) are not forced in.
 */
export function repairNamesLine(
  lines: readonly string[],
  format: string | undefined,
  lastName: string | undefined,
  firstName: string | undefined,
): string[] {
  const out = [...lines];
  const index = format === 'TD1' ? 2 : format && format !== 'FRENCH_NATIONAL_ID' ? 0 : -1;
  const line = out[index];
  if (!line || !lastName) return out;
  // TD2, TD3 and visas start with the document code and the issuing state.
  const head = index === 0 ? line.slice(0, 5) : '';
  const names = mrzForm(lastName) + (firstName ? `<<${mrzForm(firstName)}` : '');
  const read = line.slice(head.length).replace(/<+$/, '');
  if (head.length + names.length > line.length || names === read) return out;
  const letters = (s: string) => s.replace(/</g, '');
  const missing = letters(names).length - letters(read).length;
  if (missing < 1 || missing > MAX_DROPPED || !isSubsequence(read, names)) return out;
  out[index] = (head + names).padEnd(line.length, '<');
  return out;
}

/** Letters a names line may have lost for the visual zone's names to be put back. */
const MAX_DROPPED = 3;

/** Whether `a` is `b` with characters left out. */
export function isSubsequence(a: string, b: string): boolean {
  let j = 0;
  for (const c of b) if (j < a.length && a[j] === c) j++;
  return j === a.length;
}

/**
 * The names line's double filler between surname and given names read as a single one
 * (`ZERHOUNI<HAMZA<<<…` for `ZERHOUNI<<HAMZA`): the line then parses as one surname of every name and no
 * given names. When that surname's letters are, in order, exactly the visual zone's surname then given
 * names, the separator is put back where the visual zone's surname ends. No letter is changed, so no
 * alteration of a name can hide behind it; any other difference stays a disagreement.
 */
export function splitLostSeparator(
  mrzLastName: string,
  vzLastName: string,
  vzFirstName: string,
): { last_name: string; first_name: string } | undefined {
  const letters = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toUpperCase()
      .replace(/[^A-Z]/g, '');
  const surname = letters(vzLastName);
  const given = letters(vzFirstName);
  if (!surname || !given || letters(mrzLastName) !== surname + given) return undefined;
  // Cut the MRZ's own text after as many letters as the visual zone's surname has.
  let seen = 0;
  let cut = 0;
  for (const [i, c] of [...mrzLastName].entries()) {
    if (/[A-Z]/.test(c)) seen++;
    if (seen === surname.length) {
      cut = i + 1;
      break;
    }
  }
  const last = mrzLastName.slice(0, cut).trim();
  const first = mrzLastName.slice(cut).trim();
  return last && first ? { last_name: last, first_name: first } : undefined;
}
