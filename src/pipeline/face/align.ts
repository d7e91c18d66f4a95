import { cropResize, sampleBilinearRgbInto, type RgbImage } from '../image/rgb-image.ts';
import type { Point } from './landmarks.ts';

/** The standard ArcFace 112×112 five-point template (insightface), left eye, right eye, nose, mouth corners. */
export const ARCFACE_TEMPLATE: readonly Point[] = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];

export const ALIGNED_SIZE = 112;

/** dst = [[a, −b], [b, a]]·src + [tx, ty] */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Least-squares similarity transform (rotation, uniform scale, translation) mapping src onto dst. */
export function fitSimilarity(src: readonly Point[], dst: readonly Point[]): Similarity {
  const n = src.length;
  let sx = 0;
  let sy = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]!.x;
    sy += src[i]!.y;
    dx += dst[i]!.x;
    dy += dst[i]!.y;
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let num1 = 0;
  let num2 = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]!.x - sx;
    const py = src[i]!.y - sy;
    const qx = dst[i]!.x - dx;
    const qy = dst[i]!.y - dy;
    num1 += px * qx + py * qy;
    num2 += px * qy - py * qx;
    den += px * px + py * py;
  }
  const a = den === 0 ? 1 : num1 / den;
  const b = den === 0 ? 0 : num2 / den;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

/**
 * Warp the face to the 112×112 template. When the face is much larger than the template, the region is
 * first downscaled with a proper filter so the bilinear warp does not alias.
 */
export async function alignFace(img: RgbImage, five: readonly Point[]): Promise<RgbImage> {
  let src = img;
  let pts = five;
  let t = fitSimilarity(pts, ARCFACE_TEMPLATE);
  const scale = Math.hypot(t.a, t.b);
  if (scale < 0.6) {
    // Region covering the template's 112×112 square in source pixels, with margin.
    const xs = pts.map((p) => p.x);
    const ys = pts.map((p) => p.y);
    const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
    const cy = (Math.min(...ys) + Math.max(...ys)) / 2;
    const half = (ALIGNED_SIZE / scale) * 0.9;
    const x0 = Math.max(0, Math.floor(cx - half));
    const y0 = Math.max(0, Math.floor(cy - half));
    const x1 = Math.min(img.width, Math.ceil(cx + half));
    const y1 = Math.min(img.height, Math.ceil(cy + half));
    const w = Math.max(1, Math.round((x1 - x0) * scale * 1.25));
    const h = Math.max(1, Math.round((y1 - y0) * scale * 1.25));
    src = await cropResize(img, { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, w, h);
    const fx = w / (x1 - x0);
    const fy = h / (y1 - y0);
    pts = five.map((p) => ({ x: (p.x - x0) * fx, y: (p.y - y0) * fy }));
    t = fitSimilarity(pts, ARCFACE_TEMPLATE);
  }
  const det = t.a * t.a + t.b * t.b;
  const out = new Uint8Array(ALIGNED_SIZE * ALIGNED_SIZE * 3);
  for (let v = 0; v < ALIGNED_SIZE; v++) {
    for (let u = 0; u < ALIGNED_SIZE; u++) {
      const qx = u - t.tx;
      const qy = v - t.ty;
      const x = (t.a * qx + t.b * qy) / det;
      const y = (-t.b * qx + t.a * qy) / det;
      const o = (v * ALIGNED_SIZE + u) * 3;
      const outside = x < -1 || y < -1 || x > src.width || y > src.height;
      // Outside the source the pixel stays black (the array starts zeroed).
      if (!outside) sampleBilinearRgbInto(src, x, y, out, o);
    }
  }
  return { width: ALIGNED_SIZE, height: ALIGNED_SIZE, data: out };
}
