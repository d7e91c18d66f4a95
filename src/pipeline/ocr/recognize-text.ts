import { orderStatistics } from '../image/order-statistics.ts';
import type { InferenceRunner } from '../../ports/inference.ts';
import { cropResize, rotateRight, toGray, type Rect, type RgbImage } from '../image/rgb-image.ts';

export interface RecognizedText {
  text: string;
  /** The characters of `text`, one per CTC step of `steps`. */
  chars: string[];
  /** Mean probability of the kept characters. */
  confidence: number;
  /** CTC time step of each character of `text` (a step is HEIGHT/… px of the crop: 8 px at height 48). */
  steps: number[];
  /**
   * Where each character's CTC step falls in the source image (x, px, the step's centre): upside down
   * the crop is read from the rect's right edge. The recogniser emits a character at a steady place on
   * its glyph, so on a monospace line these positions count glyph cells, even the ones it did not read.
   */
  x: number[];
  /** Where the words break: computed only when asked (`wordBreaks`), for names and places. */
  breaks?: WordBreakEvidence;
}

export interface WordBreakEvidence {
  /**
   * Before each character of `text`, the widest run of blank columns between it and the character
   * before, in heights of the printed text (0 for the first).
   */
  gaps: number[];
  /**
   * Before each character, the highest probability the recogniser gave its space class at the steps
   * since the previous character: where it saw a space and still decoded a blank, this stands out
   * (0.06-0.5 at word breaks, under 0.03 within words, on 40 generated documents).
   */
  spaceBefore: number[];
}

const HEIGHT = 48;
/** (v/255 − 0.5)/0.5 for every byte value. */
const CENTRED = Float32Array.from({ length: 256 }, (_, v) => (v / 255 - 0.5) / 0.5);
const MAX_WIDTH = 2048;

/**
 * One text line with PP-OCRv4's CTC recogniser: crop at height 48 keeping the aspect ratio, BGR
 * (v/255 − 0.5)/0.5, greedy CTC decoding over blank + charset + space. `allowed`, when given, keeps
 * only those characters at each step (the best allowed class wins), e.g. the MRZ alphabet.
 */
export async function recognizeText(
  img: RgbImage,
  rect: Rect,
  deps: { inference: InferenceRunner; charset: readonly string[] },
  allowed?: ReadonlySet<string>,
  options: {
    upsideDown?: boolean;
    wordBreaks?: boolean;
    /** Horizontal scale of the crop (1 keeps the aspect ratio; above 1 widens the glyphs' spacing). */
    stretch?: number;
  } = {},
): Promise<RecognizedText> {
  const width = Math.max(
    16,
    Math.min(
      MAX_WIDTH,
      Math.round((rect.width / Math.max(1, rect.height)) * HEIGHT * (options.stretch ?? 1)),
    ),
  );
  const upright = await cropResize(img, rect, width, HEIGHT);
  const crop = options.upsideDown ? await rotateRight(upright, 180) : upright;
  const plane = width * HEIGHT;
  const input = new Float32Array(3 * plane);
  const d = crop.data;
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    input[i] = CENTRED[d[j + 2]!]!;
    input[plane + i] = CENTRED[d[j + 1]!]!;
    input[2 * plane + i] = CENTRED[d[j]!]!;
  }
  // The charset's classes after CTC's blank (0), and the space last.
  const classes = deps.charset.length + 2;
  const out = Object.values(
    await deps.inference.run(
      'text_recognize',
      { data: input, dims: [1, 3, HEIGHT, width] },
      { allowed: allowed && allowedMask(deps.charset, allowed), also: [classes - 1] },
    ),
  )[0]!;
  // Per CTC step: the best class (among `allowed`), its probability, the space class's probability.
  const steps = out.dims[1]!;
  if (out.dims.length !== 3 || out.dims[2] !== 3)
    throw new Error(`text_recognize answered dims [${out.dims.join(', ')}], not the reduction asked for`);
  const label = (k: number) => (k === 0 ? '' : k === classes - 1 ? ' ' : (deps.charset[k - 1] ?? ''));
  const chars: string[] = [];
  const positions: number[] = [];
  let prev = -1;
  let sum = 0;
  let n = 0;
  for (let t = 0; t < steps; t++) {
    const best = out.data[t * 3]!;
    const bestP = out.data[t * 3 + 1]!;
    if (best !== 0 && best !== prev) {
      chars.push(label(best));
      positions.push(t);
      sum += bestP;
      n++;
    }
    prev = best;
  }
  // Crop px per step, and source px per crop px.
  const stepWidth = width / steps;
  const scale = rect.width / width;
  return {
    text: chars.join(''),
    chars,
    confidence: n ? sum / n : 0,
    steps: positions,
    x: positions.map((t) => {
      const offset = (t + 0.5) * stepWidth * scale;
      return options.upsideDown ? rect.x + rect.width - offset : rect.x + offset;
    }),
    breaks: options.wordBreaks
      ? {
          gaps: blankRuns(crop, positions, width / steps),
          spaceBefore: positions.map((t, k) => {
            let m = 0;
            for (let u = k ? positions[k - 1]! + 1 : 0; u < t; u++) m = Math.max(m, out.data[u * 3 + 2]!);
            return m;
          }),
        }
      : undefined,
  };
}

