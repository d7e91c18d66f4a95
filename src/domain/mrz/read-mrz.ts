/**
 * Reads a machine-readable zone from OCR text: picks and sizes the lines, fixes OCR confusions by field
 * type (the `mrz` package's autocorrect, extended) and by check digit, then parses with the `mrz` package.
 * Pure: no I/O, and the clock comes in as `today` (it decides the century of two-digit years).
 */
import { states, type Details } from 'mrz';
import { correctByCheckDigits, correctByType, diffLines, type MrzCorrection } from './correct-mrz.ts';
import { extractMrz, type MrzExtracted } from './extract-mrz.ts';
import { MRZ_LAYOUTS, fieldAt, isCheckValid, layoutFormatOf, resolveChecks } from './mrz-layout.ts';
import { normaliseMrz } from './normalise-mrz.ts';
import { parseMrzLines } from './parse-mrz-lines.ts';

export type { MrzCorrection } from './correct-mrz.ts';
export type { MrzDocumentType, MrzExtracted } from './extract-mrz.ts';

export type MrzFormat = 'TD1' | 'TD2' | 'TD3' | 'MRVA' | 'MRVB' | 'FRENCH_NATIONAL_ID' | (string & {});

export interface MrzFieldReading {
  /** Null when the `mrz` package finds the field invalid. */
  value: string | null;
  valid: boolean;
  error?: string;
  /** The field's characters as they stand on the corrected lines. */
  raw: string;
}

export interface MrzReading {
  format: MrzFormat | undefined;
  /** The MRZ lines after normalisation and correction. */
  lines: string[];
  /** The `mrz` package's verdict on the corrected lines (it also rejects unknown state codes). */
  valid: boolean;
  /** Every check digit of the format holds, whatever the other fields say. */
  checkDigitsValid: boolean;
  /** Keyed by the `mrz` package's field names. */
  fields: Record<string, MrzFieldReading>;
  corrections: MrzCorrection[];
  /** A check digit could be repaired in more than one equally small way, so it was left as read. */
  ambiguous: boolean;
  extracted: MrzExtracted;
}

export interface ReadMrzOptions {
  today: Date;
}

function unreadable(lines: string[]): MrzReading {
  return {
    format: undefined,
    lines,
    valid: false,
    checkDigitsValid: false,
    fields: {},
    corrections: [],
    ambiguous: false,
    extracted: {},
  };
}

/** The package's autocorrections, applied to the lines (it reports them but returns the lines unchanged). */
function applyAutocorrect(lines: readonly string[], details: readonly Details[]): string[] {
  const out = [...lines];
  for (const d of details) {
    for (const a of d.autocorrect) {
      const line = out[a.line] ?? '';
      if (line.charAt(a.column) !== a.original) continue;
      out[a.line] = line.slice(0, a.column) + a.corrected + line.slice(a.column + 1);
    }
  }
  return out;
}

function detailAt(details: readonly Details[], line: number, pos: number): string {
  const d = details.find((x) => x.ranges.some((r) => r.line === line && pos >= r.start && pos < r.end));
  return d?.field ?? 'unknown';
}

/**
 * Letters OCR-B glyphs are mistaken for (no check digit covers the state codes). Only letter-for-letter
 * confusions: a code holds no digits.
 */
const LETTER_CONFUSIONS: Record<string, string> = {
  O: 'CDQG',
  C: 'OG',
  D: 'O',
  Q: 'O',
  G: 'CO',
  I: 'LT',
  L: 'I',
  T: 'I',
  E: 'FB',
  F: 'E',
  B: 'E',
  U: 'V',
  V: 'U',
  M: 'NH',
  N: 'M',
  H: 'MN',
  P: 'R',
  R: 'P',
  K: 'X',
  X: 'K',
};

/**
 * An issuing state or nationality that is no ICAO code (a Swiss card's "CHE" read "OHE", "MAR" read
 * "MR<" with a letter dropped) becomes the one code a single letter confusion or a letter put back away,
 * when exactly one exists or the document's other state code is among them; otherwise it is left for
 * the reader to see as invalid.
 */
