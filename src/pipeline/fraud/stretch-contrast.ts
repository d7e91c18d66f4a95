import type { RgbImage } from '../image/rgb-image.ts';

/**
 * Grey levels stretched so that the 1st and 99th percentiles of luminance span 0..255 (channels scaled
 * alike). A card's ghost portrait is printed faded (light grey, low contrast, by design): stretched, the
 * face detector and the embedding see a face of ordinary contrast.
 */
export function stretchContrast(img: RgbImage): RgbImage {
  const n = img.width * img.height;
  const hist = new Uint32Array(256);
  for (let i = 0, o = 0; i < n; i++, o += 3)
    hist[Math.round(0.299 * img.data[o]! + 0.587 * img.data[o + 1]! + 0.114 * img.data[o + 2]!)]!++;
  const at = (share: number): number => {
    let seen = 0;
    for (let v = 0; v < 256; v++) {
      seen += hist[v]!;
      if (seen >= share * n) return v;
    }
    return 255;
  };
  const lo = at(0.01);
  const hi = at(0.99);
  if (hi - lo < 8) return img;
  const k = 255 / (hi - lo);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.max(0, Math.min(255, Math.round((v - lo) * k)));
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = lut[img.data[i]!]!;
  return { width: img.width, height: img.height, data };
}
