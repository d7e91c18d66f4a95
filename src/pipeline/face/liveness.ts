import type { InferenceRunner } from '../../ports/inference.ts';
import { cropBilinear, flipHorizontal, type Rect, type RgbImage } from '../image/rgb-image.ts';

const SIZE = 128;
/** MiniFASNet's context scale: the crop is the face box enlarged 2.7× (MODELS.md). */
export const LIVENESS_CONTEXT_SCALE = 2.7;

/**
 * The face box enlarged by `scale` around its centre, shrunk to fit the image and shifted inside it,
 * as Silent-Face-Anti-Spoofing's CropImage does (never padded: padding is itself a spoof cue).
 */
export function contextBox(img: RgbImage, box: Rect, scaleWanted: number): Rect {
  const scale = Math.min((img.height - 1) / box.height, (img.width - 1) / box.width, scaleWanted);
  const w = box.width * scale;
  const h = box.height * scale;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  let x1 = cx - w / 2;
  let y1 = cy - h / 2;
  let x2 = cx + w / 2;
  let y2 = cy + h / 2;
  if (x1 < 0) {
    x2 -= x1;
    x1 = 0;
  }
  if (y1 < 0) {
    y2 -= y1;
    y1 = 0;
  }
  if (x2 > img.width - 1) {
    x1 -= x2 - img.width + 1;
    x2 = img.width - 1;
  }
  if (y2 > img.height - 1) {
    y1 -= y2 - img.height + 1;
    y2 = img.height - 1;
  }
  return {
    x: Math.max(0, x1),
    y: Math.max(0, y1),
    width: x2 - Math.max(0, x1),
    height: y2 - Math.max(0, y1),
  };
}

function softmax(v: Float32Array): number[] {
  const m = Math.max(...v);
  const e = Array.from(v, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

async function liveProbability(crop: RgbImage, deps: { inference: InferenceRunner }): Promise<number> {
  const plane = SIZE * SIZE;
  const input = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    // BGR order: with RGB input the model is near chance (MODELS.md, AUC 0.60).
    input[i] = crop.data[i * 3 + 2]!;
    input[plane + i] = crop.data[i * 3 + 1]!;
    input[2 * plane + i] = crop.data[i * 3]!;
  }
  const out = await deps.inference.run('face_liveness', { data: input, dims: [1, 3, SIZE, SIZE] });
  return softmax(out.output!.data)[0]!;
}

/**
 * Probability (0..1) that the face is a live person: softmax[0] of the model on a raw 0-255 BGR crop,
 * averaged over the crop and its mirror image (test-time augmentation: AUC 0.839 → 0.855 on NUAA, and the
 * plain bilinear crop instead of an anti-aliased one 0.839 → 0.854; see models/calibration-report.md).
 */
export async function livenessScore(
  img: RgbImage,
  face: Rect,
  deps: { inference: InferenceRunner },
): Promise<number> {
  const crop = cropBilinear(img, contextBox(img, face, LIVENESS_CONTEXT_SCALE), SIZE, SIZE);
  const a = await liveProbability(crop, deps);
  const b = await liveProbability(flipHorizontal(crop), deps);
  return (a + b) / 2;
}