function correctStateCodes(lines: string[], details: readonly Details[]): string[] {
  let out = lines;
  for (const d of details) {
    if ((d.field !== 'issuingState' && d.field !== 'nationality') || d.valid) continue;
    const range = d.ranges[0];
    if (!range) continue;
    const code = (out[range.line] ?? '').slice(range.start, range.end);
    const found = new Set<string>();
    for (let i = 0; i < code.length; i++)
      for (const alt of LETTER_CONFUSIONS[code[i]!] ?? '') {
        const candidate = code.slice(0, i) + alt + code.slice(i + 1);
        if (candidate.replace(/<+$/, '') in states) found.add(candidate);
      }
    // A letter dropped, a filler shifted in behind ("MAR" read "MR<"): a letter put back anywhere.
    const stem = /^([A-Z]{2})<$/.exec(code)?.[1];
    if (stem && !found.size)
      for (let i = 0; i <= 2; i++)
        for (let c = 65; c <= 90; c++) {
          const candidate = stem.slice(0, i) + String.fromCharCode(c) + stem.slice(i);
          if (candidate in states) found.add(candidate);
        }
    // Several: the document's other state code decides (a nationality is most often the issuer's), and
    // it also stands for a code read with two letters dropped ("MAR" read "M<<").
    const other = details.find(
      (o) => o.valid && (o.field === 'issuingState' || o.field === 'nationality') && o.field !== d.field,
    )?.value;
    const shortStem = /^([A-Z])<<$/.exec(code)?.[1];
    if (!found.size && shortStem && other?.length === 3 && other.includes(shortStem)) found.add(other);
    const fixed = found.size === 1 ? [...found][0] : other && found.has(other) ? other : undefined;
    if (!fixed) continue;
    const line = out[range.line]!;
    out = [...out];
    out[range.line] = line.slice(0, range.start) + fixed + line.slice(range.end);
  }
  return out;
}

/**
 * The names line ends in fillers that OCR may read as a run of one letter ("RACHID<<<<AAAAAAAA"): no name
 * holds three identical letters in a row, so such a run that reaches the end of the line after a filler
 * is fillers. Corrected before parsing, it then counts as a correction like any other.
 */
function fillerRuns(lines: readonly string[], format: string | undefined): string[] {
  const names = format === 'TD1' ? 2 : format && format !== 'FRENCH_NATIONAL_ID' ? 0 : -1;
  const line = lines[names];
  if (line === undefined) return [...lines];
  const fixed = line.replace(/(?<=<)([A-Z])\1{2,}$/, (run) => '<'.repeat(run.length));
  return lines.map((l, i) => (i === names ? fixed : l));
}

export function readMrz(input: string | string[], options: ReadMrzOptions): MrzReading {
  const read = normaliseMrz(input);
  if (!read) return unreadable([]);
  const layoutFormat = layoutFormatOf(read);
  const layout = layoutFormat ? MRZ_LAYOUTS[layoutFormat] : undefined;

  const first = parseMrzLines(read, layoutFormat, true);
  if (!first) return unreadable(read);
  let lines = fillerRuns(applyAutocorrect(read, first.details), layoutFormat);
  let ambiguous = false;
  if (layout) {
    const byCheckDigits = correctByCheckDigits(layout, correctByType(layout, lines));
    lines = byCheckDigits.lines;
    ambiguous = byCheckDigits.ambiguous;
  }
  let parsed = parseMrzLines(lines, layoutFormat, false);
  if (!parsed) return unreadable(lines);
  const withStates = correctStateCodes(lines, parsed.details);
  if (withStates !== lines) {
    const again = parseMrzLines(withStates, layoutFormat, false);
    if (again) {
      lines = withStates;
      parsed = again;
    }
  }

  const fields: Record<string, MrzFieldReading> = {};
  for (const d of parsed.details) {
    if (!d.field) continue;
    const range = d.ranges[0];
    const raw = range ? (lines[range.line] ?? '').slice(range.start, range.end) : '';
    fields[d.field] = {
      value: d.valid ? d.value : null,
      valid: d.valid,
      ...(d.error ? { error: d.error } : {}),
      raw,
    };
  }
  const checkDigitsValid = layout
    ? resolveChecks(layout, lines).every((c) => isCheckValid(c, lines))
    : parsed.details.filter((d) => d.field?.endsWith('CheckDigit')).every((d) => d.valid);
  const corrections = diffLines(read, lines, (line, pos) =>
    layout ? fieldAt(layout, lines, line, pos) : detailAt(parsed.details, line, pos),
  );
  return {
    format: parsed.format,
    lines,
    valid: parsed.valid,
    checkDigitsValid,
    fields,
    corrections,
    ambiguous,
    extracted: extractMrz(parsed, lines, options.today),
  };
}
