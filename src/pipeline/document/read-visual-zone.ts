import { orderStatistics } from '../image/order-statistics.ts';
import type {
  CaptionedField,
  DocumentTemplate,
  FieldRegion,
  VisualField,
} from '../../domain/documents/document-template.ts';
import { foldLatin, normaliseField } from '../../domain/documents/normalise-field.ts';
import { OTHER_ZONE_II_CAPTIONS } from '../../domain/documents/templates.ts';
import type { InferenceRunner } from '../../ports/inference.ts';
import type { LineOcr } from '../../ports/line-ocr.ts';
import { cropResize, toGray, type Rect, type RgbImage } from '../image/rgb-image.ts';
import { detectText, type TextBox } from '../ocr/detect-text.ts';
import { recognizeText, type RecognizedText } from '../ocr/recognize-text.ts';

export interface VisualFieldReading {
  field: VisualField;
  value: string;
  /** The value has the shape the template expects (a real date, the number's pattern…). */
  valid: boolean;
  confidence: number;
  /** Which recogniser produced the value; `both` when PP-OCR and Tesseract read the same letters. */
  engine: 'ppocr' | 'tesseract' | 'both';
  /** Only worth reporting if other evidence confirms it (a word-mode reading, whatever its confidence). */
  tentative?: boolean;
}

export interface VisualZoneReading {
  templateId: string;
  side: 'front' | 'back';
  fields: VisualFieldReading[];
  /** Valid-looking readings below the confidence floor, reported only if other evidence confirms them. */
  tentative?: VisualFieldReading[];
  /** Every date printed on the side (ISO), whatever its caption: read by a generic template. */
  dates?: string[];
  times: { detect: number; recognize: number };
}

export interface VisualZoneDeps {
  inference: InferenceRunner;
  charset: readonly string[];
  lineOcr: LineOcr;
}

/**
 * Readings less confident than this are not reported: on a photo of pure noise Tesseract still returns
 * Arabic-looking strings, at 0.32-0.34; well-read fields score 0.7 and more.
 */
const MIN_CONFIDENCE = 0.5;

/** Glyph height (px) of the crops given to Tesseract (see lineCrop). */
const ARABIC_LINE_PX = 56;

function toPx(side: RgbImage, box: FieldRegion['box']): Rect {
  return {
    x: box[0] * side.width,
    y: box[1] * side.height,
    width: box[2] * side.width,
    height: box[3] * side.height,
  };
}

function union(rects: readonly Rect[]): Rect {
  const x = Math.min(...rects.map((r) => r.x));
  const y = Math.min(...rects.map((r) => r.y));
  const x2 = Math.max(...rects.map((r) => r.x + r.width));
  const y2 = Math.max(...rects.map((r) => r.y + r.height));
  return { x, y, width: x2 - x, height: y2 - y };
}

/** Detected boxes grouped into rows (the detector splits a line at wide gaps), left to right. */
function textRowsOfBoxes(boxes: readonly TextBox[]): TextBox[][] {
  const rows: TextBox[][] = [];
  for (const b of [...boxes].sort((a, c) => a.x - c.x)) {
    const cy = b.y + b.height / 2;
    const row = rows.find((r) => {
      const u = union(r);
      return Math.abs(u.y + u.height / 2 - cy) < 0.5 * Math.min(u.height, b.height);
    });
    if (row) row.push(b);
    else rows.push([b]);
  }
  return rows;
}

/** Detected boxes joined into rows. */
const textRows = (boxes: readonly TextBox[]): Rect[] => textRowsOfBoxes(boxes).map(union);

/**
 * Rows cut where words stand further apart than one and a half line heights: a row of a data page holds
 * several columns (a caption or value each), a phrase is one of them.
 */
function phrases(boxes: readonly TextBox[]): Rect[] {
  const out: Rect[] = [];
  for (const row of textRowsOfBoxes(boxes)) {
    let current: Rect[] = [];
    for (const b of row) {
      const last = current[current.length - 1];
      if (last && b.x - (last.x + last.width) > 1.5 * Math.min(last.height, b.height)) {
        out.push(union(current));
        current = [];
      }
      current.push(b);
    }
    if (current.length) out.push(union(current));
  }
  return out;
}

