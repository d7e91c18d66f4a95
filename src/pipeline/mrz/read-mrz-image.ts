import { isSubsequence } from '../../domain/mrz/names-line.ts';
import { readMrz, type MrzReading } from '../../domain/mrz/read-mrz.ts';
import type { InferenceRunner } from '../../ports/inference.ts';
import { oncePerImage } from '../image/once-per-image.ts';
import { rotateBy, rotateRight, type Rect, type RgbImage } from '../image/rgb-image.ts';
import { detectText, type TextBox } from '../ocr/detect-text.ts';
import { recognizeText, type RecognizedText } from '../ocr/recognize-text.ts';
import { groupRows } from '../ocr/text-rows.ts';

const MRZ_ALPHABET: ReadonlySet<string> = new Set('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<'.split(''));
/**
 * The recogniser on an MRZ line, once per crop of the image (same rect, orientation and stretch), however
 * many passes ask for it (the names-cell measure re-reads the lines the band reading read a moment
 * before: three 900 px lines on a TD1 back).
 */
function readLine(
  img: RgbImage,
  rect: Rect,
  deps: MrzDeps,
  options: { upsideDown: boolean; stretch?: number },
): Promise<RecognizedText> {
  const key = ['mrz line', rect.x, rect.y, rect.width, rect.height, options.upsideDown, options.stretch ?? 1];
  return oncePerImage(img, key.join(), () => recognizeText(img, rect, deps, MRZ_ALPHABET, options));
}

/** An MRZ line spans most of the document; on a photo the document is at least this share of the width. */
const MIN_ROW_WIDTH_SHARE = 0.3;
/** Rows read from the MRZ edge before giving up on an orientation (bounds the work on a page without one). */
const MAX_ROWS_READ = 6;

export interface MrzImageReading {
  reading: MrzReading;
  /** Rows of the MRZ band in the image as rotated by `rotation` (clockwise). */
  rows: Rect[];
  rotation: 0 | 90 | 180 | 270;
  /** Mean recogniser confidence over the MRZ lines. */
  ocrConfidence: number;
  /** How many glyph cells the names line gives each name, measured on the line (`measureNameCells`). */
  nameCells?: NameCells;
  times: { detect: number; recognize: number };
}

export interface MrzDeps {
  inference: InferenceRunner;
  charset: readonly string[];
}

/**
 * A row that reads like an MRZ line: long, made of the MRZ alphabet, and either with fillers or with the
 * length of a TD1/TD2/TD3 line and enough digits (a full second line may have no filler at all).
 */
function mrzLike(text: string): boolean {
  if (text.length < 20) return false;
  if ((text.match(/</g)?.length ?? 0) >= 1) return true;
  const digits = text.match(/[0-9]/g)?.length ?? 0;
  return [30, 36, 44].some((n) => Math.abs(text.length - n) <= 3) && digits >= 8;
}

/**
 * The start of an MRZ line whose detected box stopped inside its run of fillers (a names line
 * `AMRANI<<HAMZA<<<<<<` cut at 19 of 30 glyphs on a sharp rectified CNIE back): too short for `mrzLike`,
 * but a double filler appears in no printed text. It is taken as a line and widened across the band.
 */
function mrzFragment(text: string): boolean {
  return text.length >= 10 && text.includes('<<');
}

const LINE_LENGTHS = [30, 36, 44] as const;
const offLength = (text: string) => Math.min(...LINE_LENGTHS.map((n) => Math.abs(text.length - n)));

/**
 * One MRZ line. PP-OCRv4's recogniser drops letters on a whole line of 30-44 monospace glyphs (a
 * generated "SQALLI<<AYOUB<<<…" read "SQA<<AUB<<<…", the fillers swelling to keep the length, while each
 * half read right): the line is also read as two overlapping halves joined on their overlap, and the
 * reading with more letters and digits wins unless its length is further off an MRZ line's.
 */
