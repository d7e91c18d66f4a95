import type { RgbImage } from '../image/rgb-image.ts';

/** Block side of the averaged spectrum (Welch): 64 px, half-overlapping, Hann-windowed. */
const N = 64;
/**
 * Frequencies searched, in cycles per block (period N / r px): from period 16 px (coarser is the card's
 * own layout) to period 2.7 px (finer is where camera demosaicing and resampling leave colour patterns
 * of their own: a genuine Latvian passport photo in ../shared/data peaked at period 2.2 px).
 */
const R_MIN = 4;
const R_MAX = 24;
/** Blocks transformed at most (about): enough for a stable average, bounded time on a large side. */
const MAX_BLOCKS = 400;
/**
 * Phases accepted, degrees from in phase: RGB (or BGR) stripes put the R−G and B−G patterns 60° apart,
 * whatever their period and through aliasing; within 30° of in phase or beyond 90° (towards opposite),
 * a colour pattern is a camera's, a codec's or a print's (ink screens move one channel at a time).
 */
const PHASE_DEG = [30, 90] as const;

export interface ScreenGrid {
  /**
   * The strongest colour pattern whose two colour phases are 30° to 90° apart: its power against the
   * median of its neighbourhood, in the weaker chroma channel (0: none).
   */
  score: number;
  /** Phase between the R−G and B−G patterns at the peak, degrees. */
  phaseDeg: number;
  /** Period of the pattern on the rectified document, px, and its direction (degrees from horizontal). */
  periodPx: number;
  angleDeg: number;
  blocks: number;
}

/**
 * A display's pixel grid on a rectified document (a screen replay). A screen lights red, green and blue
 * stripes side by side; photographed, they leave a periodic colour pattern (the grid itself, or the moiré
 * it aliases into) that is the same across the whole picture. Averaged over every block of the card,
 * such a pattern stands out as one sharp peak in the spectra of both colour-difference channels (R−G and
 * B−G), where a printed card's colours are local and spread. The subpixels sit at different places, so
 * at that peak the R−G and B−G patterns are 60° apart; JPEG blocking and other colour artefacts of a
 * camera or an encoder are in phase or opposite. Score: the weaker channel's peak ratio at the strongest
 * peak 30° to 90° out of phase; undefined when the image is too small to hold one block.
 */