/** Per charset and allowed set, which classes may win: blank always, the space only if allowed. */
const masks = new WeakMap<readonly string[], WeakMap<ReadonlySet<string>, Uint8Array>>();
function allowedMask(charset: readonly string[], allowed: ReadonlySet<string>): Uint8Array {
  let byCharset = masks.get(charset);
  if (!byCharset) masks.set(charset, (byCharset = new WeakMap()));
  let mask = byCharset.get(allowed);
  if (!mask) {
    mask = new Uint8Array(charset.length + 2);
    mask[0] = 1;
    for (let k = 1; k <= charset.length; k++) mask[k] = allowed.has(charset[k - 1]!) ? 1 : 0;
    mask[charset.length + 1] = allowed.has(' ') ? 1 : 0;
    byCharset.set(allowed, mask);
  }
  return mask;
}

/**
 * Per character, the widest run of ink-free columns between the previous character's CTC step and its
 * own, in heights of the printed text (the longest run of rows holding ink: capitals' height on a name,
 * whatever margin the detector's box left around it). A column holds ink when its darkest pixel (in the
 * middle rows: the top and bottom ones may hold a neighbouring line's descenders or accents) is darker
 * than half-way between the darkest and the lightest pixel within a line height around it: a local cut,
 * so letters under glare (paler, on a paler ground) still count as ink.
 */
function blankRuns(crop: RgbImage, steps: readonly number[], pxPerStep: number): number[] {
  const { width, height } = crop;
  const grey = toGray(crop);
  const y0 = Math.floor(height * 0.12);
  const y1 = Math.ceil(height * 0.88);
  const colMin = new Float32Array(width).fill(255);
  const colMax = new Float32Array(width);
  for (let y = y0; y < y1; y++)
    for (let x = 0; x < width; x++) {
      const g = grey[y * width + x]!;
      if (g < colMin[x]!) colMin[x] = g;
      if (g > colMax[x]!) colMax[x] = g;
    }
  let contrast = 0;
  for (let x = 0; x < width; x++) contrast = Math.max(contrast, colMax[x]! - colMin[x]!);
  const textHeight = Math.max(0.25 * height, inkHeight(grey, width, height));
  const half = Math.round(height / 2);
  const blank = new Uint8Array(width);
  for (let x = 0; x < width; x++) {
    let lo = 255;
    let hi = 0;
    for (let k = Math.max(0, x - half); k < Math.min(width, x + half); k++) {
      if (colMin[k]! < lo) lo = colMin[k]!;
      if (colMax[k]! > hi) hi = colMax[k]!;
    }
    // A window with hardly any contrast holds no print at all.
    blank[x] = hi - lo < contrast * 0.2 || colMin[x]! > (lo + hi) / 2 ? 1 : 0;
  }
  return steps.map((t, k) => {
    if (k === 0) return 0;
    const from = Math.max(0, Math.round((steps[k - 1]! + 0.5) * pxPerStep));
    const to = Math.min(width, Math.round((t + 0.5) * pxPerStep));
    let best = 0;
    for (let x = from, run = 0; x < to; x++) {
      run = blank[x] ? run + 1 : 0;
      best = Math.max(best, run);
    }
    return best / textHeight;
  });
}

/**
 * The longest run of rows holding ink (at least 1 % of the row darker than half-way between the darkest
 * 3 % and the median of the crop).
 */
function inkHeight(grey: Float32Array, width: number, height: number): number {
  const [dark, median] = orderStatistics(grey, [
    Math.floor(grey.length * 0.03),
    Math.floor(grey.length * 0.5),
  ]);
  const cut = (dark! + median!) / 2;
  let best = 0;
  for (let y = 0, run = 0; y < height; y++) {
    let n = 0;
    for (let x = 0; x < width; x++) if (grey[y * width + x]! < cut) n++;
    run = n >= Math.max(2, 0.01 * width) ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}