async function rereadInHalves(
  img: RgbImage,
  rect: Rect,
  deps: MrzDeps,
  upsideDown: boolean,
  whole: { text: string; confidence: number },
): Promise<{ text: string; confidence: number }> {
  if (whole.text.length < 20) return whole;
  const n = LINE_LENGTHS.reduce((a, b) =>
    Math.abs(b - whole.text.length) < Math.abs(a - whole.text.length) ? b : a,
  );
  const glyph = rect.width / n;
  const half = rect.width / 2 + 1.5 * glyph;
  const left = { ...rect, width: half };
  const right = { ...rect, x: rect.x + rect.width - half, width: half };
  // Upside down, the crop is turned after cutting: the image's right half holds the line's start.
  const [first, second] = upsideDown ? [right, left] : [left, right];
  // Both at once: on two inference threads the halves cost the time of one.
  const [a, b] = await Promise.all([
    readLine(img, first, deps, { upsideDown }),
    readLine(img, second, deps, { upsideDown }),
  ]);
  let joined = joinOverlap(a.text, b.text, 3);
  // A half made only of fillers reads as nothing at all: the line then ends in fillers up to its length.
  if (joined.length < n && joined.endsWith('<') && b.text.replace(/</g, '') === '')
    joined = joined.padEnd(n, '<');
  const halves = { text: joined, confidence: (a.confidence + b.confidence) / 2 };
  const score = (t: string) => t.replace(/</g, '').length - 2 * offLength(t);
  return score(halves.text) > score(whole.text) ? halves : whole;
}

/** Join two readings that overlap by about `expected` characters (the overlap nearest it that matches). */
function joinOverlap(a: string, b: string, expected: number): string {
  let best: number | undefined;
  for (let k = 1; k <= Math.min(a.length, b.length, 2 * expected + 2); k++) {
    if (
      a.endsWith(b.slice(0, k)) &&
      (best === undefined || Math.abs(k - expected) < Math.abs(best - expected))
    )
      best = k;
  }
  return a + b.slice(best ?? 0);
}

/**
 * Read the MRZ band of an image whose text runs horizontally, right side up or upside down: rows are read
 * from the MRZ's edge (the bottom, or the top when upside down) inwards.
 */
