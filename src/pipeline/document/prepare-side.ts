import { RECTIFIED_PX_PER_MM, SIZE_MM } from '../../domain/documents/document-template.ts';
import type { InferenceRunner } from '../../ports/inference.ts';
import { clampRect, cropResize, rotateRight, type RgbImage } from '../image/rgb-image.ts';
import { detectFaces, type FaceBox } from '../face/detect.ts';
import { detectText, type TextBox } from '../ocr/detect-text.ts';
import { locateDocumentOutlines, type DocumentOutline, type DocumentQuad } from './locate-document.ts';
import { imageAspect, rectangleAspect } from './rectangle-aspect.ts';
import { applyHomography, homographyFromQuad, orientLandscape, rectifyDocument } from './rectify-document.ts';

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
 * seen at an angle, 1.3, and an ID-1 card, 1.59, stretched by perspective; or a document's own proportions
 * once a phone camera's perspective is undone: documentShaped) is the document. A smaller
 * one must have that shape and hold most of the photo's text, and so must a large one of another shape:
 * the outlines found inside documents are printed boxes (a portrait frame, a column, a block of fields),
 * with the document's text around them, not in them. A large outline holding a smaller document that
 * holds all its text is a sheet (heldInside); where no outline passes, the portrait shows where the
 * document lies (aroundThePortrait).
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
/**
 * A smaller document-shaped outline whose text is not most of the photo's (a card lying among papers,
 * toys, a newspaper; or a card too small for the whole-photo detection to see its text) is looked at
 * closer: the outline and SURROUND of its size on each side, text detected there at LOCAL_TEXT_SIDE px
 * (the outline about half of it). A card holds text lines of its own, more of them for its area than
 * around it, even on a newspaper; a printed box inside a document (a portrait frame, a block of fields)
 * has the document's text around it as densely, and lies inside the document's own outline, which holds
 * more of those lines. Chosen on DLC-2021 frames (their copies lie on sheets, newspapers, among toys and
 * pens): 87 -> 96 of 125 cards located; no outline changed on the PassportEye scans, the Moroccan
 * specimens or 270 generated photographs (CNIE fronts and backs, passports, three difficulties).
 */
const SURROUND = 0.5;
const LOCAL_TEXT_SIDE = 640;
/** Text lines a document holds at least (a portrait frame, a blank sheet hold none). */
const MIN_LINES_INSIDE = 3;
/** Text lines per unit area inside the outline against around it. */
const DENSER_THAN_SURROUNDINGS = 1.25;
/** An outline inside another one holding this many times its text lines is a part of it. */
const PART_OF = 1.15;
/**
 * Corners this close outside another outline, as a share of its size, are inside it (an edge found on a
 * shadow or a few pixels off).
 */
const CONTAINED_SLACK = 0.03;

/**
 * A document no outline of the whole photo could be trusted for is looked for again around its portrait:
 * a card lying small among newspaper print, toys or pens, whose edges are too few of the photo's lines
 * to be found among them. Around each face (PORTRAIT_SCORE: a portrait printed small and grey scores
 * lower than a live face; at most PORTRAITS of them) the outlines of a square PORTRAIT_REACH face sizes
 * on each side are found, and the best one is taken that has a document's shape, holds the face at a
 * portrait's scale (its size PORTRAIT_SHARE of the document's width) and holds text lines of its own.
 * A face whose square covers (nearly) the whole photo brings nothing the first look did not see.
 * The scale was measured on DLC-2021's five documents (0.19-0.32 of the width) and generated CNIE and
 * passports (0.09 upwards: the ghost portrait when the main one is missed).
 */
const PORTRAIT_SCORE = 0.5;
const PORTRAITS = 3;
const PORTRAIT_REACH = 5;
const PORTRAIT_SHARE = [0.08, 0.5] as const;
/** The second look is a closer one: around a face, at most this share of the photo. */
const NARROWER = 0.9;

