import type { InferenceRunner } from '../../ports/inference.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { ALIGNED_SIZE } from './align.ts';

/** 512-d MobileFaceNet embedding of an aligned 112×112 face, RGB (x−127)/128, L2-normalised. */
export async function embedFace(
  aligned: RgbImage,
  deps: { inference: InferenceRunner },
): Promise<Float32Array> {
  const plane = ALIGNED_SIZE * ALIGNED_SIZE;
  const input = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    input[i] = (aligned.data[i * 3]! - 127) / 128;
    input[plane + i] = (aligned.data[i * 3 + 1]! - 127) / 128;
    input[2 * plane + i] = (aligned.data[i * 3 + 2]! - 127) / 128;
  }
  const out = await deps.inference.run('face_embed', {
    data: input,
    dims: [1, 3, ALIGNED_SIZE, ALIGNED_SIZE],
  });
  return l2normalize(out.output!.data);
}

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  const r = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) r[i] = v[i]! / n;
  return r;
}

/** Cosine similarity in [−1, 1]. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
