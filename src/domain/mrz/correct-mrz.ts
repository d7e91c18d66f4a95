/**
 * OCR confusions in an MRZ, fixed by what each position may hold and then by the check digits.
 *
 * The OCR-B confusions are O/D↔0, I↔1, B↔8, S↔5, Z↔2, G↔6 and `<`↔K. Where a position's type decides
 * (a date holds digits, a name letters) the fix is certain. In alphanumeric fields (document and
 * personal numbers, optional data) only the check digits can tell, and two confusions they cannot see
 * at all: G (16) and 6, K (20) and `<` (0) differ by a multiple of 10, so every 7-3-1 weight gives the
 * same digit. Those two are fixed by structure only (a K inside a run of fillers) or not at all.
 */
import {
  classAt,
  isCheckValid,
  resolveChecks,
  type FieldSpan,
  type MrzLayout,
  type Pos,
  type ResolvedCheck,
} from './mrz-layout.ts';

export interface MrzCorrection {
  line: number;
  position: number;
  from: string;
  to: string;
  field: string;
}

/** At most this many substitutions per check digit: beyond two, 7-3-1 finds a "fix" for almost anything. */
const MAX_SUBSTITUTIONS_PER_FIELD = 2;

const TO_DIGIT: Record<string, string> = { O: '0', D: '0', I: '1', B: '8', S: '5', Z: '2', G: '6', K: '<' };
const TO_LETTER: Record<string, string> = { '0': 'O', '1': 'I', '8': 'B', '5': 'S', '2': 'Z', '6': 'G' };
/** Confusions a check digit can see (not G↔6, not K↔`<`), both ways, for alphanumeric positions. */
const VISIBLE_SWAPS: Record<string, string[]> = {
  O: ['0'],
  D: ['0'],
  I: ['1'],
  B: ['8'],
  S: ['5'],
  Z: ['2'],
  '0': ['O', 'D'],
  '1': ['I'],
  '8': ['B'],
  '5': ['S'],
  '2': ['Z'],
};

type Substitution = Pos & { to: string };

function setChar(lines: string[], line: number, pos: number, to: string): void {
  const s = lines[line] ?? '';
  lines[line] = s.slice(0, pos) + to + s.slice(pos + 1);
}

/**
 * Fixes that the position's type makes certain: letters in numeric positions, digits in names and codes,
 * and a K where only a filler can be (sex, state codes, the filler tail of names and of alphanumeric fields).
 */
export function correctByType(layout: MrzLayout, input: readonly string[]): string[] {
  const lines = [...input];
  const checks = resolveChecks(layout, lines);
  for (const f of layout.fields) {
    for (let pos = f.start; pos < f.end; pos++) {
      const char = lines[f.line]?.charAt(pos) ?? '';
      const cls = classAt(layout, checks, f.line, pos);
      const to = cls === 'numeric' ? TO_DIGIT[char] : cls === 'alpha' ? TO_LETTER[char] : undefined;
      if (to) setChar(lines, f.line, pos, to);
    }
  }
  for (const f of layout.fields) {
    const text = lines[f.line]?.slice(f.start, f.end) ?? '';
    const fixed = withFillersRestored(f, text);
    for (let i = 0; i < text.length; i++) {
      if (fixed[i] !== text[i]) setChar(lines, f.line, f.start + i, fixed[i] ?? '<');
    }
  }
  return lines;
}

/** A field's text with each K that can only be a filler turned back into `<`. */
function withFillersRestored(f: FieldSpan, text: string): string {
  switch (f.field) {
    case 'sex':
      return text === 'K' ? '<' : text;
    case 'issuingState':
    case 'nationality':
      return text.replace(/(?<=<)K/g, '<'); // D<< is the one code with fillers
    case 'names':
    case 'lastName':
    case 'firstName':
      return fillerTailOfNames(f.field, text);
    default:
      // Alphanumeric data ends in a run of fillers; a K right after the data could be data, so the run
      // starts after a `<` (or the field is fillers only).
      return f.cls === 'alnum'
        ? text.replace(/(?<=<)[<K]*$|^K[<K]*$/, (tail) => tail.replaceAll('K', '<'))
        : text;
  }
}

