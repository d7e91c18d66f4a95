import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_SHARED_DATA, postCase, startTestServer } from '../../../test/helpers.ts';
import { buildCase } from '../../../test/synth/cases.ts';

type Json = Record<string, any>;

/**
 * An ID-1 card's corners are rounded; a copy cut out of paper has square ones. A colour print keeps
 * enough of the card's colour for the colour signal to pass it (this one was verified before the corners
 * were looked at): its square corners send it to review, with each corner's reading. A genuine card's
 * corners read rounded. Seeds are fixed; `bench/eval-corners.ts` and the decision harness measure rates.
 */
test(
  'fraud: a colour copy cut out square is sent to review; a genuine card’s corners read rounded',
  { skip: NO_SHARED_DATA, timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      const today = s.runtime.deps.now();
      const copy = await buildCase('printed_copy', 'clean', 'tune', 20_002, today);
      assert.equal((copy.notes.print as Json).front.greyscale, false);
      const r = await postCase(s, key, copy);
      assert.equal(r.statusCode, 200, r.body);
      const v = r.json() as Json;
      const signal = v.checks.fraud.assessments.square_corners;
      assert.equal(signal.flagged, true, JSON.stringify(signal));
      assert.ok(signal.evidence.sides.front.judged >= 2, JSON.stringify(signal));
      assert.equal(v.checks.fraud.tampering_detected, true);
      // A colour copy keeps its colour: the named printed_copy flag (the colour signal) stays false.
      assert.equal(v.checks.fraud.printed_copy, false);
      assert.notEqual(v.status, 'verified', JSON.stringify(v.risk_factors));
      const f = v.risk_factors.find((x: Json) => x.code === 'square_corners');
      assert.ok(f?.message.includes('corners'), JSON.stringify(v.risk_factors));

      const genuine = await buildCase('genuine', 'clean', 'tune', 2, today);
      const g = (await postCase(s, key, genuine)).json() as Json;
      const corners = g.checks.fraud.assessments.square_corners;
      assert.equal(corners.assessed, true, JSON.stringify(corners));
      assert.equal(corners.flagged, false, JSON.stringify(corners));
      assert.equal(corners.evidence.sides.front.square, false);
    } finally {
      await s.close();
    }
  },
);