async function aroundThePortrait(
  photo: RgbImage,
  deps: { inference: InferenceRunner },
): Promise<DocumentQuad | undefined> {
  const faces = (await detectFaces(photo, deps, PORTRAIT_SCORE)).slice(0, PORTRAITS);
  for (const face of faces) {
    const reach = PORTRAIT_REACH * Math.max(face.width, face.height);
    const cx = face.x + face.width / 2;
    const cy = face.y + face.height / 2;
    const rect = clampRect(photo, { x: cx - reach, y: cy - reach, width: 2 * reach, height: 2 * reach });
    if (rect.width * rect.height >= NARROWER * photo.width * photo.height) continue;
    const crop = await cropResize(photo, rect, rect.width, rect.height);
    const shift = (q: DocumentQuad): DocumentQuad => ({
      ...q,
      corners: q.corners.map((c) => ({ x: c.x + rect.x, y: c.y + rect.y })) as DocumentQuad['corners'],
    });
    const outlines = locateDocumentOutlines(crop, OUTLINES_TRIED);
    const inPhoto = outlines.map(shift);
    for (const [i, outline] of outlines.entries()) {
      const q = inPhoto[i]!;
      if (!holdsPortrait(q, face, photo)) continue;
      if (await holdsOwnText(q, photo, deps)) return shift(outline.refine());
    }
  }
  return undefined;
}

/** A document-shaped outline holding the face at a portrait's scale. */
function holdsPortrait(q: DocumentQuad, face: FaceBox, frame: RgbImage): boolean {
  if (!documentShaped(q, frame)) return false;
  if (!insideQuad(q, face.x + face.width / 2, face.y + face.height / 2)) return false;
  const c = orientLandscape(q.corners);
  const d = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);
  const width = (d(c[0], c[1]) + d(c[3], c[2])) / 2;
  const share = Math.max(face.width, face.height) / width;
  return share >= PORTRAIT_SHARE[0] && share <= PORTRAIT_SHARE[1];
}

async function plausibleDocument(
  q: DocumentQuad,
  frame: RgbImage,
  text: () => Promise<TextBox[]>,
  deps: { inference: InferenceRunner },
  others: readonly DocumentQuad[],
): Promise<boolean> {
  const share = quadArea(q) / (frame.width * frame.height);
  const shaped = documentShaped(q, frame);
  if (share >= LARGE_SHARE && shaped) return true;
  // A large outline of another shape may still be the document (a card seen at a steep angle), or a
  // printed box of a scanned page (the fields' block of a passport page filling the frame, 2.1 wide):
  // the text tells.
  if (share < MIN_SHARE || (share < LARGE_SHARE && !shaped)) return false;
  const { inside, total } = textInside(q, await text());
  if (total > 0 && inside / total >= MIN_TEXT_INSIDE) return true;
  if (share >= LARGE_SHARE) return false;
  return holdsItsSurroundingsText(q, frame, deps, others);
}

/**
 * A large outline may be a sheet the document is printed on, or lies on: a smaller document-shaped outline
 * inside it (at most SHEET_INNER of its area) holding HOLDS_ALL of its text (the text lines detected on
 * the large outline rectified, which is detected anyway) is the document.
 */
const SHEET_INNER = 0.7;
const HOLDS_ALL = 0.9;

/** The document-shaped outlines inside q that could be the document if q is a sheet. */
function innerDocuments(
  q: DocumentOutline,
  frame: RgbImage,
  outlines: readonly DocumentOutline[],
): DocumentOutline[] {
  const area = quadArea(q);
  const slack = CONTAINED_SLACK * Math.sqrt(area);
  return outlines.filter((o) => {
    if (o === q) return false;
    const a = quadArea(o);
    return (
      a <= SHEET_INNER * area &&
      a >= MIN_SHARE * frame.width * frame.height &&
      documentShaped(o, frame) &&
      o.corners.every((c) => insideQuad(q, c.x, c.y, slack))
    );
  });
}

/** The inner outline holding (nearly) all the text of the sheet `q` rectified as `sheet`, if any. */
function heldInside(
  q: DocumentQuad,
  sheet: Rectified,
  inner: readonly DocumentOutline[],
): DocumentOutline | undefined {
  const { width, height } = sheet.image;
  const toSheet = homographyFromQuad(orientLandscape(q.corners), [
    { x: 0, y: 0 },
    { x: width, y: 0 },
    { x: width, y: height },
    { x: 0, y: height },
  ]);
  const all = sheet.boxes.reduce((s, b) => s + b.width * b.height, 0);
  return inner.find((o) => {
    const onSheet = {
      ...o,
      corners: o.corners.map((c) => applyHomography(toSheet, c.x, c.y)) as DocumentQuad['corners'],
    };
    const t = textInside(onSheet, sheet.boxes);
    return t.lines >= MIN_LINES_INSIDE && t.inside >= HOLDS_ALL * all;
  });
}

