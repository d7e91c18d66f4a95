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
  const toMrz = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toUpperCase()
      .replace(/[^A-Z]+/g, '<')
      .replace(/^<+|<+$/g, '');
  const names = toMrz(lastName) + (firstName ? `<<${toMrz(firstName)}` : '');
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
function isSubsequence(a: string, b: string): boolean {
  let j = 0;
  for (const c of b) if (j < a.length && a[j] === c) j++;
  return j === a.length;
}
