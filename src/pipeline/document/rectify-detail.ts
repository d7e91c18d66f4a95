import sharp from 'sharp';
import type { RgbImage } from '../image/rgb-image.ts';
import type { DocumentQuad } from './locate-document.ts';
import { orientLandscape, rectifyDocument } from './rectify-document.ts';

/**
 * The located document rectified again from the original photo, at the photo's own resolution (up to
 * `maxWidth` px across), for signals that live in detail the working copy has averaged away: a display's
 * subpixel grid is 1 to 3 working pixels apart on a 12 MP phone photo, 3 to 8 in the original. Undefined
 * when the working copy is the original (nothing to gain).
 */
export async function rectifyDetail(
  bytes: Uint8Array,
  corners: DocumentQuad['corners'],
  /** Working pixels per original pixel (DecodedImage.scale). */
  scale: number,
  limits: { maxImagePixels: number },
  maxWidth = 2400,
): Promise<RgbImage | undefined> {
  if (scale >= 0.95) return undefined;
  const c = orientLandscape(corners).map((p) => ({ x: p.x / scale, y: p.y / scale }));
  const input = sharp(bytes, { autoOrient: true, limitInputPixels: limits.maxImagePixels, failOn: 'error' });
  const meta = await input.metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  const W = (swap ? meta.height : meta.width) ?? 0;
  const H = (swap ? meta.width : meta.height) ?? 0;
  const left = Math.max(0, Math.floor(Math.min(...c.map((p) => p.x))));
  const top = Math.max(0, Math.floor(Math.min(...c.map((p) => p.y))));
  const right = Math.min(W, Math.ceil(Math.max(...c.map((p) => p.x))));
  const bottom = Math.min(H, Math.ceil(Math.max(...c.map((p) => p.y))));
  if (right - left < 16 || bottom - top < 16) return undefined;
  const { data, info } = await input
    .extract({ left, top, width: right - left, height: bottom - top })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const region: RgbImage = {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
  const local = c.map((p) => ({ x: p.x - left, y: p.y - top })) as DocumentQuad['corners'];
  const edge = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);
  const across = (edge(local[0], local[1]) + edge(local[3], local[2])) / 2;
  const down = (edge(local[0], local[3]) + edge(local[1], local[2])) / 2;
  const width = Math.max(16, Math.min(maxWidth, Math.round(across)));
  return rectifyDocument(region, local, width, Math.max(16, Math.round((width * down) / across)));
}
