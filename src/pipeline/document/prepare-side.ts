import { RECTIFIED_PX_PER_MM, SIZE_MM } from '../../domain/documents/document-template.ts';
import type { InferenceRunner } from '../../ports/inference.ts';
import { rotateRight, type RgbImage } from '../image/rgb-image.ts';
import { detectText, type TextBox } from '../ocr/detect-text.ts';
import { locateDocumentOutlines, type DocumentQuad } from './locate-document.ts';
import { orientLandscape, rectifyDocument } from './rectify-document.ts';

export interface PreparedSide {
  /** The document alone, upright, landscape, at RECTIFIED_PX_PER_MM (or the photo as given). */
  image: RgbImage;
  /** Where the document was found in the photo (undefined: it already fills the frame, or was not found). */
  quad?: DocumentQuad;
  /** Clockwise rotation applied after rectification to make the text upright. */
  rotation: 0 | 180;
  /** Text lines of `image` (PP-OCRv4 DB at DETECT_SIDE px), shared by the MRZ and visual-zone readers. */
  boxes: TextBox[];
  times: { locate: number; rectify: number; detect: number };
}

/**
 * When to trust an outline. A large one with a document's shape (landscape aspect between a TD3 page
 * seen at an angle, 1.3, and an ID-1 card, 1.59, stretched by perspective) is the document. A smaller
 * one must have that shape and hold most of the photo's text, and so must a large one of another shape:
 * the outlines found inside documents are printed boxes (a portrait frame, a column, a block of fields),
 * with the document's text around them, not in them.
 */
const LARGE_SHARE = 0.3;
const MIN_SHARE = 0.04;
const DOCUMENT_ASPECT = [1.3, 1.72] as const;
/** Share of the photo's text (by area) a smaller outline must hold. */
const MIN_TEXT_INSIDE = 0.7;
/** Text detection size on the whole photo for the text-inside check. */
const PHOTO_TEXT_SIDE = 640;
/** Outlines considered, best first. */
const OUTLINES_TRIED = 8;

function plausibleDocument(
  q: DocumentQuad,
  frame: RgbImage,
  text: () => Promise<TextBox[]>,
): Promise<boolean> | boolean {
  const share = quadArea(q) / (frame.width * frame.height);
  const aspect = landscapeAspect(orientLandscape(q.corners));
  const documentShaped = aspect >= DOCUMENT_ASPECT[0] && aspect <= DOCUMENT_ASPECT[1];
  if (share >= LARGE_SHARE && documentShaped) return true;
  // A large outline of another shape may still be the document (a card seen at a steep angle), or a
  // printed box of a scanned page (the fields' block of a passport page filling the frame, 2.1 wide):
  // the text tells.
  if (share < MIN_SHARE || (share < LARGE_SHARE && !documentShaped)) return false;
  return text().then((boxes) => {
    const total = boxes.reduce((a, b) => a + b.width * b.height, 0);
    const inside = boxes
      .filter((b) => insideQuad(q, b.x + b.width / 2, b.y + b.height / 2))
      .reduce((a, b) => a + b.width * b.height, 0);
    return total > 0 && inside / total >= MIN_TEXT_INSIDE;
  });
}

/** Whether (x, y) lies inside the convex quad (same side of all four edges). */
function insideQuad(q: DocumentQuad, x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < 4; i++) {
    const a = q.corners[i]!;
    const b = q.corners[(i + 1) % 4]!;
    const cross = (b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x);
    if (cross === 0) continue;
    if (sign === 0) sign = Math.sign(cross);
    else if (Math.sign(cross) !== sign) return false;
  }
  return true;
}

function landscapeAspect(c: DocumentQuad['corners']): number {
  const d = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);
  return (d(c[0], c[1]) + d(c[3], c[2])) / Math.max(1, d(c[0], c[3]) + d(c[1], c[2]));
}

function quadArea(q: DocumentQuad): number {
  // Shoelace formula over the four corners.
  let a = 0;
  for (let i = 0; i < 4; i++) {
    const p = q.corners[i]!;
    const n = q.corners[(i + 1) % 4]!;
    a += p.x * n.y - n.x * p.y;
  }
  return Math.abs(a) / 2;
}

/** Text detection size: the MRZ reader's 960 px rounded up to cover a rectified TD3 page's 1476 px well. */
const DETECT_SIDE = 1024;

/**
 * Locate the document in a photo, rectify it to a landscape rectangle whose aspect is the quad's own, and
 * detect its text lines once for every reader after it.
 */
export async function prepareSide(
  photo: RgbImage,
  deps: { inference: InferenceRunner; charset: readonly string[] },
): Promise<PreparedSide> {
  const times = { locate: 0, rectify: 0, detect: 0 };
  let t0 = performance.now();
  // The best outline first; a printed frame (the portrait) may outline better than the card itself, so
  // the next ones are tried in turn. The photo's text is detected once, and only if an outline needs it.
  let photoText: Promise<TextBox[]> | undefined;
  // Coarse is enough to tell where the text lies, not to read it.
  const text = () => (photoText ??= detectText(photo, deps, PHOTO_TEXT_SIDE));
  let quad: DocumentQuad | undefined;
  for (const outline of locateDocumentOutlines(photo, OUTLINES_TRIED)) {
    if (await plausibleDocument(outline, photo, text)) {
      quad = outline.refine();
      break;
    }
  }
  times.locate = performance.now() - t0;
  let image = photo;
  t0 = performance.now();
  if (quad) {
    const c = orientLandscape(quad.corners);
    const aspect = landscapeAspect(c);
    // Passport pages (aspect ≈ 1.42) are larger than cards: same print size, same pixels per mm.
    const width = Math.round(RECTIFIED_PX_PER_MM * SIZE_MM[aspect < 1.5 ? 'ID3' : 'ID1'][0]);
    image = rectifyDocument(photo, c, width, Math.round(width / Math.max(0.5, aspect)));
  } else if (photo.height > photo.width) {
    image = await rotateRight(photo, 90);
  }
  times.rectify = performance.now() - t0;
  t0 = performance.now();
  const boxes = await detectText(image, deps, DETECT_SIDE);
  times.detect = performance.now() - t0;
  return { image, quad, rotation: 0, boxes, times };
}

/**
 * The side turned half a turn, its text lines with it (no new detection). Whether a side is upside down
 * is told by what reads on it: the MRZ reader tries both ways, the visual-zone reader's template fit is
 * compared both ways only when the upright reading fits badly, so an upright side costs nothing extra.
 */
export async function turnSide(side: PreparedSide): Promise<PreparedSide> {
  const image = await rotateRight(side.image, 180);
  const { width, height } = image;
  return {
    ...side,
    image,
    rotation: side.rotation === 0 ? 180 : 0,
    boxes: side.boxes.map((b) => ({ ...b, x: width - b.x - b.width, y: height - b.y - b.height })),
  };
}
