import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideFaceMatch, decideLiveness } from './face-match-policy.ts';
import { HuwiyaError } from './errors.ts';
import {
  ageOn,
  decide,
  DEFAULT_POLICY_SETTINGS,
  impossibleDates,
  levelOf,
  parsePolicyOverrides,
  POLICY_VERSION,
  withOverrides,
} from './risk-policy.ts';
import type { CheckName, CheckResult } from './verification.ts';

const TODAY = new Date('2026-12-05T12:00:00Z');
type Checks = Partial<Record<CheckName, CheckResult>>;
/** The policy on these results, every check present requested unless said otherwise. */
const assessRisk = (checks: Checks, requested = Object.keys(checks) as CheckName[], extracted = {}) =>
  decide({ requested, checks, extracted, today: TODAY });
import { assertTransition, InvalidTransitionError } from './verification.ts';

const passedFace = { status: 'passed' as const, confidence: 1, match: true };
const passedLive = { status: 'passed' as const, confidence: 1, is_live: true, spoof_probability: 0.01 };

test('clear match and live selfie: verified, low risk, every factor explained', () => {
  const r = assessRisk({ face_match: passedFace, liveness: passedLive });
  assert.equal(r.decision, 'verified');
  assert.ok(r.risk_factors.every((f) => f.message.length > 10));
  assert.equal(r.risk_level, 'low');
  assert.equal(
    r.risk_score,
    r.risk_factors.reduce((s, f) => s + f.contribution, 0),
  );
  assert.ok(r.risk_factors.every((f) => f.contribution <= f.weight));
});

test('face mismatch: rejected with a critical signal', () => {
  const r = assessRisk({
    face_match: { status: 'failed', confidence: 0.9, match: false, similarity_score: 0.3 },
    liveness: passedLive,
  });
  assert.equal(r.decision, 'rejected');
  assert.match(r.risk_factors.find((f) => f.code === 'face_mismatch')!.message, /similarity 0\.30/);
  assert.ok(r.risk_score >= 500);
  assert.ok(['high', 'critical'].includes(r.risk_level));
  assert.ok(r.fraud_signals.some((s) => s.code === 'face_mismatch' && s.severity === 'critical'));
});

test('a clear spoof rejects; a borderline one goes to review', () => {
  assert.equal(
    assessRisk({
      face_match: passedFace,
      liveness: { status: 'failed', confidence: 0.95, spoof_probability: 0.97 },
    }).decision,
    'rejected',
  );
  assert.equal(
    assessRisk({
      face_match: passedFace,
      liveness: { status: 'failed', confidence: 0.55, spoof_probability: 0.85 },
    }).decision,
    'review',
  );
});

test('a match barely above the threshold goes to review', () => {
  const d = decideFaceMatch(0.405, 0.4);
  assert.equal(d.match, true);
  const r = assessRisk({ face_match: { status: 'passed', confidence: d.confidence, match: true } });
  assert.equal(r.decision, 'review');
});

test('nothing ran: review, never verified', () => {
  assert.equal(
    assessRisk({ ocr: { status: 'skipped', confidence: 0, reason: 'not_available' } }).decision,
    'review',
  );
});

test('a check error is a factor and a signal', () => {
  const r = assessRisk({ face_match: passedFace, liveness: { status: 'error', confidence: 0 } });
  assert.ok(r.risk_factors.some((f) => f.code === 'liveness_error'));
  assert.notEqual(r.decision, 'verified');
});

test('level bands', () => {
  assert.deepEqual([0, 249, 250, 499, 500, 749, 750, 1000].map(levelOf), [
    'low',
    'low',
    'medium',
    'medium',
    'high',
    'high',
    'critical',
    'critical',
  ]);
});

test('face match maps the calibrated cosine threshold onto the published 0.70', () => {
  assert.equal(decideFaceMatch(0.4, 0.4).similarity, 0.7);
  assert.ok(decideFaceMatch(0.39, 0.4).similarity < 0.7);
  assert.equal(decideFaceMatch(1, 0.4).similarity, 1);
  assert.equal(decideFaceMatch(-0.3, 0.4).similarity, 0);
  assert.ok(decideFaceMatch(0.9, 0.4).confidence > decideFaceMatch(0.45, 0.4).confidence);
});

