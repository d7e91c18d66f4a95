/**
 * Raw OCR text → the lines of one MRZ, cut to its format's length. OCR engines split, pad and
 * decorate the zone in predictable ways (spaces between glyphs, `«` for `<<`, lost trailing fillers);
 * the check digits decide between the ways of putting the lines back to size.
 */
import { MRZ_LAYOUTS, isCheckValid, layoutFormatOf, resolveChecks } from './mrz-layout.ts';
import { parseMrzLines } from './parse-mrz-lines.ts';

/** Glyphs OCR engines return for the filler `<`. `«` is one glyph for two fillers. */
const FILLER_LOOKALIKES: [RegExp, string][] = [
  [/[«≪《]/g, '<<'],
  [/[‹〈＜(\[{≤]/g, '<'],
];

/**
 * OCR can drop a whole trailing run of fillers (a Moroccan CNIE line of the shared samples came back with
 * 24 of its 30 characters); a line shorter than its format by more than this is something else.
 */
const MAX_TRUNCATED_CHARS = 8;
/** Fillers may be lost or gained inside a run only by one or two (one OCR merge or split). */
const MAX_INNER_EDIT = 2;

/** Upper case, fillers for their look-alikes, no spaces, no frame artefacts (`|`, `.`) at the ends. */
function cleanLine(line: string): string {
  let s = line.toUpperCase();
  for (const [from, to] of FILLER_LOOKALIKES) s = s.replace(from, to);
  return s.replace(/\s+/g, '').replace(/^[^A-Z0-9<]+|[^A-Z0-9<]+$/g, '');
}

/** Shapes the `mrz` package parses as they are, besides the ICAO ones (Swiss and French driving licences). */
function isKnownShape(lines: readonly string[]): boolean {
  if (layoutFormatOf(lines)) return true;
  const lengths = lines.map((l) => l.length).join(',');
  return lengths === '9,30,30' || (lengths === '30' && /^D1FRA/.test(lines[0] ?? ''));
}

/** Every way to bring one line to `target` characters by adding or removing fillers. */
function resizeCandidates(line: string, target: number): { line: string; inner: boolean }[] {
  const diff = target - line.length;
  if (diff === 0) return [{ line, inner: false }];
  const out: { line: string; inner: boolean }[] = [];
  if (diff > 0 && diff <= MAX_TRUNCATED_CHARS) out.push({ line: line + '<'.repeat(diff), inner: false });
  if (diff < 0 && -diff <= MAX_INNER_EDIT && line.endsWith('<'.repeat(-diff))) {
    out.push({ line: line.slice(0, diff), inner: false });
  }
  if (Math.abs(diff) > MAX_INNER_EDIT) return out;
  for (const run of line.matchAll(/<+/g)) {
    const at = run.index;
    if (at + run[0].length === line.length) continue; // the trailing run is handled above
    if (diff > 0) {
      out.push({ line: line.slice(0, at) + '<'.repeat(diff) + line.slice(at), inner: true });
    } else if (run[0].length >= -diff) {
      out.push({ line: line.slice(0, at) + line.slice(at - diff), inner: true });
    }
  }
  return out;
}

function validCheckCount(lines: readonly string[]): number {
  const format = layoutFormatOf(lines);
  if (!format) return 0;
  const layout = MRZ_LAYOUTS[format];
  return resolveChecks(layout, lines).filter((c) => isCheckValid(c, lines)).length;
}

interface Candidate {
  lines: string[];
  validChecks: number;
  /** Fields the `mrz` package accepts: tells a real MRZ from lines that pass a check digit by chance. */
  validFields: number;
  innerEdits: number;
  sizeError: number;
  index: number;
}

function bestResize(window: readonly string[], target: number, index: number): Candidate | undefined {
  let combos: { lines: string[]; inner: number }[] = [{ lines: [], inner: 0 }];
  for (const line of window) {
    const options = resizeCandidates(line, target);
    combos = combos.flatMap((c) =>
      options.map((o) => ({ lines: [...c.lines, o.line], inner: c.inner + (o.inner ? 1 : 0) })),
    );
  }
  const sizeError = window.reduce((s, l) => s + Math.abs(l.length - target), 0);
  let best: Candidate | undefined;
  for (const c of combos) {
    const candidate = {
      lines: c.lines,
      validChecks: validCheckCount(c.lines),
      validFields: 0,
      innerEdits: c.inner,
      sizeError,
      index,
    };
    if (!best || better(candidate, best)) best = candidate;
  }
  if (best) {
    const parsed = parseMrzLines(best.lines, layoutFormatOf(best.lines), true);
    best.validFields = parsed?.details.filter((d) => d.valid).length ?? 0;
  }
  return best;
}

function better(a: Candidate, b: Candidate): boolean {
  if (a.validChecks !== b.validChecks) return a.validChecks > b.validChecks;
  if (a.validFields !== b.validFields) return a.validFields > b.validFields;
  if (a.sizeError !== b.sizeError) return a.sizeError < b.sizeError;
  if (a.innerEdits !== b.innerEdits) return a.innerEdits < b.innerEdits;
  // The MRZ is printed at the bottom of the document, so OCR text ends with it.
  return a.index > b.index;
}

/** A window of OCR lines could be an MRZ: mostly MRZ characters and some fillers. */
function looksLikeMrz(window: readonly string[]): boolean {
  const text = window.join('');
  const mrzChars = text.replace(/[^A-Z0-9<]/g, '').length;
  return mrzChars >= 0.9 * text.length && (text.match(/</g)?.length ?? 0) >= 2;
}

/** Picks the MRZ out of OCR text; undefined when nothing there has the shape of one. */
export function normaliseMrz(input: string | readonly string[]): string[] | undefined {
  const raw = typeof input === 'string' ? input.split(/\r\n|\r|\n/) : input;
  const lines = raw.map(cleanLine).filter((l) => l.length > 0);
  if (isKnownShape(lines)) return lines;

  let best: Candidate | undefined;
  for (const [count, target] of [
    [3, 30],
    [2, 36],
    [2, 44],
  ] as const) {
    for (let i = 0; i + count <= lines.length; i++) {
      const window = lines.slice(i, i + count);
      const fits = window.every(
        (l) => l.length - target <= MAX_INNER_EDIT && target - l.length <= MAX_TRUNCATED_CHARS,
      );
      // One truncated line is a lost filler run; every line far off is something else.
      const nearlyRight = window.filter((l) => Math.abs(l.length - target) <= MAX_INNER_EDIT).length;
      if (!fits || nearlyRight < count - 1 || !looksLikeMrz(window)) continue;
      const candidate = bestResize(window, target, i);
      if (candidate && layoutFormatOf(candidate.lines) && (!best || better(candidate, best))) {
        best = candidate;
      }
    }
  }
  return best?.lines;
}
