import type { InferenceRunner } from '../../ports/inference.ts';
import { cropResize, type Rect, type RgbImage } from '../image/rgb-image.ts';

export interface Point {
  x: number;
  y: number;
}

const SIZE = 64;

/** The square box (side = longer side of the detection) the landmark model expects, centred on the face. */
export function squareBox(box: Rect): Rect {
  const side = Math.max(box.width, box.height);
  return {
    x: box.x + box.width / 2 - side / 2,
    y: box.y + box.height / 2 - side / 2,
    width: side,
    height: side,
  };
}

/** 68-point landmarks (iBUG order) in image pixels: grey/256 crop of the square face box, 64×64. */
export async function detectLandmarks(
  img: RgbImage,
  face: Rect,
  deps: { inference: InferenceRunner },
): Promise<Point[]> {
  const sq = squareBox(face);
  const crop = await cropResize(img, sq, SIZE, SIZE);
  const input = new Float32Array(SIZE * SIZE);
  for (let i = 0; i < SIZE * SIZE; i++) {
    const j = i * 3;
    input[i] = (0.299 * crop.data[j]! + 0.587 * crop.data[j + 1]! + 0.114 * crop.data[j + 2]!) / 256;
  }
  const out = await deps.inference.run('face_landmark', { data: input, dims: [1, 1, SIZE, SIZE] });
  const pts = out.output!.data;
  const points: Point[] = [];
  for (let i = 0; i + 1 < pts.length && points.length < 68; i += 2) {
    points.push({ x: sq.x + pts[i]! * sq.width, y: sq.y + pts[i + 1]! * sq.height });
  }
  return points;
}

function mean(points: Point[]): Point {
  let x = 0;
  let y = 0;
  for (const p of points) {
    x += p.x;
    y += p.y;
  }
  return { x: x / points.length, y: y / points.length };
}

/** Eye centres, nose tip and mouth corners from the 68 points (iBUG indices 36-41, 42-47, 30, 48, 54). */
export function fivePoints(landmarks: Point[]): Point[] {
  if (landmarks.length < 68) throw new Error(`expected 68 landmarks, got ${landmarks.length}`);
  return [
    mean(landmarks.slice(36, 42)),
    mean(landmarks.slice(42, 48)),
    landmarks[30]!,
    landmarks[48]!,
    landmarks[54]!,
  ];
}
