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
  const hann = Float64Array.from({ length: N }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N));
  const powA = new Float64Array(N * N);
  const powB = new Float64Array(N * N);
  const crossRe = new Float64Array(N * N);
  const crossIm = new Float64Array(N * N);
  const aRe = new Float64Array(N * N);
  const aIm = new Float64Array(N * N);
  const bRe = new Float64Array(N * N);
  const bIm = new Float64Array(N * N);
  const zRe = new Float64Array(N * N);
  const zIm = new Float64Array(N * N);
  let blocks = 0;
  // Half-overlapping blocks, spaced further apart on a large image so that at most about MAX_BLOCKS
  // are transformed (a 2400 px side would otherwise take 3 000).
  const stride = Math.max(N / 2, Math.ceil(Math.sqrt(((W - 2 * x0) * (H - 2 * y0)) / MAX_BLOCKS)));
  for (let by = y0; by + N <= H - y0; by += stride)
    for (let bx = x0; bx + N <= W - x0; bx += stride) {
      let meanA = 0;
      let meanB = 0;
      for (let y = 0; y < N; y++)
        for (let x = 0; x < N; x++) {
          const o = ((by + y) * W + bx + x) * 3;
          const g = data[o + 1]!;
          aRe[y * N + x] = data[o]! - g;
          bRe[y * N + x] = data[o + 2]! - g;
          meanA += data[o]! - g;
          meanB += data[o + 2]! - g;
        }
      meanA /= N * N;
      meanB /= N * N;
      for (let y = 0; y < N; y++)
        for (let x = 0; x < N; x++) {
          const w = hann[x]! * hann[y]!;
          const i = y * N + x;
          aRe[i] = (aRe[i]! - meanA) * w;
          bRe[i] = (bRe[i]! - meanB) * w;
        }
      // Both real channels in one complex transform, z = a + i·b, then separated by symmetry:
      // A(k) = (Z(k) + conj Z(−k)) / 2, B(k) = (Z(k) − conj Z(−k)) / 2i.
      zRe.set(aRe);
      zIm.set(bRe);
      fft2(zRe, zIm);
      for (let v = 0; v < N; v++)
        for (let u = 0; u < N; u++) {
          const i = v * N + u;
          const m = ((N - v) % N) * N + ((N - u) % N);
          const zr = zRe[i]!;
          const zi = zIm[i]!;
          const mr = zRe[m]!;
          const mi = zIm[m]!;
          aRe[i] = (zr + mr) / 2;
          aIm[i] = (zi - mi) / 2;
          bRe[i] = (zi + mi) / 2;
          bIm[i] = (mr - zr) / 2;
        }
      for (let i = 0; i < N * N; i++) {
        powA[i]! += aRe[i]! ** 2 + aIm[i]! ** 2;
        powB[i]! += bRe[i]! ** 2 + bIm[i]! ** 2;
        // A · conj(B): its angle is the phase of the R−G pattern relative to the B−G one.
        crossRe[i]! += aRe[i]! * bRe[i]! + aIm[i]! * bIm[i]!;
        crossIm[i]! += aIm[i]! * bRe[i]! - aRe[i]! * bIm[i]!;
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

const rowRe = new Float64Array(N);
const rowIm = new Float64Array(N);
/** In-place 2-D FFT of an N × N block (rows, then columns). */
function fft2(re: Float64Array, im: Float64Array): void {
  for (let y = 0; y < N; y++) fft(re.subarray(y * N, y * N + N), im.subarray(y * N, y * N + N));
  for (let x = 0; x < N; x++) {
    for (let y = 0; y < N; y++) {
      rowRe[y] = re[y * N + x]!;
      rowIm[y] = im[y * N + x]!;
    }
    fft(rowRe, rowIm);
    for (let y = 0; y < N; y++) {
      re[y * N + x] = rowRe[y]!;
      im[y * N + x] = rowIm[y]!;
    }
  }
}

/** Bit-reversal permutation and twiddle factors of the N-point FFT, computed once. */
const BIT_REVERSED = Int32Array.from({ length: N }, (_, i) => {
  let r = 0;
  for (let b = 1, k = N >> 1; b < N; b <<= 1, k >>= 1) if (i & b) r |= k;
  return r;
});
/** cos and sin of −2πk/len for every stage length len and k < len/2, stage after stage. */
const TWIDDLES = (() => {
  const cos: number[] = [];
  const sin: number[] = [];
  for (let len = 2; len <= N; len <<= 1) {
    const step = (-2 * Math.PI) / len;
    for (let k = 0; k < len / 2; k++) {
      cos.push(Math.cos(step * k));
      sin.push(Math.sin(step * k));
    }
  }
  return { cos: Float64Array.from(cos), sin: Float64Array.from(sin) };
})();

/** In-place radix-2 FFT of length N. */
function fft(re: Float64Array, im: Float64Array): void {
  for (let i = 0; i < N; i++) {
    const j = BIT_REVERSED[i]!;
    if (i < j) {
      const tr = re[i]!;
      re[i] = re[j]!;
      re[j] = tr;
      const ti = im[i]!;
      im[i] = im[j]!;
      im[j] = ti;
    }
  }
  let t0 = 0;
  for (let len = 2; len <= N; len <<= 1) {
    const half = len >> 1;
    for (let i = 0; i < N; i += len)
      for (let k = 0; k < half; k++) {
        const wr = TWIDDLES.cos[t0 + k]!;
        const wi = TWIDDLES.sin[t0 + k]!;
        const a = i + k;
        const h = a + half;
        const xr = re[h]! * wr - im[h]! * wi;
        const xi = re[h]! * wi + im[h]! * wr;
        re[h] = re[a]! - xr;
        im[h] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    t0 += half;
  }
}
