import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { loadWorkingImage } from '../../../bench/locate-eval.ts';
import { NO_SHARED_DATA, SHARED_DATA } from '../../../test/helpers.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { cornerShape, ID1_CORNER_RADIUS_MM } from './corner-shape.ts';

/** A light ID-1 card (600 × 378 px) on a darker table, its corners rounded at `radiusMm`, turned 8°. */
async function card(radiusMm: number): Promise<{ img: RgbImage; corners: { x: number; y: number }[] }> {
  const [w, h] = [600, Math.round((600 * 53.98) / 85.6)];
  const r = (radiusMm * w) / 85.6;
  const [cx, cy, a] = [450, 320, (8 * Math.PI) / 180];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="640">
    <rect width="900" height="640" fill="rgb(92,70,55)"/>
    <g transform="translate(${cx} ${cy}) rotate(8)">
      <rect x="${-w / 2}" y="${-h / 2}" width="${w}" height="${h}" rx="${r}" ry="${r}" fill="rgb(222,218,205)"/>
      <rect x="${-w / 2 + 40}" y="${-h / 2 + 60}" width="150" height="190" fill="rgb(120,110,100)"/>
    </g></svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).blur(0.8).removeAlpha().raw().toBuffer({
    resolveWithObject: true,
  });
  const at = (x: number, y: number) => ({
    x: cx + x * Math.cos(a) - y * Math.sin(a),
    y: cy + x * Math.sin(a) + y * Math.cos(a),
  });
  return {
    img: { width: info.width, height: info.height, data: new Uint8Array(data) },
    corners: [at(-w / 2, -h / 2), at(w / 2, -h / 2), at(w / 2, h / 2), at(-w / 2, h / 2)],
  };
}

test('cornerShape: an ID-1 card’s rounded corners read rounded, a cut-out’s square ones square', async () => {
  const round = await card(ID1_CORNER_RADIUS_MM);
  const rounded = cornerShape(round.img, round.corners);
  assert.ok(rounded);
  assert.equal(rounded.judged, 4);
  assert.equal(rounded.rounded, 4);
  assert.equal(rounded.square, false);
  assert.equal(rounded.round, true);
  const cut = await card(0);
  const square = cornerShape(cut.img, cut.corners);
  assert.ok(square);
  assert.equal(square.judged, 4);
  assert.equal(square.rounded, 0);
  assert.equal(square.square, true);
  assert.equal(square.round, false);
});

test('cornerShape: a card as large as the photo, or on a table of its own colour, is not judged', async () => {
  const { img, corners } = await card(ID1_CORNER_RADIUS_MM);
  // Corners pushed out of the frame: nothing around them to compare with.
  const out = corners.map((c, i) => ({ x: c.x + (i === 1 || i === 2 ? 400 : -400), y: c.y }));
  assert.equal(cornerShape(img, out), undefined);
  const flat: RgbImage = { ...img, data: new Uint8Array(img.data.length).fill(200) };
  assert.equal(cornerShape(flat, corners), undefined);
});

/**
 * Real photographs (DLC-2021): grey copies of ID-1 cards, some cut out with rounded corners, some square.
 * Measured at their annotated outline.
 */
test(
  'cornerShape: real copies cut round read rounded, copies cut square read square',
  { skip: NO_SHARED_DATA },
  async () => {
    const dir = path.join(SHARED_DATA!, 'fraud/dlc2021-gray-copy');
    const { items } = (await import(path.join(dir, 'ground_truth.json'), { with: { type: 'json' } }))
      .default as { items: { image: string; doc_quad_xy: [number, number][] }[] };
    const shapeOf = async (name: string) => {
      const item = items.find((i) => i.image === name)!;
      const { img, scale } = await loadWorkingImage(path.join(dir, name));
      return cornerShape(
        img,
        item.doc_quad_xy.map(([x, y]) => ({ x: x * scale, y: y * scale })),
      );
    };
    for (const name of ['alb_id/04.cg0003_000057.jpg', 'esp_id/06.cg0001_000021.jpg'])
      assert.equal((await shapeOf(name))?.square, false, name);
    for (const name of ['esp_id/01.cg0002_000078.jpg', 'est_id/04.cg0005_000127.jpg'])
      assert.equal((await shapeOf(name))?.square, true, name);
  },
);