test('liveness decision', () => {
  const live = decideLiveness(0.9, 0.5);
  assert.equal(live.isLive, true);
  assert.equal(live.spoofProbability, 0.1);
  assert.equal(decideLiveness(0.2, 0.5).isLive, false);
  // With a low calibrated threshold, spoof_probability still reads < 0.5 exactly when live.
  for (const p of [0, 0.1, 0.17, 0.18, 0.3, 0.6, 1]) {
    const d = decideLiveness(p, 0.18);
    assert.equal(d.isLive, d.spoofProbability <= 0.5, `p=${p}`);
    assert.ok(d.confidence >= 0.5 && d.confidence <= 1);
  }
});

test('state changes only through allowed transitions', () => {
  assertTransition('pending', 'verified');
  assertTransition('review', 'rejected');
  assert.throws(() => assertTransition('verified', 'pending'), InvalidTransitionError);
  assert.throws(() => assertTransition('cancelled', 'verified'), InvalidTransitionError);
});

test('document signals from the MRZ: expired rejects, mismatches and bad check digits go to review', () => {
  const face = { status: 'passed' as const, confidence: 1, match: true };
  const expired = assessRisk({
    face_match: face,
    ocr: { status: 'passed', confidence: 0.9, signals: ['document_expired'] },
  });
  assert.equal(expired.decision, 'rejected');
  assert.ok(expired.fraud_signals.some((s) => s.code === 'document_expired'));
  const mismatch = assessRisk({
    face_match: face,
    ocr: { status: 'passed', confidence: 0.9, signals: ['country_mismatch'] },
  });
  assert.equal(mismatch.decision, 'review');
  const invalid = assessRisk({
    face_match: face,
    ocr: { status: 'failed', confidence: 0.6, signals: ['mrz_check_digits_invalid'] },
  });
  assert.equal(invalid.decision, 'review');
  for (const signal of ['document_unreadable', 'mrz_visual_zone_mismatch']) {
    const r = assessRisk({ face_match: face, ocr: { status: 'failed', confidence: 0.3, signals: [signal] } });
    assert.equal(r.decision, 'review', signal);
    assert.ok(r.risk_factors.some((f) => f.code === signal));
  }
  const clean = assessRisk({ face_match: face, ocr: { status: 'passed', confidence: 0.95, signals: [] } });
  assert.equal(clean.decision, 'verified');
});

test('a mismatch close to the threshold reviews when everything else agrees; a clear one rejects alone', () => {
  const weak = assessRisk({
    face_match: { status: 'failed', confidence: 0.6, match: false },
    liveness: { ...passedLive, spoof_probability: 0.49 },
    ocr: { status: 'passed', confidence: 0.95, signals: [] },
  });
  assert.equal(weak.decision, 'review');
  const clear = assessRisk({
    face_match: { status: 'failed', confidence: 0.95, match: false },
    liveness: passedLive,
    ocr: { status: 'passed', confidence: 0.95, signals: [] },
  });
  assert.equal(clear.decision, 'rejected');
});

test('nothing requested is passed by absence: a missing selfie or an unread document reviews', () => {
  const noSelfie = assessRisk(
    {
      face_match: { status: 'skipped', confidence: 0, reason: 'selfie_missing' },
      liveness: { status: 'skipped', confidence: 0, reason: 'selfie_missing' },
      ocr: { status: 'passed', confidence: 0.95, signals: [] },
    },
    ['ocr', 'face_match', 'liveness'],
  );
  assert.equal(noSelfie.decision, 'review');
  const f = noSelfie.risk_factors.find((x) => x.code === 'selfie_missing');
  assert.ok(f && /face_match and liveness/.test(f.message));
  const unread = assessRisk(
    { face_match: passedFace, ocr: { status: 'skipped', confidence: 0, reason: 'no_document_text_found' } },
    ['ocr', 'face_match'],
  );
  assert.equal(unread.decision, 'review');
  assert.ok(unread.risk_factors.some((x) => x.code === 'document_unreadable'));
  // A requested check the build cannot run is not a pass either; one not requested does not count.
  const missing = assessRisk({ face_match: passedFace }, ['face_match', 'duplicate']);
  assert.equal(missing.decision, 'review');
  assert.equal(assessRisk({ face_match: passedFace }, ['face_match']).decision, 'verified');
  // However much could not be checked, absence alone reviews and never rejects.
  const nothing = assessRisk(
    {
      face_match: { status: 'skipped', confidence: 0, reason: 'selfie_missing' },
      ocr: { status: 'skipped', confidence: 0, reason: 'no_document_text_found' },
      fraud: { status: 'skipped', confidence: 0, reason: 'no_signal_applicable' },
    },
    ['ocr', 'face_match', 'fraud', 'duplicate'],
  );
  assert.equal(nothing.risk_level, 'high');
  assert.equal(nothing.risk_score, 749);
  assert.equal(nothing.decision, 'review');
});

