import type { Point } from './locate-document.ts';

/**
 * A phone camera's focal length as a share of the image's long side: a main camera's 70-75° diagonal
 * field of view. Measured on DLC-2021's 125 hand-held frames at their true outlines (bench/eval-aspect.ts):
 * the side ratio the image shows is off the document's by 0.044 rms, 0.33 at most (a Spanish card seen
 * from its lower edge: 1.91 for 1.59); undone at 0.85, by 0.019 rms, 0.06 at most. 0.6 and 1.1 also do
 * better than the image's sides, 1.5 does not. Estimating the focal length from the quad itself (Zhang and
 * He's closed form) was tried and rejected: on a card's mild perspective the estimate ranged from 0.3 to
 * 7.6 of the long side on those frames.
 */
export const TYPICAL_FOCAL = 0.85;

/**
 * The width-over-height ratio of the rectangle a quad is the photograph of, perspective undone (Zhang and
 * He, "Whiteboard scanning and image enhancement", 2007, section 3: the rectangle's side ratio from its
 * four image corners, given the camera's focal length and principal point, here the frame's centre and
 * TYPICAL_FOCAL). A card photographed from its lower edge's side shows a short, wide quad (1.9 and more
 * for an ID-1 card's 1.59): its side ratio in the image says it is no card, the ratio undone says it is.
 *
 * Corners are TL, TR, BR, BL (either winding); the ratio is the first side's (TL-TR) over the second's
 * (TR-BR). A degenerate quad (three corners on a line) gets its side ratio as the image shows it.
 */
export function rectangleAspect(
  corners: readonly Point[],
  frame: { width: number; height: number },
  /** The camera's focal length as a share of the frame's long side. */
  focal = TYPICAL_FOCAL,
): number {
  const f = focal * Math.max(frame.width, frame.height);
  // Homogeneous corners about the principal point: m1 = TL, m2 = TR, m3 = BL, m4 = BR (Zhang's naming).
  const h = (p: Point): [number, number, number] => [p.x - frame.width / 2, p.y - frame.height / 2, 1];
  const m1 = h(corners[0]!);
  const m2 = h(corners[1]!);
  const m4 = h(corners[2]!);
  const m3 = h(corners[3]!);
  const k2 = dot(cross(m1, m4), m3) / dot(cross(m2, m4), m3);
  const k3 = dot(cross(m1, m4), m2) / dot(cross(m3, m4), m2);
  // n2, n3: the directions of the rectangle's two sides, seen through the camera.
  const n2 = m2.map((v, i) => k2 * v - m1[i]!);
  const n3 = m3.map((v, i) => k3 * v - m1[i]!);
  const r = Math.sqrt(
    (n2[0]! ** 2 + n2[1]! ** 2 + f * f * n2[2]! ** 2) / (n3[0]! ** 2 + n3[1]! ** 2 + f * f * n3[2]! ** 2),
  );
  return Number.isFinite(r) && r > 0 ? r : imageAspect(corners);
}

/** The ratio of the quad's sides in the image (opposite sides averaged), no perspective undone. */
export function imageAspect(c: readonly Point[]): number {
  const d = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);
  return (d(c[0]!, c[1]!) + d(c[3]!, c[2]!)) / Math.max(1e-6, d(c[1]!, c[2]!) + d(c[0]!, c[3]!));
}

function cross(a: readonly number[], b: readonly number[]): [number, number, number] {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

function dot(a: readonly number[], b: readonly number[]): number {
  return a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
}
