import type { Point } from '../document/locate-document.ts';
import { sampleBilinear, type RgbImage } from '../image/rgb-image.ts';

/**
 * Whether a card's corners are rounded, as an ID-1 card's are (ISO/IEC 7810: 3.18 mm radius), or square,
 * as a paper copy cut with scissors or a card image printed on a sheet.
 *
 * The outline's sides are fitted on their straight parts, so each of its corners is where the two edges
 * would meet. Around each corner, in the photo, the colour just outside the edges (the background) and
 * just inside them (the card), both sampled one to three radii away from the corner, tell the two apart;
 * the cells of the corner's square that a rounded corner leaves uncovered (outside the arc of the ISO
 * radius, ARC_MARGIN beyond it) are then read as background or card. A rounded corner shows background
 * there, a square one shows card. A corner is judged only where the card and its background differ
 * (MIN_CONTRAST), the radius spans MIN_RADIUS_PX pixels and the whole neighbourhood lies in the photo.
 */
export const ID1_CORNER_RADIUS_MM = 3.18;
const ID1_WIDTH_MM = 85.6;
const ID1_HEIGHT_MM = 53.98;
/** The arc's radius must span this many photo pixels for its shape to be told from blur. */
export const MIN_RADIUS_PX = 5;
/** Card and background must differ by this much (RGB distance, 0..441) for a corner to be judged. */
export const MIN_CONTRAST = 24;
/** The uncovered cells are read this share of a radius outside the arc (blur, the outline's error). */
const ARC_MARGIN = 0.15;
/** Sampling steps across a radius: along the edges for the references, in the corner's square. */
const STEPS = 8;
const CELLS = 16;

/** A corner reads rounded when at least this share of its uncovered cells read as background. */
export const ROUNDED_SHARE = 0.5;
/** ...and clearly rounded at this share (a genuine card's corners read 0.8-1 on real and generated photos). */
export const CLEARLY_ROUNDED_SHARE = 0.75;

export interface CornerShape {
  /**
   * Per corner (TL, TR, BR, BL of the outline): the share of its uncovered cells that read as background
   * (about 1 on a rounded corner, about 0 on a square one), or null where it could not be judged.
   */
  corners: (number | null)[];
  /** The ISO radius in photo pixels (mean over the corners). */
  radius_px: number;
  /** Corners judged, and of them the ones that read rounded (ROUNDED_SHARE). */
  judged: number;
  rounded: number;
  /**
   * The card's corners read square: all of two or three judged, three of four at least (a copy's corner
   * may read rounded under a shadow or a paper rim; a genuine card's read rounded but where a finger
   * covers one).
   */
  square: boolean;
  /**
   * The corners read clearly rounded (CLEARLY_ROUNDED_SHARE): all judged but one at most, at least two.
   * The two sides of a card are one piece of plastic: a side that reads so vouches for the other.
   */
  round: boolean;
}

function rgbAt(img: RgbImage, p: Point): [number, number, number] {
  return [0, 1, 2].map((c) => sampleBilinear(img, p.x - 0.5, p.y - 0.5, c)) as [number, number, number];
}

function median3(samples: [number, number, number][]): [number, number, number] {
  return [0, 1, 2].map((c) => {
    const s = samples.map((v) => v[c]!).sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
  }) as [number, number, number];
}

const d3 = (a: readonly number[], b: readonly number[]) =>
  Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

/**
 * The corner shape of an ID-1 card whose outline (clockwise, TL first, in `photo`'s pixels) was fitted on
 * its straight edges; undefined when fewer than two corners can be judged.
 */
export function cornerShape(photo: RgbImage, corners: readonly Point[]): CornerShape | undefined {
  const shares: (number | null)[] = [];
  let radiusSum = 0;
  // The long sides are the card's width: px per mm along each side.
  const len = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);
  const sides = [0, 1, 2, 3].map((i) => len(corners[i]!, corners[(i + 1) % 4]!));
  const wide = sides[0]! + sides[2]! >= sides[1]! + sides[3]!;
  const mmOf = (i: number) => ((i % 2 === 0) === wide ? ID1_WIDTH_MM : ID1_HEIGHT_MM);
  for (let i = 0; i < 4; i++) {
    const c = corners[i]!;
    const next = corners[(i + 1) % 4]!;
    const prev = corners[(i + 3) % 4]!;
    const ln = sides[i]!;
    const lp = sides[(i + 3) % 4]!;
    // Unit steps of one ISO radius along each edge, from the corner into the card.
    const r1 = (ID1_CORNER_RADIUS_MM * ln) / mmOf(i);
    const r2 = (ID1_CORNER_RADIUS_MM * lp) / mmOf(i + 3);
    const u = { x: ((next.x - c.x) / ln) * r1, y: ((next.y - c.y) / ln) * r1 };
    const v = { x: ((prev.x - c.x) / lp) * r2, y: ((prev.y - c.y) / lp) * r2 };
    const at = (a: number, b: number): Point => ({ x: c.x + a * u.x + b * v.x, y: c.y + a * u.y + b * v.y });
    radiusSum += (r1 + r2) / 2;
    // The neighbourhood sampled reaches 3 radii along the edges and 1 outside them.
    const reach = [at(-1, -1), at(3, -1), at(-1, 3), at(3, 3)];
    if (
      Math.min(r1, r2) < MIN_RADIUS_PX ||
      reach.some((p) => p.x < 0 || p.y < 0 || p.x >= photo.width || p.y >= photo.height)
    ) {
      shares.push(null);
      continue;
    }
    const background: [number, number, number][] = [];
    const card: [number, number, number][] = [];
    for (let s = 0; s <= STEPS; s++) {
      const a = 1 + (2 * s) / STEPS;
      for (const b of [0.35, 0.5, 0.65]) {
        background.push(rgbAt(photo, at(a, -b)), rgbAt(photo, at(-b, a)));
        card.push(rgbAt(photo, at(a, b)), rgbAt(photo, at(b, a)));
      }
    }
    const bg = median3(background);
    const fg = median3(card);
    if (d3(bg, fg) < MIN_CONTRAST) {
      shares.push(null);
      continue;
    }
    let uncovered = 0;
    let asBackground = 0;
    for (let j = 0; j < CELLS; j++) {
      for (let k = 0; k < CELLS; k++) {
        const a = (j + 0.5) / CELLS;
        const b = (k + 0.5) / CELLS;
        if (Math.hypot(1 - a, 1 - b) < 1 + ARC_MARGIN) continue;
        uncovered++;
        const p = rgbAt(photo, at(a, b));
        if (d3(p, bg) < d3(p, fg)) asBackground++;
      }
    }
    shares.push(uncovered ? asBackground / uncovered : null);
  }
  const judged = shares.filter((s): s is number => s !== null);
  if (judged.length < 2) return undefined;
  const rounded = judged.filter((v) => v >= ROUNDED_SHARE).length;
  const clearly = judged.filter((v) => v >= CLEARLY_ROUNDED_SHARE).length;
  return {
    corners: shares,
    radius_px: radiusSum / 4,
    judged: judged.length,
    rounded,
    square: rounded <= (judged.length === 4 ? 1 : 0),
    round: clearly >= 2 && clearly >= judged.length - 1,
  };
}
