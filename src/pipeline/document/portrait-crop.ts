import type { Box } from '../../domain/documents/document-template.ts';
import { clampRect, cropBilinear, type RgbImage } from '../image/rgb-image.ts';

/**
 * The printed portrait's region of a rectified side, from its template box, with a margin (a quarter of
 * its width on each side, 15 % of its height above and below): the face detector needs some context
 * around the head, and the box is only as exact as the rectification.
 */
export function portraitCrop(side: RgbImage, box: Box): RgbImage {
  const [x, y, w, h] = box;
  const rect = clampRect(side, {
    x: (x - w * 0.25) * side.width,
    y: (y - h * 0.15) * side.height,
    width: w * 1.5 * side.width,
    height: h * 1.3 * side.height,
  });
  return cropBilinear(side, rect, Math.round(rect.width), Math.round(rect.height));
}
