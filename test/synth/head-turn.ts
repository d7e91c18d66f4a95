/**
 * A head turning in front of a camera, made from one frontal photo and its 68 landmarks: each landmark
 * gets a depth from a generic head (the six-point model used for head-pose estimation: nose tip 0, outer
 * eye corners and mouth corners about 0.3 of the outer-eye-corner distance behind it, chin 0.15, the
 * ears about 0.9) and is rotated about the neck; points around the head and on the image border stay
 * put (the background does not turn), and a thin-plate spline carries the whole picture along.
 *
 * And the attacks on an active challenge that use a picture instead of a head: `flatPose` moves, turns
 * and tilts the same photo as one plane in perspective (a print or a screen held in front of the camera).
 */
import type { Point } from '../../src/pipeline/face/landmarks.ts';
import type { RgbImage } from '../../src/pipeline/image/rgb-image.ts';
import { sampleBilinearRgbInto } from '../../src/pipeline/image/rgb-image.ts';
import { solveLinear } from '../../src/pipeline/image/solve-linear.ts';

/** Depth (towards the camera) of each iBUG landmark, in outer-eye-corner distances, nose tip 0. */
function depthOf(i: number): number {
  if (i <= 16) {
    const t = Math.abs(i - 8) / 8;
    return -0.15 - 0.75 * t * t;
  }
  if (i <= 26) {
    const t = i <= 21 ? (21 - i) / 4 : (i - 22) / 4;
    return -0.22 - 0.08 * t;
  }
  if (i <= 30) return [-0.2, -0.13, -0.06, 0][i - 27]!;
  if (i <= 35) return [-0.17, -0.1, -0.07, -0.1, -0.17][i - 31]!;
  if (i <= 47) return i === 36 || i === 45 ? -0.3 : i === 39 || i === 42 ? -0.24 : -0.26;
  if (i === 48 || i === 54) return -0.28;
  if (i <= 59) return -0.16;
  return -0.19;
}

export interface HeadPose {
  /** Degrees; + is the person's own left (the image's right). */
  yaw: number;
  /** Degrees; + looks down. */
  pitch?: number;
  /** Degrees, in the image plane. */
  roll?: number;
  /** Shift of the whole head in outer-eye-corner distances, and a scale (closer: > 1). */
  dx?: number;
  dy?: number;
  scale?: number;
}

/** Solve the thin-plate spline through `from` → values, evaluated by the returned function. */
function thinPlate(from: Point[], values: number[][]): (x: number, y: number) => number[] {
  const n = from.length;
  const u = (r2: number) => (r2 <= 0 ? 0 : r2 * Math.log(r2));
  const size = n + 3;
  const a: number[][] = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dx = from[i]!.x - from[j]!.x;
      const dy = from[i]!.y - from[j]!.y;
      a[i]![j] = u(dx * dx + dy * dy);
    }
    a[i]![n] = 1;
    a[i]![n + 1] = from[i]!.x;
    a[i]![n + 2] = from[i]!.y;
    a[n]![i] = 1;
    a[n + 1]![i] = from[i]!.x;
    a[n + 2]![i] = from[i]!.y;
  }
  const dims = values[0]!.length;
  const coef: number[][] = [];
  for (let d = 0; d < dims; d++) {
    const c = solveLinear(
      a,
      Array.from({ length: size }, (_, i) => (i < n ? values[i]![d]! : 0)),
    );
    if (!c) throw new Error('thin-plate spline through coincident points');
    coef.push(c);
  }
  return (x, y) =>
    coef.map((c) => {
      let s = c[n]! + c[n + 1]! * x + c[n + 2]! * y;
      for (let i = 0; i < n; i++) {
        const dx = x - from[i]!.x;
        const dy = y - from[i]!.y;
        s += c[i]! * u(dx * dx + dy * dy);
      }
      return s;
    });
}

