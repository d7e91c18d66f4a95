/** A separable Gaussian blur of a one-channel float image (edges clamped). */
export function gaussianBlur(src: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const r = Math.ceil(sigma * 2.5);
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  // Horizontal then vertical pass, tap by tap over a whole row: each output is still the sum of its taps
  // in order, in double precision, rounded once when stored (as a per-pixel loop would give), but the
  // inner loops are plain and only the border columns pay for clamping.
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  const acc = new Float64Array(w);
  const inner0 = Math.min(r, w);
  const inner1 = Math.max(inner0, w - r);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    acc.fill(0);
    for (let i = -r; i <= r; i++) {
      const ki = k[i + r]!;
      for (let x = 0; x < inner0; x++) acc[x]! += ki * src[row + Math.min(w - 1, Math.max(0, x + i))]!;
      for (let x = inner0, j = row + inner0 + i; x < inner1; x++, j++) acc[x]! += ki * src[j]!;
      for (let x = inner1; x < w; x++) acc[x]! += ki * src[row + Math.min(w - 1, Math.max(0, x + i))]!;
    }
    tmp.set(acc, row);
  }
  for (let y = 0; y < h; y++) {
    acc.fill(0);
    for (let i = -r; i <= r; i++) {
      const ki = k[i + r]!;
      const from = Math.min(h - 1, Math.max(0, y + i)) * w;
      for (let x = 0; x < w; x++) acc[x]! += ki * tmp[from + x]!;
    }
    out.set(acc, y * w);
  }
  return out;
}