test('minimum age: a holder under it is rejected, the setting moves the line', () => {
  const checks: Checks = { face_match: passedFace, ocr: { status: 'passed', confidence: 0.95, signals: [] } };
  const minor = assessRisk(checks, undefined, { date_of_birth: '2009-12-06' });
  assert.equal(minor.decision, 'rejected');
  assert.match(minor.risk_factors.find((f) => f.code === 'under_minimum_age')!.message, /is 16, under/);
  assert.equal(assessRisk(checks, undefined, { date_of_birth: '2008-12-05' }).decision, 'verified');
  const at16 = decide({
    requested: ['face_match', 'ocr'],
    checks,
    extracted: { date_of_birth: '2009-12-05' },
    today: TODAY,
    settings: { ...DEFAULT_POLICY_SETTINGS, minAgeYears: 16 },
  });
  assert.equal(at16.decision, 'verified');
  assert.equal(ageOn('2008-12-06', TODAY), 17);
  assert.equal(ageOn('2008-12-05', TODAY), 18);
});

test('impossible dates are named and review', () => {
  assert.deepEqual(
    impossibleDates(
      { date_of_birth: '1990-01-01', issue_date: '1989-01-01', expiry_date: '1988-01-01' },
      TODAY,
    ).map((i) => i.field),
    ['issue_date', 'expiry_date', 'expiry_date'],
  );
  assert.deepEqual(impossibleDates({ date_of_birth: '2030-01-01' }, TODAY)[0]?.field, 'date_of_birth');
  assert.deepEqual(impossibleDates({ date_of_birth: '1990-01-01', issue_date: '2020-01-01' }, TODAY), []);
  const r = assessRisk(
    { face_match: passedFace, ocr: { status: 'passed', confidence: 0.95, signals: [] } },
    undefined,
    { date_of_birth: '1990-01-01', issue_date: '2030-01-01' },
  );
  assert.equal(r.decision, 'review');
});

test('document fraud signals: a clear one rejects, a weaker one reviews', () => {
  const base: Checks = { face_match: passedFace, ocr: { status: 'passed', confidence: 0.95, signals: [] } };
  const clear = assessRisk({
    ...base,
    fraud: {
      status: 'failed',
      confidence: 0.9,
      assessments: { printed_copy: { score: 0.95, flagged: true } },
    },
  });
  assert.equal(clear.decision, 'rejected');
  const weak = assessRisk({
    ...base,
    fraud: {
      status: 'failed',
      confidence: 0.6,
      assessments: { screen_replay: { score: 0.55, flagged: true } },
    },
  });
  assert.equal(weak.decision, 'review');
  const none = assessRisk({
    ...base,
    fraud: {
      status: 'passed',
      confidence: 0.9,
      assessments: { screen_replay: { score: 0.2, flagged: false } },
    },
  });
  assert.equal(none.decision, 'verified');
});

test('a document number seen before reviews, naming how often', () => {
  const r = assessRisk({
    face_match: passedFace,
    ocr: { status: 'passed', confidence: 0.95, signals: [] },
    duplicate: {
      status: 'failed',
      confidence: 1,
      matches: [{ verification_id: 'ver_a' }, { verification_id: 'ver_b' }],
    },
  });
  assert.equal(r.decision, 'review');
  assert.match(r.risk_factors.find((f) => f.code === 'duplicate_document_number')!.message, /2 times/);
});

