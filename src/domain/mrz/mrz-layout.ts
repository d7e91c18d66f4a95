/**
 * Where each field and check digit sits in the MRZ formats we correct (ICAO 9303 Parts 4-7, and the
 * pre-2021 French identity card). The `mrz` package keeps equivalent tables private; we need them
 * ourselves to know which characters a check digit protects and what kind of character each position holds.
 */
import { isValidCheckDigit } from './check-digit.ts';

export type MrzLayoutFormat = 'TD1' | 'TD2' | 'TD3' | 'MRVA' | 'MRVB' | 'FRENCH_NATIONAL_ID';

/** What a position may hold: dates and check digits are numeric, names and codes alphabetic. */
export type CharClass = 'numeric' | 'alpha' | 'alnum';

export interface Span {
  line: number;
  start: number;
  end: number;
}

/** `names` is the primary and secondary identifier together, split at the first `<<`. */
export interface FieldSpan extends Span {
  field: string;
  cls: CharClass;
}

interface CheckSpec {
  field: string;
  digit: Span;
  sources: Span[];
  /** TD1/TD2: a `<` in the check-digit slot means the number continues here (ICAO 9303 Parts 5, 6). */
  longNumberTail?: Span;
  /** TD3 personal number: when it is all fillers, the check digit may be `<` or `0` (ICAO 9303 Part 4). */
  fillerWhenEmpty?: boolean;
}

export interface MrzLayout {
  format: MrzLayoutFormat;
  lineLength: number;
  lineCount: number;
  fields: FieldSpan[];
  checks: CheckSpec[];
}

export interface Pos {
  line: number;
  pos: number;
}

/** A check digit located on actual lines: long document numbers move it into the optional data. */
export interface ResolvedCheck {
  field: string;
  digit: Pos;
  /** Alternative source strings; the check holds when any of them matches (see TD1 long numbers). */
  variants: Pos[][];
  /** Positions a repair of this check may change: the field it protects (the composite: all it covers). */
  fixable: Pos[];
  fillerWhenEmpty: boolean;
}

const span = (line: number, start: number, end: number): Span => ({ line, start, end });
const field = (name: string, cls: CharClass, line: number, start: number, end: number): FieldSpan => ({
  field: name,
  cls,
  line,
  start,
  end,
});

const dateCheck = (name: string, line: number, start: number): CheckSpec => ({
  field: `${name}CheckDigit`,
  digit: span(line, start + 6, start + 7),
  sources: [span(line, start, start + 6)],
});

/** Line 2 of TD2, TD3 and both MRVs: number, nationality, birth, sex, expiry (ICAO 9303 Parts 4, 6, 7). */
function secondLineCommon(): FieldSpan[] {
  return [
    field('documentNumber', 'alnum', 1, 0, 9),
    field('documentNumberCheckDigit', 'numeric', 1, 9, 10),
    field('nationality', 'alpha', 1, 10, 13),
    field('birthDate', 'numeric', 1, 13, 19),
    field('birthDateCheckDigit', 'numeric', 1, 19, 20),
    field('sex', 'alpha', 1, 20, 21),
    field('expirationDate', 'numeric', 1, 21, 27),
    field('expirationDateCheckDigit', 'numeric', 1, 27, 28),
  ];
}

function twoLineLayout(format: MrzLayoutFormat, lineLength: 36 | 44): MrzLayout {
  const firstLine = [
    field('documentCode', 'alpha', 0, 0, 2),
    field('issuingState', 'alpha', 0, 2, 5),
    field('names', 'alpha', 0, 5, lineLength),
  ];
  const docCheck: CheckSpec = {
    field: 'documentNumberCheckDigit',
    digit: span(1, 9, 10),
    sources: [span(1, 0, 9)],
  };
  const checks = [docCheck, dateCheck('birthDate', 1, 13), dateCheck('expirationDate', 1, 21)];
  if (format === 'MRVA' || format === 'MRVB') {
    // Visas carry no composite check digit and no personal-number check digit (ICAO 9303 Part 7).
    return {
      format,
      lineLength,
      lineCount: 2,
      fields: [...firstLine, ...secondLineCommon(), field('optional', 'alnum', 1, 28, lineLength)],
      checks,
    };
  }
  if (format === 'TD3') {
    return {
      format,
      lineLength,
      lineCount: 2,
      fields: [
        ...firstLine,
        ...secondLineCommon(),
        field('personalNumber', 'alnum', 1, 28, 42),
        field('personalNumberCheckDigit', 'numeric', 1, 42, 43),
        field('compositeCheckDigit', 'numeric', 1, 43, 44),
      ],
      checks: [
        ...checks,
        {
          field: 'personalNumberCheckDigit',
          digit: span(1, 42, 43),
          sources: [span(1, 28, 42)],
          fillerWhenEmpty: true,
        },
        {
          field: 'compositeCheckDigit',
          digit: span(1, 43, 44),
          sources: [span(1, 0, 10), span(1, 13, 20), span(1, 21, 43)],
        },
      ],
    };
  }
  return {
    format,
    lineLength,
    lineCount: 2,
    fields: [
      ...firstLine,
      ...secondLineCommon(),
      field('optional', 'alnum', 1, 28, 35),
      field('compositeCheckDigit', 'numeric', 1, 35, 36),
    ],
    checks: [
      { ...docCheck, longNumberTail: span(1, 28, 35) },
      ...checks.slice(1),
      {
        field: 'compositeCheckDigit',
        digit: span(1, 35, 36),
        sources: [span(1, 0, 10), span(1, 13, 20), span(1, 21, 35)],
      },
    ],
  };
}

