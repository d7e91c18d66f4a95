import type { InferenceRunner } from '../../ports/inference.ts';
import { cropBilinear, resizeTo, type Rect, type RgbImage } from '../image/rgb-image.ts';

export interface TextBox extends Rect {
  /** Mean text probability inside the box. */
  score: number;
}

// PP-OCRv4 DB detector's published post-processing: binarise at 0.3, keep boxes scoring ≥ 0.6,
// grow each by area × 1.5 / perimeter (the "unclip" ratio).
const BIN_THRESHOLD = 0.3;
const BOX_THRESHOLD = 0.6;
const UNCLIP_RATIO = 1.5;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
/** (v/255 − mean)/std for every byte value, per input plane: a lookup instead of a division per sample. */
const NORMALISED = [0, 1, 2].map((c) => {
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = (v / 255 - MEAN[c]!) / STD[c]!;
  return t;
});

/**
 * Text lines with PP-OCRv4's DB detector: the image at its longest side ≤ `maxSide` (multiple of 32),
 * BGR ImageNet-normalised, probability map → connected components → axis-aligned boxes in image pixels.
 * Documents are rectified upright before this stage, so axis-aligned boxes are enough.
 */
export async function detectText(
  img: RgbImage,
  deps: { inference: InferenceRunner },
  maxSide = 960,
): Promise<TextBox[]> {
  // Small scans are enlarged too (up to 3×): MRZ glyphs of 6-8 px vanish in the probability map.
  const s = Math.min(3, maxSide / Math.max(img.width, img.height));
  const w = Math.max(32, Math.round((img.width * s) / 32) * 32);
  const h = Math.max(32, Math.round((img.height * s) / 32) * 32);
  // Near its own size (a rectified side) the image is resampled here, synchronously: its input then
  // reaches onnxruntime's thread at once, not when the event loop (the other side's locating) lets it.
  const small =
    s >= 0.75
      ? cropBilinear(img, { x: 0, y: 0, width: img.width, height: img.height }, w, h)
      : await resizeTo(img, w, h);
  const plane = w * h;
  const input = new Float32Array(3 * plane);
  const d = small.data;
  // BGR planes, as PaddleOCR reads images with OpenCV: plane c holds colour channel 2 − c.
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    input[i] = NORMALISED[0]![d[j + 2]!]!;
    input[plane + i] = NORMALISED[1]![d[j + 1]!]!;
    input[2 * plane + i] = NORMALISED[2]![d[j]!]!;
  }
  const out = await deps.inference.run('text_detect', { data: input, dims: [1, 3, h, w] });
  const prob = Object.values(out)[0]!.data;
  const seen = new Uint8Array(plane);
  const boxes: TextBox[] = [];
  // One flood fill at a time: its stack and its pixels fit in buffers the size of the map.
  const stack = new Int32Array(plane);
  const pixels = new Int32Array(plane);
  for (let start = 0; start < plane; start++) {
    if (seen[start] || prob[start]! < BIN_THRESHOLD) continue;
    let x0 = w;
    let y0 = h;
    let x1 = 0;
    let y1 = 0;
    let sum = 0;
    let n = 0;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top) {
      const p = stack[--top]!;
      const y = (p / w) | 0;
      const x = p - y * w;
      sum += prob[p]!;
      pixels[n++] = p;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      // The 4-neighbours.
      if (x > 0 && !seen[p - 1] && prob[p - 1]! >= BIN_THRESHOLD) {
        seen[p - 1] = 1;
        stack[top++] = p - 1;
      }
      if (x < w - 1 && !seen[p + 1] && prob[p + 1]! >= BIN_THRESHOLD) {
        seen[p + 1] = 1;
        stack[top++] = p + 1;
      }
      if (y > 0 && !seen[p - w] && prob[p - w]! >= BIN_THRESHOLD) {
        seen[p - w] = 1;
        stack[top++] = p - w;
      }
      if (y < h - 1 && !seen[p + w] && prob[p + w]! >= BIN_THRESHOLD) {
        seen[p + w] = 1;
        stack[top++] = p + w;
      }
    }
    if (sum / n < BOX_THRESHOLD) continue;
    for (const band of splitBands(pixels.subarray(0, n), w, y0, y1)) {
      const bw = band.x1 - band.x0 + 1;
      const bh = band.y1 - band.y0 + 1;
      if (Math.min(bw, bh) < 3) continue;
      const grow = (bw * bh * UNCLIP_RATIO) / (2 * (bw + bh));
      const fx = img.width / w;
      const fy = img.height / h;
      const bx0 = Math.max(0, (band.x0 - grow) * fx);
      const by0 = Math.max(0, (band.y0 - grow) * fy);
      const bx1 = Math.min(img.width, (band.x1 + 1 + grow) * fx);
      const by1 = Math.min(img.height, (band.y1 + 1 + grow) * fy);
      boxes.push({ x: bx0, y: by0, width: bx1 - bx0, height: by1 - by0, score: sum / n });
    }
  }
  return boxes.sort((a, b) => a.y - b.y || a.x - b.x);
}

/**
 * A component that spans several text lines (tightly spaced lines touch in the probability map, as MRZ
 * lines often do) is cut at the rows where it thins out to under 15 % of its widest row.
 */
function splitBands(pixels: Int32Array, w: number, y0: number, y1: number) {
  const rows = y1 - y0 + 1;
  const count = new Int32Array(rows);
  for (const p of pixels) count[((p / w) | 0) - y0]!++;
  let peak = 0;
  for (const c of count) if (c > peak) peak = c;
  const bands: { y0: number; y1: number; x0: number; x1: number }[] = [];
  // Each row's band (−1: between bands).
  const bandOfRow = new Int32Array(rows).fill(-1);
  let start = -1;
  for (let r = 0; r <= rows; r++) {
    const on = r < rows && count[r]! > 0.15 * peak;
    if (on && start < 0) start = r;
    if (!on && start >= 0) {
      bandOfRow.fill(bands.length, start, r);
      bands.push({ y0: y0 + start, y1: y0 + r - 1, x0: Infinity, x1: -Infinity });
      start = -1;
    }
  }
  if (bands.length <= 1) {
    let x0 = Infinity;
    let x1 = -Infinity;
    for (const p of pixels) {
      const x = p % w;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
    }
    return [{ y0, y1, x0, x1 }];
  }
  for (const p of pixels) {
    const y = (p / w) | 0;
    const b = bandOfRow[y - y0]!;
    if (b < 0) continue;
    const band = bands[b]!;
    const x = p - y * w;
    if (x < band.x0) band.x0 = x;
    if (x > band.x1) band.x1 = x;
  }
  return bands.filter((b) => b.x1 >= b.x0);
}
