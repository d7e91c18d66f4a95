import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RISK_FACTORS, type RiskFactorCode } from './risk-factors.ts';
import { decide, type RiskAssessment } from './risk-policy.ts';
import { CHECK_NAMES, type CheckName, type CheckResult } from './verification.ts';

const doc = readFileSync(new URL('../../docs/risk-factors.md', import.meta.url), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d+)\s*\|\s*([a-z_]+)\s*\|/gm)].map((m) => [
    m[1]!,
    { weight: Number(m[2]), effect: m[3]! },
  ]),
);

test('every risk factor is documented in docs/risk-factors.md with its weight and effect, and nothing else is', () => {
  for (const [code, spec] of Object.entries(RISK_FACTORS)) {
    const d = documented.get(code);
    assert.ok(d, `${code} is missing from docs/risk-factors.md`);
    assert.equal(d.weight, spec.weight, `${code}: documented weight`);
    assert.equal(d.effect, spec.effect, `${code}: documented effect`);
  }
  for (const code of documented.keys())
    assert.ok(code in RISK_FACTORS, `${code} is documented but not in the catalogue`);
});

type Checks = Partial<Record<CheckName, CheckResult>>;
const today = new Date('2026-12-06T12:00:00Z');
const passedFace: CheckResult = { status: 'passed', confidence: 0.8, match: true, similarity_score: 0.8 };
const run = (checks: Checks, requested = Object.keys(checks) as CheckName[], extracted = {}) =>
  decide({ requested, checks, extracted, today });
const flagged = (code: string, score: number): CheckResult => ({
  status: 'failed',
  confidence: score,
  assessments: { [code]: { assessed: true, flagged: true, score } },
});

/** Cases that between them make the policy name every factor of the catalogue. */
const cases: RiskAssessment[] = [
  run({ face_match: { status: 'failed', confidence: 1, reason: 'no_face_in_selfie' } }),
  run({ face_match: { status: 'failed', confidence: 1, reason: 'no_face_in_document' } }),
  run({ face_match: { status: 'failed', confidence: 0.9, match: false, similarity_score: 0.2 } }),
  run({ face_match: passedFace }),
  run({ liveness: { status: 'failed', confidence: 1, reason: 'no_face_in_selfie' } }),
  run({ liveness: { status: 'failed', confidence: 0.9, is_live: false, spoof_probability: 0.9 } }),
  run({ liveness: { status: 'passed', confidence: 0.9, is_live: true, spoof_probability: 0.1 } }),
  run({
    liveness: {
      status: 'failed',
      confidence: 0.9,
      reason: 'challenge_failed',
      is_live: false,
      evidence: { challenge: { status: 'failed', reason: 'wrong_turns' } },
    },
  }),
  run({ liveness: { status: 'failed', confidence: 0.9, reason: 'challenge_missing', is_live: false } }),
  run({ liveness: { status: 'failed', confidence: 0.6, reason: 'uncertain', is_live: false } }),
  run({ face_match: { status: 'skipped', confidence: 0, reason: 'selfie_missing' } }),
  run({ fraud: { status: 'skipped', confidence: 0, reason: 'no_signal_applicable' } }),
  run({ face_match: passedFace }, ['face_match', ...CHECK_NAMES]),
  run({}, ['face_match']),
  ...CHECK_NAMES.map((n) => run({ [n]: { status: 'error', confidence: 0 } })),
  ...[
    'document_expired',
    'mrz_check_digits_invalid',
    'country_mismatch',
    'document_unreadable',
    'mrz_visual_zone_mismatch',
    'mrz_not_read',
    'visual_zone_not_read',
    'document_type_mismatch',
  ].map((s) => run({ ocr: { status: 'failed', confidence: 0.9, signals: [s] } })),
  run({ face_match: passedFace }, ['face_match'], { date_of_birth: '2015-01-01' }),
  run({ face_match: passedFace }, ['face_match'], { date_of_birth: '2030-01-01' }),
  ...['printed_copy', 'screen_replay', 'portrait_substitution', 'square_corners', 'editing_software'].map(
    (c) => run({ fraud: flagged(c, 0.9) }),
  ),
  run({
    duplicate: {
      status: 'failed',
      confidence: 1,
      matches: [{ verification_id: 'ver_a' }],
      assessments: {
        document_number: { assessed: true, flagged: true, matches: 1 },
        face: { assessed: true, flagged: true, matches: 1, other_identity: 1 },
      },
    },
  }),
];

test('the policy names only catalogued factors, at the catalogue weight, and every one of them', () => {
  const seen = new Set<string>();
  for (const c of cases)
    for (const f of c.risk_factors) {
      const spec = RISK_FACTORS[f.code as RiskFactorCode];
      assert.ok(spec, `${f.code} is not in the catalogue`);
      assert.equal(f.weight, spec.weight, `${f.code}: weight`);
      assert.ok(f.contribution <= f.weight, `${f.code}: contribution above its weight`);
      assert.ok(f.message.length > 10, `${f.code}: no sentence`);
      seen.add(f.code);
    }
  const never = Object.keys(RISK_FACTORS).filter((c) => !seen.has(c));
  assert.deepEqual(never, [], 'catalogued factors no case produced');
});

test('a factor that rejects on its own rejects', () => {
  for (const c of cases) {
    const rejecting = c.risk_factors.filter(
      (f) => RISK_FACTORS[f.code as RiskFactorCode].effect === 'rejects',
    );
    if (rejecting.length) assert.equal(c.decision, 'rejected', rejecting.map((f) => f.code).join(', '));
  }
});
