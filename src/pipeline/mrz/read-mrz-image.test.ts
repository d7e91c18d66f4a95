import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadCharset, loadManifest } from '../../adapters/onnx/load-manifest.ts';
import { OnnxRunner } from '../../adapters/onnx/onnx-runner.ts';
import { NO_SHARED_DATA, SHARED_DATA } from '../../../test/helpers.ts';
import { decodeImage } from '../image/decode.ts';
import { rotateRight } from '../image/rgb-image.ts';
import { readMrzFromImage, type MrzDeps } from './read-mrz-image.ts';
import sharp from 'sharp';
import { createRng, randomIdentity } from '../../../test/synth/identities.ts';
import { renderDocument } from '../../../test/synth/render-document.ts';

interface Truth {
  image: string;
  expected_fields?: { mrz: string[]; number: string; date_of_birth: string; surname: string };
}

describe('MRZ from a document image (PP-OCRv4 + check-digit correction)', { skip: NO_SHARED_DATA }, () => {
  let deps: MrzDeps;
  let runner: OnnxRunner;
  const dir = SHARED_DATA ? path.join(SHARED_DATA, 'documents/passporteye') : '';
  const today = new Date('2026-11-22T00:00:00Z');
  before(async () => {
    const manifest = await loadManifest();
    runner = await OnnxRunner.load(manifest, { threads: 1 });
    deps = { inference: runner, charset: await loadCharset(manifest) };
  });
  after(async () => runner.close());

  const truths = (): Truth[] =>
    (
      JSON.parse(readFileSync(path.join(dir, 'ground_truth.json'), 'utf8')) as { items: Truth[] }
    ).items.filter((i) => i.expected_fields);

  test('ICAO TD2/TD3 specimen scans read exactly, with every check digit valid', async () => {
    for (const t of truths()) {
      const d = await decodeImage(readFileSync(path.join(dir, t.image)), 'image', {
        maxImageBytes: 50e6,
        maxImagePixels: 100e6,
        maxSide: 2000,
      });
      const r = await readMrzFromImage(d.image, deps, today);
      assert.ok(r, `${t.image}: no MRZ found`);
      assert.deepEqual(r.reading.lines, t.expected_fields!.mrz, t.image);
      assert.equal(r.reading.checkDigitsValid, true, t.image);
      assert.equal(r.reading.extracted.document_number, t.expected_fields!.number);
      assert.equal(r.reading.extracted.last_name, t.expected_fields!.surname);
      assert.equal(r.reading.extracted.date_of_birth, '1974-08-12');
    }
  });

  test('an upside-down document is read too', async () => {
    const d = await decodeImage(readFileSync(path.join(dir, 'data/passport-td3.png')), 'image', {
      maxImageBytes: 50e6,
      maxImagePixels: 100e6,
      maxSide: 2000,
    });
    const r = await readMrzFromImage(await rotateRight(d.image, 180), deps, today);
    assert.equal(r?.rotation, 180);
    assert.equal(r?.reading.checkDigitsValid, true);
  });

  test('a face photo has no MRZ', async () => {
    const d = await decodeImage(readFileSync(path.join(SHARED_DATA!, 'faces/deepface/img2.jpg')), 'image', {
      maxImageBytes: 50e6,
      maxImagePixels: 100e6,
    });
    const r = await readMrzFromImage(d.image, deps, today);
    assert.ok(!r?.reading.checkDigitsValid);
  });

  test('a generated passport page photographed a few degrees off is straightened and read', async () => {
    const rng = createRng(77);
    const id = randomIdentity(rng);
    const page = await renderDocument('mar_passport', id, { rng });
    for (const degrees of [-4, 3]) {
      const tilted = await sharp(page.image)
        .rotate(degrees, { background: '#ffffff' })
        .jpeg({ quality: 85 })
        .toBuffer();
      const d = await decodeImage(tilted, 'document_front', { maxImageBytes: 50e6, maxImagePixels: 100e6 });
      const r = await readMrzFromImage(d.image, deps, today);
      assert.ok(r?.reading.checkDigitsValid, `${degrees}°: ${JSON.stringify(r?.reading.lines)}`);
      assert.equal(r.reading.lines.join('\n'), page.truth.mrz);
    }
  });
});