export function screenGrid(img: RgbImage): ScreenGrid | undefined {
  const { width: W, height: H, data } = img;
  const x0 = Math.round(W * 0.1);
  const y0 = Math.round(H * 0.1);
  if (W * 0.8 < N || H * 0.8 < N) return undefined;
  const powA = new Float64Array(N * N);
  const powB = new Float64Array(N * N);
  const crossRe = new Float64Array(N * N);
  const crossIm = new Float64Array(N * N);
  const zRe = new Float64Array(N * N);
  const zIm = new Float64Array(N * N);
  let blocks = 0;
  // Half-overlapping blocks, spaced further apart on a large image so that at most about MAX_BLOCKS
  // are transformed (a 2400 px side would otherwise take 3 000).
  const stride = Math.max(N / 2, Math.ceil(Math.sqrt(((W - 2 * x0) * (H - 2 * y0)) / MAX_BLOCKS)));
  for (let by = y0; by + N <= H - y0; by += stride)
    for (let bx = x0; bx + N <= W - x0; bx += stride) {
      // Both real channels in one complex block, z = (R−G) + i·(B−G), less their means, windowed.
      let meanA = 0;
      let meanB = 0;
      for (let y = 0; y < N; y++) {
        let o = ((by + y) * W + bx) * 3;
        for (let x = 0, i = y * N; x < N; x++, i++, o += 3) {
          const g = data[o + 1]!;
          const a = data[o]! - g;
          const b = data[o + 2]! - g;
          zRe[i] = a;
          zIm[i] = b;
          meanA += a;
          meanB += b;
        }
      }
      meanA /= N * N;
      meanB /= N * N;
      for (let i = 0; i < N * N; i++) {
        const w = WINDOW[i]!;
        zRe[i] = (zRe[i]! - meanA) * w;
        zIm[i] = (zIm[i]! - meanB) * w;
      }
      fft2(zRe, zIm);
      // The two channels separated by symmetry, A(k) = (Z(k) + conj Z(−k)) / 2 and
      // B(k) = (Z(k) − conj Z(−k)) / 2i, and summed into the powers and the cross-spectrum, at the bins
      // the search below reads (the others never are).
      for (let k = 0; k < USED.length; k++) {
        const i = USED[k]!;
        const m = MIRROR[i]!;
        const zr = zRe[i]!;
        const zi = zIm[i]!;
        const mr = zRe[m]!;
        const mi = zIm[m]!;
        const ar = (zr + mr) / 2;
        const ai = (zi - mi) / 2;
        const br = (zi + mi) / 2;
        const bi = (mr - zr) / 2;
        powA[i]! += ar * ar + ai * ai;
        powB[i]! += br * br + bi * bi;
        // A · conj(B): its angle is the phase of the R−G pattern relative to the B−G one.
        crossRe[i]! += ar * br + ai * bi;
        crossIm[i]! += ai * br - ar * bi;
      }
      blocks++;
    }
  let best: ScreenGrid = { score: 0, phaseDeg: 0, periodPx: 0, angleDeg: 0, blocks };
  // Half the plane: the spectrum of a real signal is symmetric.
  for (let v = 0; v < N; v++)
    for (let u = 0; u <= N / 2; u++) {
      const fu = u > N / 2 ? u - N : u;
      const fv = v > N / 2 ? v - N : v;
      const r = Math.hypot(fu, fv);
      if (r < R_MIN || r > R_MAX) continue;
      const ratio = Math.min(peakRatio(powA, u, v), peakRatio(powB, u, v));
      const i = v * N + u;
      const phase = Math.atan2(crossIm[i]!, crossRe[i]!);
      const deg = Math.abs((phase * 180) / Math.PI);
      const score = deg >= PHASE_DEG[0] && deg <= PHASE_DEG[1] ? ratio : 0;
      if (score > best.score)
        best = {
          score,
          phaseDeg: (phase * 180) / Math.PI,
          periodPx: N / r,
          angleDeg: (Math.atan2(fv, fu) * 180) / Math.PI,
          blocks,
        };
    }
  return best;
}

/** The 2-D Hann window, hann(x)·hann(y). */
const WINDOW = (() => {
  const hann = Float64Array.from({ length: N }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N));
  return Float64Array.from({ length: N * N }, (_, i) => hann[i % N]! * hann[Math.floor(i / N)]!);
})();
/** Index of the bin at −k of each bin k. */
const MIRROR = Int32Array.from(
  { length: N * N },
  (_, i) => ((N - Math.floor(i / N)) % N) * N + ((N - (i % N)) % N),
);
/** Signed frequency of index j: j up to N/2, j − N above. */
const signed = (j: number) => (j > N / 2 ? j - N : j);
/**
 * The bins the search reads: the searched half plane (0 ≤ u ≤ N/2, R_MIN ≤ r ≤ R_MAX) and the 7 × 7
 * neighbourhood of each (peakRatio).
 */
const USED = (() => {
  const used = new Uint8Array(N * N);
  for (let v = 0; v < N; v++)
    for (let u = 0; u <= N / 2; u++) {
      const r = Math.hypot(signed(u), signed(v));
      if (r < R_MIN || r > R_MAX) continue;
      for (let dv = -3; dv <= 3; dv++)
        for (let du = -3; du <= 3; du++) used[((v + dv + N) % N) * N + ((u + du + N) % N)] = 1;
    }
  return Int32Array.from([...used.keys()].filter((i) => used[i]));
})();
/** The columns holding a used bin: the column transforms of the others are skipped. */
const USED_COLUMNS = Int32Array.from(new Set([...USED].flatMap((i) => [i % N, MIRROR[i]! % N])));

/** A bin's power against the median of its 7 × 7 neighbourhood less the central 3 × 3 (its own lobe). */
function peakRatio(p: Float64Array, u: number, v: number): number {
  const around: number[] = [];
  for (let dv = -3; dv <= 3; dv++)
    for (let du = -3; du <= 3; du++) {
      if (Math.abs(du) <= 1 && Math.abs(dv) <= 1) continue;
      around.push(p[((v + dv + N) % N) * N + ((u + du + N) % N)]!);
    }
  around.sort((a, b) => a - b);
  return p[v * N + u]! / (around[around.length >> 1]! + 1e-9);
}