test('the same face under another identity reviews; beside a number seen before it still only reviews', () => {
  const face = (flagged: boolean, numberSeen: boolean): CheckResult => ({
    status: flagged || numberSeen ? 'failed' : 'passed',
    confidence: 1,
    matches: numberSeen ? [{ verification_id: 'ver_a' }] : [],
    assessments: {
      document_number: { assessed: true, flagged: numberSeen, matches: numberSeen ? 1 : 0 },
      face: { assessed: true, flagged, matches: 2, other_identity: flagged ? 2 : 0 },
    },
  });
  const base = { face_match: passedFace, ocr: { status: 'passed' as const, confidence: 0.95, signals: [] } };
  const r = assessRisk({ ...base, duplicate: face(true, false) });
  assert.equal(r.decision, 'review');
  assert.match(
    r.risk_factors.find((f) => f.code === 'duplicate_face_other_identity')!.message,
    /same person as 2 earlier verifications/,
  );
  assert.equal(
    r.risk_factors.find((f) => f.code === 'duplicate_document_number'),
    undefined,
  );
  assert.ok(r.fraud_signals.some((x) => x.code === 'duplicate_face_other_identity' && x.severity === 'high'));
  const both = assessRisk({ ...base, duplicate: face(true, true) });
  assert.equal(both.decision, 'review', JSON.stringify(both.risk_factors));
  assert.ok(both.risk_factors.some((f) => f.code === 'duplicate_document_number'));
  // Same face under the same identity (a returning customer), number never seen: nothing to say.
  const returning = assessRisk({ ...base, duplicate: face(false, false) });
  assert.equal(returning.decision, 'verified');
});

test('a weak fraud signal with passing checks reviews, not rejects', () => {
  const r = assessRisk({
    face_match: { status: 'passed', confidence: 0.86, match: true },
    liveness: passedLive,
    ocr: { status: 'passed', confidence: 0.95, signals: [] },
    fraud: {
      status: 'failed',
      confidence: 0.77,
      assessments: { portrait_substitution: { score: 0.77, flagged: true } },
    },
  });
  assert.equal(r.decision, 'review');
});

test('two weak fraud signals from one washed-out photo review together; a strong one still rejects', () => {
  const base: Checks = {
    face_match: { status: 'passed', confidence: 0.9, match: true },
    liveness: passedLive,
    ocr: { status: 'passed', confidence: 0.95, signals: [] },
  };
  const weakPair = assessRisk({
    ...base,
    fraud: {
      status: 'failed',
      confidence: 0.6,
      assessments: {
        printed_copy: { score: 0.6, flagged: true },
        portrait_substitution: { score: 0.59, flagged: true },
      },
    },
  });
  assert.equal(weakPair.decision, 'review', JSON.stringify(weakPair.risk_factors));
  const [first, second] = ['printed_copy', 'portrait_substitution'].map(
    (c) => weakPair.risk_factors.find((f) => f.code === c)!.contribution,
  );
  assert.ok(second! < first! / 2, `${first} ${second}`);
  const strongAndWeak = assessRisk({
    ...base,
    fraud: {
      status: 'failed',
      confidence: 0.9,
      assessments: {
        printed_copy: { score: 0.9, flagged: true },
        portrait_substitution: { score: 0.6, flagged: true },
      },
    },
  });
  assert.equal(strongAndWeak.decision, 'rejected');
});