/**
 * Names end at the first `<<` after the given names (after the surname on the French CNI's lines); a K
 * in the run of fillers that follows stands for a filler. A tail holding anything else is left alone.
 */
function fillerTailOfNames(field: string, text: string): string {
  let end: number;
  if (field === 'names') {
    const separator = text.indexOf('<<');
    if (separator === -1) return text;
    const given = text.slice(separator + 2).search(/[^<]/);
    if (given === -1) return text;
    end = text.indexOf('<<', separator + 2 + given);
  } else {
    end = text.indexOf('<<');
  }
  if (end === -1 || !/^[<K]*$/.test(text.slice(end))) return text;
  return text.slice(0, end) + text.slice(end).replaceAll('K', '<');
}

/** Every set of up to `max` visible swaps on `check.fixable` that makes `check` hold. */
function candidateFixes(
  check: ResolvedCheck,
  layout: MrzLayout,
  lines: readonly string[],
  max: number,
  lettersToDigitsOnly: boolean,
): Substitution[][] {
  const touched = [check.digit, ...check.fixable];
  if (touched.some((p) => !/^[A-Z0-9<]$/.test(lines[p.line]?.charAt(p.pos) ?? ''))) return [];
  const checks = resolveChecks(layout, lines);
  const options: Substitution[] = check.fixable.flatMap((p) => {
    if (classAt(layout, checks, p.line, p.pos) !== 'alnum') return [];
    const alternatives = (VISIBLE_SWAPS[lines[p.line]?.charAt(p.pos) ?? ''] ?? []).filter(
      (to) => !lettersToDigitsOnly || (to >= '0' && to <= '9'),
    );
    return alternatives.map((to) => ({ ...p, to }));
  });
  const holds = (subs: Substitution[]): boolean => {
    const trial = [...lines];
    for (const s of subs) setChar(trial, s.line, s.pos, s.to);
    return isCheckValid(check, trial);
  };
  const fixes: Substitution[][] = [];
  for (let i = 0; i < options.length; i++) {
    const a = options[i]!;
    if (holds([a])) fixes.push([a]);
    if (max < 2) continue;
    for (let j = i + 1; j < options.length; j++) {
      const b = options[j]!;
      if (a.line === b.line && a.pos === b.pos) continue;
      if (holds([a, b])) fixes.push([a, b]);
    }
  }
  return fixes;
}

/** Letters that OCR-B readers return for digits: left in a number, each is a likely misread. */
const DIGIT_LOOKALIKES = new Set(['O', 'D', 'I', 'B', 'S', 'Z']);

/**
 * How irregular the checked fields look: first how often they switch between letters and digits
 * (numbers are runs of each, L898902C3, VSI99998, and a misread letter breaks a run of digits), then how
 * many digit look-alike letters they still hold.
 */
function irregularity(groups: readonly ResolvedCheck[], lines: readonly string[]): [number, number] {
  let switches = 0;
  let lookalikes = 0;
  for (const g of groups) {
    let previous: boolean | undefined;
    for (const p of g.fixable) {
      const c = lines[p.line]?.charAt(p.pos) ?? '<';
      if (c === '<') continue;
      const digit = c >= '0' && c <= '9';
      if (previous !== undefined && digit !== previous) switches++;
      previous = digit;
      if (DIGIT_LOOKALIKES.has(c)) lookalikes++;
    }
  }
  return [switches, lookalikes];
}

const compareShape = (a: readonly number[], b: readonly number[]): number =>
  (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0);

function cartesian<T>(lists: readonly T[][]): T[][] {
  return lists.reduce<T[][]>((acc, list) => acc.flatMap((prefix) => list.map((x) => [...prefix, x])), [[]]);
}

const sameFix = (a: readonly Substitution[], b: readonly Substitution[]): boolean =>
  a.length === b.length &&
  a.every((s, i) => s.line === b[i]?.line && s.pos === b[i]?.pos && s.to === b[i]?.to);

export interface CheckDigitCorrection {
  lines: string[];
  ambiguous: boolean;
}

