import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RgbImage } from '../image/rgb-image.ts';
import { screenGrid } from './screen-grid.ts';

const W = 640;
const H = 400;

/** A card-like picture: hues drifting across, text-like dark bars, a little noise (seeded). */
function card(seed = 1): RgbImage {
  let a = seed;
  const noise = () => {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    return (a / 0x7fffffff - 0.5) * 6;
  };
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const hue = (x / W) * 4 + Math.sin(y / 37);
      const text = y % 40 < 10 && (x * 7 + y) % 90 < 60 ? 0.5 : 1;
      const o = (y * W + x) * 3;
      for (let c = 0; c < 3; c++)
        data[o + c] = Math.max(0, Math.min(255, (180 + 50 * Math.sin(hue + c * 2.1)) * text + noise()));
    }
  return { width: W, height: H, data };
}

/** Each channel brightened on its own third of a period-`p` column cycle: a display's RGB stripes. */
function withStripes(img: RgbImage, p: number, depth: number): RgbImage {
  const data = Uint8Array.from(img.data);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) {
        const lit = Math.cos(2 * Math.PI * (x / p - c / 3));
        const o = (y * W + x) * 3 + c;
        data[o] = Math.max(0, Math.min(255, data[o]! * (1 + depth * lit)));
      }
  return { ...img, data };
}

/** The same brightness pattern in every channel at once (JPEG blocking, a printed line screen). */
function withInPhasePattern(img: RgbImage, p: number, depth: number): RgbImage {
  const data = Uint8Array.from(img.data);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const k = 1 + depth * Math.cos((2 * Math.PI * x) / p) * (1 + 0.3 * ((y >> 3) & 1));
      for (let c = 0; c < 3; c++) {
        const o = (y * W + x) * 3 + c;
        data[o] = Math.max(0, Math.min(255, data[o]! * k * (1 + 0.05 * c)));
      }
    }
  return { ...img, data };
}

test('a display grid scores far above the card it shows, with its period', () => {
  const plain = screenGrid(card())!;
  const screen = screenGrid(withStripes(card(), 6.4, 0.12))!;
  assert.ok(plain.score < 3, `plain card ${plain.score}`);
  assert.ok(screen.score > 30, `screen ${screen.score}`);
  assert.ok(Math.abs(screen.periodPx - 6.4) < 0.4, `period ${screen.periodPx}`);
  assert.ok(Math.abs(Math.abs(screen.phaseDeg) - 60) < 25, `phase ${screen.phaseDeg}`);
});

test('a pattern in phase in every channel is not a display grid', () => {
  const r = screenGrid(withInPhasePattern(card(), 8, 0.15))!;
  assert.ok(r.score < 5, `in-phase pattern scored ${r.score} (phase ${r.phaseDeg})`);
});

test('too small an image has no verdict', () => {
  assert.equal(screenGrid({ width: 60, height: 60, data: new Uint8Array(60 * 60 * 3) }), undefined);
});
