import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import sharp from 'sharp';
import { NO_SHARED_DATA, postCase, SHARED_DATA, startTestServer } from '../../../test/helpers.ts';
import { buildCase } from '../../../test/synth/cases.ts';

type Json = Record<string, any>;

/**
 * Printed copies of generated CNIE cards (a greyscale print left on its A4 sheet, a colour print cut
 * out), photographed: the card's front, which the template says is printed in colour, has lost its
 * colour, and the verification is rejected with the evidence. Seeds are fixed; the decision harness
 * measures the rates.
 */
test(
  'fraud: a printed copy of a colour card is flagged by its lost colour, with the evidence',
  { skip: NO_SHARED_DATA, timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      const today = s.runtime.deps.now();
      for (const seed of [20_003, 20_005]) {
        const c = await buildCase('printed_copy', 'clean', 'tune', seed, today);
        const r = await postCase(s, key, c);
        assert.equal(r.statusCode, 200, r.body);
        const v = r.json() as Json;
        const signal = v.checks.fraud.assessments.printed_copy;
        assert.equal(signal.assessed, true, JSON.stringify(signal));
        assert.equal(signal.flagged, true, JSON.stringify(signal));
        assert.ok(signal.evidence.colour_spread < signal.evidence.colour_spread_threshold);
        assert.equal(signal.evidence.colour_grid.length, 24);
        assert.equal(v.status, 'rejected', JSON.stringify(v.risk_factors));
        const f = v.risk_factors.find((x: Json) => x.code === 'printed_copy');
        assert.ok(f?.message.includes('printed copy'), JSON.stringify(v.risk_factors));
      }
    } finally {
      await s.close();
    }
  },
);

/**
 * A scan cropped to the card (nothing to locate: the frame is the card): the DGSN specimen in colour
 * passes, the same scan in grey (a scanned photocopy) is flagged.
 */
test(
  'fraud: a scan cropped to the card is judged too; a greyscale scan is a copy',
  { skip: NO_SHARED_DATA, timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      const file = path.join(SHARED_DATA!, 'documents/morocco/cnie_2020_recto_specimen_f-amine.png');
      const post = async (image: Buffer) => {
        const r = await s.app.inject({
          method: 'POST',
          url: '/v1/identity/verify',
          headers: { authorization: `Bearer ${key}` },
          payload: {
            document_front: image.toString('base64'),
            document_type: 'cin',
            country: 'MA',
            checks: ['ocr', 'fraud'],
          },
        });
        assert.equal(r.statusCode, 200, r.body);
        return (r.json() as Json).checks.fraud.assessments.printed_copy;
      };
      const colour = await post(await sharp(file).png().toBuffer());
      assert.equal(colour.assessed, true, JSON.stringify(colour));
      assert.equal(colour.flagged, false, JSON.stringify(colour));
      const grey = await post(await sharp(file).greyscale().toColourspace('srgb').png().toBuffer());
      assert.equal(grey.assessed, true, JSON.stringify(grey));
      assert.equal(grey.flagged, true, JSON.stringify(grey));
    } finally {
      await s.close();
    }
  },
);
