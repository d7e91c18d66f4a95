import { isSubsequence, mrzForm } from '../mrz/names-line.ts';
import { foldLatin } from './normalise-field.ts';

export interface SourcedValue {
  value: string;
  confidence: number;
}

export type Provenance = 'mrz' | 'visual_zone' | 'mrz+visual_zone';

export interface MergedField {
  value: string;
  confidence: number;
  provenance: Provenance;
}

export interface Disagreement {
  field: string;
  mrz: string;
  visual_zone: string;
  /**
   * A name that differs by one glyph OCR confuses (J read I, O read D…) or by one dropped letter: a
   * misread, not an alteration. Kept in the evidence, not a risk factor. Dates and the digits of a number
   * are never minor: their check digits make any difference meaningful. A document number whose letters
   * differ from a check-digit-valid MRZ's in one letter OCR confuses (`J891231` printed, `I891231` read)
   * is a misread: the check digits vouch for the MRZ's letter, the number reported is the MRZ's, and a
   * printed letter changed into its look-alike would change nothing a reader or the service relies on.
   */
  minor?: true;
  /**
   * How many glyph cells the MRZ's names line gives this name, measured on the line (a dropped letter
   * leaves its cell), and what that told: `mrz_misread` (the printed name fills those cells: the MRZ
   * reading lost letters) or `lengths_differ` (the MRZ's name is as long as read, the printed one is not).
   */
  mrz_cells?: number;
  cells_verdict?: 'mrz_misread' | 'lengths_differ';
}

/** How far (cells) a measured length may be from a name's to be taken for it (measured error ≤ 0.25). */
const CELL_TOLERANCE = 0.5;

/** Letters ICAO 9303 may write with two (Ä → AE or A, ß → SS, Þ → TH…): a name's MRZ length varies by them. */
const TWO_LETTER_TRANSLITERATION = /[ÄÖÜäöüßÆæØøÅåÞþŒœĲĳ]/g;

/** Whether the MRZ may spell `printed` with `length` characters, whichever transliteration it used. */
function mrzLengthMayBe(printed: string, length: number): boolean {
  const plain = mrzForm(printed).length;
  const expandable = printed.match(TWO_LETTER_TRANSLITERATION)?.length ?? 0;
  return length >= plain && length <= plain + expandable;
}

/** Latin capitals OCR takes for one another (each pair both ways). */
const CONFUSABLE = new Set(
  ['IJ', 'IL', 'IT', 'OD', 'OQ', 'DQ', 'UV', 'EF', 'CG', 'MN', 'HN', 'KX', 'RP', 'BE', 'CO', 'YV'].flatMap(
    (p) => [p, p[1]! + p[0]!],
  ),
);

/** Whether two names differ by one confusable glyph, or by one letter left out of one of them. */
export function minorNameDifference(a: string, b: string): boolean {
  if (a.length < 4 || b.length < 4) return false;
  if (a.length === b.length) {
    const diff = [...a].map((c, i) => (c === b[i] ? '' : c + b[i]!)).filter(Boolean);
    return diff.length === 1 && CONFUSABLE.has(diff[0]!);
  }
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  if (long.length - short.length !== 1) return false;
  for (let i = 0; i < long.length; i++) if (long.slice(0, i) + long.slice(i + 1) === short) return true;
  return false;
}

/**
 * Whether a document number's visual-zone reading differs from the MRZ's only in one letter, read as a
 * letter OCR confuses it with (the digits all the same, in the same places).
 */
export function minorNumberDifference(mrz: string, vz: string): boolean {
  if (mrz.length !== vz.length || mrz.length < 5) return false;
  const diff = [...mrz].map((c, i) => (c === vz[i] ? '' : c + vz[i]!)).filter(Boolean);
  return diff.length === 1 && /^[A-Z]{2}$/.test(diff[0]!) && CONFUSABLE.has(diff[0]!);
}

/** Fields an MRZ check digit protects: on a disagreement the MRZ wins when its digits hold. */
const CHECKED = new Set(['document_number', 'date_of_birth', 'expiry_date']);

const NAME_FIELDS = new Set(['last_name', 'first_name']);

const comparable = (s: string) => foldLatin(s).replace(/[^A-Z0-9]/g, '');

/**
 * What is left of a number's printed caption when OCR glues it to the value: `N°` read `N`, `NO`, `N0`,
 * `Nº` folded, `NR`, `NUM` (the Moroccan CNIE prints `N° U1234567`; issue 13 measured `NG7215901` for
 * `G7215901`).
 */
const NUMBER_CAPTION_REMNANT = /^(N|NO|N0|NR|NUM|NO0)$/;

