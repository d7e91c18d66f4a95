import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_SHARED_DATA, postCase, startTestServer } from '../../../test/helpers.ts';
import { buildCase } from '../../../test/synth/cases.ts';
import type { PhotoLevel } from '../../../test/synth/photograph.ts';

type Json = Record<string, any>;

/**
 * Portrait substitution on generated, photographed CNIE cards (clean photographs, tune-split people):
 * a card whose main portrait was replaced keeps its holder's ghost portrait and fails the fraud check;
 * the holder's own card passes it. Seeds are fixed; the decision harness measures the rates.
 */
test(
  'fraud: a replaced main portrait is caught through the ghost portrait; a genuine card passes',
  { skip: NO_SHARED_DATA, timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      const today = s.runtime.deps.now();
      const run = async (
        kind: 'genuine' | 'portrait_swap',
        seed: number,
        level: PhotoLevel = 'clean',
        split: 'tune' | 'heldout' = 'tune',
      ) => {
        const c = await buildCase(kind, level, split, seed, today);
        const r = await postCase(s, key, c);
        assert.equal(r.statusCode, 200, r.body);
        return r.json() as Json;
      };
      for (const seed of [41_002, 41_003]) {
        const v = await run('portrait_swap', seed);
        const signal = v.checks.fraud.assessments.portrait_substitution;
        assert.equal(signal.assessed, true, JSON.stringify(signal));
        assert.equal(signal.flagged, true, JSON.stringify(signal));
        assert.ok(signal.evidence.cosine < signal.evidence.cosine_threshold);
        assert.equal(v.checks.fraud.status, 'failed');
        assert.notEqual(v.status, 'verified');
        const f = v.risk_factors.find((x: Json) => x.code === 'portrait_substitution');
        assert.ok(f?.message.includes('ghost'), JSON.stringify(v.risk_factors));
      }
      for (const seed of [1_002, 1_003]) {
        const v = await run('genuine', seed);
        const signal = v.checks.fraud.assessments.portrait_substitution;
        assert.equal(signal.assessed, true, JSON.stringify(signal));
        assert.equal(signal.flagged, false, JSON.stringify(signal));
        assert.equal(v.checks.fraud.status, 'passed');
        // The genuine card's colours: not a printed copy.
        const copy = v.checks.fraud.assessments.printed_copy;
        assert.equal(copy.assessed, true, JSON.stringify(copy));
        assert.equal(copy.flagged, false, JSON.stringify(copy));
      }
      // A hard photograph whose ghost comes out too grainy for the detector: read again denoised, the
      // holder's own ghost is found and not taken for another person.
      const grainy = await run('genuine', 2_011, 'hard');
      const signal = grainy.checks.fraud.assessments.portrait_substitution;
      assert.equal(signal.assessed, true, JSON.stringify(signal));
      assert.equal(signal.evidence.ghost_denoised, 'median_5', JSON.stringify(signal));
      assert.equal(signal.flagged, false, JSON.stringify(signal));
      // A faded ghost whose face compares low with the main portrait's (cosine below the threshold) is
      // still the main portrait's picture printed again: not another person.
      const faded = (await run('genuine', 1_001_004, 'medium', 'heldout')).checks.fraud.assessments
        .portrait_substitution;
      assert.ok(faded.evidence.cosine < faded.evidence.cosine_threshold, JSON.stringify(faded));
      assert.ok(faded.evidence.picture_correlation >= faded.evidence.picture_correlation_threshold);
      assert.equal(faded.flagged, false, JSON.stringify(faded));
      // A ghost so faded that the detector's only "face" is the birth year printed over it: the face is not
      // trusted, the main portrait's picture is placed where it fits the ghost, and fits.
      const digits = (await run('genuine', 1_002_003, 'hard', 'heldout')).checks.fraud.assessments
        .portrait_substitution;
      assert.equal(digits.evidence.ghost_face_trusted, false, JSON.stringify(digits));
      assert.equal(digits.evidence.picture_aligned_by, 'placement', JSON.stringify(digits));
      assert.equal(digits.flagged, false, JSON.stringify(digits));
    } finally {
      await s.close();
    }
  },
);