const TD1: MrzLayout = {
  format: 'TD1',
  lineLength: 30,
  lineCount: 3,
  fields: [
    field('documentCode', 'alpha', 0, 0, 2),
    field('issuingState', 'alpha', 0, 2, 5),
    field('documentNumber', 'alnum', 0, 5, 14),
    field('documentNumberCheckDigit', 'numeric', 0, 14, 15),
    field('optional1', 'alnum', 0, 15, 30),
    field('birthDate', 'numeric', 1, 0, 6),
    field('birthDateCheckDigit', 'numeric', 1, 6, 7),
    field('sex', 'alpha', 1, 7, 8),
    field('expirationDate', 'numeric', 1, 8, 14),
    field('expirationDateCheckDigit', 'numeric', 1, 14, 15),
    field('nationality', 'alpha', 1, 15, 18),
    field('optional2', 'alnum', 1, 18, 29),
    field('compositeCheckDigit', 'numeric', 1, 29, 30),
    field('names', 'alpha', 2, 0, 30),
  ],
  checks: [
    {
      field: 'documentNumberCheckDigit',
      digit: span(0, 14, 15),
      sources: [span(0, 5, 14)],
      longNumberTail: span(0, 15, 30),
    },
    dateCheck('birthDate', 1, 0),
    dateCheck('expirationDate', 1, 8),
    {
      field: 'compositeCheckDigit',
      digit: span(1, 29, 30),
      sources: [span(0, 5, 30), span(1, 0, 7), span(1, 8, 15), span(1, 18, 29)],
    },
  ],
};

/** Pre-2021 French CNI, 2 × 36: its own layout, checked like ICAO (the `mrz` package's table). */
const FRENCH_NATIONAL_ID: MrzLayout = {
  format: 'FRENCH_NATIONAL_ID',
  lineLength: 36,
  lineCount: 2,
  fields: [
    field('documentCode', 'alpha', 0, 0, 2),
    field('issuingState', 'alpha', 0, 2, 5),
    field('lastName', 'alpha', 0, 5, 30),
    field('administrativeCode', 'alnum', 0, 30, 36),
    field('issueDate', 'numeric', 1, 0, 4),
    field('administrativeCode2', 'alnum', 1, 4, 7),
    field('documentNumber', 'alnum', 1, 7, 12),
    field('documentNumberCheckDigit', 'numeric', 1, 12, 13),
    field('firstName', 'alpha', 1, 13, 27),
    field('birthDate', 'numeric', 1, 27, 33),
    field('birthDateCheckDigit', 'numeric', 1, 33, 34),
    field('sex', 'alpha', 1, 34, 35),
    field('compositeCheckDigit', 'numeric', 1, 35, 36),
  ],
  checks: [
    { field: 'documentNumberCheckDigit', digit: span(1, 12, 13), sources: [span(1, 0, 12)] },
    dateCheck('birthDate', 1, 27),
    { field: 'compositeCheckDigit', digit: span(1, 35, 36), sources: [span(0, 0, 36), span(1, 0, 35)] },
  ],
};

export const MRZ_LAYOUTS: Record<MrzLayoutFormat, MrzLayout> = {
  TD1,
  TD2: twoLineLayout('TD2', 36),
  TD3: twoLineLayout('TD3', 44),
  MRVA: twoLineLayout('MRVA', 44),
  MRVB: twoLineLayout('MRVB', 36),
  FRENCH_NATIONAL_ID,
};

