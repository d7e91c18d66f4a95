import type { RgbImage } from '../image/rgb-image.ts';

/**
 * How much colour a rectified document shows once the colour of the light is taken out: the evidence of
 * a greyscale printed copy, which has none whatever the light or the camera's white balance.
 *
 * The document is averaged down to blocks (BLOCKS_ACROSS across). Each block is read as log-chromaticity
 * (ln R/G, ln B/G). Around every block, chromaticity is fitted to its neighbours (WINDOW_SHARE of the
 * width on each side) as a plane in brightness and position: a grey print under one light, through any
 * tone curve, lies on a line in brightness, and the terms in position absorb a light whose colour drifts
 * across the card (a window on one side, a lamp on the other). A block's colour
 * is its distance from that line. The document's spread is the CELL_QUANTILE quantile, over a grid of
 * GRID cells, of each cell's BLOCK_QUANTILE distance: colour must be found over much of the card, not in
 * one blob (a fingertip, nail polish, a coloured object lying on a copy).
 *
 * The two quantiles were chosen on DLC-2021's Albanian, Azerbaijani and Spanish copies against generated
 * tune-split CNIE fronts (copies flagged at the 3rd percentile of those fronts: 84 % with the 0.9 / 0.75
 * first used, 93 % with 0.75 / 0.4, over 90 fronts and 75 copies); the Estonian and Greek
 * copies and the held-out fronts were left out of that choice (90 % and 94 % of those copies, none of those
 * fronts). Upper quantiles let a few cells of colour (fingers, a coloured light's fringe on a copy) speak
 * for the whole card; a genuine card's colours reach over most of it.
 */
export const BLOCKS_ACROSS = 48;
export const WINDOW_SHARE = 1 / 4;
export const GRID = [6, 4] as const;
export const CELL_QUANTILE = 0.4;
export const BLOCK_QUANTILE = 0.75;
/** Blocks darker than this (mean of a channel, 0..255) or clipped above CLIP carry no reliable colour. */
const DARK = 12;
const CLIP = 254;
/** Fewest usable blocks in a window for its line, and in a cell for its percentile. */
const MIN_WINDOW = 12;
const MIN_CELL = 4;
/** Added to the features' second moments (their variance in a window is ~0.01-0.05). */
const RIDGE = 1e-4;

export interface ColourSpread {
  /** The spread statistic (log-chromaticity distance; grey copies sit near 0.02-0.05, colour cards above). */
  spread: number;
  /** Each grid cell's BLOCK_QUANTILE distance, row by row (NaN: too few usable blocks): where colour is. */
  grid: number[];
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))));
  return s[i]!;
}

