import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideFaceMatch, decideLiveness } from './face-match-policy.ts';
import { assessRisk, levelOf } from './risk-policy.ts';
import { assertTransition, InvalidTransitionError } from './verification.ts';

const passedFace = { status: 'passed' as const, confidence: 1, match: true };
const passedLive = { status: 'passed' as const, confidence: 1, is_live: true, spoof_probability: 0.01 };

test('clear match and live selfie: verified, low risk, every factor explained', () => {
  const r = assessRisk({
    face_match: passedFace,
    liveness: passedLive,
    ocr: { status: 'skipped', confidence: 0, reason: 'not_available' },
  });
  assert.equal(r.decision, 'verified');
  assert.equal(r.risk_level, 'low');
  assert.equal(
    r.risk_score,
    r.risk_factors.reduce((s, f) => s + f.contribution, 0),
  );
  assert.ok(r.risk_factors.every((f) => f.contribution <= f.weight));
});

test('face mismatch: rejected with a critical signal', () => {
  const r = assessRisk({
    face_match: { status: 'failed', confidence: 0.9, match: false },
    liveness: passedLive,
  });
  assert.equal(r.decision, 'rejected');
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
