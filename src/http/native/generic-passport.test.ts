import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer } from '../../../test/helpers.ts';
import { createRng, randomIdentity } from '../../../test/synth/identities.ts';
import { photograph } from '../../../test/synth/photograph.ts';
import { renderDocument } from '../../../test/synth/render-document.ts';

type Json = Record<string, any>;

test(
  'a passport of an issuer with no template: MRZ fields, and place of birth and issue date found by their captions',
  { timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      // Other issuers' pages put the rows in another order, captions in English first or alone, dates
      // spelt in other ways: three of them, each photographed clean.
      for (const [seed, state, country] of [
        [41, 'BEL', 'BE'],
        [42, 'ESP', 'ES'],
        [43, 'ITA', 'IT'],
      ] as const) {
        const rng = createRng(seed);
        const page = await renderDocument('icao_td3_passport', randomIdentity(rng), {
          rng,
          issuingState: state,
        });
        const photo = await photograph(page.image, 'clean', rng);
        const r = await s.app.inject({
          method: 'POST',
          url: '/v1/identity/extract',
          headers: { authorization: `Bearer ${key}` },
          payload: { document_front: photo.jpeg.toString('base64'), document_type: 'passport', country },
        });
        assert.equal(r.statusCode, 200, r.body);
        const v = r.json() as Json;
        const e = v.extracted_data as Json;
        assert.equal(v.checks.ocr.template_id, 'icao_td3_passport', JSON.stringify(v.checks.ocr));
        assert.equal(e.document_number, page.truth.document_number, `${state}: ${JSON.stringify(e)}`);
        assert.equal(e.date_of_birth, page.truth.date_of_birth);
        assert.equal(e.field_provenance.document_number, 'mrz');
        assert.equal(e.place_of_birth, page.truth.place_of_birth, `${state}: ${JSON.stringify(e)}`);
        assert.equal(e.field_provenance.place_of_birth, 'visual_zone');
        assert.equal(e.issue_date, page.truth.issue_date, `${state}: ${JSON.stringify(e)}`);
      }
    } finally {
      await s.close();
    }
  },
);