/** Detected lines whose centre falls in the field's region, grouped into rows, nearest the region's centre first. */
function rowsInRegion(boxes: readonly TextBox[], region: Rect): Rect[] {
  const inside = boxes.filter((b) => {
    const cx = b.x + b.width / 2;
    const cy = b.y + b.height / 2;
    return (
      cx >= region.x && cx <= region.x + region.width && cy >= region.y && cy <= region.y + region.height
    );
  });
  const united = textRows(inside);
  const centreY = region.y + region.height / 2;
  // Values are printed larger than the captions above them ("Nom / Surname"): a row much shorter than
  // the tallest one in the region comes after it, whatever its position.
  const tallest = Math.max(0, ...united.map((r) => r.height));
  const caption = (r: Rect) => (r.height < 0.7 * tallest ? 1 : 0);
  return united.sort(
    (a, b) =>
      caption(a) - caption(b) ||
      Math.abs(a.y + a.height / 2 - centreY) - Math.abs(b.y + b.height / 2 - centreY),
  );
}

/**
 * A line crop for Tesseract: cut tight (a neighbouring line in the margin makes it read two half lines),
 * scaled so glyphs are about `linePx` tall, grey levels stretched between the ink (3rd percentile) and the
 * paper (median), framed with white, then kept grey or binarised half-way (Tesseract's own Otsu
 * threshold fails on the pale print of ID cards). Arabic lines are read grey first: binarising erases
 * the dots that tell ب ت ث ن ي apart (on 16 generated CNIE fronts, 32 of 48 Arabic fields exact in
 * grey, 27 binarised; 34 at 56 px, 32 at 72, 31 at 96).
 */
async function lineCrop(
  side: RgbImage,
  r: Rect,
  mode: 'binary' | 'grey',
  linePx: number,
): Promise<RgbImage | undefined> {
  const pad = r.height * 0.12;
  const rect = { x: r.x - pad, y: r.y - pad, width: r.width + 2 * pad, height: r.height + 2 * pad };
  const scale = Math.min(4, Math.max(0.5, linePx / Math.max(1, r.height)));
  const w = Math.max(8, Math.round(rect.width * scale));
  const h = Math.max(8, Math.round(rect.height * scale));
  const crop = await cropResize(side, rect, w, h);
  const grey = toGray(crop);
  const [ink, paper] = orderStatistics(grey, [
    Math.floor(grey.length * 0.03),
    Math.floor(grey.length * 0.5),
  ]) as [number, number];
  // With no contrast at all (an empty region) there is no line to read.
  if (paper - ink <= 12) return undefined;
  const cut = (ink + paper) / 2;
  const margin = Math.round(h * 0.4);
  const width = w + 2 * margin;
  const height = h + 2 * margin;
  const data = new Uint8Array(width * height * 3).fill(255);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const g = grey[y * w + x]!;
      const v =
        mode === 'grey'
          ? Math.max(0, Math.min(255, Math.round(((g - ink) / (paper - ink)) * 255)))
          : g < cut
            ? 0
            : 255;
      const at = ((y + margin) * width + x + margin) * 3;
      data.fill(v, at, at + 3);
    }
  return { width, height, data };
}

/**
 * Word breaks PP-OCR (trained on Chinese) sees but drops: its space class, where it did not win, still
 * rises between two words (0.06-0.5) and stays near zero within one (under 0.03); on 40 generated
 * documents (239 names, places and addresses, clean and hard photos) this alone placed every break. A
 * blank run of twice the widest gap seen within a word (0.33 text heights) is a break too, whatever the
 * recogniser thought (a widely spaced layout). Tesseract's breaks, used before, cost six Tesseract
 * calls per CNIE and got fewer lines right.
 */
const SPACE_PROBABILITY = 0.04;
const WORD_GAP = 0.6;

/**
 * PP-OCR's reading with its word breaks: wherever it put a space, nearly did (SPACE_PROBABILITY), or the
 * image shows a blank run too wide for a gap within a word. Letters, digits and apostrophes are kept,
 * upper-case and unaccented.
 */
