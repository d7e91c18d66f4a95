import sharp from 'sharp';
import { clampRect, type Rect, type RgbImage } from './rgb-image.ts';

/**
 * A region of the working copy, cut from the original photo at its own resolution (a phone camera
 * resolves detail, such as a display's subpixel stripes, that the downscaled working copy averages
 * away); at most `maxSide` pixels on its longer side. Undefined when the working copy is the original.
 */
export async function originalRegion(
  bytes: Uint8Array,
  /** In working-copy pixels. */
  rect: Rect,
  /** Working pixels per original pixel (DecodedImage.scale). */
  scale: number,
  working: { width: number; height: number },
  limits: { maxImagePixels: number },
  maxSide = 1600,
): Promise<RgbImage | undefined> {
  if (scale >= 0.95) return undefined;
  const r = clampRect({ ...working, data: new Uint8Array(0) }, rect);
  const left = Math.floor(r.x / scale);
  const top = Math.floor(r.y / scale);
  const width = Math.max(1, Math.floor(r.width / scale));
  const height = Math.max(1, Math.floor(r.height / scale));
  const input = sharp(bytes, { autoOrient: true, limitInputPixels: limits.maxImagePixels, failOn: 'error' });
  const meta = await input.metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  const W = (swap ? meta.height : meta.width) ?? 0;
  const H = (swap ? meta.width : meta.height) ?? 0;
  const w = Math.min(width, W - left);
  const h = Math.min(height, H - top);
  if (w < 16 || h < 16) return undefined;
  const k = Math.min(1, maxSide / Math.max(w, h));
  const { data, info } = await input
    .extract({ left, top, width: w, height: h })
    .resize(Math.round(w * k), Math.round(h * k), { kernel: 'linear' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}
