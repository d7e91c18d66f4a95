import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cornerError, evaluateLocate } from '../../../bench/locate-eval.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { locateDocument, type Point } from './locate-document.ts';
import { applyHomography, homographyFromQuad, orientLandscape, rectifyDocument } from './rectify-document.ts';

const DLC_DIR = fileURLToPath(new URL('../../../../shared/data/fraud/dlc2021-gray-copy/', import.meta.url));

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CARD_W = 428;
const CARD_H = 270;

/** A grey ID-1 card: light ground, a photo block, rows of word-like bars and two MRZ-like lines. */
function drawCard(rand: () => number, ground: number, ink: number): Uint8Array {
  const card = new Uint8Array(CARD_W * CARD_H).fill(ground);
  const fill = (x: number, y: number, w: number, h: number, v: number): void => {
    for (let yy = Math.max(0, y); yy < Math.min(CARD_H, y + h); yy++) {
      for (let xx = Math.max(0, x); xx < Math.min(CARD_W, x + w); xx++) card[yy * CARD_W + xx] = v;
    }
  };
  fill(22, 50, 110, 140, Math.round(ink + 0.4 * (ground - ink)));
  fill(40, 70, 74, 90, ink);
  for (let row = 0; row < 7; row++) {
    let x = 150;
    while (x < 400) {
      const w = 10 + Math.floor(rand() * 40);
      fill(x, 40 + row * 22, Math.min(w, 400 - x), 8, ink);
      x += w + 6;
    }
  }
  for (let row = 0; row < 2; row++) {
    for (let k = 0; k < 30; k++) fill(22 + k * 13, 212 + row * 24, 9, 12, ink);
  }
  return card;
}

interface Scene {
  img: RgbImage;
  corners: Point[];
  card: Uint8Array;
}

/**
 * Render the card through a random perspective quad onto a cluttered background, 2×2 supersampled,
 * optionally blurred, with sensor noise.
 */
function renderScene(
  seed: number,
  width: number,
  height: number,
  /** A fixed tilt (radians) instead of a random one; planks: dark horizontal seams across the frame. */
  options: { angle?: number; planks?: boolean } = {},
): Scene {
  const rand = rng(seed);
  const kind = seed % 3;
  // 0: light card on a dark textured table; 1: grey copy on white paper; 2: light card on mid-grey.
  const [ground, ink, base] = kind === 0 ? [225, 40, 70] : kind === 1 ? [175, 30, 238] : [230, 50, 130];
  const card = drawCard(rand, ground, ink);
  const short = Math.min(width, height);
  const cardLong = short * (0.5 + 0.35 * rand());
  const randomAngle = rand() * 2 * Math.PI;
  const angle = options.angle ?? randomAngle;
  const half = [
    [-1, -1],
    [1, -1],
    [1, 1],
    [-1, 1],
  ];
  const jitter = half.map(() => [(rand() - 0.5) * 0.2 * cardLong, (rand() - 0.5) * 0.2 * cardLong]);
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  const local = half.map(([sx, sy], i) => {
    const lx = (sx! * cardLong) / 2 + jitter[i]![0]!;
    const ly = (sy! * cardLong * (CARD_H / CARD_W)) / 2 + jitter[i]![1]!;
    return { x: lx * ca - ly * sa, y: lx * sa + ly * ca };
  });
  // Shrink if needed and place the card at a random spot wholly in frame, with a small margin.
  const m = 0.04 * short;
  const span = (v: number[]): number => Math.max(...v) - Math.min(...v);
  const fit = Math.min(
    1,
    (width - 2 * m) / span(local.map((p) => p.x)),
    (height - 2 * m) / span(local.map((p) => p.y)),
  );
  const placed = local.map((p) => ({ x: p.x * fit, y: p.y * fit }));
  const minX = Math.min(...placed.map((p) => p.x));
  const minY = Math.min(...placed.map((p) => p.y));
  const cx = m - minX + rand() * (width - 2 * m - span(placed.map((p) => p.x)));
  const cy = m - minY + rand() * (height - 2 * m - span(placed.map((p) => p.y)));
  const corners = placed.map((p) => ({ x: p.x + cx, y: p.y + cy }));
  const toCard = homographyFromQuad(corners, [
    { x: 0, y: 0 },
    { x: CARD_W, y: 0 },
    { x: CARD_W, y: CARD_H },
    { x: 0, y: CARD_H },
  ]);
  // Background: low-frequency shading, wood-like streaks and a few stray bars.
  const bars = Array.from({ length: 6 }, () => ({
    x: rand() * width,
    y: rand() * height,
    w: 10 + rand() * 120,
    h: 4 + rand() * 30,
    v: (rand() - 0.5) * 60,
  }));
  const streak = rand() * Math.PI;
  const gray = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let bg =
        base +
        15 * Math.sin((x * Math.cos(streak) + y * Math.sin(streak)) / 9) +
        (20 * (x + y)) / (width + height);
      for (const b of bars) if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) bg += b.v;
      if (options.planks && y % 23 < 3) bg -= 70;
      let s = 0;
      for (const [ox, oy] of [
        [0.25, 0.25],
        [0.75, 0.25],
        [0.25, 0.75],
        [0.75, 0.75],
      ]) {
        const p = applyHomography(toCard, x + ox!, y + oy!);
        const inside = p.x >= 0 && p.y >= 0 && p.x < CARD_W && p.y < CARD_H;
        s += inside ? card[Math.floor(p.y) * CARD_W + Math.floor(p.x)]! : bg;
      }
      gray[y * width + x] = s / 4;
    }
  }
  const blurred = seed % 2 === 0 ? boxBlur(gray, width, height) : gray;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const noise = (rand() + rand() + rand() - 1.5) * 12;
    const v = Math.max(0, Math.min(255, Math.round(blurred[i]! + noise)));
    data[i * 3] = v;
    data[i * 3 + 1] = v;
    data[i * 3 + 2] = v;
  }
  return { img: { width, height, data }, corners, card };
}