/** Warp `img` so that each `src[i]` lands on `dst[i]` (backward mapping on a 4-px grid, bilinear). */
export function warpThrough(img: RgbImage, src: Point[], dst: Point[]): RgbImage {
  const f = thinPlate(
    dst,
    src.map((p, i) => [p.x - dst[i]!.x, p.y - dst[i]!.y]),
  );
  const { width: w, height: h } = img;
  const step = 4;
  const gw = Math.ceil(w / step) + 1;
  const gh = Math.ceil(h / step) + 1;
  const gx = new Float32Array(gw * gh);
  const gy = new Float32Array(gw * gh);
  for (let j = 0; j < gh; j++)
    for (let i = 0; i < gw; i++) {
      const [ddx, ddy] = f(i * step, j * step) as [number, number];
      gx[j * gw + i] = ddx;
      gy[j * gw + i] = ddy;
    }
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const fy = y / step;
    const j = Math.floor(fy);
    const ty = fy - j;
    for (let x = 0; x < w; x++) {
      const fx = x / step;
      const i = Math.floor(fx);
      const tx = fx - i;
      const k = j * gw + i;
      const lerp = (g: Float32Array) =>
        (g[k]! * (1 - tx) + g[k + 1]! * tx) * (1 - ty) + (g[k + gw]! * (1 - tx) + g[k + gw + 1]! * tx) * ty;
      sampleBilinearRgbInto(img, x + lerp(gx), y + lerp(gy), out, (y * w + x) * 3);
    }
  }
  return { data: out, width: w, height: h };
}

/** The 68 landmarks of the frontal photo after the head takes `pose` (weak perspective). */
export function posedLandmarks(landmarks: Point[], pose: HeadPose): Point[] {
  const span = Math.hypot(landmarks[45]!.x - landmarks[36]!.x, landmarks[45]!.y - landmarks[36]!.y);
  // The neck's axis: below and about one outer-eye-corner distance behind the nose tip.
  const cx = (landmarks[36]!.x + landmarks[45]!.x) / 2;
  const cy = landmarks[30]!.y + 0.4 * span;
  const zc = -1.0;
  const yaw = (pose.yaw * Math.PI) / 180;
  const pitch = ((pose.pitch ?? 0) * Math.PI) / 180;
  const roll = ((pose.roll ?? 0) * Math.PI) / 180;
  const s = pose.scale ?? 1;
  return landmarks.map((p, i) => {
    const x = (p.x - cx) / span;
    const y = (p.y - cy) / span;
    const z = depthOf(i) - zc;
    // Yaw about the vertical axis, then pitch about the horizontal one; x to the image's right.
    const x1 = x * Math.cos(yaw) + z * Math.sin(yaw);
    const z1 = -x * Math.sin(yaw) + z * Math.cos(yaw);
    const y2 = y * Math.cos(pitch) + z1 * Math.sin(pitch);
    const xr = x1 * Math.cos(roll) - y2 * Math.sin(roll);
    const yr = x1 * Math.sin(roll) + y2 * Math.cos(roll);
    return {
      x: cx + (xr * s + (pose.dx ?? 0)) * span,
      y: cy + (yr * s + (pose.dy ?? 0)) * span,
    };
  });
}

/** Points that stay where they are: a ring well outside the face and the image border. */
function anchors(img: RgbImage, landmarks: Point[]): Point[] {
  const xs = landmarks.map((p) => p.x);
  const ys = landmarks.map((p) => p.y);
  const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
  const cy = (Math.min(...ys) + Math.max(...ys)) / 2;
  const r = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) * 1.25;
  const out: Point[] = [];
  for (let k = 0; k < 16; k++) {
    const a = (k / 16) * 2 * Math.PI;
    out.push({ x: cx + r * Math.cos(a), y: cy + r * 1.15 * Math.sin(a) });
  }
  const { width: w, height: h } = img;
  for (const [fx, fy] of [
    [0, 0],
    [0.5, 0],
    [1, 0],
    [1, 0.5],
    [1, 1],
    [0.5, 1],
    [0, 1],
    [0, 0.5],
  ] as const)
    out.push({ x: fx * (w - 1), y: fy * (h - 1) });
  return out;
}

/**
 * The photo with the head turned to `pose`. The forehead and the top of the head (points above the
 * brows, 0.2 further back) turn with it; the shoulders and the room do not.
 */
export function turnHead(img: RgbImage, landmarks: Point[], pose: HeadPose): RgbImage {
  const span = Math.hypot(landmarks[45]!.x - landmarks[36]!.x, landmarks[45]!.y - landmarks[36]!.y);
  const brows = landmarks.slice(17, 27);
  const forehead = brows.map((p) => ({ x: p.x, y: p.y - 0.45 * span }));
  const posed = posedLandmarks(landmarks, pose);
  // The forehead points follow the brows' motion (they lie on the same part of the skull).
  const foreheadPosed = forehead.map((p, k) => ({
    x: p.x + (posed[17 + k]!.x - brows[k]!.x),
    y: p.y + (posed[17 + k]!.y - brows[k]!.y),
  }));
  const fixed = anchors(img, landmarks);
  return warpThrough(img, [...landmarks, ...forehead, ...fixed], [...posed, ...foreheadPosed, ...fixed]);
}

