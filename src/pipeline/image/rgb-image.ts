import sharp, { type Sharp } from 'sharp';

/** Interleaved 8-bit RGB pixels, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

function rawInput(img: RgbImage): Sharp {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 3 },
  });
}

function toRgb(data: Buffer, width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Clamp a rectangle to integer pixel bounds inside the image (at least 1×1). */
export function clampRect(img: RgbImage, r: Rect): Rect {
  const x = Math.max(0, Math.min(img.width - 1, Math.floor(r.x)));
  const y = Math.max(0, Math.min(img.height - 1, Math.floor(r.y)));
  const x2 = Math.max(x + 1, Math.min(img.width, Math.ceil(r.x + r.width)));
  const y2 = Math.max(y + 1, Math.min(img.height, Math.ceil(r.y + r.height)));
  return { x, y, width: x2 - x, height: y2 - y };
}

/** Crop `rect` (clamped) and resize it to exactly width×height, ignoring aspect ratio. */
export async function cropResize(
  img: RgbImage,
  rect: Rect,
  width: number,
  height: number,
): Promise<RgbImage> {
  const r = clampRect(img, rect);
  const data = await rawInput(img)
    .extract({ left: r.x, top: r.y, width: r.width, height: r.height })
    .resize({ width, height, fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return toRgb(data, width, height);
}

/** Resize the whole image to exactly width×height. */
export async function resizeTo(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  return cropResize(img, { x: 0, y: 0, width: img.width, height: img.height }, width, height);
}

/** A median filter over size×size pixels (odd), each channel: takes out a camera's grain, keeps edges. */
export async function medianFiltered(img: RgbImage, size: number): Promise<RgbImage> {
  const data = await rawInput(img).median(size).raw().toBuffer();
  return toRgb(data, img.width, img.height);
}

/** A Gaussian blur of standard deviation sigma (pixels). */
export async function blurred(img: RgbImage, sigma: number): Promise<RgbImage> {
  const data = await rawInput(img).blur(sigma).raw().toBuffer();
  return toRgb(data, img.width, img.height);
}

/** Rotate clockwise by a right angle. */
export async function rotateRight(img: RgbImage, degrees: 90 | 180 | 270): Promise<RgbImage> {
  const { data, info } = await rawInput(img).rotate(degrees).raw().toBuffer({ resolveWithObject: true });
  return toRgb(data, info.width, info.height);
}

/** Rotate clockwise by any angle (degrees), the uncovered corners filled with white. */
export async function rotateBy(img: RgbImage, degrees: number): Promise<RgbImage> {
  const { data, info } = await rawInput(img)
    .rotate(degrees, { background: { r: 255, g: 255, b: 255 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return toRgb(data, info.width, info.height);
}

/** Encode as JPEG (for stored crops such as the document portrait). */
export async function encodeJpeg(img: RgbImage, quality = 90): Promise<Buffer> {
  return rawInput(img).jpeg({ quality }).toBuffer();
}

/** Luma (BT.601) as floats 0..255. */
export function toGray(img: RgbImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[i] = 0.299 * d[j]! + 0.587 * d[j + 1]! + 0.114 * d[j + 2]!;
  }
  return out;
}

/** The image in grey (BT.601 luma in all three channels), as RGB. */
export function greyRgb(img: RgbImage): RgbImage {
  const luma = toGray(img);
  const data = new Uint8Array(img.data.length);
  for (let i = 0, o = 0; i < luma.length; i++, o += 3) data.fill(Math.round(luma[i]!), o, o + 3);
  return { width: img.width, height: img.height, data };
}

/** Bilinear sample of channel c at (x, y); outside the image the nearest edge pixel is used. */
export function sampleBilinear(img: RgbImage, x: number, y: number, c: number): number {
  const w = img.width;
  const h = img.height;
  const xf = Math.max(0, Math.min(w - 1, x));
  const yf = Math.max(0, Math.min(h - 1, y));
  const x0 = Math.floor(xf);
  const y0 = Math.floor(yf);
  const x1 = Math.min(w - 1, x0 + 1);
  const y1 = Math.min(h - 1, y0 + 1);
  const ax = xf - x0;
  const ay = yf - y0;
  const d = img.data;
  const p00 = d[(y0 * w + x0) * 3 + c]!;
  const p01 = d[(y0 * w + x1) * 3 + c]!;
  const p10 = d[(y1 * w + x0) * 3 + c]!;
  const p11 = d[(y1 * w + x1) * 3 + c]!;
  return (p00 * (1 - ax) + p01 * ax) * (1 - ay) + (p10 * (1 - ax) + p11 * ax) * ay;
}

/**
 * The three channels of `sampleBilinear` at (x, y), rounded, written to out[o..o+2]: the same values,
 * with the position worked out once instead of once per channel (these loops run per output pixel of
 * every rectified side and detector input).
 */
export function sampleBilinearRgbInto(img: RgbImage, x: number, y: number, out: Uint8Array, o: number): void {
  const w = img.width;
  const h = img.height;
  const xf = Math.max(0, Math.min(w - 1, x));
  const yf = Math.max(0, Math.min(h - 1, y));
  const x0 = Math.floor(xf);
  const y0 = Math.floor(yf);
  const x1 = Math.min(w - 1, x0 + 1);
  const y1 = Math.min(h - 1, y0 + 1);
  const ax = xf - x0;
  const ay = yf - y0;
  const bx = 1 - ax;
  const by = 1 - ay;
  const d = img.data;
  const i00 = (y0 * w + x0) * 3;
  const i01 = (y0 * w + x1) * 3;
  const i10 = (y1 * w + x0) * 3;
  const i11 = (y1 * w + x1) * 3;
  out[o] = roundSample((d[i00]! * bx + d[i01]! * ax) * by + (d[i10]! * bx + d[i11]! * ax) * ay);
  out[o + 1] = roundSample(
    (d[i00 + 1]! * bx + d[i01 + 1]! * ax) * by + (d[i10 + 1]! * bx + d[i11 + 1]! * ax) * ay,
  );
  out[o + 2] = roundSample(
    (d[i00 + 2]! * bx + d[i01 + 2]! * ax) * by + (d[i10 + 2]! * bx + d[i11 + 2]! * ax) * ay,
  );
}

/**
 * Math.round of a non-negative sample below 2^31, without its branch on the fraction (which a CPU
 * mispredicts half the time on image data: rectifying a side took twice as long). floor(x + 0.5) equals
 * Math.round(x) for every double from 0.5 up; below 0.5 both give 0 (x + 0.5 would round up for the
 * double just under 0.5).
 */
function roundSample(x: number): number {
  return x >= 0.5 ? (x + 0.5) | 0 : 0;
}

/**
 * Crop and resize with plain bilinear sampling and no anti-aliasing (OpenCV INTER_LINEAR semantics).
 * For models trained on such crops — the liveness model reads print and screen texture that a
 * low-pass resize would erase.
 */
export function cropBilinear(img: RgbImage, rect: Rect, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const sx = rect.width / width;
  const sy = rect.height / height;
  const w = img.width;
  const h = img.height;
  const d = img.data;
  // sampleBilinearRgbInto's arithmetic, with each column's taps and weights computed once.
  const left = new Int32Array(width);
  const right = new Int32Array(width);
  const ax = new Float64Array(width);
  for (let u = 0; u < width; u++) {
    const xf = Math.max(0, Math.min(w - 1, rect.x + (u + 0.5) * sx - 0.5));
    const x0 = Math.floor(xf);
    left[u] = x0 * 3;
    right[u] = Math.min(w - 1, x0 + 1) * 3;
    ax[u] = xf - x0;
  }
  for (let v = 0; v < height; v++) {
    const yf = Math.max(0, Math.min(h - 1, rect.y + (v + 0.5) * sy - 0.5));
    const y0 = Math.floor(yf);
    const top = y0 * w * 3;
    const bottom = Math.min(h - 1, y0 + 1) * w * 3;
    const ay = yf - y0;
    const by = 1 - ay;
    for (let u = 0, o = v * width * 3; u < width; u++, o += 3) {
      const a = ax[u]!;
      const b = 1 - a;
      const i00 = top + left[u]!;
      const i01 = top + right[u]!;
      const i10 = bottom + left[u]!;
      const i11 = bottom + right[u]!;
      out[o] = roundSample((d[i00]! * b + d[i01]! * a) * by + (d[i10]! * b + d[i11]! * a) * ay);
      out[o + 1] = roundSample(
        (d[i00 + 1]! * b + d[i01 + 1]! * a) * by + (d[i10 + 1]! * b + d[i11 + 1]! * a) * ay,
      );
      out[o + 2] = roundSample(
        (d[i00 + 2]! * b + d[i01 + 2]! * a) * by + (d[i10 + 2]! * b + d[i11 + 2]! * a) * ay,
      );
    }
  }
  return { width, height, data: out };
}

export function flipHorizontal(img: RgbImage): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + (w - 1 - x)) * 3;
      const d = (y * w + x) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return { width: w, height: h, data: out };
}

/** The image inside a border of `pad` pixels filled with the mean colour of its outermost rows and columns. */
export function padded(img: RgbImage, pad: number): RgbImage {
  const { width: w, height: h, data } = img;
  const sum = [0, 0, 0];
  let n = 0;
  const take = (x: number, y: number) => {
    const o = (y * w + x) * 3;
    for (let c = 0; c < 3; c++) sum[c]! += data[o + c]!;
    n++;
  };
  for (let x = 0; x < w; x++) {
    take(x, 0);
    take(x, h - 1);
  }
  for (let y = 0; y < h; y++) {
    take(0, y);
    take(w - 1, y);
  }
  const W = w + 2 * pad;
  const H = h + 2 * pad;
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(sum[c]! / n);
  for (let y = 0; y < h; y++) out.set(data.subarray(y * w * 3, (y + 1) * w * 3), ((y + pad) * W + pad) * 3);
  return { width: W, height: H, data: out };
}