/** Area of the text lines whose centre lies inside q, and of all of them. */
function textInside(
  q: DocumentQuad,
  boxes: readonly TextBox[],
): { inside: number; total: number; lines: number } {
  let inside = 0;
  let total = 0;
  let lines = 0;
  for (const b of boxes) {
    const a = b.width * b.height;
    total += a;
    if (insideQuad(q, b.x + b.width / 2, b.y + b.height / 2)) {
      inside += a;
      lines++;
    }
  }
  return { inside, total, lines };
}

/**
 * The outline holds most of the text lines around it, or more of them for its area, and is no part of
 * another.
 */
async function holdsItsSurroundingsText(
  q: DocumentQuad,
  frame: RgbImage,
  deps: { inference: InferenceRunner },
  others: readonly DocumentQuad[],
): Promise<boolean> {
  const { rect, boxes } = await textAround(q, frame, deps);
  const { inside, total, lines } = textInside(q, boxes);
  if (lines < MIN_LINES_INSIDE) return false;
  // Inside another outline that holds more of these lines: a part of that (a block of fields in a card
  // seen too steeply for its own outline to pass), not the document. A sheet or a sleeve around a card
  // holds no more text than the card.
  for (const o of others) {
    const slack = CONTAINED_SLACK * Math.sqrt(quadArea(o));
    if (o === q || !q.corners.every((c) => insideQuad(o, c.x, c.y, slack))) continue;
    if (textInside(o, boxes).lines > PART_OF * lines) return false;
  }
  if (inside / total >= MIN_TEXT_INSIDE) return true;
  const area = quadArea(q);
  const ringLines = boxes.length - lines;
  return (
    lines / area >= DENSER_THAN_SURROUNDINGS * (ringLines / Math.max(1, rect.width * rect.height - area))
  );
}

