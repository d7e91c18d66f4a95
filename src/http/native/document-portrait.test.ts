import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { NO_SHARED_DATA, SHARED_DATA, startTestServer } from '../../../test/helpers.ts';
import { createRng, randomIdentity } from '../../../test/synth/identities.ts';
import { photograph } from '../../../test/synth/photograph.ts';
import { renderDocument } from '../../../test/synth/render-document.ts';

type Json = Record<string, any>;

/** Same-person and different-person pairs from deepface's master.csv (first column: the portrait). */
function pairs(decision: 'Yes' | 'No', n: number): [string, string][] {
  const csv = readFileSync(path.join(SHARED_DATA!, 'faces/deepface/master.csv'), 'utf8');
  return csv
    .split('\n')
    .map((l) => l.trim().split(','))
    .filter((c) => c[2] === decision)
    .slice(0, n)
    .map((c) => [c[0]!, c[1]!]);
}

test(
  'face match through the portrait of a generated, photographed CNIE: same person passes, another fails',
  { skip: NO_SHARED_DATA, timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      const face = (f: string) => path.join(SHARED_DATA!, 'faces/deepface', f);
      const run = async ([portrait, selfie]: [string, string], seed: number) => {
        const rng = createRng(seed);
        const front = await renderDocument('mar_cnie_2020_front', randomIdentity(rng), {
          rng,
          portraitPath: face(portrait),
        });
        const photo = await photograph(front.image, 'clean', rng);
        const r = await s.app.inject({
          method: 'POST',
          url: '/v1/identity/verify',
          headers: { authorization: `Bearer ${key}` },
          payload: {
            document_front: photo.jpeg.toString('base64'),
            selfie: readFileSync(face(selfie)).toString('base64'),
            document_type: 'cin',
            country: 'MA',
            checks: ['face_match', 'ocr'],
          },
        });
        assert.equal(r.statusCode, 200, r.body);
        return r.json() as Json;
      };
      for (const [i, pair] of pairs('Yes', 3).entries()) {
        const v = await run(pair, 7000 + i);
        assert.equal(
          v.checks.face_match.match,
          true,
          `${pair.join(' vs ')}: ${JSON.stringify(v.checks.face_match)}`,
        );
        assert.equal(v.checks.ocr.template_id, 'mar_cnie_2020');
      }
      for (const [i, pair] of pairs('No', 3).entries()) {
        const v = await run(pair, 7100 + i);
        assert.equal(v.checks.face_match.match, false, `${pair.join(' vs ')}`);
      }
    } finally {
      await s.close();
    }
  },
);
