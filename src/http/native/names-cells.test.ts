import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_SHARED_DATA, postCase, startTestServer } from '../../../test/helpers.ts';
import { buildCase } from '../../../test/synth/cases.ts';

type Json = Record<string, any>;

/**
 * A surname printed one letter longer than the MRZ's (HASSANI → HASSANII: the generator's tampered name
 * when the other name drawn is the holder's own) looks like an MRZ that dropped a letter. The names line's
 * cells tell them apart: the MRZ's surname occupies exactly the cells of the letters read, so the printed
 * name is another one and the case is not verified. A genuine card's names agree, cells and all.
 */
test(
  'ocr: a printed name one letter longer than the MRZ name whose cells were all read is a disagreement',
  { skip: NO_SHARED_DATA, timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      const today = s.runtime.deps.now();
      const tampered = await buildCase('tampered_name', 'clean', 'tune', 50_107, today);
      assert.equal(tampered.notes.printed_last_name, 'HASSANII');
      const v = (await postCase(s, key, tampered)).json() as Json;
      const d = (v.checks.ocr.evidence.disagreements as Json[]).find((x) => x.field === 'last_name');
      assert.ok(d, JSON.stringify(v.checks.ocr.evidence));
      assert.equal(d.cells_verdict, 'lengths_differ', JSON.stringify(d));
      assert.ok(Math.abs(d.mrz_cells - 7) < 0.5, JSON.stringify(d));
      assert.equal(d.minor, undefined);
      const f = v.risk_factors.find((x: Json) => x.code === 'mrz_visual_zone_mismatch');
      assert.ok(f?.message.includes('HASSANII'), JSON.stringify(v.risk_factors));
      assert.notEqual(v.status, 'verified');
      // The MRZ, read whole, gives the name; the MRZ shown is not rebuilt from the printed one.
      assert.equal(v.extracted_data.last_name, 'HASSANI');
      assert.equal(v.extracted_data.field_provenance.last_name, 'mrz');
      assert.match(String(v.extracted_data.mrz), /\nHASSANI<</);

      const genuine = await buildCase('genuine', 'clean', 'tune', 1_004, today);
      const g = (await postCase(s, key, genuine)).json() as Json;
      const names = (g.checks.ocr.evidence.disagreements ?? []).filter((x: Json) =>
        ['last_name', 'first_name'].includes(x.field),
      );
      assert.ok(
        names.every((x: Json) => x.cells_verdict !== 'lengths_differ'),
        JSON.stringify(names),
      );
    } finally {
      await s.close();
    }
  },
);
