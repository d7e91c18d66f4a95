import type { Point } from './landmarks.ts';
import { applyHomography, homographyFromQuad } from '../document/rectify-document.ts';
import { solveLinear } from '../image/solve-linear.ts';
import { eyeSpan, fitHomography } from './head-motion.ts';

/** A grey image, one float per pixel (0-255). */
export interface GreyImage {
  width: number;
  height: number;
  data: Float32Array;
}

function sample(img: GreyImage, x: number, y: number): number {
  const x0 = Math.max(0, Math.min(img.width - 2, Math.floor(x)));
  const y0 = Math.max(0, Math.min(img.height - 2, Math.floor(y)));
  const tx = Math.max(0, Math.min(1, x - x0));
  const ty = Math.max(0, Math.min(1, y - y0));
  const i = y0 * img.width + x0;
  const d = img.data;
  return (
    (d[i]! * (1 - tx) + d[i + 1]! * tx) * (1 - ty) +
    (d[i + img.width]! * (1 - tx) + d[i + img.width + 1]! * tx) * ty
  );
}

type Mat3 = number[];
const mul = (a: Mat3, b: Mat3): Mat3 => {
  const o = new Array<number>(9);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++)
      o[r * 3 + c] = a[r * 3]! * b[c]! + a[r * 3 + 1]! * b[3 + c]! + a[r * 3 + 2]! * b[6 + c]!;
  return o;
};
const apply = (h: Mat3, x: number, y: number): [number, number] => {
  const p = applyHomography(h, x, y);
  return [p.x, p.y];
};

export interface PlanarFit {
  /** Zero-mean normalised correlation of the face with the reference after the best homography (0-1). */
  correlation: number;
  /** The median over 8×8-cell patches of the same correlation: robust to a moving reflection. */
  patchCorrelation: number;
}

const GRID = 64;

/** The mean of nine bilinear samples around (x, y), `r` pixels apart: a cheap low-pass for coarse levels. */
function sampleSmooth(img: GreyImage, x: number, y: number, r: number): number {
  if (r < 0.5) return sample(img, x, y);
  let s = 0;
  for (let j = -1; j <= 1; j++) for (let i = -1; i <= 1; i++) s += sample(img, x + i * r, y + j * r);
  return s / 9;
}

interface Level {
  size: number;
  us: Float32Array;
  vs: Float32Array;
  tpl: Float32Array;
  radius: number;
}

function level(reference: GreyImage, toRef: Mat3, size: number, radiusPx: number): Level {
  const n = size * size;
  const us = new Float32Array(n);
  const vs = new Float32Array(n);
  const tpl = new Float32Array(n);
  for (let j = 0; j < size; j++)
    for (let i = 0; i < size; i++) {
      const k = j * size + i;
      us[k] = (i / (size - 1)) * 2 - 1;
      vs[k] = (j / (size - 1)) * 2 - 1;
      const [rx, ry] = apply(toRef, us[k]!, vs[k]!);
      tpl[k] = sampleSmooth(reference, rx, ry, radiusPx);
    }
  normalise(tpl);
  return { size, us, vs, tpl, radius: radiusPx };
}

function warp(frame: GreyImage, h: Mat3, l: Level, radiusPx: number): Float32Array {
  const out = new Float32Array(l.size * l.size);
  for (let k = 0; k < out.length; k++) {
    const [fx, fy] = apply(h, l.us[k]!, l.vs[k]!);
    out[k] = sampleSmooth(frame, fx, fy, radiusPx);
  }
  normalise(out);
  return out;
}