async function readBand(
  img: RgbImage,
  boxes: TextBox[],
  upsideDown: boolean,
  deps: MrzDeps,
  today: Date,
  times: MrzImageReading['times'],
) {
  const t0 = performance.now();
  const rows = groupRows(boxes).filter(
    (r) => r.width / Math.max(1, r.height) > 6 && r.width >= MIN_ROW_WIDTH_SHARE * img.width,
  );
  const ordered = upsideDown ? rows : [...rows].reverse();
  const lines: { rect: Rect; text: string; confidence: number }[] = [];
  const first = (rect: Rect) => readLine(img, withMargin(rect, ROW_MARGIN), deps, { upsideDown });
  const candidates = ordered.slice(0, MAX_ROWS_READ);
  const started: ReturnType<typeof first>[] = [];
  for (const [i, rect] of candidates.entries()) {
    // The loop stops only after a row that is not a line once two lines are taken, or at the third
    // line: with L lines taken, rows i to i + 2 − L are read whatever they hold, so they are recognised
    // at once, on both inference threads (the first three rows of every band, all six of a band
    // without an MRZ).
    for (let k = started.length; k <= Math.min(i + 2 - lines.length, candidates.length - 1); k++) {
      const p = first(candidates[k]!);
      p.catch(() => undefined);
      started.push(p);
    }
    let r = await started[i]!;
    // Inside the band, a row that does not read as an MRZ line is read once more cut tight: on a small
    // scan with close lines the margin takes in its neighbours' glyphs (the middle line of PassportEye's
    // 100_id-si, 20 px high, read "00790807271"; cut tight, "606079F080727691<<<<<<<<<<<<0").
    if (!mrzLike(r.text) && !mrzFragment(r.text) && lines.length > 0) {
      r = await readLine(img, withMargin(rect, TIGHT_PADDING), deps, { upsideDown });
    }
    if (mrzLike(r.text) || mrzFragment(r.text)) lines.push({ rect, text: r.text, confidence: r.confidence });
    else if (lines.length >= 2) break;
    if (lines.length === 3) break;
  }
  if (lines.length < 2) {
    times.recognize += performance.now() - t0;
    return undefined;
  }
  // Every MRZ line spans the same width, but the detector often stops a line where its run of fillers
  // starts (faint `<<<<`): a line much narrower than the widest is read again across the full band.
  const left = Math.min(...lines.map((l) => l.rect.x));
  const right = Math.max(...lines.map((l) => l.rect.x + l.rect.width));
  for (const l of lines) {
    if (l.rect.width >= 0.9 * (right - left)) continue;
    const wide = withMargin({ ...l.rect, x: left, width: right - left }, ROW_MARGIN);
    const r = await readLine(img, wide, deps, { upsideDown });
    if (mrzLike(r.text) && r.text.length > l.text.length) {
      l.text = r.text;
      l.confidence = r.confidence;
      l.rect = { ...l.rect, x: left, width: right - left };
    }
  }
  // The detector may also stop every line where its run of fillers starts, so that the band itself is
  // short. MRZ glyphs are evenly spaced (OCR-B): a line shorter than an MRZ line is read again over the
  // width its glyph pitch gives the longest MRZ line the image can hold (a whole TD1 line of 30 reads
  // the same over blank paper, and stays).
  for (const l of lines) {
    const pitch = l.rect.width / Math.max(1, l.text.length);
    const n = [...LINE_LENGTHS]
      .reverse()
      .find((k) => k > l.text.length && l.rect.width + pitch * (k - l.text.length) <= img.width);
    if (!n) continue;
    const width = Math.min(img.width, l.rect.width + pitch * (n - l.text.length + 1));
    // Upside down, the line starts at the image's right: it grows to the left.
    const x = upsideDown ? Math.max(0, l.rect.x + l.rect.width - width) : l.rect.x;
    const wide = withMargin({ ...l.rect, x, width: Math.min(width, img.width - x) }, ROW_MARGIN);
    const r = await readLine(img, wide, deps, { upsideDown });
    // Near the longer length is enough: a letter dropped in the wider reading is the halves' job.
    if (mrzLike(r.text) && r.text.length > l.text.length && Math.abs(r.text.length - n) <= 2) {
      l.text = r.text;
      l.confidence = r.confidence;
      l.rect = { ...l.rect, x, width: wide.width };
    }
  }
  // A line still shorter than the longest that ends in fillers was cut in its run of fillers: it spans
  // the band, filled out with fillers (the names line is read again in halves over that width below).
  const longest = lines.reduce((a, l) => (l.text.length > a.text.length ? l : a), lines[0]!);
  for (const l of lines)
    if (l.text.length < longest.text.length && l.text.endsWith('<')) {
      l.text = l.text.padEnd(longest.text.length, '<');
      l.rect = { ...l.rect, x: longest.rect.x, width: longest.rect.width };
    }
  // Lines were collected from the MRZ edge (the document's bottom) inwards: its reading order is the reverse.
  const inOrder = [...lines].reverse();
  let reading = readMrz(
    inOrder.map((l) => l.text),
    { today },
  );
  // The names line (the last of a TD1, the first otherwise) has no check digit to reveal dropped
  // letters: it is always read again in halves; the other lines only when a check digit fails.
  const names = inOrder.length === 3 ? inOrder[2]! : inOrder[0]!;
  // Every reading of each line, for the check digits to choose from when the first ones fail.
  const hypotheses = inOrder.map((l) => new Set([l.text]));
  let changed = false;
  for (const l of reading.checkDigitsValid ? [names] : inOrder) {
    const r = await rereadInHalves(img, withMargin(l.rect, ROW_MARGIN), deps, upsideDown, l);
    hypotheses[inOrder.indexOf(l)]!.add(r.text);
    if (r.text !== l.text) {
      l.text = r.text;
      l.confidence = r.confidence;
      changed = true;
    }
  }
  if (changed) {
    const again = readMrz(
      inOrder.map((l) => l.text),
      { today },
    );
    // A re-read that breaks check digits the first reading passed is the worse reading.
    if (again.checkDigitsValid || !reading.checkDigitsValid) reading = again;
  }
  if (!reading.checkDigitsValid) {
    // Small glyphs read differently with a little more or less of the line around them: each line is
    // read twice more, cut tighter and looser, and the combination of readings whose check digits
    // all hold wins (the fewest corrections first).
    // The names line has no check digit to choose by: it keeps its reading.
    hypotheses[inOrder.indexOf(names)] = new Set([names.text]);
    for (const [i, l] of inOrder.entries())
      for (const { pad, stretch } of l === names ? [] : ALTERNATIVE_READINGS) {
        const r = await readLine(img, withMargin(l.rect, pad), deps, { upsideDown, stretch });
        if (mrzLike(r.text)) hypotheses[i]!.add(r.text);
      }
    const valid = combinations(hypotheses.map((h) => [...h]))
      .map((texts) => readMrz(texts, { today }))
      .filter((r) => r.checkDigitsValid)
      .sort((a, b) => a.corrections.length - b.corrections.length)[0];
    if (valid) {
      reading = valid;
      for (const [i, l] of inOrder.entries()) l.text = valid.lines[i] ?? l.text;
    }
  }
  times.recognize += performance.now() - t0;
  return { reading, lines: inOrder };
}

