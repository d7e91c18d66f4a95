import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { NO_SHARED_DATA, postCase, startTestServer } from '../../../test/helpers.ts';
import { buildCase } from '../../../test/synth/cases.ts';

type Json = Record<string, any>;

/**
 * A genuine card's front, saved again by an image editor (its EXIF names Photoshop): the case goes to a
 * person with the editor named; the same photo without metadata is not judged (absence proves nothing).
 */
test(
  'fraud: a document photo saved by an image editor is sent to review, with the editor named',
  { skip: NO_SHARED_DATA, timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      const c = await buildCase('genuine', 'clean', 'tune', 2, s.runtime.deps.now());
      const plain = (await postCase(s, key, c)).json() as Json;
      assert.equal(plain.checks.fraud.assessments.editing_software.assessed, false);
      assert.equal(plain.checks.fraud.assessments.editing_software.reason, 'no_metadata');

      const front = await sharp(c.images.document_front)
        .jpeg({ quality: 92 })
        .withExif({ IFD0: { Software: 'Adobe Photoshop 25.0' } })
        .toBuffer();
      const r = await postCase(s, key, { ...c, images: { ...c.images, document_front: front } });
      assert.equal(r.statusCode, 200, r.body);
      const v = r.json() as Json;
      const signal = v.checks.fraud.assessments.editing_software;
      assert.equal(signal.flagged, true, JSON.stringify(signal));
      assert.equal(signal.evidence.editor, 'Adobe Photoshop 25.0');
      assert.equal(signal.evidence.side, 'front');
      assert.equal(v.checks.fraud.photoshop, true);
      assert.equal(plain.checks.fraud.photoshop, null);
      assert.equal(v.status, 'review', JSON.stringify(v.risk_factors));
      assert.ok(v.risk_factors.some((f: Json) => f.code === 'editing_software'));
    } finally {
      await s.close();
    }
  },
);