/** Gauss-Newton on one level (forward compositional, 8 parameters), from `h`. */
function refine(frame: GreyImage, l: Level, h: Mat3, frameRadius: number, iterations: number): Mat3 {
  const size = l.size;
  const step = 2 / (size - 1);
  for (let it = 0; it < iterations; it++) {
    const warped = warp(frame, h, l, frameRadius);
    const ata = new Float64Array(64);
    const atb = new Float64Array(8);
    const jrow = new Float64Array(8);
    for (let j = 1; j < size - 1; j++)
      for (let i = 1; i < size - 1; i++) {
        const k = j * size + i;
        const gx = (warped[k + 1]! - warped[k - 1]!) / (2 * step);
        const gy = (warped[k + size]! - warped[k - size]!) / (2 * step);
        const u = l.us[k]!;
        const v = l.vs[k]!;
        jrow[0] = gx * u;
        jrow[1] = gx * v;
        jrow[2] = gx;
        jrow[3] = gy * u;
        jrow[4] = gy * v;
        jrow[5] = gy;
        jrow[6] = -gx * u * u - gy * u * v;
        jrow[7] = -gx * u * v - gy * v * v;
        const e = l.tpl[k]! - warped[k]!;
        for (let a = 0; a < 8; a++) {
          atb[a]! += jrow[a]! * e;
          for (let b = 0; b < 8; b++) ata[a * 8 + b]! += jrow[a]! * jrow[b]!;
        }
      }
    const dp = solveLinear(rows(ata), Array.from(atb));
    if (!dp || dp.some((x) => !Number.isFinite(x))) break;
    h = mul(h, [1 + dp[0]!, dp[1]!, dp[2]!, dp[3]!, 1 + dp[4]!, dp[5]!, dp[6]!, dp[7]!, 1]);
    if (Math.max(...dp.map(Math.abs)) < 1e-4) break;
  }
  return h;
}

function score(tpl: Float32Array, warped: Float32Array, size: number): PlanarFit {
  let s = 0;
  for (let k = 0; k < tpl.length; k++) s += tpl[k]! * warped[k]!;
  const cell = 8;
  const patches: number[] = [];
  for (let pj = 0; pj < size; pj += cell)
    for (let pi = 0; pi < size; pi += cell) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let j = pj; j < pj + cell; j++)
        for (let i = pi; i < pi + cell; i++) {
          const a = tpl[j * size + i]!;
          const b = warped[j * size + i]!;
          sa += a;
          sb += b;
          saa += a * a;
          sbb += b * b;
          sab += a * b;
        }
      const m = cell * cell;
      const va = saa - (sa * sa) / m;
      const vb = sbb - (sb * sb) / m;
      if (va > 1e-3 * m && vb > 1e-3 * m) patches.push((sab - (sa * sb) / m) / Math.sqrt(va * vb));
    }
  patches.sort((a, b) => a - b);
  return {
    correlation: s / tpl.length,
    patchCorrelation: patches.length ? patches[Math.floor(patches.length / 2)]! : 0,
  };
}

/**
 * How well the face of `frame` can be laid back onto the face of `reference` by one homography, as a
 * flat picture always can and a turning head cannot (its nose and cheeks move against each other and
 * parts of the face hide). The question is whether *any* homography does, so the search starts from
 * three guesses (the inner landmarks, the six plane points, the eyes and mouth as a similarity), each
 * refined by Gauss-Newton on the pixels of the face (brows to chin) coarse to fine (a 24×24 grid of
 * smoothed samples, then 64×64), brightness and contrast matched at each step; the best fit is kept.
 */
