import type { QualityMeasures } from '../../domain/image-quality-rules.ts';
import { resizeTo, type RgbImage } from './rgb-image.ts';

const WORK_SIDE = 640;

/** Blur, exposure and glare measures on a 640-px copy (so thresholds do not depend on resolution). */
export async function measureQuality(
  img: RgbImage,
  original: { width: number; height: number },
): Promise<Omit<QualityMeasures, 'faces' | 'faceHeightRatio'>> {
  const s = Math.min(1, WORK_SIDE / Math.max(img.width, img.height));
  const small = s < 1 ? await resizeTo(img, Math.round(img.width * s), Math.round(img.height * s)) : img;
  const { width: w, height: h, data } = small;
  const n = w * h;
  const gray = new Float32Array(n);
  let sum = 0;
  let over = 0;
  let under = 0;
  let glare = 0;
  for (let i = 0; i < n; i++) {
    const r = data[i * 3]!;
    const g = data[i * 3 + 1]!;
    const b = data[i * 3 + 2]!;
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    gray[i] = y;
    sum += y;
    if (y >= 250) over++;
    if (y <= 8) under++;
    // Specular glare: near-white and unsaturated.
    if (y >= 250 && Math.max(r, g, b) - Math.min(r, g, b) < 20) glare++;
  }
  let lapSum = 0;
  let lapSq = 0;
  let count = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const lap = gray[i - 1]! + gray[i + 1]! + gray[i - w]! + gray[i + w]! - 4 * gray[i]!;
      lapSum += lap;
      lapSq += lap * lap;
      count++;
    }
  }
  const mean = count ? lapSum / count : 0;
  const sharpness = count ? lapSq / count - mean * mean : 0;
  return {
    width: original.width,
    height: original.height,
    sharpness: Math.round(sharpness * 10) / 10,
    brightness: Math.round((sum / n) * 10) / 10,
    overexposedRatio: over / n,
    underexposedRatio: under / n,
    glareRatio: glare / n,
  };
}
