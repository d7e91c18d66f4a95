import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { NO_SHARED_DATA, postCase, startTestServer } from '../../../test/helpers.ts';
import { buildCase } from '../../../test/synth/cases.ts';

type Json = Record<string, any>;

/**
 * A card whose MRZ is read but whose printed identity fields are not (the front photographed out of
 * focus) is not verified on its MRZ alone: an edit to the printed fields would go unseen. The same card
 * photographed sharp has every printed identity field checked against the MRZ.
 */
test(
  'ocr: printed identity fields not read beside a read MRZ send the case to review, naming the fields',
  { skip: NO_SHARED_DATA, timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      const c = await buildCase('genuine', 'clean', 'tune', 1_004, s.runtime.deps.now());

      const sharpCase = (await postCase(s, key, c)).json() as Json;
      assert.ok(
        !sharpCase.checks.ocr.signals.includes('visual_zone_not_read'),
        JSON.stringify(sharpCase.checks.ocr),
      );
      assert.equal(sharpCase.checks.ocr.evidence.visual_zone_unchecked, undefined);
      for (const k of ['document_number', 'last_name', 'date_of_birth'])
        assert.equal(sharpCase.extracted_data.field_provenance[k], 'mrz+visual_zone', k);

      const blurred = await sharp(c.images.document_front).blur(14).jpeg().toBuffer();
      const r = await postCase(s, key, { ...c, images: { ...c.images, document_front: blurred } });
      assert.equal(r.statusCode, 200, r.body);
      const v = r.json() as Json;
      // The back's MRZ still gives the identity, with valid check digits.
      assert.equal(v.checks.ocr.evidence.mrz.check_digits_valid, true);
      assert.equal(v.extracted_data.document_number, sharpCase.extracted_data.document_number);
      assert.ok(v.checks.ocr.signals.includes('visual_zone_not_read'), JSON.stringify(v.checks.ocr));
      const unchecked = v.checks.ocr.evidence.visual_zone_unchecked as string[];
      assert.ok(unchecked.includes('document_number'), JSON.stringify(unchecked));
      const f = v.risk_factors.find((x: Json) => x.code === 'visual_zone_not_read');
      assert.ok(f, JSON.stringify(v.risk_factors));
      assert.ok(f.message.includes('document number'), f.message);
      assert.notEqual(v.status, 'verified');
    } finally {
      await s.close();
    }
  },
);