/**
 * The photo as a flat picture held in front of the camera: turned by `yaw` degrees about a vertical axis
 * and tilted by `pitch` about a horizontal one through the face, seen in perspective (focal length
 * `focal` × the image width), then shifted and scaled. Returns the image and where the landmarks went.
 */
export function flatPose(
  img: RgbImage,
  landmarks: Point[],
  pose: HeadPose & { focal?: number },
): { image: RgbImage; landmarks: Point[] } {
  const span = Math.hypot(landmarks[45]!.x - landmarks[36]!.x, landmarks[45]!.y - landmarks[36]!.y);
  const cx = (landmarks[36]!.x + landmarks[45]!.x) / 2;
  const cy = landmarks[30]!.y;
  const f = (pose.focal ?? 1.2) * img.width;
  const yaw = (pose.yaw * Math.PI) / 180;
  const pitch = ((pose.pitch ?? 0) * Math.PI) / 180;
  const roll = ((pose.roll ?? 0) * Math.PI) / 180;
  const s = pose.scale ?? 1;
  const project = (p: Point): Point => {
    const x = p.x - cx;
    const y = p.y - cy;
    const x1 = x * Math.cos(yaw);
    const z1 = -x * Math.sin(yaw);
    const y2 = y * Math.cos(pitch) + z1 * Math.sin(pitch);
    const z2 = -y * Math.sin(pitch) + z1 * Math.cos(pitch);
    const k = f / (f - z2);
    const xr = x1 * k * Math.cos(roll) - y2 * k * Math.sin(roll);
    const yr = x1 * k * Math.sin(roll) + y2 * k * Math.cos(roll);
    return { x: cx + xr * s + (pose.dx ?? 0) * span, y: cy + yr * s + (pose.dy ?? 0) * span };
  };
  // A plane maps by a homography: four corners of a grid are enough for the spline to be exact enough,
  // but a denser grid keeps the warp faithful to perspective.
  const grid: Point[] = [];
  for (let j = 0; j <= 6; j++)
    for (let i = 0; i <= 6; i++) grid.push({ x: (i / 6) * (img.width - 1), y: (j / 6) * (img.height - 1) });
  const image = warpThrough(img, grid, grid.map(project));
  return { image, landmarks: landmarks.map(project) };
}

export type ChallengeActor = 'head' | 'flat' | 'loop';

export interface FilmedFrame {
  image: RgbImage;
  step: number;
  t: number;
}

/** Turns as the server draws them: + yaw is the person's left. */
const SIGN = { left: 1, right: -1 } as const;

/**
 * What the capture page films during a challenge, at 4 frames a second: a few frontal frames, then for
 * each turn asked a turn out to `amplitude` degrees, a hold and a return, with the small drifts of a hand
 * holding a phone (shift, scale, roll, nod). `head`: the person turns as asked; `flat`: a picture of
 * the same face is turned and tilted the way asked (the attack the challenge is for); `loop`: a head
 * turning left then right at every step whatever is asked (a recording played in a loop).
 */
export function filmChallenge(
  img: RgbImage,
  landmarks: Point[],
  turns: ('left' | 'right')[],
  actor: ChallengeActor,
  rng: { float(a: number, b: number): number },
  amplitude = 30,
): FilmedFrame[] {
  const plan: { step: number; yaw: number }[] = [];
  for (let i = 0; i < 3; i++) plan.push({ step: 0, yaw: 0 });
  turns.forEach((turn, step) => {
    const sweep = (sign: number) => {
      const a = amplitude * rng.float(0.85, 1.15) * sign;
      for (const f of [0.3, 0.6, 0.85, 1, 1, 0.6, 0.25, 0]) plan.push({ step, yaw: a * f });
    };
    if (actor === 'loop') {
      sweep(1);
      sweep(-1);
    } else sweep(SIGN[turn]);
    plan.push({ step, yaw: 0 });
  });
  return plan.map(({ step, yaw }, i) => {
    const pose = {
      yaw,
      pitch: rng.float(-4, 4),
      roll: rng.float(-3, 3),
      dx: rng.float(-0.1, 0.1),
      dy: rng.float(-0.08, 0.08),
      scale: rng.float(0.97, 1.03),
    };
    const image =
      actor === 'flat'
        ? flatPose(img, landmarks, {
            ...pose,
            yaw: yaw * 1.2,
            dx: pose.dx + yaw / 150,
            focal: rng.float(0.8, 1.6),
          }).image
        : turnHead(img, landmarks, pose);
    return { image, step, t: i * 250 };
  });
}