/**
 * Extra readings of a line whose check digits fail: cut tighter and looser (vertical margins, shares of
 * the line height), and widened by a quarter, which separates the glyphs of a letter-spaced MRZ that
 * the recogniser otherwise merges ("I<SI<" read "I<S14", "SI<" read "1").
 */
const ALTERNATIVE_READINGS = [
  { pad: 0.02, stretch: 1 },
  { pad: 0.35, stretch: 1 },
  { pad: 0.02, stretch: 1.25 },
] as const;
/** Vertical margin of the in-band re-read of a row the first reading did not take for an MRZ line. */
const TIGHT_PADDING = 0.02;
/** Vertical margin of a row's usual reading, a share of its height above and below. */
const ROW_MARGIN = 0.15;

/** The row with `share` of its height added above and below (the recogniser wants some paper around). */
function withMargin(rect: Rect, share: number): Rect {
  const pad = rect.height * share;
  return { x: rect.x, y: rect.y - pad, width: rect.width, height: rect.height + 2 * pad };
}
/** Bound on the combinations of line readings tried against the check digits. */
const MAX_COMBINATIONS = 81;

/** Every choice of one item per list (the first lists varying slowest), at most MAX_COMBINATIONS. */
function combinations(lists: readonly string[][]): string[][] {
  let out: string[][] = [[]];
  for (const list of lists) out = out.flatMap((prefix) => list.map((item) => [...prefix, item]));
  return out.slice(0, MAX_COMBINATIONS);
}

function elongation(boxes: TextBox[]): { horizontal: number; vertical: number } {
  let horizontal = 0;
  let vertical = 0;
  for (const b of boxes) {
    if (b.width > 3 * b.height) horizontal += b.width;
    else if (b.height > 3 * b.width) vertical += b.height;
  }
  return { horizontal, vertical };
}

/**
 * Find and read the MRZ of a document image. Text detection runs once on the image as given: if its
 * lines run vertically the document is on its side and detection runs once more on the image turned a
 * quarter; each orientation is then read right side up and upside down. The lines go to the domain
 * reader, which sizes them and corrects OCR confusions against the check digits.
 */
