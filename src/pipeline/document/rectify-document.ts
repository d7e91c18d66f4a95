import { sampleBilinearRgbInto, type RgbImage } from '../image/rgb-image.ts';
import { solveLinear } from '../image/solve-linear.ts';
import type { DocumentQuad, Point } from './locate-document.ts';

/** Row-major 3×3 projective transform with h[8] = 1. */
export type Homography = number[];

/**
 * The homography mapping each `from[i]` onto `to[i]` (four point pairs, no three collinear).
 * Solves the standard 8×8 linear system (Gauss-Jordan with partial pivoting).
 */
export function homographyFromQuad(from: readonly Point[], to: readonly Point[]): Homography {
  const a: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const { x, y } = from[i]!;
    const { x: u, y: v } = to[i]!;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y]);
    b.push(u);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y]);
    b.push(v);
  }
  const h = solveLinear(a, b);
  if (!h) throw new Error('degenerate quadrilateral');
  h.push(1);
  return h;
}

export function applyHomography(h: Homography, x: number, y: number): Point {
  const w = h[6]! * x + h[7]! * y + h[8]!;
  return { x: (h[0]! * x + h[1]! * y + h[2]!) / w, y: (h[3]! * x + h[4]! * y + h[5]!) / w };
}

const dist = (a: Point, b: Point): number => Math.hypot(a.x - b.x, a.y - b.y);

/**
 * Reorder TL,TR,BR,BL corners so that the top side is the longer one, i.e. the rectified output is
 * landscape. A portrait quad is turned a quarter clockwise (old BL becomes TL); whether the result is
 * upside down is left to the caller, which can tell from the text.
 */
export function orientLandscape(corners: DocumentQuad['corners']): DocumentQuad['corners'] {
  const [tl, tr, br, bl] = corners;
  const horizontal = dist(tl, tr) + dist(bl, br);
  const vertical = dist(tl, bl) + dist(tr, br);
  return horizontal >= vertical ? [tl, tr, br, bl] : [bl, tl, tr, br];
}

/**
 * Warp the quadrilateral `corners` (TL,TR,BR,BL in continuous image coordinates, where pixel i covers
 * [i, i+1)) onto a width×height image: inverse mapping through the homography, bilinear sampling.
 */
export function rectifyDocument(
  img: RgbImage,
  corners: DocumentQuad['corners'],
  width: number,
  height: number,
): RgbImage {
  const rect: Point[] = [
    { x: 0, y: 0 },
    { x: width, y: 0 },
    { x: width, y: height },
    { x: 0, y: height },
  ];
  const h = homographyFromQuad(rect, corners);
  const [h0, h1, h2, h3, h4, h5, h6, h7, h8] = h as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const out = new Uint8Array(width * height * 3);
  for (let v = 0; v < height; v++) {
    const y = v + 0.5;
    for (let u = 0; u < width; u++) {
      // applyHomography, inline (no object per pixel); the sampler puts pixel centres on integers.
      const x = u + 0.5;
      const w = h6 * x + h7 * y + h8;
      const px = (h0 * x + h1 * y + h2) / w;
      const py = (h3 * x + h4 * y + h5) / w;
      sampleBilinearRgbInto(img, px - 0.5, py - 0.5, out, (v * width + u) * 3);
    }
  }
  return { width, height, data: out };
}
