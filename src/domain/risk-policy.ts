import type { CheckName, CheckResult, VerificationStatus } from './verification.ts';

/**
 * Risk policy: check results → risk factors → score (0..1000) → level → decision. Versioned: every
 * verification stamps `policy_version`, so a stored score can always be explained by the rule that made it.
 */
export const POLICY_VERSION = 'risk-2026-11-22.4';

export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';
export type Severity = RiskLevel;

export interface RiskFactor {
  code: string;
  /** Most this factor can contribute. */
  weight: number;
  /** What it contributed to this score. */
  contribution: number;
}

export interface FraudSignal {
  code: string;
  severity: Severity;
  message: string;
}

export interface RiskAssessment {
  risk_score: number;
  risk_level: RiskLevel;
  risk_factors: RiskFactor[];
  fraud_signals: FraudSignal[];
  decision: Extract<VerificationStatus, 'verified' | 'rejected' | 'review'>;
  policy_version: string;
}

/** Level bands; a hard failure (mismatch, spoof) lands in high or critical on its own weight. */
export function levelOf(score: number): RiskLevel {
  if (score < 250) return 'low';
  if (score < 500) return 'medium';
  if (score < 750) return 'high';
  return 'critical';
}

type Checks = Partial<Record<CheckName, CheckResult>>;

/** What each signal of the `ocr` check weighs: a full contribution when present. */
const DOCUMENT_RULES: readonly {
  signal: string;
  factor: string;
  code: string;
  weight: number;
  severity: Severity;
  message: string;
  rejects?: boolean;
}[] = [
  {
    signal: 'document_expired',
    factor: 'document_expired',
    code: 'document_expired',
    weight: 600,
    severity: 'high',
    message: 'The document has expired.',
    rejects: true,
  },
  {
    signal: 'mrz_check_digits_invalid',
    factor: 'mrz_invalid',
    code: 'mrz_check_digits_invalid',
    weight: 300,
    severity: 'medium',
    message: 'The machine-readable zone does not pass its check digits (misread or altered).',
  },
  {
    signal: 'country_mismatch',
    factor: 'document_country_mismatch',
    code: 'document_country_mismatch',
    weight: 300,
    severity: 'medium',
    message: 'The document was issued by another country than the one declared.',
  },
  {
    // Neither an MRZ nor the identity fields of the visual zone could be read: nothing on the document
    // can be checked, so a person looks at it.
    signal: 'document_unreadable',
    factor: 'document_unreadable',
    code: 'document_unreadable',
    weight: 300,
    severity: 'medium',
    message: 'The document could not be read (no machine-readable zone, identity fields missing).',
  },
  {
    // A field printed twice (MRZ and visual zone) that reads differently: a misread or an alteration.
    signal: 'mrz_visual_zone_mismatch',
    factor: 'mrz_visual_zone_mismatch',
    code: 'mrz_visual_zone_mismatch',
    weight: 250,
    severity: 'medium',
    message: 'The machine-readable zone and the printed fields disagree.',
  },
  {
    signal: 'document_type_mismatch',
    factor: 'document_type_mismatch',
    code: 'document_type_mismatch',
    weight: 150,
    severity: 'low',
    message: 'The document is of another type than the one declared.',
  },
];

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

export function assessRisk(checks: Checks): RiskAssessment {
  const factors: RiskFactor[] = [];
  const signals: FraudSignal[] = [];
  let hardFail = false;

  const face = checks.face_match;
  if (face && face.status === 'failed') {
    if (face.reason === 'no_face_in_selfie' || face.reason === 'no_face_in_document') {
      factors.push({ code: face.reason, weight: 450, contribution: 450 });
      signals.push({
        code: face.reason,
        severity: 'high',
        message:
          face.reason === 'no_face_in_selfie'
            ? 'No face was found in the selfie.'
            : 'No portrait was found on the document.',
      });
    } else {
      // A mismatch weighs in proportion to how sure the model is.
      const contribution = Math.round(500 + 300 * num(face.confidence, 1));
      factors.push({ code: 'face_mismatch', weight: 800, contribution });
      signals.push({
        code: 'face_mismatch',
        severity: 'critical',
        message: 'The selfie does not match the document portrait.',
      });
      hardFail = true;
    }
  } else if (face && face.status === 'passed') {
    // A match just above the threshold is weak evidence: within ~0.025 cosine of it the contribution
    // reaches the medium band and the case goes to review (confidence 0.5 at the threshold → 300).
    const contribution = Math.round(300 * (1 - num(face.confidence, 1)) * 2);
    factors.push({ code: 'face_match_margin', weight: 300, contribution });
  }

  const live = checks.liveness;
  if (live && live.status === 'failed') {
    if (live.reason === 'no_face_in_selfie') {
      factors.push({ code: 'liveness_no_face', weight: 300, contribution: 300 });
    } else {
      const spoof = num(live.spoof_probability, 1);
      const contribution = Math.round(450 + 300 * spoof);
      factors.push({ code: 'liveness_spoof', weight: 750, contribution });
      signals.push({
        code: 'liveness_spoof',
        severity: spoof >= 0.8 ? 'critical' : 'high',
        message: 'The selfie looks like a presentation attack (printed photo or screen).',
      });
      // A clear spoof rejects; one near the threshold goes to review through its contribution.
      if (num(live.confidence, 1) >= 0.75) hardFail = true;
    }
  } else if (live && live.status === 'passed') {
    const contribution = Math.round(100 * num(live.spoof_probability, 0));
    factors.push({ code: 'liveness_margin', weight: 100, contribution });
  }

  const ocr = checks.ocr;
  if (ocr && (ocr.status === 'passed' || ocr.status === 'failed')) {
    const found = new Set(Array.isArray(ocr.signals) ? (ocr.signals as string[]) : []);
    for (const rule of DOCUMENT_RULES) {
      if (!found.has(rule.signal)) continue;
      factors.push({ code: rule.factor, weight: rule.weight, contribution: rule.weight });
      signals.push({ code: rule.code, severity: rule.severity, message: rule.message });
      if (rule.rejects) hardFail = true;
    }
  }

  let errored = false;
  for (const [name, result] of Object.entries(checks) as [CheckName, CheckResult][]) {
    if (result.status === 'error') {
      errored = true;
      factors.push({ code: `${name}_error`, weight: 200, contribution: 200 });
      signals.push({
        code: `${name}_error`,
        severity: 'medium',
        message: `The ${name} check could not be completed.`,
      });
    }
  }

  const score = Math.min(
    1000,
    factors.reduce((s, f) => s + f.contribution, 0),
  );
  const level = levelOf(score);
  const ran = Object.values(checks).filter((c) => c && (c.status === 'passed' || c.status === 'failed'));
  let decision: RiskAssessment['decision'];
  if (hardFail || level === 'critical') decision = 'rejected';
  // A check that could not complete leaves the case undecided: a person looks at it.
  else if (ran.length === 0 || errored || level !== 'low') decision = 'review';
  else decision = 'verified';
  return {
    risk_score: score,
    risk_level: level,
    risk_factors: factors,
    fraud_signals: signals,
    decision,
    policy_version: POLICY_VERSION,
  };
}