test('policy replacements: a factor’s weight scales its contributions, its effect moves the decision', () => {
  const weakMismatch: Checks = {
    face_match: { status: 'failed', confidence: 0.6, similarity_score: 0.66 },
    liveness: passedLive,
  };
  const base = decide({ requested: ['face_match', 'liveness'], checks: weakMismatch, today: TODAY });
  assert.equal(base.decision, 'review');
  const strict = withOverrides(
    DEFAULT_POLICY_SETTINGS,
    parsePolicyOverrides({
      factors: { face_mismatch: { effect: 'rejects' }, liveness_margin: { weight: 0 } },
    }),
    't7',
  );
  const r = decide({
    requested: ['face_match', 'liveness'],
    checks: weakMismatch,
    today: TODAY,
    settings: strict,
  });
  assert.equal(r.decision, 'rejected');
  assert.equal(r.policy_version, `${POLICY_VERSION}+t7`);
  assert.equal(r.risk_factors.find((f) => f.code === 'liveness_margin')!.contribution, 0);
  // A weight scales the contribution in proportion: face_mismatch at 400 instead of 800 gives half.
  const half = withOverrides(DEFAULT_POLICY_SETTINGS, { factors: { face_mismatch: { weight: 400 } } }, 't8');
  const h = decide({
    requested: ['face_match', 'liveness'],
    checks: weakMismatch,
    today: TODAY,
    settings: half,
  });
  const full = base.risk_factors.find((f) => f.code === 'face_mismatch')!;
  const halved = h.risk_factors.find((f) => f.code === 'face_mismatch')!;
  assert.equal(halved.weight, 400);
  assert.ok(Math.abs(halved.contribution - full.contribution / 2) <= 1);
  assert.equal(h.decision, 'review');
  // The verify line: a margin of ~150 verifies only under a tenant that moved it above 150.
  const margin: Checks = { face_match: { ...passedFace, confidence: 0.75 }, liveness: passedLive };
  const lenient = withOverrides(DEFAULT_POLICY_SETTINGS, { verify_below: 400 }, 't9');
  const tight = withOverrides(DEFAULT_POLICY_SETTINGS, { verify_below: 100 }, 't10');
  const at = (settings: typeof lenient) =>
    decide({ requested: ['face_match', 'liveness'], checks: margin, today: TODAY, settings }).decision;
  assert.equal(at(DEFAULT_POLICY_SETTINGS), 'verified');
  assert.equal(at(tight), 'review');
  assert.equal(at(lenient), 'verified');
  // Bad replacements are coded errors naming the field.
  for (const [bad, param] of [
    [{ factors: { nope: { weight: 1 } } }, 'policy.factors.nope'],
    [{ factors: { face_mismatch: { effect: 'ignores' } } }, 'policy.factors.face_mismatch.effect'],
    [{ factors: { face_mismatch: { weight: 5000 } } }, 'policy.factors.face_mismatch.weight'],
    [{ verify_below: 800 }, 'policy.verify_below'],
    [{ min_age: 18 }, 'policy.min_age'],
  ] as const)
    assert.throws(
      () => parsePolicyOverrides(bad),
      (e: unknown) => e instanceof HuwiyaError && e.param === param,
      JSON.stringify(bad),
    );
});

test('the head-turn challenge: a person who could not do it reviews and never adds up to a rejection; other turns are evidence', () => {
  const challengeFailed = (reason: string): CheckResult => ({
    status: 'failed',
    confidence: 0.9,
    reason: 'challenge_failed',
    is_live: false,
    evidence: { challenge: { status: 'failed', reason } },
  });
  // A weak face mismatch (reviews) beside a challenge the person could not do: review, not rejection.
  const weakMismatch: CheckResult = {
    status: 'failed',
    confidence: 0.6,
    match: false,
    similarity_score: 0.3,
  };
  for (const reason of ['not_turned', 'not_answered', 'face_not_found', 'too_few_frames']) {
    const r = assessRisk({ face_match: weakMismatch, liveness: challengeFailed(reason) });
    assert.equal(r.decision, 'review', `${reason}: ${JSON.stringify(r.risk_factors)}`);
    const f = r.risk_factors.find((x) => x.code === 'liveness_challenge_failed')!;
    assert.match(f.message, /not passed \(/);
  }
  const uncertain = assessRisk({
    face_match: passedFace,
    liveness: {
      status: 'failed',
      confidence: 0.6,
      reason: 'uncertain',
      is_live: false,
      evidence: { live_probability: 0.3, review_below: 0.5 },
    },
  });
  assert.equal(uncertain.decision, 'review');
  assert.match(
    uncertain.risk_factors.find((x) => x.code === 'liveness_uncertain')!.message,
    /0\.30, below 0\.50/,
  );
  const looped = assessRisk({ face_match: passedFace, liveness: challengeFailed('wrong_turns') });
  assert.equal(looped.decision, 'review');
  assert.match(
    looped.risk_factors.find((x) => x.code === 'liveness_challenge_failed')!.message,
    /not the ones asked/,
  );
});
