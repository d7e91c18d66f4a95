import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHALLENGE_RULES } from '../../domain/liveness-challenge.ts';
import { fitHomography, frameMotion, NOSE_TIP } from './head-motion.ts';
import type { Point } from './landmarks.ts';
import { planarFit, type GreyImage } from './planar-fit.ts';

/** 68 points laid out like a face (eyes, nose, mouth where iBUG puts them), 100 px between the outer eye corners. */
function face(): Point[] {
  const pts: Point[] = [];
  for (let i = 0; i < 68; i++) pts.push({ x: 200 + ((i * 37) % 120) - 60, y: 200 + ((i * 53) % 140) - 50 });
  const set = (i: number, x: number, y: number) => (pts[i] = { x, y });
  set(36, 150, 180);
  set(39, 185, 182);
  set(42, 215, 182);
  set(45, 250, 180);
  set(48, 170, 260);
  set(54, 230, 260);
  set(NOSE_TIP, 200, 225);
  return pts;
}

const perspective = (p: Point): Point => {
  const w = 1 + 0.0009 * (p.x - 200) + 0.0003 * (p.y - 200);
  return { x: (1.1 * p.x + 0.2 * p.y + 15) / w, y: (-0.1 * p.x + 0.95 * p.y + 30) / w };
};

test('a flat picture moved in perspective has no nose parallax; a nose moved against the plane has', () => {
  const ref = face();
  const flat = ref.map(perspective);
  const h = fitHomography(ref, flat)!;
  const q = h(ref[10]!);
  assert.ok(Math.hypot(q.x - flat[10]!.x, q.y - flat[10]!.y) < 1e-6, 'the fit is exact on a homography');
  const m = frameMotion(ref, flat)!;
  assert.ok(Math.abs(m.parallaxX) < 1e-6 && Math.abs(m.parallaxY) < 1e-6, JSON.stringify(m));
  const turned = ref.map((p, i) => (i === NOSE_TIP ? { x: p.x + 15, y: p.y } : p));
  const t = frameMotion(ref, turned)!;
  assert.ok(
    Math.abs(t.parallaxX - 0.15) < 1e-6,
    'the nose moved 15 px right of its plane: 0.15 eye spans, to the left',
  );
});

function texture(w: number, h: number, f: (x: number, y: number) => Point = (x, y) => ({ x, y })): GreyImage {
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = f(x, y);
      data[y * w + x] =
        128 +
        50 * Math.sin(p.x / 7) * Math.cos(p.y / 9) +
        30 * Math.sin((p.x + 2 * p.y) / 13) +
        20 * Math.cos(p.x / 3.1);
    }
  return { width: w, height: h, data };
}

test('a picture warped by a homography fits one plane; one whose middle moved against its sides does not', () => {
  const ref = face();
  const reference = texture(400, 400);
  // The frame as the reference seen through a homography: sample the texture at the inverse map.
  const inverse = fitHomography(ref.map(perspective), ref)!;
  const flat = texture(400, 400, (x, y) => inverse({ x, y }));
  const planar = planarFit(reference, ref, flat, ref.map(perspective))!;
  assert.ok(planar.patchCorrelation > 0.97, JSON.stringify(planar));
  // A bump: the middle of the face shifted 12 px sideways, the outside not (a nose turning with a head).
  const bump = texture(400, 400, (x, y) => ({
    x: x - 12 * Math.exp(-((x - 200) ** 2 + (y - 220) ** 2) / (2 * 30 ** 2)),
    y,
  }));
  const turned = planarFit(reference, ref, bump, ref)!;
  assert.ok(turned.patchCorrelation < CHALLENGE_RULES.flatCorrelation, JSON.stringify(turned));
});
