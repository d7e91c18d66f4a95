import type { InferenceRunner } from '../../ports/inference.ts';
import { resizeTo, type Rect, type RgbImage } from '../image/rgb-image.ts';

export interface FaceBox extends Rect {
  score: number;
}

const INPUT_W = 320;
const INPUT_H = 240;
/** Ultra-Light RFB-320's published operating point: probability 0.7, NMS IoU 0.3. */
export const DETECT_MIN_SCORE = 0.7;
const NMS_IOU = 0.3;

function iou(a: Rect, b: Rect): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union <= 0 ? 0 : inter / union;
}

/** Score-sorted greedy IoU non-maximum suppression (MODELS.md: never sort by box coordinates). */
export function nms(boxes: FaceBox[], iouThreshold = NMS_IOU): FaceBox[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: FaceBox[] = [];
  for (const box of sorted) {
    if (kept.every((k) => iou(k, box) <= iouThreshold)) kept.push(box);
  }
  return kept;
}

/**
 * Detect faces on the whole image (resized to 320×240, (v−127)/128, RGB planar).
 * Returns boxes in image pixels, highest score first.
 */
export async function detectFaces(
  img: RgbImage,
  deps: { inference: InferenceRunner },
  minScore = DETECT_MIN_SCORE,
): Promise<FaceBox[]> {
  const small = await resizeTo(img, INPUT_W, INPUT_H);
  const plane = INPUT_W * INPUT_H;
  const input = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    input[i] = (small.data[i * 3]! - 127) / 128;
    input[plane + i] = (small.data[i * 3 + 1]! - 127) / 128;
    input[2 * plane + i] = (small.data[i * 3 + 2]! - 127) / 128;
  }
  const out = await deps.inference.run('face_detect', { data: input, dims: [1, 3, INPUT_H, INPUT_W] });
  const scores = out.scores!.data;
  const boxes = out.boxes!.data;
  const n = scores.length / 2;
  const candidates: FaceBox[] = [];
  for (let i = 0; i < n; i++) {
    const score = scores[i * 2 + 1]!;
    if (score < minScore) continue;
    const x1 = Math.max(0, boxes[i * 4]!) * img.width;
    const y1 = Math.max(0, boxes[i * 4 + 1]!) * img.height;
    const x2 = Math.min(1, boxes[i * 4 + 2]!) * img.width;
    const y2 = Math.min(1, boxes[i * 4 + 3]!) * img.height;
    if (x2 - x1 < 2 || y2 - y1 < 2) continue;
    candidates.push({ x: x1, y: y1, width: x2 - x1, height: y2 - y1, score });
  }
  return nms(candidates);
}