/** The colour spread of `img` (a rectified document), or undefined when too little of it is usable. */
export function colourSpread(img: RgbImage): ColourSpread | undefined {
  const bx = BLOCKS_ACROSS;
  const size = img.width / bx;
  const by = Math.max(1, Math.round(img.height / size));
  const n = bx * by;
  const valid = new Uint8Array(n);
  const Y = new Float64Array(n);
  const A = new Float64Array(n);
  const B = new Float64Array(n);
  for (let j = 0; j < by; j++) {
    const y0 = Math.floor((j * img.height) / by);
    const y1 = Math.max(y0 + 1, Math.floor(((j + 1) * img.height) / by));
    for (let i = 0; i < bx; i++) {
      const x0 = Math.floor((i * img.width) / bx);
      const x1 = Math.max(x0 + 1, Math.floor(((i + 1) * img.width) / bx));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0, o = (y * img.width + x0) * 3; x < x1; x++, o += 3) {
          r += img.data[o]!;
          g += img.data[o + 1]!;
          b += img.data[o + 2]!;
        }
      }
      const count = (y1 - y0) * (x1 - x0);
      r /= count;
      g /= count;
      b /= count;
      const k = j * bx + i;
      if (Math.min(r, g, b) < DARK || Math.max(r, g, b) > CLIP) continue;
      valid[k] = 1;
      Y[k] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
      A[k] = Math.log(r / g);
      B[k] = Math.log(b / g);
    }
  }

  // Summed-area tables of the products of the features (1, Y, x, y) with each other and with A and B
  // over the usable blocks: a window's least squares in O(1).
  const F = 4;
  const pairs: [number, number][] = [];
  for (let p = 0; p < F; p++) for (let q = p; q < F; q++) pairs.push([p, q]);
  const T = pairs.length + 2 * F;
  const W = bx + 1;
  const tables = Array.from({ length: T }, () => new Float64Array(W * (by + 1)));
  const f = new Float64Array(F);
  const v = new Float64Array(T);
  for (let j = 0; j < by; j++) {
    for (let i = 0; i < bx; i++) {
      const k = j * bx + i;
      v.fill(0);
      if (valid[k]) {
        f[0] = 1;
        f[1] = Y[k]!;
        f[2] = i / bx;
        f[3] = j / bx;
        pairs.forEach(([p, q], m) => (v[m] = f[p]! * f[q]!));
        for (let p = 0; p < F; p++) {
          v[pairs.length + p] = f[p]! * A[k]!;
          v[pairs.length + F + p] = f[p]! * B[k]!;
        }
      }
      const t = (j + 1) * W + i + 1;
      for (let m = 0; m < T; m++) {
        const s = tables[m]!;
        s[t] = v[m]! + s[t - 1]! + s[t - W]! - s[t - W - 1]!;
      }
    }
  }
  const rect = (m: number, i0: number, j0: number, i1: number, j1: number): number => {
    const s = tables[m]!;
    return s[j1 * W + i1]! - s[j0 * W + i1]! - s[j1 * W + i0]! + s[j0 * W + i0]!;
  };

  const radius = Math.max(2, Math.round(bx * WINDOW_SHARE));
  const distance = new Float64Array(n).fill(-1);
  const M = new Float64Array(F * F);
  const rhs = new Float64Array(F * 2);
  for (let j = 0; j < by; j++) {
    for (let i = 0; i < bx; i++) {
      const k = j * bx + i;
      if (!valid[k]) continue;
      const i0 = Math.max(0, i - radius);
      const j0 = Math.max(0, j - radius);
      const i1 = Math.min(bx, i + radius + 1);
      const j1 = Math.min(by, j + radius + 1);
      const c = rect(0, i0, j0, i1, j1);
      if (c < MIN_WINDOW) continue;
      pairs.forEach(([p, q], m) => {
        const x = rect(m, i0, j0, i1, j1) / c;
        M[p * F + q] = x;
        M[q * F + p] = x;
      });
      // A little ridge: a window of one brightness has no slope to fit, and gets none.
      for (let p = 1; p < F; p++) M[p * F + p]! += RIDGE;
      for (let p = 0; p < 2 * F; p++) rhs[p] = rect(pairs.length + p, i0, j0, i1, j1) / c;
      const [ca, cb] = solve2(M, rhs, F);
      f[0] = 1;
      f[1] = Y[k]!;
      f[2] = i / bx;
      f[3] = j / bx;
      let pa = 0;
      let pb = 0;
      for (let p = 0; p < F; p++) {
        pa += ca[p]! * f[p]!;
        pb += cb[p]! * f[p]!;
      }
      distance[k] = Math.hypot(A[k]! - pa, B[k]! - pb);
    }
  }

  const [gx, gy] = GRID;
  const cellValues: number[] = [];
  const grid: number[] = [];
  for (let cj = 0; cj < gy; cj++) {
    for (let ci = 0; ci < gx; ci++) {
      const values: number[] = [];
      for (let j = Math.floor((cj * by) / gy); j < Math.floor(((cj + 1) * by) / gy); j++) {
        for (let i = Math.floor((ci * bx) / gx); i < Math.floor(((ci + 1) * bx) / gx); i++) {
          const d = distance[j * bx + i]!;
          if (d >= 0) values.push(d);
        }
      }
      const v = values.length >= MIN_CELL ? quantile(values, BLOCK_QUANTILE) : NaN;
      grid.push(v);
      if (!Number.isNaN(v)) cellValues.push(v);
    }
  }
  if (cellValues.length < (gx * gy) / 2) return undefined;
  return { spread: quantile(cellValues, CELL_QUANTILE), grid };
}

/**
 * Solves M·x = r for two right-hand sides at once (r[0..n) and r[n..2n)), M symmetric positive definite
 * (n×n, row-major): Gaussian elimination without pivoting, on copies.
 */
function solve2(m: Float64Array, r: Float64Array, n: number): [number[], number[]] {
  const a = Array.from(m);
  const x = [Array.from(r.subarray(0, n)), Array.from(r.subarray(n, 2 * n))];
  for (let p = 0; p < n; p++) {
    const d = a[p * n + p]!;
    for (let q = p + 1; q < n; q++) {
      const k = a[q * n + p]! / d;
      for (let c = p; c < n; c++) a[q * n + c]! -= k * a[p * n + c]!;
      for (const v of x) v[q]! -= k * v[p]!;
    }
  }
  for (const v of x) {
    for (let p = n - 1; p >= 0; p--) {
      let s = v[p]!;
      for (let c = p + 1; c < n; c++) s -= a[p * n + c]! * v[c]!;
      v[p] = s / a[p * n + p]!;
    }
  }
  return [x[0]!, x[1]!];
}