export function planarFit(
  reference: GreyImage,
  refLandmarks: Point[],
  frame: GreyImage,
  frameLandmarks: Point[],
): PlanarFit | undefined {
  const inner = refLandmarks.slice(17);
  const xs = inner.map((p) => p.x);
  const ys = inner.map((p) => p.y);
  const x0 = Math.min(...xs);
  const y0 = Math.min(...ys);
  const bw = Math.max(...xs) - x0;
  const bh = Math.max(...ys) - y0;
  if (!(bw > 8 && bh > 8)) return undefined;
  // Normalised grid coordinates u, v in [-1, 1] map to reference pixels by `toRef`.
  const toRef: Mat3 = [bw / 2, 0, x0 + bw / 2, 0, bh / 2, y0 + bh / 2, 0, 0, 1];
  const corners: Point[] = [
    { x: -1, y: -1 },
    { x: 1, y: -1 },
    { x: 1, y: 1 },
    { x: -1, y: 1 },
  ];
  const plane = [36, 39, 42, 45, 48, 54];
  const pick = (l: Point[], idx: number[]) => idx.map((i) => l[i]!);
  const guesses = [
    fitHomography(inner, frameLandmarks.slice(17)),
    fitHomography(pick(refLandmarks, plane), pick(frameLandmarks, plane)),
    similarity(refLandmarks, frameLandmarks),
  ];
  const coarse = level(reference, toRef, 24, bw / 24 / 2);
  const fine = level(reference, toRef, GRID, 0);
  const frameCoarse = coarse.radius * (eyeSpan(frameLandmarks) / (eyeSpan(refLandmarks) || 1));
  let best: PlanarFit | undefined;
  for (const g of guesses) {
    if (!g) continue;
    // The guess as a matrix from grid coordinates to the frame: the corners through toRef, then g.
    let h: Mat3;
    try {
      h = homographyFromQuad(
        corners,
        corners.map((c) => {
          const [rx, ry] = apply(toRef, c.x, c.y);
          return g({ x: rx, y: ry });
        }),
      );
    } catch {
      continue;
    }
    h = refine(frame, coarse, h, frameCoarse, 15);
    h = refine(frame, fine, h, 0, 15);
    const fit = score(fine.tpl, warp(frame, h, fine, 0), GRID);
    if (!best || fit.patchCorrelation > best.patchCorrelation) best = fit;
  }
  return best;
}

/** The similarity (scale, rotation, shift) carrying the eye centres and the mouth centre, least squares. */
function similarity(a: Point[], b: Point[]): ((p: Point) => Point) | undefined {
  const mid = (l: Point[], i: number, j: number) => ({
    x: (l[i]!.x + l[j]!.x) / 2,
    y: (l[i]!.y + l[j]!.y) / 2,
  });
  const src = [mid(a, 36, 39), mid(a, 42, 45), mid(a, 48, 54)];
  const dst = [mid(b, 36, 39), mid(b, 42, 45), mid(b, 48, 54)];
  const cs = { x: (src[0]!.x + src[1]!.x + src[2]!.x) / 3, y: (src[0]!.y + src[1]!.y + src[2]!.y) / 3 };
  const cd = { x: (dst[0]!.x + dst[1]!.x + dst[2]!.x) / 3, y: (dst[0]!.y + dst[1]!.y + dst[2]!.y) / 3 };
  let num1 = 0;
  let num2 = 0;
  let den = 0;
  for (let i = 0; i < 3; i++) {
    const px = src[i]!.x - cs.x;
    const py = src[i]!.y - cs.y;
    const qx = dst[i]!.x - cd.x;
    const qy = dst[i]!.y - cd.y;
    num1 += px * qx + py * qy;
    num2 += px * qy - py * qx;
    den += px * px + py * py;
  }
  if (!(den > 0)) return undefined;
  const ca = num1 / den;
  const sa = num2 / den;
  return (p) => ({
    x: cd.x + ca * (p.x - cs.x) - sa * (p.y - cs.y),
    y: cd.y + sa * (p.x - cs.x) + ca * (p.y - cs.y),
  });
}

/** Zero mean, unit variance in place. */
function normalise(a: Float32Array): void {
  let m = 0;
  for (const v of a) m += v;
  m /= a.length;
  let q = 0;
  for (const v of a) q += (v - m) * (v - m);
  const sd = Math.sqrt(q / a.length) || 1;
  for (let i = 0; i < a.length; i++) a[i] = (a[i]! - m) / sd;
}

/** The 8×8 normal matrix as rows. */
function rows(a: Float64Array): number[][] {
  return Array.from({ length: 8 }, (_, i) => Array.from(a.subarray(i * 8, i * 8 + 8)));
}