/** The format of lines cut to size; TD2 and the French CNI told apart by the `mrz` package's rule. */
export function layoutFormatOf(lines: readonly string[]): MrzLayoutFormat | undefined {
  const [first, second, third] = lines;
  if (first === undefined || second === undefined) return undefined;
  if (lines.length === 3 && third !== undefined) {
    return [first, second, third].every((l) => l.length === 30) ? 'TD1' : undefined;
  }
  if (lines.length !== 2 || first.length !== second.length) return undefined;
  if (first.length === 44) return first.startsWith('V') ? 'MRVA' : 'TD3';
  if (first.length !== 36) return undefined;
  if (/[0-9]/.test(first.slice(30, 35)) || first.startsWith('IDFRA')) return 'FRENCH_NATIONAL_ID';
  return first.startsWith('V') ? 'MRVB' : 'TD2';
}

const positions = (s: Span): Pos[] =>
  Array.from({ length: s.end - s.start }, (_, i) => ({ line: s.line, pos: s.start + i }));
const charAt = (lines: readonly string[], p: Pos): string => lines[p.line]?.charAt(p.pos) ?? '';

/** Locates every check digit of `layout` on `lines`, following long document numbers into optional data. */
export function resolveChecks(layout: MrzLayout, lines: readonly string[]): ResolvedCheck[] {
  const resolved: ResolvedCheck[] = [];
  for (const spec of layout.checks) {
    const digit = { line: spec.digit.line, pos: spec.digit.start };
    const own = spec.sources.flatMap(positions);
    if (spec.longNumberTail && charAt(lines, digit) === '<') {
      const tail = positions(spec.longNumberTail);
      const firstFiller = tail.findIndex((p) => charAt(lines, p) === '<');
      const end = firstFiller === -1 ? tail.length : firstFiller;
      const embedded = tail[end - 1];
      if (embedded) {
        const tailPositions = tail.slice(0, end - 1);
        // Issuers differ on whether the `<` of the check-digit slot counts (PRADO BEL-BO-03003 needs it; the
        // example of ICAO 9303 Part 11 gives the same digit either way): both readings are accepted, as the
        // `mrz` package does. The composite, computed over the line as printed, then tells them apart.
        resolved.push({
          field: spec.field,
          digit: embedded,
          variants: [
            [...own, digit, ...tailPositions],
            [...own, ...tailPositions],
          ],
          fixable: [...own, ...tailPositions],
          fillerWhenEmpty: false,
        });
        continue;
      }
    }
    resolved.push({
      field: spec.field,
      digit,
      variants: [own],
      fixable: own,
      fillerWhenEmpty: spec.fillerWhenEmpty ?? false,
    });
  }
  return resolved;
}

export function isCheckValid(check: ResolvedCheck, lines: readonly string[]): boolean {
  const digit = charAt(lines, check.digit);
  const texts = check.variants.map((v) => v.map((p) => charAt(lines, p)).join(''));
  if (check.fillerWhenEmpty && /^<*$/.test(texts[0] ?? '')) return digit === '<' || digit === '0';
  return texts.some((t) => isValidCheckDigit(t, digit));
}

/** The field a position belongs to, naming the two halves of a shared name span. */
export function fieldAt(layout: MrzLayout, lines: readonly string[], line: number, pos: number): string {
  for (const c of resolveChecks(layout, lines)) {
    if (c.digit.line === line && c.digit.pos === pos) return c.field;
    if (c.field === 'documentNumberCheckDigit' && c.fixable.some((p) => p.line === line && p.pos === pos)) {
      return 'documentNumber';
    }
  }
  const f = layout.fields.find((s) => s.line === line && pos >= s.start && pos < s.end);
  if (!f) return 'unknown';
  if (f.field !== 'names') return f.field;
  const separator = (lines[line] ?? '').indexOf('<<', f.start);
  return separator === -1 || pos < separator ? 'lastName' : 'firstName';
}

/** The character class at a position; a long document number's embedded check digit is numeric. */
export function classAt(
  layout: MrzLayout,
  checks: readonly ResolvedCheck[],
  line: number,
  pos: number,
): CharClass {
  if (checks.some((c) => c.digit.line === line && c.digit.pos === pos)) return 'numeric';
  return layout.fields.find((s) => s.line === line && pos >= s.start && pos < s.end)?.cls ?? 'alnum';
}