function spacedWords(pp: RecognizedText): string {
  const { gaps, spaceBefore } = pp.breaks ?? { gaps: [], spaceBefore: [] };
  let out = '';
  let pending = false;
  pp.chars.forEach((c, k) => {
    if (c.trim() === '') {
      pending = true;
      return;
    }
    if ((spaceBefore[k] ?? 0) >= SPACE_PROBABILITY || (gaps[k] ?? 0) >= WORD_GAP) pending = true;
    const kept = foldLatin(c).replace(/[^A-Z0-9']/g, '');
    if (!kept) return;
    out += (pending && out ? ' ' : '') + kept;
    pending = false;
  });
  return out;
}

const lettersOnly = (s: string) => foldLatin(s).replace(/[^A-Z0-9]/g, '');

async function readLatinField(
  side: RgbImage,
  region: FieldRegion,
  rows: Rect[],
  deps: VisualZoneDeps,
): Promise<VisualFieldReading | undefined> {
  // PP-OCR reads every Latin field: its charset has every digit and separator, and the word breaks its
  // Chinese-trained recogniser drops are taken from the image (spacedWords).
  const wordy = region.format === 'name' || region.format === 'text';
  for (const row of rows.slice(0, 3)) {
    const padY = row.height * 0.15;
    const pp = await recognizeText(
      side,
      { x: row.x - padY, y: row.y - padY, width: row.width + 2 * padY, height: row.height + 2 * padY },
      deps,
      undefined,
      { wordBreaks: wordy },
    );
    const text = wordy ? spacedWords(pp) : pp.text;
    if (wordy && text.replace(/ /g, '').length < 2) continue;
    const n = normaliseField(region, text);
    if (n?.valid) return { field: region.field, ...n, confidence: pp.confidence, engine: 'ppocr' };
  }
  return undefined;
}

/**
 * The printed line inside a region with no detected line: rows holding ink (darker than half-way between
 * the darkest 2 % and the paper) form bands; the heaviest band is the line, and short bands within half
 * its height above or below (Arabic dots, hamza, descenders) join it.
 */
/** Bands shorter than this share of the line's height are its marks (dots, hamza), not another line. */
const MARK_HEIGHT = 0.4;

async function inkLine(side: RgbImage, region: Rect): Promise<Rect> {
  const w = Math.max(1, Math.round(region.width));
  const h = Math.max(1, Math.round(region.height));
  const grey = toGray(await cropResize(side, region, w, h));
  const [dark, median] = orderStatistics(grey, [
    Math.floor(grey.length * 0.02),
    Math.floor(grey.length * 0.5),
  ]);
  const cut = (dark! + median!) / 2;
  const rowInk = new Array<number>(h).fill(0);
  const colInk = (y0: number, y1: number) => {
    const cols: number[] = [];
    for (let x = 0; x < w; x++)
      for (let y = y0; y < y1; y++)
        if (grey[y * w + x]! < cut) {
          cols.push(x);
          break;
        }
    return cols;
  };
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (grey[y * w + x]! < cut) rowInk[y]!++;
  const bands: { y0: number; y1: number; mass: number }[] = [];
  for (let y = 0, start = -1; y <= h; y++) {
    const on = y < h && rowInk[y]! > 0;
    if (on && start < 0) start = y;
    if (!on && start >= 0) {
      bands.push({ y0: start, y1: y, mass: rowInk.slice(start, y).reduce((a, b) => a + b, 0) });
      start = -1;
    }
  }
  if (!bands.length) return region;
  bands.sort((a, b) => b.mass - a.mass);
  const line = { ...bands[0]! };
  const lineHeight = line.y1 - line.y0;
  for (const b of bands.slice(1)) {
    const gap = b.y0 >= line.y1 ? b.y0 - line.y1 : line.y0 - b.y1;
    // Marks are short bands; a caption printed just above the value (the passport's "الاسم العائلي") is a
    // line of its own, half the value's height, and stays out (joined, Tesseract read both as garbage).
    if (gap <= lineHeight / 2 && b.y1 - b.y0 < MARK_HEIGHT * lineHeight) {
      line.y0 = Math.min(line.y0, b.y0);
      line.y1 = Math.max(line.y1, b.y1);
    }
  }
  const cols = colInk(line.y0, line.y1);
  if (!cols.length) return region;
  const x0 = cols[0]!;
  const x1 = cols[cols.length - 1]! + 1;
  return { x: region.x + x0, y: region.y + line.y0, width: x1 - x0, height: line.y1 - line.y0 };
}

async function readArabicField(
  side: RgbImage,
  region: FieldRegion,
  rows: Rect[],
  deps: VisualZoneDeps,
): Promise<VisualFieldReading | undefined> {
  // The detector misses short Arabic words (dots and ligatures break its lines) and may find only a
  // caption: the heaviest band of ink in the region (the value, printed larger) comes first, then the
  // detected rows.
  const candidates = [await inkLine(side, toPx(side, region.box)), ...rows.slice(0, 1)];
  let best: VisualFieldReading | undefined;
  // Grey first (it keeps the dots); binarised when grey reads nothing convincing (faint, blurred print).
  for (const row of candidates)
    for (const binarise of [false, true]) {
      const crop = await lineCrop(side, row, binarise ? 'binary' : 'grey', ARABIC_LINE_PX);
      if (!crop) continue;
      const r = await deps.lineOcr.readLine(crop, 'arabic');
      const n = normaliseField(region, r.text);
      if (!n) continue;
      const reading = {
        field: region.field,
        ...n,
        confidence: n.valid ? r.confidence : r.confidence / 2,
        engine: 'tesseract' as const,
      };
      if (!best || reading.confidence > best.confidence) best = reading;
      if (n.valid && r.confidence > 0.7) return best;
    }
  if (best && best.valid && best.confidence >= MIN_CONFIDENCE) return best;
  // Tesseract's line finder misses some short words outright ("نبيل" on a clean crop read as nothing):
  // the value read as a single word. Word-mode confidences are low even when right, so the reading
  // stays tentative until the Latin spelling of the same name confirms it (see ocr-check).
  const crop = await lineCrop(side, candidates[0]!, 'grey', ARABIC_LINE_PX);
  if (!crop) return best;
  const word = await deps.lineOcr.readLine(crop, 'arabic', 'word');
  const n = normaliseField(region, word.text);
  if (!n?.valid) return best;
  return { field: region.field, ...n, confidence: word.confidence, engine: 'tesseract', tentative: true };
}

/**
 * Read the visual-zone fields a template places on one rectified, upright side: text lines are detected
 * once (PP-OCRv4 DB), each field takes the lines inside its region, and the line is recognised by the
 * engine suited to its script and format; values are normalised by the template's format.
 */
export async function readVisualZone(
  side: RgbImage,
  template: DocumentTemplate,
  sideName: 'front' | 'back',
  deps: VisualZoneDeps,
  /** Text lines already detected on `side`, to save a detection pass. */
  detected?: TextBox[],
): Promise<VisualZoneReading> {
  const times = { detect: 0, recognize: 0 };
  const regions = template.fields.filter((f) => f.side === sideName);
  if (!regions.length) return { templateId: template.id, side: sideName, fields: [], times };
  let t0 = performance.now();
  const boxes = detected ?? (await detectText(side, deps, 1024));
  times.detect = performance.now() - t0;
  t0 = performance.now();
  const fields: VisualFieldReading[] = [];
  // Fields are read concurrently: the Latin and Arabic Tesseract workers run on their own threads
  // beside onnxruntime, so on two cores the side takes about as long as its slowest engine.
  const readings = await Promise.all(
    regions.map((region) => {
      const rows = rowsInRegion(boxes, toPx(side, region.box));
      return region.script === 'arabic'
        ? readArabicField(side, region, rows, deps)
        : readLatinField(side, region, rows, deps);
    }),
  );
  const tentative: VisualFieldReading[] = [];
  for (const reading of readings) {
    if (!reading) continue;
    const rounded = { ...reading, confidence: Math.round(reading.confidence * 1e4) / 1e4 };
    if (reading.tentative || reading.confidence < MIN_CONFIDENCE) {
      if (reading.valid) tentative.push(rounded);
    } else fields.push(rounded);
  }
  times.recognize = performance.now() - t0;
  return { templateId: template.id, side: sideName, fields, tentative, times };
}

/**
 * The fewest edits that turn `word` into some substring of `text` (approximate substring match, Sellers'
 * algorithm: the match may start and end anywhere in `text`).
 */
function approxDistance(text: string, word: string): number {
  let prev = Array.from({ length: word.length + 1 }, (_, i) => i);
  let best = prev[word.length]!;
  for (const c of text) {
    const cur = [0];
    for (let j = 1; j <= word.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (word[j - 1] === c ? 0 : 1));
    best = Math.min(best, cur[word.length]!);
    prev = cur;
  }
  return best;
}

/**
 * A caption's value: on the nearest line under it (starting below the caption's middle, within two and a
 * half caption heights), the text that starts under the caption and the words that follow it closely (a
 * wide gap starts the next column's value).
 */
function valueUnder(caption: Rect, boxes: readonly TextBox[]): Rect | undefined {
  const below = boxes.filter(
    (b) =>
      b.y >= caption.y + caption.height / 2 &&
      b.y - (caption.y + caption.height) <= 2.5 * caption.height &&
      b.x < caption.x + caption.width &&
      b.x + b.width > caption.x - caption.height,
  );
  const first = below.sort((a, b) => a.y - b.y || Math.abs(a.x - caption.x) - Math.abs(b.x - caption.x))[0];
  if (!first) return undefined;
  const line = boxes
    .filter((b) => Math.abs(b.y + b.height / 2 - (first.y + first.height / 2)) < first.height / 2)
    .sort((a, b) => a.x - b.x);
  const words: Rect[] = [first];
  for (const b of line) {
    const last = words[words.length - 1]!;
    if (b.x <= last.x) continue;
    if (b.x - (last.x + last.width) > 1.5 * first.height) break;
    words.push(b);
  }
  return union(words);
}

/**
 * Edits per caption letter a caption may be read with (a blurred "ptace ohic/ Ueulehassnce" is
 * LIEUDENAISSANCE at 6 of 15), and by how much less than any other zone II field's caption.
 */
const MAX_CAPTION_DISTANCE = 0.4;
const CAPTION_MARGIN = 0.1;

/** Rows wider than this share of the side are MRZ lines or headings, never a caption. */
const MAX_CAPTION_WIDTH = 0.6;

/**
 * Read the fields a generic template finds by their captions: every text row of the side is recognised
 * (PP-OCR), rows whose letters hold one of a field's captions (a few OCR errors allowed) are that field's
 * caption, and the row under each is read as its value like any Latin field.
 */
export async function readCaptionedFields(
  side: RgbImage,
  template: DocumentTemplate,
  sideName: 'front' | 'back',
  deps: VisualZoneDeps,
  boxes: readonly TextBox[],
): Promise<VisualZoneReading> {
  const times = { detect: 0, recognize: 0 };
  const wanted = (template.captioned ?? []).filter((f) => f.side === sideName);
  if (!wanted.length) return { templateId: template.id, side: sideName, fields: [], times };
  const t0 = performance.now();
  const rows = phrases(boxes).filter((row) => row.width <= MAX_CAPTION_WIDTH * side.width);
  const texts = await Promise.all(rows.map((row) => recognizeText(side, row, deps)));
  // Each row's nearest caption, in edits per caption letter: a row is a wanted field's caption when that
  // caption is near enough and clearly nearer than any other zone II field's; each field keeps its
  // nearest row.
  const nearest = (letters: string, captions: readonly string[]) =>
    Math.min(...captions.map((c) => approxDistance(letters, c) / c.length));
  const best = new Map<CaptionedField, { row: Rect; distance: number }>();
  for (const [i, row] of rows.entries()) {
    const letters = lettersOnly(texts[i]!.text).replace(/[0-9]/g, '');
    if (letters.length < 3) continue;
    const other = nearest(letters, OTHER_ZONE_II_CAPTIONS);
    for (const f of wanted) {
      const distance = nearest(letters, f.captions);
      if (distance > MAX_CAPTION_DISTANCE || distance > other - CAPTION_MARGIN) continue;
      if (!best.has(f) || distance < best.get(f)!.distance) best.set(f, { row, distance });
    }
  }
  const captions = new Map([...best].map(([f, b]) => [f, b.row]));
  const dateRegion: FieldRegion = {
    field: 'issue_date',
    side: sideName,
    box: [0, 0, 1, 1],
    script: 'latin',
    format: 'date_dmy',
  };
  const dates = texts.flatMap((t) => {
    const n = normaliseField(dateRegion, t.text);
    return n?.valid ? [n.value] : [];
  });
  // A caption's own boxes are never another field's value.
  const captionRows = [...captions.values()];
  const free = boxes.filter(
    (b) =>
      !captionRows.some(
        (r) =>
          b.x >= r.x - 1 &&
          b.y >= r.y - 1 &&
          b.x + b.width <= r.x + r.width + 1 &&
          b.y + b.height <= r.y + r.height + 1,
      ),
  );
  const readings = await Promise.all(
    [...captions].map(([f, caption]) => {
      const value = valueUnder(caption, free);
      if (!value) return undefined;
      const region: FieldRegion = {
        field: f.field,
        side: sideName,
        box: [0, 0, 1, 1],
        script: 'latin',
        format: f.format,
      };
      return readLatinField(side, region, [value], deps);
    }),
  );
  const fields = readings
    .filter((r): r is VisualFieldReading => r !== undefined && r.confidence >= MIN_CONFIDENCE)
    .map((r) => ({ ...r, confidence: Math.round(r.confidence * 1e4) / 1e4 }));
  times.recognize = performance.now() - t0;
  return { templateId: template.id, side: sideName, fields, dates, times };
}
