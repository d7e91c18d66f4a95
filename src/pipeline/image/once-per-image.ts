import type { RgbImage } from './rgb-image.ts';

/**
 * Work on one image, done once: keyed by the image (the very object; a side turned half a turn is a new
 * image and starts afresh) and by what is computed on it. The MRZ reader asks for the same line crop from
 * several passes; a verification starts a side's portrait, ghost and display grid as soon as the side is
 * prepared (while its text is still read) and its checks take the result when they reach it, the same as
 * if they had computed it there. Held as long as the image is.
 */
const byImage = new WeakMap<RgbImage, Map<string, Promise<unknown>>>();

export function oncePerImage<T>(image: RgbImage, key: string, compute: () => Promise<T>): Promise<T> {
  let work = byImage.get(image);
  if (!work) byImage.set(image, (work = new Map()));
  let p = work.get(key) as Promise<T> | undefined;
  if (!p) {
    p = compute();
    work.set(key, p);
    // Started early and maybe never asked for: a failure is the asker's to handle, never an unhandled
    // rejection; a failed computation is not kept (the next asker tries again).
    p.catch(() => work.delete(key));
  }
  return p;
}
