import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RgbImage } from '../image/rgb-image.ts';
import { colourSpread } from './colour-spread.ts';

const W = 480;
const H = 300;

/** A card-like pattern: pastel hues that change across the card, darker "text" stripes, all over. */
function colourCard(): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const hue = (x / W) * 6 + Math.sin(y / 23) * 2 + Math.cos(x / 31);
      const text = (y % 24 < 6 && x % 40 < 28) || (x + y) % 57 < 3 ? 0.45 : 1;
      const o = (y * W + x) * 3;
      data[o] = Math.round((170 + 60 * Math.sin(hue)) * text);
      data[o + 1] = Math.round((170 + 60 * Math.sin(hue + 2.1)) * text);
      data[o + 2] = Math.round((170 + 60 * Math.sin(hue + 4.2)) * text);
    }
  }
  return { width: W, height: H, data };
}

/** The same card copied in grey, then lit: per-channel gains that drift across the card, a tone curve. */
function greyCopy(card: RgbImage, lights: [[number, number, number], [number, number, number]]): RgbImage {
  const data = new Uint8Array(card.data.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      const l = (0.299 * card.data[o]! + 0.587 * card.data[o + 1]! + 0.114 * card.data[o + 2]!) / 255;
      const t = x / W;
      for (let k = 0; k < 3; k++) {
        const gain = lights[0][k]! * (1 - t) + lights[1][k]! * t;
        data[o + k] = Math.min(255, Math.round(255 * Math.pow(l, 0.8) * gain));
      }
    }
  }
  return { width: W, height: H, data };
}

test('a colour card spreads colour; its grey copy under a warm light, or two lights, does not', () => {
  const card = colourCard();
  const colour = colourSpread(card)!.spread;
  const warm = colourSpread(
    greyCopy(card, [
      [1, 0.9, 0.72],
      [1, 0.9, 0.72],
    ]),
  )!.spread;
  const mixed = colourSpread(
    greyCopy(card, [
      [1, 0.9, 0.7],
      [0.8, 0.92, 1],
    ]),
  )!.spread;
  assert.ok(colour > 0.15, `colour card ${colour}`);
  assert.ok(warm < 0.02, `grey copy, warm light ${warm}`);
  assert.ok(mixed < 0.03, `grey copy, mixed lights ${mixed}`);
});

test('colour in one corner of a grey copy (a fingertip) is not colour over the card', () => {
  const copy = greyCopy(colourCard(), [
    [1, 1, 1],
    [1, 1, 1],
  ]);
  for (let y = 0; y < H / 4; y++) {
    for (let x = 0; x < W / 6; x++) copy.data.set([200, 140, 120], (y * W + x) * 3);
  }
  const measured = colourSpread(copy)!;
  assert.ok(measured.spread < 0.03, `${measured.spread}`);
  assert.equal(measured.grid.length, 24);
  assert.ok(measured.grid[0]! > 0.05, `the corner cell shows its colour: ${measured.grid[0]}`);
});

test('a black or blown-out image has nothing to measure', () => {
  const dark = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(4) };
  assert.equal(colourSpread(dark), undefined);
});