export async function readMrzFromImage(
  img: RgbImage,
  deps: MrzDeps,
  today: Date,
  /** Text lines already detected on `img` (a rectified side), to save a detection pass. */
  detected?: TextBox[],
  /** Set on the straightened second read, which does not straighten again. */
  deskewed = false,
): Promise<MrzImageReading | undefined> {
  const times = { detect: 0, recognize: 0 };
  let t0 = performance.now();
  let boxes = detected ?? (await detectText(img, deps));
  times.detect += performance.now() - t0;
  let view = img;
  let quarter: 0 | 90 = 0;
  const e = elongation(boxes);
  if (e.vertical > e.horizontal) {
    view = await rotateRight(img, 90);
    t0 = performance.now();
    boxes = await detectText(view, deps);
    times.detect += performance.now() - t0;
    quarter = 90;
  }
  let best: MrzImageReading | undefined;
  for (const upsideDown of [false, true]) {
    const r = await readBand(view, boxes, upsideDown, deps, today, times);
    if (!r || r.reading.format === undefined) continue;
    const rotation = ((quarter + (upsideDown ? 180 : 0)) % 360) as MrzImageReading['rotation'];
    const candidate: MrzImageReading = {
      reading: r.reading,
      rows: r.lines.map((l) => l.rect),
      rotation,
      ocrConfidence: r.lines.reduce((s, l) => s + l.confidence, 0) / r.lines.length,
      times,
    };
    if (!best || (candidate.reading.checkDigitsValid && !best.reading.checkDigitsValid)) best = candidate;
    if (candidate.reading.checkDigitsValid) {
      const t1 = performance.now();
      const cells = await measureNameCells(view, r.lines, r.reading.format, upsideDown, deps);
      times.recognize += performance.now() - t1;
      if (cells) candidate.nameCells = cells;
      break;
    }
  }
  if (best || deskewed) return best;
  // Nothing read: on a document photographed a few degrees off, the long MRZ lines run into each other
  // as the detector's boxes are axis-aligned. Measure the tilt of the widest text block and read the
  // image once more straightened.
  const tilt = textTilt(view, boxes);
  if (tilt === undefined || Math.abs(tilt) < MIN_TILT_DEGREES) return undefined;
  const straight = await rotateBy(view, -tilt);
  const again = await readMrzFromImage(straight, deps, today, undefined, true);
  if (again)
    again.times = {
      detect: again.times.detect + times.detect,
      recognize: again.times.recognize + times.recognize,
    };
  return again;
}

export interface NameCells {
  /** Glyph cells from the surname's first to the double filler after it (a name's inner fillers count). */
  last_name?: number;
  /** Glyph cells of the given names, up to the fillers after them (absent when they run to the line's end). */
  first_name?: number;
}

/**
 * How long each name is on the MRZ's names line, counted in glyph cells rather than in letters read. The
 * MRZ is monospace and every line starts at the same place: the lines whose check digits hold, read
 * whole, give the first cell's position and the pitch; the names line's double fillers, wherever the
 * recogniser emits them, then fall on a cell whose index is the name's length. A letter the recogniser
 * dropped (`CHERKAUI` for `CHERKAOUI`) leaves its cell behind, so the count still says 9; a name printed
 * one letter longer than the MRZ's (`CHERKAOUII` beside an MRZ `CHERKAOUI`) does not fit the 9 cells.
 * Undefined when no reference line was read at its full length or the names line has no separator.
 */
