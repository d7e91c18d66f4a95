import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Point } from './locate-document.ts';
import { imageAspect, rectangleAspect, TYPICAL_FOCAL } from './rectangle-aspect.ts';

const FRAME = { width: 1600, height: 1200 };

/**
 * The image corners (TL, TR, BR, BL) of a w×h rectangle centred `distance` in front of a pinhole camera
 * of focal `focal` (share of the frame's long side), turned `tilt` degrees about its horizontal axis and
 * `turn` about its vertical one, shifted by (dx, dy) in its own units.
 */
function photographed(
  w: number,
  h: number,
  tilt: number,
  turn: number,
  focal: number,
  dx = 0,
  dy = 0,
): Point[] {
  const f = focal * Math.max(FRAME.width, FRAME.height);
  const a = (tilt * Math.PI) / 180;
  const b = (turn * Math.PI) / 180;
  const distance = 2.2 * w;
  return [
    [-w / 2, -h / 2],
    [w / 2, -h / 2],
    [w / 2, h / 2],
    [-w / 2, h / 2],
  ].map(([x0, y0]) => {
    const [x, y] = [x0! + dx, y0! + dy];
    // Tilt about the x axis, then turn about the y axis.
    const y1 = y * Math.cos(a);
    const z1 = y * Math.sin(a);
    const x2 = x * Math.cos(b) + z1 * Math.sin(b);
    const z2 = -x * Math.sin(b) + z1 * Math.cos(b) + distance;
    return { x: FRAME.width / 2 + (f * x2) / z2, y: FRAME.height / 2 + (f * y1) / z2 };
  });
}

test('a card photographed at a steep angle has its side ratio back once perspective is undone', () => {
  const card = 85.6 / 53.98;
  const corners = photographed(85.6, 53.98, 50, 12, TYPICAL_FOCAL, 10, -6);
  assert.ok(imageAspect(corners) > 1.9, `image side ratio ${imageAspect(corners)}`);
  assert.ok(Math.abs(rectangleAspect(corners, FRAME) - card) < 0.01, `${rectangleAspect(corners, FRAME)}`);
});

test('a photo taken square on needs no undoing, whatever the focal length assumed', () => {
  const corners = photographed(125, 88, 0, 0, 1.4);
  assert.ok(Math.abs(rectangleAspect(corners, FRAME) - 125 / 88) < 1e-6);
  assert.ok(Math.abs(rectangleAspect(corners, FRAME, 0.5) - 125 / 88) < 1e-6);
});

test('the ratio is the first side over the second, so a quad listed from its short side reads below 1', () => {
  const c = photographed(85.6, 53.98, 30, 0, TYPICAL_FOCAL);
  const fromShortSide = [c[3]!, c[0]!, c[1]!, c[2]!];
  assert.ok(Math.abs(rectangleAspect(fromShortSide, FRAME) - 53.98 / 85.6) < 0.01);
});

test('an assumed focal length far from the camera’s leaves an error, though less than none', () => {
  const card = 85.6 / 53.98;
  const corners = photographed(85.6, 53.98, 40, 0, 1.2);
  const assumed = Math.abs(rectangleAspect(corners, FRAME) - card);
  assert.ok(assumed > 0.005, 'the focal length assumed matters');
  assert.ok(assumed < Math.abs(imageAspect(corners) - card));
});
