import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { cornerError, loadWorkingImage } from '../../../bench/locate-eval.ts';
import { NO_SHARED_DATA, SHARED_DATA } from '../../../test/helpers.ts';
import { loadCharset, loadManifest } from '../../adapters/onnx/load-manifest.ts';
import { OnnxRunner } from '../../adapters/onnx/onnx-runner.ts';
import { prepareSide } from './prepare-side.ts';

/**
 * Cards lying small among other things (DLC-2021 photographs its copies on sheets, newspapers, among toys
 * and pens): too small for the whole photo's text detection to see their lines, or holding less of the
 * photo's text than the newspaper around them. Their outline is still the document: looked at closer, it
 * holds text lines of its own, more densely than its surroundings. Where no outline of the whole photo
 * can be trusted, the document is looked for around its portrait; a sheet around a card is not the card.
 */
test(
  'prepareSide: a card lying small on a table or among newspaper print is located',
  { skip: NO_SHARED_DATA, timeout: 120_000 },
  async () => {
    const dir = path.join(SHARED_DATA!, 'fraud/dlc2021-gray-copy');
    const { items } = (await import(path.join(dir, 'ground_truth.json'), { with: { type: 'json' } }))
      .default as { items: { image: string; doc_quad_xy: [number, number][] }[] };
    const manifest = await loadManifest();
    const inference = await OnnxRunner.load(manifest, { threads: 2 });
    try {
      const deps = { inference, charset: await loadCharset(manifest) };
      // A card on a table, 6 % of the frame (no text seen at the whole photo's scale); a card on a
      // newspaper page (half the text lines seen near it are the newspaper's).
      // A card on a newspaper whose outline is one of many (found around its portrait); a passport page
      // printed on a sheet filling half the photo (the page holds all the sheet's text). A card seen from
      // its lower edge's side, its outline 1.93 times as wide as high in the image (1.59 once the
      // camera's perspective is undone).
      for (const name of [
        'est_id/01.cg0001_000041.jpg',
        'est_id/04.cg0001_000036.jpg',
        'alb_id/02.cg0004_000005.jpg',
        'grc_passport/00.cg0001_000013.jpg',
        'esp_id/04.cg0001_000029.jpg',
      ]) {
        const item = items.find((i) => i.image === name)!;
        const { img, scale } = await loadWorkingImage(path.join(dir, name));
        const side = await prepareSide(img, deps);
        assert.ok(side.quad, `${name}: the card was not located`);
        const truth = item.doc_quad_xy.map(([x, y]) => ({ x: x * scale, y: y * scale }));
        const err = cornerError(side.quad.corners, truth);
        assert.ok(err < 0.02, `${name}: corner error ${err.toFixed(3)}`);
      }
    } finally {
      await inference.close();
    }
  },
);