const colRe = new Float64Array(N);
const colIm = new Float64Array(N);
/**
 * In-place 2-D FFT of an N × N block (rows, then the columns that hold a used bin, or a used bin's
 * mirror: the separation reads both).
 */
function fft2(re: Float64Array, im: Float64Array): void {
  for (let y = 0; y < N; y++) fft(re, im, y * N);
  for (let c = 0; c < USED_COLUMNS.length; c++) {
    const x = USED_COLUMNS[c]!;
    for (let y = 0, i = x; y < N; y++, i += N) {
      colRe[y] = re[i]!;
      colIm[y] = im[i]!;
    }
    fft(colRe, colIm, 0);
    for (let y = 0, i = x; y < N; y++, i += N) {
      re[i] = colRe[y]!;
      im[i] = colIm[y]!;
    }
  }
}

/** Base-4 digit reversal of 0..N−1 (N = 64 = 4³): the input order of the radix-4 transform. */
const DIGIT_REVERSED = Int32Array.from({ length: N }, (_, i) => {
  let r = 0;
  for (let n = i, k = 1; k < N; k *= 4, n >>= 2) r = r * 4 + (n & 3);
  return r;
});
/**
 * Twiddle factors of each radix-4 stage (length len = 4, 16, 64): for k < len/4, W^k, W^2k and W^3k
 * with W = e^(−2πi/len), stage after stage, as cos/sin pairs.
 */
const TWIDDLES = (() => {
  const out: number[] = [];
  for (let len = 4; len <= N; len *= 4) {
    for (let k = 0; k < len / 4; k++)
      for (const m of [1, 2, 3]) {
        const a = (-2 * Math.PI * m * k) / len;
        out.push(Math.cos(a), Math.sin(a));
      }
  }
  return Float64Array.from(out);
})();

/** In-place radix-4 FFT of the N values of `re` and `im` from `at` (N = 64: three stages). */
function fft(re: Float64Array, im: Float64Array, at: number): void {
  for (let i = 0; i < N; i++) {
    const j = DIGIT_REVERSED[i]!;
    if (i < j) {
      const tr = re[at + i]!;
      re[at + i] = re[at + j]!;
      re[at + j] = tr;
      const ti = im[at + i]!;
      im[at + i] = im[at + j]!;
      im[at + j] = ti;
    }
  }
  let t = 0;
  for (let len = 4; len <= N; len *= 4) {
    const q = len >> 2;
    for (let g = at; g < at + N; g += len) {
      for (let k = 0, tw = t; k < q; k++, tw += 6) {
        const i0 = g + k;
        const i1 = i0 + q;
        const i2 = i1 + q;
        const i3 = i2 + q;
        const c1 = TWIDDLES[tw]!;
        const s1 = TWIDDLES[tw + 1]!;
        const c2 = TWIDDLES[tw + 2]!;
        const s2 = TWIDDLES[tw + 3]!;
        const c3 = TWIDDLES[tw + 4]!;
        const s3 = TWIDDLES[tw + 5]!;
        const a0r = re[i0]!;
        const a0i = im[i0]!;
        const a1r = re[i1]! * c1 - im[i1]! * s1;
        const a1i = re[i1]! * s1 + im[i1]! * c1;
        const a2r = re[i2]! * c2 - im[i2]! * s2;
        const a2i = re[i2]! * s2 + im[i2]! * c2;
        const a3r = re[i3]! * c3 - im[i3]! * s3;
        const a3i = re[i3]! * s3 + im[i3]! * c3;
        const y0r = a0r + a2r;
        const y0i = a0i + a2i;
        const y1r = a0r - a2r;
        const y1i = a0i - a2i;
        const y2r = a1r + a3r;
        const y2i = a1i + a3i;
        const y3r = a1r - a3r;
        const y3i = a1i - a3i;
        re[i0] = y0r + y2r;
        im[i0] = y0i + y2i;
        // y1 − i·y3 and y1 + i·y3.
        re[i1] = y1r + y3i;
        im[i1] = y1i - y3r;
        re[i2] = y0r - y2r;
        im[i2] = y0i - y2i;
        re[i3] = y1r - y3i;
        im[i3] = y1i + y3r;
      }
    }
    t += 6 * q;
  }
}
