import type { InferenceRunner } from '../../ports/inference.ts';
import { cropResize, rotateRight, type Rect, type RgbImage } from '../image/rgb-image.ts';

export interface RecognizedText {
  text: string;
  /** Mean probability of the kept characters. */
  confidence: number;
  /** CTC time step of each character of `text` (a step is HEIGHT/… px of the crop: 8 px at height 48). */
  steps: number[];
}

const HEIGHT = 48;
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
  options: { upsideDown?: boolean } = {},
): Promise<RecognizedText> {
  const width = Math.max(
    16,
    Math.min(MAX_WIDTH, Math.round((rect.width / Math.max(1, rect.height)) * HEIGHT)),
  );
  const upright = await cropResize(img, rect, width, HEIGHT);
  const crop = options.upsideDown ? await rotateRight(upright, 180) : upright;
  const plane = width * HEIGHT;
  const input = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) input[c * plane + i] = (crop.data[i * 3 + (2 - c)]! / 255 - 0.5) / 0.5;
  }
  const out = Object.values(
    await deps.inference.run('text_recognize', { data: input, dims: [1, 3, HEIGHT, width] }),
  )[0]!;
  const [, steps, classes] = out.dims as [number, number, number];
  const label = (k: number) => (k === 0 ? '' : k === classes - 1 ? ' ' : (deps.charset[k - 1] ?? ''));
  let text = '';
  const positions: number[] = [];
  let prev = -1;
  let sum = 0;
  let n = 0;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let bestP = -1;
    for (let k = 0; k < classes; k++) {
      const p = out.data[t * classes + k]!;
      if (p <= bestP) continue;
      if (allowed && k !== 0 && !allowed.has(label(k))) continue;
      best = k;
      bestP = p;
    }
    if (best !== 0 && best !== prev) {
      text += label(best);
      positions.push(t);
      sum += bestP;
      n++;
    }
    prev = best;
  }
  return { text, confidence: n ? sum / n : 0, steps: positions };
}
