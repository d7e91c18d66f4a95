import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Point } from '../face/landmarks.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { pictureCorrelation, placeLandmarks } from './same-picture.ts';

/** A picture as a function of position in its own units (0..1 across), made of smooth random blobs. */
function picture(seed: number): (u: number, v: number) => number {
  let a = seed;
  const rnd = () => (a = (a * 1103515245 + 12345) >>> 0) / 4294967296;
  const blobs = Array.from({ length: 40 }, () => ({
    u: rnd(),
    v: rnd() * 1.2,
    r: 0.03 + rnd() * 0.12,
    k: rnd() * 2 - 1,
  }));
  return (u, v) =>
    blobs.reduce((s, b) => s + b.k * Math.exp(-((u - b.u) ** 2 + (v - b.v) ** 2) / (2 * b.r * b.r)), 0);
}

/** The picture rendered `width` pixels across (1.2 × as high), faded to `gain`·value + `offset`. */
function render(f: (u: number, v: number) => number, width: number, gain: number, offset: number): RgbImage {
  const height = Math.round(width * 1.2);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const g = Math.max(0, Math.min(255, Math.round(128 + gain * 60 * f(x / width, y / width) + offset)));
      data.fill(g, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  return { width, height, data };
}

/** Eyes, nose and mouth corners where a head-and-shoulders picture has them, in pixels of a `width` render. */
function landmarks(width: number, jitter = 0): Point[] {
  const at = [
    [0.36, 0.45],
    [0.64, 0.45],
    [0.5, 0.6],
    [0.4, 0.72],
    [0.6, 0.72],
  ];
  return at.map(([u, v], i) => ({ x: u! * width + (i % 2 ? jitter : -jitter), y: v! * width + jitter }));
}

test('a ghost printed from the main picture correlates as the same picture; another picture does not', () => {
  const main = picture(1);
  const large = { image: render(main, 240, 1, 0), landmarks5: landmarks(240) };
  // The ghost: half the size, faded, its landmarks a pixel out.
  const ghost = { image: render(main, 120, 0.4, 60), landmarks5: landmarks(120, 1) };
  const same = pictureCorrelation(ghost, large);
  assert.ok(same !== undefined && same > 0.9, `same picture: ${same}`);
  for (const seed of [2, 3, 4]) {
    const other = { image: render(picture(seed), 120, 0.4, 60), landmarks5: landmarks(120, 1) };
    const r = pictureCorrelation(other, large);
    assert.ok(r !== undefined && r < 0.5, `picture ${seed}: ${r}`);
  }
});

test('a face too small to compare is not measured', () => {
  const f = picture(1);
  const tiny = { image: render(f, 12, 1, 0), landmarks5: landmarks(12) };
  assert.equal(
    pictureCorrelation(tiny, { image: render(f, 240, 1, 0), landmarks5: landmarks(240) }),
    undefined,
  );
});

test('the main picture is placed where it was printed small, without a face found there', () => {
  const main = picture(1);
  const large = { image: render(main, 240, 1, 0), landmarks5: landmarks(240) };
  // The ghost (0.4 of the main's size) printed at (30, 24) on a flat, lighter ground.
  const ghost = render(main, 96, 0.4, 60);
  const w = 170;
  const h = 180;
  const canvas = new Uint8Array(w * h * 3).fill(200);
  for (let y = 0; y < ghost.height; y++)
    canvas.set(ghost.data.subarray(y * ghost.width * 3, (y + 1) * ghost.width * 3), ((y + 24) * w + 30) * 3);
  const small = { width: w, height: h, data: canvas };
  const placed = placeLandmarks(small, large, [0.25, 0.75]);
  assert.ok(placed);
  const truth = landmarks(96).map((p) => ({ x: p.x + 30, y: p.y + 24 }));
  for (let i = 0; i < 5; i++)
    assert.ok(
      Math.hypot(placed[i]!.x - truth[i]!.x, placed[i]!.y - truth[i]!.y) < 3,
      `landmark ${i}: ${JSON.stringify(placed[i])} vs ${JSON.stringify(truth[i])}`,
    );
  const r = pictureCorrelation({ image: small, landmarks5: placed }, large);
  assert.ok(r !== undefined && r > 0.9, `${r}`);
});