/** Text lines detected in the outline and SURROUND of its size around it, at LOCAL_TEXT_SIDE px. */
async function textAround(
  q: DocumentQuad,
  frame: RgbImage,
  deps: { inference: InferenceRunner },
): Promise<{ rect: ReturnType<typeof clampRect>; boxes: TextBox[] }> {
  const xs = q.corners.map((c) => c.x);
  const ys = q.corners.map((c) => c.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const rect = clampRect(frame, {
    x: x0 - SURROUND * (x1 - x0),
    y: y0 - SURROUND * (y1 - y0),
    width: (1 + 2 * SURROUND) * (x1 - x0),
    height: (1 + 2 * SURROUND) * (y1 - y0),
  });
  const s = LOCAL_TEXT_SIDE / Math.max(rect.width, rect.height);
  const crop = await cropResize(frame, rect, Math.round(rect.width * s), Math.round(rect.height * s));
  const boxes = (await detectText(crop, deps, LOCAL_TEXT_SIDE)).map((b) => ({
    ...b,
    x: rect.x + b.x / s,
    y: rect.y + b.y / s,
    width: b.width / s,
    height: b.height / s,
  }));
  return { rect, boxes };
}

/** The outline holds text lines of its own (MIN_LINES_INSIDE). */
async function holdsOwnText(
  q: DocumentQuad,
  frame: RgbImage,
  deps: { inference: InferenceRunner },
): Promise<boolean> {
  return textInside(q, (await textAround(q, frame, deps)).boxes).lines >= MIN_LINES_INSIDE;
}

/** Whether (x, y) lies inside the convex quad, or within `slack` px outside its edges. */
function insideQuad(q: DocumentQuad, x: number, y: number, slack = 0): boolean {
  // The corners' winding: the signed distance to each edge is positive inside.
  let area2 = 0;
  for (let i = 0; i < 4; i++) {
    const a = q.corners[i]!;
    const b = q.corners[(i + 1) % 4]!;
    area2 += a.x * b.y - b.x * a.y;
  }
  const winding = Math.sign(area2) || 1;
  for (let i = 0; i < 4; i++) {
    const a = q.corners[i]!;
    const b = q.corners[(i + 1) % 4]!;
    const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    const distance = (winding * ((b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x))) / len;
    if (distance < -slack) return false;
  }
  return true;
}

/**
 * A document's shape: a landscape aspect within DOCUMENT_ASPECT as the quad's sides show it (a range wide
 * enough for the perspective of a photo), or, with a phone camera's perspective undone (rectangleAspect: a
 * card seen from its lower edge's side shows 1.9 and more), a document's own proportions within
 * OWN_PROPORTIONS. The undone ratio is held to the narrower test: the camera's focal length is assumed,
 * not known, and a part of a card (its fields and the background below them) may come out anywhere in the
 * wide range once undone, as it did on a generated card whose own outline the image showed at 1.78.
 */
const OWN_PROPORTIONS = 0.05;
const DOCUMENT_PROPORTIONS = [85.6 / 53.98, 125 / 88] as const;

function documentShaped(q: DocumentQuad, frame: { width: number; height: number }): boolean {
  const seen = imageAspect(orientLandscape(q.corners));
  if (seen >= DOCUMENT_ASPECT[0] && seen <= DOCUMENT_ASPECT[1]) return true;
  const r = rectangleAspect(q.corners, frame);
  const undone = Math.max(r, 1 / r);
  return DOCUMENT_PROPORTIONS.some((p) => Math.abs(Math.log(undone / p)) <= OWN_PROPORTIONS);
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
  const t0 = performance.now();
  // The best outline first; a printed frame (the portrait) may outline better than the card itself, so
  // the next ones are tried in turn. The photo's text is detected once, and only if an outline needs it.
  let photoText: Promise<TextBox[]> | undefined;
  // Coarse is enough to tell where the text lies, not to read it.
  const text = () => (photoText ??= detectText(photo, deps, PHOTO_TEXT_SIDE));
  let quad: DocumentQuad | undefined;
  let prepared: Promise<Rectified> | undefined;
  const outlines = locateDocumentOutlines(photo, OUTLINES_TRIED);
  for (const outline of outlines) {
    if (await plausibleDocument(outline, photo, text, deps, outlines)) {
      const share = quadArea(outline) / (photo.width * photo.height);
      quad = outline.refine();
      const inner = share >= LARGE_SHARE ? innerDocuments(outline, photo, outlines) : [];
      if (inner.length) {
        // Whether it is a sheet holding the document is told by the text detected on it rectified, which
        // the document needs anyway: a sheet is rare, and then that work is done again on the document.
        prepared = rectifyAndDetect(photo, quad, deps);
        const held = heldInside(quad, await prepared, inner);
        if (held) {
          quad = held.refine();
          prepared = undefined;
        }
      }
      break;
    }
  }
  quad ??= await aroundThePortrait(photo, deps);
  times.locate = performance.now() - t0;
  const { image, boxes, rectifyMs, detectMs } = await (prepared ?? rectifyAndDetect(photo, quad, deps));
  times.rectify = rectifyMs;
  times.detect = detectMs;
  return { image, quad, rotation: 0, boxes, times };
}

interface Rectified {
  image: RgbImage;
  boxes: TextBox[];
  rectifyMs: number;
  detectMs: number;
}

/**
 * The document rectified to a landscape rectangle whose aspect is the quad's own (the photo turned
 * landscape when no document was found), and its text lines detected once for every reader after it.
 */
async function rectifyAndDetect(
  photo: RgbImage,
  quad: DocumentQuad | undefined,
  deps: { inference: InferenceRunner },
): Promise<Rectified> {
  let t0 = performance.now();
  let image = photo;
  if (quad) {
    const c = orientLandscape(quad.corners);
    const aspect = imageAspect(c);
    // Passport pages (aspect ≈ 1.42) are larger than cards: same print size, same pixels per mm.
    const width = Math.round(RECTIFIED_PX_PER_MM * SIZE_MM[aspect < 1.5 ? 'ID3' : 'ID1'][0]);
    image = rectifyDocument(photo, c, width, Math.round(width / Math.max(0.5, aspect)));
  } else if (photo.height > photo.width) {
    image = await rotateRight(photo, 90);
  }
  const rectifyMs = performance.now() - t0;
  t0 = performance.now();
  const boxes = await detectText(image, deps, DETECT_SIDE);
  return { image, boxes, rectifyMs, detectMs: performance.now() - t0 };
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
