import { solveLinear } from '../image/solve-linear.ts';
import type { Point } from './landmarks.ts';

/**
 * How a face moved between a reference frame and another, from their 68 landmarks (iBUG order).
 *
 * The eye corners (36, 39, 42, 45) and the mouth corners (48, 54) lie close to one plane on a head
 * (within about 0.06 of the outer-eye-corner distance front to back; the nose tip stands about 0.28 in
 * front of them). Whatever a flat picture does in front of the camera (moved, turned, tilted, brought
 * closer), its points move by one homography, so the nose tip lands where the homography of the six
 * plane points sends it. A head turning about its neck moves the nose tip sideways against that plane:
 * the horizontal part of the difference, in outer-eye-corner distances, is the **nose parallax**. Its
 * sign says which way the head turned (+: the person's left, which is the image's right in a camera that
 * does not mirror).
 */
export const PLANE_POINTS = [36, 39, 42, 45, 48, 54] as const;
export const NOSE_TIP = 30;

export interface FrameMotion {
  /** Nose-tip displacement against the face plane's homography, in outer-eye-corner distances. */
  parallaxX: number;
  parallaxY: number;
  /** How far the six plane points sit from the fitted homography (mean, same unit): a fit check. */
  planeResidual: number;
  /** The face plane's own motion: the outer-eye-corner distance ratio and the shift of its centre. */
  scale: number;
  shift: number;
  /**
   * How much narrower the face plane looks than in the reference: 1 − (eye width / eye-to-mouth height)
   * against the same ratio in the reference, 0 when not narrower. A plane turned by θ about a vertical
   * axis gives about 1 − cos θ (0.09 at 25°): a picture turned to mimic a head does this.
   */
  narrowing: number;
}

type H = [number, number, number, number, number, number, number, number, number];

/** Least-squares homography (h33 = 1) from `src` to `dst`, points pre-normalised for conditioning. */
export function fitHomography(src: Point[], dst: Point[]): ((p: Point) => Point) | undefined {
  const norm = (pts: Point[]) => {
    const cx = pts.reduce((s, p) => s + p.x, 0) / pts.length;
    const cy = pts.reduce((s, p) => s + p.y, 0) / pts.length;
    const d = pts.reduce((s, p) => s + Math.hypot(p.x - cx, p.y - cy), 0) / pts.length || 1;
    return { cx, cy, k: Math.SQRT2 / d };
  };
  const ns = norm(src);
  const nd = norm(dst);
  // Normal equations of the 2n linear rows of the DLT with h33 fixed to 1.
  const ata = Array.from({ length: 8 }, () => new Array<number>(8).fill(0));
  const atb = new Array<number>(8).fill(0);
  const add = (row: number[], v: number) => {
    for (let i = 0; i < 8; i++) {
      atb[i]! += row[i]! * v;
      for (let j = 0; j < 8; j++) ata[i]![j]! += row[i]! * row[j]!;
    }
  };
  for (let i = 0; i < src.length; i++) {
    const x = (src[i]!.x - ns.cx) * ns.k;
    const y = (src[i]!.y - ns.cy) * ns.k;
    const u = (dst[i]!.x - nd.cx) * nd.k;
    const v = (dst[i]!.y - nd.cy) * nd.k;
    add([x, y, 1, 0, 0, 0, -u * x, -u * y], u);
    add([0, 0, 0, x, y, 1, -v * x, -v * y], v);
  }
  const h = solveLinear(ata, atb);
  if (!h) return undefined;
  const hh = [...h, 1] as H;
  return (p: Point) => {
    const x = (p.x - ns.cx) * ns.k;
    const y = (p.y - ns.cy) * ns.k;
    const w = hh[6] * x + hh[7] * y + hh[8];
    return {
      x: (hh[0] * x + hh[1] * y + hh[2]) / w / nd.k + nd.cx,
      y: (hh[3] * x + hh[4] * y + hh[5]) / w / nd.k + nd.cy,
    };
  };
}

/** The distance between the outer eye corners (iBUG 36 and 45), the unit of every measure here. */
export const eyeSpan = (l: Point[]) => Math.hypot(l[45]!.x - l[36]!.x, l[45]!.y - l[36]!.y);

/** Outer-eye-corner distance over the distance from the eyes' midpoint to the mouth's. */
function aspect(l: Point[]): number {
  const ex = (l[36]!.x + l[45]!.x) / 2;
  const ey = (l[36]!.y + l[45]!.y) / 2;
  const mx = (l[48]!.x + l[54]!.x) / 2;
  const my = (l[48]!.y + l[54]!.y) / 2;
  return eyeSpan(l) / (Math.hypot(mx - ex, my - ey) || 1);
}

/** The motion of `frame` against `reference` (both 68 landmarks); undefined if degenerate. */
export function frameMotion(reference: Point[], frame: Point[]): FrameMotion | undefined {
  if (reference.length < 68 || frame.length < 68) return undefined;
  const src = PLANE_POINTS.map((i) => reference[i]!);
  const dst = PLANE_POINTS.map((i) => frame[i]!);
  const h = fitHomography(src, dst);
  const span = eyeSpan(frame);
  if (!h || !(span > 0)) return undefined;
  const predicted = h(reference[NOSE_TIP]!);
  const residual = dst.reduce((s, p, i) => {
    const q = h(src[i]!);
    return s + Math.hypot(q.x - p.x, q.y - p.y);
  }, 0);
  const centre = (pts: Point[]) => ({
    x: pts.reduce((s, p) => s + p.x, 0) / pts.length,
    y: pts.reduce((s, p) => s + p.y, 0) / pts.length,
  });
  const c0 = centre(src);
  const c1 = centre(dst);
  // The frame's own x axis is the eye line: a rolled head is measured along its own horizontal.
  const ex = (frame[45]!.x - frame[36]!.x) / span;
  const ey = (frame[45]!.y - frame[36]!.y) / span;
  const dx = frame[NOSE_TIP]!.x - predicted.x;
  const dy = frame[NOSE_TIP]!.y - predicted.y;
  return {
    narrowing: Math.max(0, 1 - aspect(frame) / aspect(reference)),
    parallaxX: (dx * ex + dy * ey) / span,
    parallaxY: (-dx * ey + dy * ex) / span,
    planeResidual: residual / PLANE_POINTS.length / span,
    scale: span / eyeSpan(reference),
    shift: Math.hypot(c1.x - c0.x, c1.y - c0.y) / eyeSpan(reference),
  };
}

/**
 * Where the nose tip sits between the two sides of the face, from one frame alone: 0 frontal, about
 * ±0.1 per 10° of yaw (+: the person's left). Used to pick the most frontal frame as the reference.
 */
export function noseOffset(l: Point[]): number {
  const left = Math.hypot(l[NOSE_TIP]!.x - l[2]!.x, l[NOSE_TIP]!.y - l[2]!.y);
  const right = Math.hypot(l[14]!.x - l[NOSE_TIP]!.x, l[14]!.y - l[NOSE_TIP]!.y);
  return (left - right) / (left + right || 1);
}
