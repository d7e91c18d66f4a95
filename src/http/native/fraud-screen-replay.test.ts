import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_SHARED_DATA, postCase, startTestServer } from '../../../test/helpers.ts';
import { buildCase } from '../../../test/synth/cases.ts';

type Json = Record<string, any>;

/**
 * Generated CNIE cards shown on a display (RGB subpixel stripes, the display's tone and tint, bezel,
 * glass reflection) and photographed: the pixel grid left on the card is found, with its evidence, and
 * the verification is rejected; the same generator's genuine card is assessed and passes. Seeds are
 * fixed; `bench/eval-screen-replay.ts` and the decision harness measure the rates.
 */
test(
  'fraud: a card photographed on a screen is flagged by the pixel grid it carries; a genuine card is not',
  { skip: NO_SHARED_DATA, timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      const today = s.runtime.deps.now();
      for (const seed of [30_001, 30_003]) {
        const c = await buildCase('screen_replay', 'clean', 'tune', seed, today);
        const r = await postCase(s, key, c);
        assert.equal(r.statusCode, 200, r.body);
        const v = r.json() as Json;
        const signal = v.checks.fraud.assessments.screen_replay;
        assert.equal(signal.assessed, true, JSON.stringify(signal));
        assert.equal(signal.flagged, true, JSON.stringify(signal));
        assert.ok(signal.evidence.grid_score >= signal.evidence.grid_score_threshold);
        const phase = Math.abs(signal.evidence.phase_deg);
        assert.ok(phase >= 30 && phase <= 90, JSON.stringify(signal));
        assert.ok(['front', 'back'].includes(signal.evidence.side));
        assert.equal(v.status, 'rejected', JSON.stringify(v.risk_factors));
        const f = v.risk_factors.find((x: Json) => x.code === 'screen_replay');
        assert.ok(f?.message.includes('screen'), JSON.stringify(v.risk_factors));
      }
      const genuine = await buildCase('genuine', 'clean', 'tune', 1, today);
      const g = (await postCase(s, key, genuine)).json() as Json;
      const signal = g.checks.fraud.assessments.screen_replay;
      assert.equal(signal.assessed, true, JSON.stringify(signal));
      assert.equal(signal.flagged, false, JSON.stringify(signal));
      assert.equal(g.status, 'verified', JSON.stringify(g.risk_factors));
    } finally {
      await s.close();
    }
  },
);