async function measureNameCells(
  img: RgbImage,
  lines: readonly { text: string; rect: Rect }[],
  format: string | undefined,
  upsideDown: boolean,
  deps: MrzDeps,
): Promise<NameCells | undefined> {
  const n =
    format === 'TD1'
      ? 30
      : format === 'TD2' || format === 'MRVB'
        ? 36
        : format === 'TD3' || format === 'MRVA'
          ? 44
          : 0;
  if (!n || lines.length < 2) return undefined;
  const namesIndex = format === 'TD1' ? 2 : 0;
  const head = format === 'TD1' ? 0 : 5;
  const read = (rect: Rect) => readLine(img, withMargin(rect, ROW_MARGIN), deps, { upsideDown });
  const readings = await Promise.all(lines.map((l) => read(l.rect)));
  // Each whole reference line: its first cell's position and its pitch (signed: upside down, x falls).
  const refs = readings
    .filter((r, i) => i !== namesIndex && r.text.length === n)
    .map((r) => ({ start: r.x[0]!, pitch: (r.x[n - 1]! - r.x[0]!) / (n - 1) }));
  if (!refs.length) return undefined;
  const start = refs.reduce((a, r) => a + r.start, 0) / refs.length;
  const pitch = refs.reduce((a, r) => a + r.pitch, 0) / refs.length;
  if (Math.abs(pitch) < 1) return undefined;
  const names = readings[namesIndex]!;
  const cellOf = (k: number) => Math.round(((names.x[k]! - start) / pitch) * 100) / 100;
  // The separator: the first double filler after a letter (past the document code and state on TD2/TD3).
  let firstLetter = -1;
  for (let k = 0; k < names.text.length; k++) {
    if (names.text[k] !== '<' && cellOf(k) > head - 0.5) {
      firstLetter = k;
      break;
    }
  }
  if (firstLetter < 0) return undefined;
  const sep = names.text.indexOf('<<', firstLetter);
  if (sep < 0) return undefined;
  // This reading's names must be the line's (as read, in halves too) give or take dropped letters: a
  // separator read as one filler would otherwise end the surname at the given names' end.
  const final = lines[namesIndex]!.text.slice(head).split(/<<+/);
  const letters = (t: string) => t.replace(/</g, '');
  const sameName = (a: string, b: string) =>
    isSubsequence(letters(a), letters(b)) || isSubsequence(letters(b), letters(a));
  if (!sameName(names.text.slice(firstLetter, sep), final[0] ?? '')) return undefined;
  const cells: NameCells = { last_name: Math.round((cellOf(sep) - head) * 100) / 100 };
  // The given names start two cells on and end at the next double filler.
  let given = sep + 2;
  while (given < names.text.length && names.text[given] === '<') given++;
  const end = names.text.indexOf('<<', given);
  if (given < names.text.length && end > given && sameName(names.text.slice(given, end), final[1] ?? ''))
    cells.first_name = Math.round((cellOf(end) - cellOf(sep) - 2) * 100) / 100;
  return cells;
}

/** Below this tilt (degrees) rows stay apart; above it a straightened copy is worth a second read. */
const MIN_TILT_DEGREES = 1;

/**
 * Tilt (degrees, clockwise positive) of the text in the widest detected block, by projection profile:
 * its dark pixels are summed along lines of each candidate slope, and the slope whose profile is the
 * sharpest (largest sum of squares) is the lines' own. Sheared rows are exact enough below 10°.
 */
function textTilt(img: RgbImage, boxes: readonly TextBox[]): number | undefined {
  const wide = boxes
    .filter((b) => b.width >= 0.3 * img.width)
    .sort((a, b) => b.width * b.height - a.width * a.height)[0];
  if (!wide) return undefined;
  const x0 = Math.max(0, Math.floor(wide.x));
  const x1 = Math.min(img.width, Math.ceil(wide.x + wide.width));
  const y0 = Math.max(0, Math.floor(wide.y - wide.height));
  const y1 = Math.min(img.height, Math.ceil(wide.y + 2 * wide.height));
  const grey = (x: number, y: number) => {
    const i = (y * img.width + x) * 3;
    return img.data[i]! + img.data[i + 1]! + img.data[i + 2]!;
  };
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y += 2)
    for (let x = x0; x < x1; x += 2) {
      sum += grey(x, y);
      n++;
    }
  if (!n) return undefined;
  const cut = (0.75 * sum) / n;
  const pts: number[] = [];
  for (let y = y0; y < y1; y += 2)
    for (let x = x0; x < x1; x += 2) if (grey(x, y) < cut) pts.push(x - x0, y - y0);
  if (pts.length < 100) return undefined;
  let best = 0;
  let bestScore = -1;
  for (let deg = -10; deg <= 10; deg += 0.5) {
    const t = Math.tan((deg * Math.PI) / 180);
    const rows = new Map<number, number>();
    for (let k = 0; k < pts.length; k += 2) {
      const r = Math.round((pts[k + 1]! - pts[k]! * t) / 2);
      rows.set(r, (rows.get(r) ?? 0) + 1);
    }
    let score = 0;
    for (const c of rows.values()) score += c * c;
    if (score > bestScore) {
      bestScore = score;
      best = deg;
    }
  }
  return best;
}