/**
 * The MRZ holds names truncated to the line's width and transliterated; the visual zone holds them in
 * full. They agree when one is the other, or when the MRZ's is a prefix of the visual zone's. A card
 * number agrees with the caption's remnant glued before it.
 */
function agree(field: string, mrz: string, vz: string): boolean {
  const a = comparable(mrz);
  const b = comparable(vz);
  if (a === b) return true;
  if (field === 'document_number' && a.length >= 5 && b.endsWith(a))
    return NUMBER_CAPTION_REMNANT.test(b.slice(0, b.length - a.length));
  return NAME_FIELDS.has(field) && a.length >= 10 && b.startsWith(a);
}

/**
 * Merge what the MRZ and the visual zone say about each field. Agreement raises the confidence (two
 * independent readings); disagreement keeps the MRZ's value when its check digits protect it, otherwise
 * the more confident reading, lowers the confidence, and is reported so a reviewer sees both.
 */
export function mergeFields(
  mrz: Readonly<Record<string, SourcedValue>>,
  vz: Readonly<Record<string, SourcedValue>>,
  mrzCheckDigitsValid: boolean,
  /** Glyph cells the MRZ's names line gives each name (`measureNameCells`), when measured. */
  mrzNameCells: Readonly<{ last_name?: number; first_name?: number }> = {},
): { fields: Record<string, MergedField>; disagreements: Disagreement[] } {
  const fields: Record<string, MergedField> = {};
  const disagreements: Disagreement[] = [];
  for (const name of new Set([...Object.keys(mrz), ...Object.keys(vz)])) {
    const m = mrz[name];
    const v = vz[name];
    if (m && !v) fields[name] = { ...m, provenance: 'mrz' };
    else if (v && !m) fields[name] = { ...v, provenance: 'visual_zone' };
    else if (m && v) {
      if (agree(name, m.value, v.value)) {
        // Keep the fuller spelling (the visual zone's for names), and combine as independent errors.
        const value =
          name !== 'document_number' && comparable(v.value).length > comparable(m.value).length
            ? v.value
            : m.value;
        const confidence = 1 - (1 - m.confidence) * (1 - v.confidence);
        fields[name] = { value, confidence: Math.min(0.999, confidence), provenance: 'mrz+visual_zone' };
      } else {
        // Check digits protect numbers and dates, not names: those go to the more confident reading,
        // unless one reading is the other with letters dropped (OCR drops letters, at a line's end and
        // in the middle of a long MRZ line, and does not invent them).
        const a = comparable(m.value);
        const b = comparable(v.value);
        const truncated = !CHECKED.has(name) && (isSubsequence(b, a) || isSubsequence(a, b));
        const mrzWins = truncated
          ? a.length > b.length
          : (CHECKED.has(name) && mrzCheckDigitsValid) || m.confidence >= v.confidence;
        const w = mrzWins ? m : v;
        fields[name] = {
          value: w.value,
          confidence: w.confidence * 0.6,
          provenance: mrzWins ? 'mrz' : 'visual_zone',
        };
        let minor =
          (NAME_FIELDS.has(name) && minorNameDifference(a, b)) ||
          (name === 'document_number' && mrzCheckDigitsValid && minorNumberDifference(a, b));
        // The names line's cells tell a misread from a different name: the printed name filling the cells
        // the MRZ's occupies, with the MRZ reading only missing letters, is a misread, however many; the
        // MRZ's name as long as read beside a printed name of another length is a difference, however small.
        const cells = NAME_FIELDS.has(name) ? mrzNameCells[name as 'last_name' | 'first_name'] : undefined;
        let verdict: Disagreement['cells_verdict'];
        if (cells !== undefined) {
          const fits = (s: string) => Math.abs(mrzForm(s).length - cells) <= CELL_TOLERANCE;
          if (fits(v.value) && !fits(m.value) && isSubsequence(a, b)) verdict = 'mrz_misread';
          else if (fits(m.value) && !mrzLengthMayBe(v.value, mrzForm(m.value).length))
            verdict = 'lengths_differ';
          if (verdict === 'mrz_misread') {
            minor = true;
            fields[name] = { value: v.value, confidence: v.confidence * 0.8, provenance: 'visual_zone' };
          } else if (verdict === 'lengths_differ') {
            // The MRZ's name was read whole: it is the document's, the printed one is the odd one out.
            minor = false;
            fields[name] = { value: m.value, confidence: m.confidence * 0.6, provenance: 'mrz' };
          }
        }
        disagreements.push({
          field: name,
          mrz: m.value,
          visual_zone: v.value,
          ...(minor ? { minor: true as const } : {}),
          ...(cells !== undefined ? { mrz_cells: cells } : {}),
          ...(verdict ? { cells_verdict: verdict } : {}),
        });
      }
    }
  }
  return { fields, disagreements };
}