function applied(lines: readonly string[], subs: readonly Substitution[]): string[] {
  const trial = [...lines];
  for (const s of subs) setChar(trial, s.line, s.pos, s.to);
  return trial;
}

/**
 * The repairs of one failing check digit worth trying: the fewest substitutions that make it hold, and
 * among those the most regular. Undefined when nothing repairs it; empty when the evidence conflicts
 * (a repair with more substitutions would leave the field more regular still), so nothing is guessed.
 */
function shortlist(
  check: ResolvedCheck,
  layout: MrzLayout,
  lines: readonly string[],
  compositeOnly: boolean,
): Substitution[][] | undefined {
  // One check digit over a line and a half finds a wrong swap as easily as the right one, and two errors
  // look like one: there it gets a single swap, a letter back to a digit, and only when no other works.
  const fixes = compositeOnly
    ? candidateFixes(check, layout, lines, 1, true)
    : candidateFixes(check, layout, lines, MAX_SUBSTITUTIONS_PER_FIELD, false);
  if (fixes.length === 0) return undefined;
  const scored = fixes.map((fix) => ({
    fix,
    shape: compositeOnly ? [0, 0] : irregularity([check], applied(lines, fix)),
  }));
  const fewest = Math.min(...scored.map((s) => s.fix.length));
  const best = scored
    .filter((s) => s.fix.length === fewest)
    .reduce((a, b) => (compareShape(b.shape, a.shape) < 0 ? b : a)).shape;
  if (scored.some((s) => compareShape(s.shape, best) < 0)) return [];
  return scored.filter((s) => s.fix.length === fewest && compareShape(s.shape, best) === 0).map((s) => s.fix);
}

/**
 * Repairs failing check digits. Each failing field gets its shortlist of repairs on its own check digit;
 * a combination is accepted only when every check digit then holds, the composite included, and a field
 * whose accepted repairs disagree is left as read (ambiguous) rather than guessed.
 */
export function correctByCheckDigits(layout: MrzLayout, input: readonly string[]): CheckDigitCorrection {
  const lines = [...input];
  const failing = resolveChecks(layout, lines).filter((c) => !isCheckValid(c, lines));
  if (failing.length === 0) return { lines, ambiguous: false };
  const fieldChecks = failing.filter((c) => c.field !== 'compositeCheckDigit');
  // A composite that fails alone points at the data only it protects (the optional data), or at a field
  // error its own check digit missed (a long document number passes one of its two readings by chance).
  const compositeOnly = fieldChecks.length === 0;
  const groups = compositeOnly ? failing : fieldChecks;
  const shortlists: Substitution[][][] = [];
  for (const g of groups) {
    const list = shortlist(g, layout, lines, compositeOnly);
    if (!list) return { lines, ambiguous: false };
    if (list.length === 0) return { lines, ambiguous: true };
    shortlists.push(list);
  }
  const accepted = cartesian(shortlists).filter((combo) => {
    const trial = applied(lines, combo.flat());
    return resolveChecks(layout, trial).every((c) => isCheckValid(c, trial));
  });
  if (accepted.length === 0) return { lines, ambiguous: false };
  let ambiguous = false;
  groups.forEach((_, i) => {
    const fix = accepted[0]?.[i] ?? [];
    if (accepted.every((combo) => sameFix(combo[i] ?? [], fix))) {
      for (const s of fix) setChar(lines, s.line, s.pos, s.to);
    } else {
      ambiguous = true;
    }
  });
  return { lines, ambiguous };
}

/** The differences between two versions of the same lines, as corrections named by field. */
export function diffLines(
  before: readonly string[],
  after: readonly string[],
  fieldOf: (line: number, pos: number) => string,
): MrzCorrection[] {
  const out: MrzCorrection[] = [];
  before.forEach((b, line) => {
    const a = after[line] ?? '';
    for (let position = 0; position < Math.max(a.length, b.length); position++) {
      const from = b.charAt(position);
      const to = a.charAt(position);
      if (from !== to) out.push({ line, position, from, to, field: fieldOf(line, position) });
    }
  });
  return out;
}