function boxBlur(src: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          s += src[yy * w + xx]!;
          n++;
        }
      }
      out[y * w + x] = s / n;
    }
  }
  return out;
}

test('homography maps the four corners exactly', () => {
  const from = [
    { x: 10, y: 20 },
    { x: 300, y: 40 },
    { x: 280, y: 210 },
    { x: 30, y: 190 },
  ];
  const to = [
    { x: 0, y: 0 },
    { x: 100, y: 0 },
    { x: 100, y: 60 },
    { x: 0, y: 60 },
  ];
  const h = homographyFromQuad(from, to);
  for (let i = 0; i < 4; i++) {
    const p = applyHomography(h, from[i]!.x, from[i]!.y);
    assert.ok(Math.abs(p.x - to[i]!.x) < 1e-6 && Math.abs(p.y - to[i]!.y) < 1e-6);
  }
});

test('orientLandscape turns a portrait quad a quarter', () => {
  const tl = { x: 0, y: 0 };
  const tr = { x: 50, y: 0 };
  const br = { x: 50, y: 80 };
  const bl = { x: 0, y: 80 };
  assert.deepEqual(orientLandscape([tl, tr, br, bl]), [bl, tl, tr, br]);
  assert.deepEqual(orientLandscape([bl, tl, tr, br]), [bl, tl, tr, br]);
});

test('synthetic cards are located within 2 % of the diagonal', () => {
  const errors: number[] = [];
  for (let seed = 1; seed <= 24; seed++) {
    const portrait = seed % 4 === 0;
    const scene = renderScene(seed, portrait ? 480 : 800, portrait ? 800 : 480);
    const quad = locateDocument(scene.img);
    assert.ok(quad, `seed ${seed}: no document found`);
    const err = cornerError(quad.corners, scene.corners);
    errors.push(err);
    assert.ok(err < 0.02, `seed ${seed}: corner error ${(100 * err).toFixed(2)} %`);
    // Image-geometry order: clockwise on screen, the first side the most rightward-pointing.
    const [a, b, , d] = quad.corners;
    assert.ok((b.x - a.x) * (d.y - a.y) - (b.y - a.y) * (d.x - a.x) > 0, `seed ${seed}: not clockwise`);
  }
  const mean = errors.reduce((s, e) => s + e, 0) / errors.length;
  assert.ok(mean < 0.005, `mean corner error ${(100 * mean).toFixed(2)} %`);
});

test('a card tilted a few degrees on planks is outlined by its own edges, not by the seams', () => {
  // Each seam is a strong straight line across the whole frame; dozens of them, exactly parallel, used
  // to fill the orientation bucket the card's top and bottom edges fall in.
  for (let seed = 1; seed <= 6; seed++) {
    const angle = ((seed % 2 ? 1 : -1) * (2 + seed / 2) * Math.PI) / 180;
    const scene = renderScene(seed, 960, 720, { angle, planks: true });
    const quad = locateDocument(scene.img);
    assert.ok(quad, `seed ${seed}: no document found`);
    const err = cornerError(quad.corners, scene.corners);
    assert.ok(err < 0.02, `seed ${seed}: corner error ${(100 * err).toFixed(2)} %`);
  }
});

test('blank or uniform frames yield no document', () => {
  const flat: RgbImage = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 3).fill(128) };
  assert.equal(locateDocument(flat), undefined);
  const rand = rng(7);
  const noise = new Uint8Array(640 * 480 * 3);
  for (let i = 0; i < noise.length; i += 3) noise[i] = noise[i + 1] = noise[i + 2] = 100 + rand() * 40;
  assert.equal(locateDocument({ width: 640, height: 480, data: noise }), undefined);
});

test('rectifyDocument undoes a known warp', () => {
  const scene = renderScene(3, 800, 480);
  const [tl, tr, br, bl] = scene.corners as [Point, Point, Point, Point];
  const flat = rectifyDocument(scene.img, [tl, tr, br, bl], CARD_W, CARD_H);
  assert.equal(flat.width, CARD_W);
  assert.equal(flat.height, CARD_H);
  const card = scene.card;
  // Compare away from the border, where the supersampled edge mixes in background.
  let diff = 0;
  let n = 0;
  for (let y = 8; y < CARD_H - 8; y++) {
    for (let x = 8; x < CARD_W - 8; x++) {
      diff += Math.abs(flat.data[(y * CARD_W + x) * 3]! - card[y * CARD_W + x]!);
      n++;
    }
  }
  assert.ok(diff / n < 20, `mean abs difference ${(diff / n).toFixed(1)}`);
});

test('a 1600×900 frame is located', () => {
  // Its speed is measured by `npm run bench` (locate stage), not asserted here.
  const scene = renderScene(11, 1600, 900);
  const quad = locateDocument(scene.img);
  assert.ok(quad && cornerError(quad.corners, scene.corners) < 0.02);
});

test(
  'DLC-2021 grey-copy frames (skipped when the data set is absent)',
  { skip: !existsSync(DLC_DIR) },
  async () => {
    const r = await evaluateLocate(DLC_DIR);
    // Measured on 125 frames at 1600 px: median 0.26 %, 122 found, 101 within 5 %.
    assert.ok(r.medianError <= 0.005, `median corner error ${(100 * r.medianError).toFixed(2)} %`);
    assert.ok(r.within5pct >= 0.75 * r.frames, `${r.within5pct}/${r.frames} within 5 %`);
  },
);
