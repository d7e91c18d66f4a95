import type { RgbImage } from '../pipeline/image/rgb-image.ts';

/**
 * Work on one rectified side, done once: keyed by the side's image (the very object; a side turned half a
 * turn is a new image and starts afresh) and by what is computed on it. A verification starts some of it
 * as soon as the side is prepared (the portrait, the ghost, the display grid: while the text is still
 * being read, on a main thread that mostly waits for the inference threads then) and its checks take the
 * result when they reach it, the same as if they had computed it there. Held as long as the image is.
 */
const bySide = new WeakMap<RgbImage, Map<string, Promise<unknown>>>();

export function onceForSide<T>(image: RgbImage, key: string, compute: () => Promise<T>): Promise<T> {
  let work = bySide.get(image);
  if (!work) bySide.set(image, (work = new Map()));
  let p = work.get(key) as Promise<T> | undefined;
  if (!p) {
    p = compute();
    work.set(key, p);
    // Started early and maybe never asked for (the template read turned out to be another): a failure
    // is the asker's to handle, never an unhandled rejection; a failed computation is not kept.
    p.catch(() => work.delete(key));
  }
  return p;
}

/** Start `start` once the current work has been dispatched (after the pending I/O callbacks). */
export function soon(start: () => void): void {
  setImmediate(start);
}
