import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_SHARED_DATA, postCase, startTestServer } from '../../../test/helpers.ts';
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
