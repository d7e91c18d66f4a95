import { HuwiyaError } from './errors.ts';
import { RISK_FACTORS, type RiskEffect, type RiskFactorCode } from './risk-factors.ts';
import type { CheckName, CheckResult, VerificationStatus } from './verification.ts';

/**
 * Risk policy: check results and the document's own data → risk factors → score (0..1000) → level →
 * decision. One `decide()` for the API, the worker and the CLI. Versioned: every verification stamps
 * `policy_version`, so a stored score can always be explained by the rule that made it.
 *
 * Principles (issue 13):
 * - nothing requested is passed by absence: a requested check that could not run is a factor that sends
 *   the case to a person, never a silent pass;
 * - one weak signal does not reject when everything else agrees (it reviews), and one strong signal is
 *   never silenced by the others (it rejects on its own);
 * - every factor says in one sentence what was seen.
 */
export const POLICY_VERSION = 'risk-2026-12-06.4';

export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';
export type Severity = RiskLevel;

export interface RiskFactor {
  code: string;
  /** Most this factor can contribute. */
  weight: number;
  /** What it contributed to this score. */
  contribution: number;
  /** What was seen, in one sentence a reviewer can read. */
  message: string;
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

/**
 * The policy a decision is made under: the catalogue's, with what a deployment (HUWIYA_MIN_AGE,
 * HUWIYA_POLICY_FILE) and then a tenant (`PUT /v1/developers/account/settings`) replaced.
 */
export interface PolicySettings {
  /** Youngest holder accepted, in whole years on the day of the verification. */
  minAgeYears: number;
  /** A score below this is verified (when no factor reviews or rejects on its own). */
  verifyBelow: number;
  /** A score at or above this is rejected (reached by evidence; what could not be checked stays below). */
  rejectAt: number;
  /** Per risk factor, a weight (its most, every contribution scaled with it) and an effect replacing the catalogue's. */
  factors: Partial<Record<RiskFactorCode, { weight?: number; effect?: RiskEffect }>>;
  /** Stamped on each decision: POLICY_VERSION, with `+…` naming the replacements when there are any. */
  version: string;
}

export const DEFAULT_POLICY_SETTINGS: PolicySettings = {
  minAgeYears: 18,
  verifyBelow: 250,
  rejectAt: 750,
  factors: {},
  version: POLICY_VERSION,
};

/** What a deployment or a tenant may replace, as written in JSON (all optional). */
export interface PolicyOverrides {
  min_age_years?: number;
  verify_below?: number;
  reject_at?: number;
  factors?: Partial<Record<RiskFactorCode, { weight?: number; effect?: RiskEffect }>>;
}

const EFFECTS: readonly RiskEffect[] = ['rejects', 'rejects_when_strong', 'reviews', 'adds'];

/** Validate policy replacements from JSON; every problem is a coded error naming its field. */
export function parsePolicyOverrides(v: unknown, param = 'policy'): PolicyOverrides {
  const bad = (p: string, message: string) => new HuwiyaError('invalid_parameter', message, { param: p });
  const isObject = (x: unknown): x is Record<string, unknown> =>
    typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObject(v)) throw bad(param, `${param} must be an object.`);
  const out: PolicyOverrides = {};
  const int = (key: string, min: number, max: number): number | undefined => {
    const x = v[key];
    if (x === undefined) return undefined;
    if (!Number.isInteger(x) || (x as number) < min || (x as number) > max)
      throw bad(`${param}.${key}`, `${param}.${key} must be an integer from ${min} to ${max}.`);
    return x as number;
  };
  for (const key of Object.keys(v))
    if (!['min_age_years', 'verify_below', 'reject_at', 'factors'].includes(key))
      throw new HuwiyaError('unknown_parameter', `${param}.${key} is not a policy setting.`, {
        param: `${param}.${key}`,
      });
  const minAge = int('min_age_years', 0, 120);
  const verifyBelow = int('verify_below', 1, 1000);
  const rejectAt = int('reject_at', 1, 1000);
  if (minAge !== undefined) out.min_age_years = minAge;
  if (verifyBelow !== undefined) out.verify_below = verifyBelow;
  if (rejectAt !== undefined) out.reject_at = rejectAt;
  if ((verifyBelow ?? 250) > (rejectAt ?? 750))
    throw bad(`${param}.verify_below`, `${param}.verify_below must not be above reject_at.`);
  if (v.factors !== undefined) {
    if (!isObject(v.factors)) throw bad(`${param}.factors`, `${param}.factors must be an object.`);
    out.factors = {};
    for (const [code, spec] of Object.entries(v.factors)) {
      const p = `${param}.factors.${code}`;
      if (!(code in RISK_FACTORS))
        throw new HuwiyaError('unknown_parameter', `${code} is not a risk factor (docs/risk-factors.md).`, {
          param: p,
        });
      if (!isObject(spec)) throw bad(p, `${p} must be an object with weight and/or effect.`);
      const entry: { weight?: number; effect?: RiskEffect } = {};
      for (const key of Object.keys(spec))
        if (key !== 'weight' && key !== 'effect')
          throw new HuwiyaError('unknown_parameter', `${p}.${key} is not accepted.`, {
            param: `${p}.${key}`,
          });
      if (spec.weight !== undefined) {
        if (!Number.isInteger(spec.weight) || (spec.weight as number) < 0 || (spec.weight as number) > 1000)
          throw bad(`${p}.weight`, `${p}.weight must be an integer from 0 to 1000.`);
        entry.weight = spec.weight as number;
      }
      if (spec.effect !== undefined) {
        if (!EFFECTS.includes(spec.effect as RiskEffect))
          throw bad(`${p}.effect`, `${p}.effect must be one of ${EFFECTS.join(', ')}.`);
        entry.effect = spec.effect as RiskEffect;
      }
      out.factors[code as RiskFactorCode] = entry;
    }
  }
  return out;
}

/** `base` with `overrides` applied; `tag` (e.g. `t3`, a tenant's settings revision) names them in the version. */
export function withOverrides(base: PolicySettings, overrides: PolicyOverrides, tag: string): PolicySettings {
  const factors = { ...base.factors };
  for (const [code, spec] of Object.entries(overrides.factors ?? {}) as [
    RiskFactorCode,
    { weight?: number; effect?: RiskEffect },
  ][])
    factors[code] = { ...factors[code], ...spec };
  return {
    minAgeYears: overrides.min_age_years ?? base.minAgeYears,
    verifyBelow: overrides.verify_below ?? base.verifyBelow,
    rejectAt: overrides.reject_at ?? base.rejectAt,
    factors,
    version: `${base.version}+${tag}`,
  };
}

/** Level bands; a hard failure (mismatch, spoof) lands in high or critical on its own weight. */
export function levelOf(score: number): RiskLevel {
  if (score < 250) return 'low';
  if (score < 500) return 'medium';
  if (score < 750) return 'high';
  return 'critical';
}

type Checks = Partial<Record<CheckName, CheckResult>>;

/** What each signal of the `ocr` check names (its sentence, weight and effect: the catalogue's). */
const DOCUMENT_RULES: readonly {
  signal: string;
  code: RiskFactorCode;
  severity: Severity;
}[] = [
  {
    signal: 'document_expired',
    code: 'document_expired',
    severity: 'high',
  },
  {
    signal: 'mrz_check_digits_invalid',
    code: 'mrz_check_digits_invalid',
    severity: 'medium',
  },
  {
    signal: 'country_mismatch',
    code: 'document_country_mismatch',
    severity: 'medium',
  },
  {
    // Neither an MRZ nor the identity fields of the visual zone could be read: nothing on the document
    // can be checked, so a person looks at it.
    signal: 'document_unreadable',
    code: 'document_unreadable',
    severity: 'medium',
  },
  {
    // A field printed twice (MRZ and visual zone) that reads differently: a misread or an alteration.
    signal: 'mrz_visual_zone_mismatch',
    code: 'mrz_visual_zone_mismatch',
    severity: 'medium',
  },
  {
    // The template prints an MRZ and none was read: the printed fields were checked against nothing.
    signal: 'mrz_not_read',
    code: 'mrz_not_read',
    severity: 'medium',
  },
  {
    // The MRZ was read but a printed identity field was not: that field was checked against nothing.
    signal: 'visual_zone_not_read',
    code: 'visual_zone_not_read',
    severity: 'medium',
  },
  {
    signal: 'document_type_mismatch',
    code: 'document_type_mismatch',
    severity: 'low',
  },
];

/**
 * A document factor's sentence: the fields it is about, and both readings where they disagree, when the
 * `ocr` check's evidence names them; else the catalogue's meaning.
 */
function documentMessage(code: RiskFactorCode, evidence: unknown): string {
  const e = (evidence ?? {}) as {
    disagreements?: {
      field: string;
      mrz: string;
      visual_zone: string;
      minor?: boolean;
      mrz_cells?: number;
      cells_verdict?: string;
    }[];
    visual_zone_unchecked?: string[];
  };
  const words = (f: string) => f.replace(/_/g, ' ');
  if (code === 'mrz_visual_zone_mismatch' && e.disagreements?.some((d) => !d.minor))
    return `The printed data disagree with the MRZ: ${e.disagreements
      .filter((d) => !d.minor)
      .map(
        (d) =>
          `${words(d.field)} "${d.visual_zone}" printed, "${d.mrz}" in the MRZ` +
          (d.cells_verdict === 'lengths_differ'
            ? ` (whose ${Math.round(d.mrz_cells ?? 0)} characters on the line were all read)`
            : ''),
      )
      .join('; ')}.`;
  if (code === 'visual_zone_not_read' && e.visual_zone_unchecked?.length)
    return `The MRZ was read but the printed ${e.visual_zone_unchecked.map(words).join(', ')} could not be, so an edit to ${e.visual_zone_unchecked.length > 1 ? 'them' : 'it'} would not be seen.`;
  return RISK_FACTORS[code].meaning;
}

/** The `fraud` check's signals: each contributes its catalogue weight scaled by its score (0..1). */
const FRAUD_RULES: readonly { code: RiskFactorCode; rejectAt: number; severity: Severity }[] = [
  { code: 'printed_copy', rejectAt: 0.8, severity: 'critical' },
  { code: 'screen_replay', rejectAt: 0.8, severity: 'critical' },
  { code: 'portrait_substitution', rejectAt: 0.8, severity: 'critical' },
  // Never strong: square corners are measured on generated cards and real copies, not yet on real
  // genuine cards photographed in a hand (a finger over a corner): a person looks.
  { code: 'square_corners', rejectAt: 2, severity: 'high' },
  // An editor's name is a reason to look, never proof: genuine photos are re-saved too.
  { code: 'editing_software', rejectAt: 2, severity: 'high' },
];
/** The `fraud` check's signal codes, each a risk factor of its own. */
export const FRAUD_SIGNAL_CODES: readonly RiskFactorCode[] = FRAUD_RULES.map((r) => r.code);

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** Whole years from `birth` to `today` (ISO dates), or undefined when `birth` is not a date. */
export function ageOn(birth: string, today: Date): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birth);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = today.getUTCFullYear() - y;
  const monthDay = (today.getUTCMonth() + 1) * 100 + today.getUTCDate();
  if (monthDay < mo * 100 + d) age--;
  return age;
}

/** Dates that cannot be on a genuine document, each with the sentence that says why. */
export function impossibleDates(
  data: Readonly<Record<string, unknown>>,
  today: Date,
): { field: string; message: string }[] {
  const s = (k: string): string | undefined => {
    const v = data[k];
    return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined;
  };
  const birth = s('date_of_birth');
  const issue = s('issue_date');
  const expiry = s('expiry_date');
  const day = today.toISOString().slice(0, 10);
  const out: { field: string; message: string }[] = [];
  if (birth && birth > day) out.push({ field: 'date_of_birth', message: `born in the future (${birth})` });
  if (birth && (ageOn(birth, today) ?? 0) > 120)
    out.push({ field: 'date_of_birth', message: `born more than 120 years ago (${birth})` });
  if (birth && issue && issue < birth)
    out.push({ field: 'issue_date', message: `issued (${issue}) before its holder was born (${birth})` });
  if (issue && issue > day) out.push({ field: 'issue_date', message: `issued in the future (${issue})` });
  if (issue && expiry && expiry <= issue)
    out.push({ field: 'expiry_date', message: `expires (${expiry}) before it was issued (${issue})` });
  if (birth && expiry && expiry <= birth)
    out.push({ field: 'expiry_date', message: `expires (${expiry}) before its holder was born (${birth})` });
  return out;
}

export interface DecisionInput {
  /** The checks the client asked for: each must have run for a case to be verified. */
  requested: readonly CheckName[];
  checks: Checks;
  /** The document's data as extracted (dates in ISO); absent when no document was read. */
  extracted?: Readonly<Record<string, unknown>>;
  today: Date;
  settings?: PolicySettings;
}

export function decide(input: DecisionInput): RiskAssessment {
  const { checks, requested } = input;
  const settings = input.settings ?? DEFAULT_POLICY_SETTINGS;
  const factors: RiskFactor[] = [];
  const signals: FraudSignal[] = [];
  let hardFail = false;
  let mustReview = false;
  // Every code, its weight and its effect come from the catalogue (risk-factors.ts, docs/risk-factors.md)
  // unless the settings replace them; a replaced weight scales every contribution of that factor.
  // `strong`: the observation is clear enough for a `rejects_when_strong` factor to reject.
  const add = (code: RiskFactorCode, contribution: number, message: string, strong = false): RiskFactor => {
    const spec = settings.factors[code];
    const weight = spec?.weight ?? RISK_FACTORS[code].weight;
    const effect = spec?.effect ?? RISK_FACTORS[code].effect;
    const scaled = (contribution * weight) / RISK_FACTORS[code].weight;
    const f = { code, weight, contribution: Math.round(scaled), message };
    factors.push(f);
    if (effect === 'rejects' || (effect === 'rejects_when_strong' && strong)) hardFail = true;
    if (effect === 'reviews') mustReview = true;
    return f;
  };
  // Factors that say something could not be checked: they send a case to a person, never reject it.
  const absence = new Set<RiskFactor>();
  const addAbsent = (code: RiskFactorCode, message: string) =>
    absence.add(add(code, RISK_FACTORS[code].weight, message));
  const signal = (code: string, severity: Severity, message: string) =>
    signals.push({ code, severity, message });

  const face = checks.face_match;
  if (face && face.status === 'failed') {
    if (face.reason === 'no_face_in_selfie' || face.reason === 'no_face_in_document') {
      const message =
        face.reason === 'no_face_in_selfie'
          ? 'No face was found in the selfie.'
          : 'No portrait was found on the document.';
      add(face.reason, 450, message);
      signal(face.reason, 'high', message);
    } else {
      // A mismatch weighs in proportion to how sure the model is. A clear one rejects on its own; one
      // close to the threshold (confidence < 0.7: within ~0.06 cosine) reviews, since document portraits
      // are small and printed and the model errs most there (issue 13).
      const confidence = num(face.confidence, 1);
      const weak = confidence < 0.7;
      const contribution = weak ? 500 + (100 * (confidence - 0.5)) / 0.2 : 500 + 300 * confidence;
      add(
        'face_mismatch',
        contribution,
        `The selfie does not match the document portrait (similarity ${num(face.similarity_score, 0).toFixed(2)}, a match is 0.70 or more).`,
        !weak,
      );
      signal('face_mismatch', 'critical', 'The selfie does not match the document portrait.');
    }
  } else if (face && face.status === 'passed') {
    // A match just above the threshold is weak evidence: within ~0.025 cosine of it the contribution
    // reaches the medium band and the case goes to review (confidence 0.5 at the threshold → 300).
    const contribution = 300 * (1 - num(face.confidence, 1)) * 2;
    add(
      'face_match_margin',
      contribution,
      `The selfie matches the document portrait (similarity ${num(face.similarity_score, 1).toFixed(2)}); the closer to 0.70, the more this adds.`,
    );
  }

  const live = checks.liveness;
  if (live && live.status === 'failed') {
    if (live.reason === 'no_face_in_selfie') {
      add('liveness_no_face', 300, 'Liveness could not be judged: no face in the selfie.');
    } else if (live.reason === 'challenge_failed') {
      const reason = (live.evidence as { challenge?: { reason?: string } } | undefined)?.challenge?.reason;
      const message = `The head-turn challenge was not passed (${challengeReason(live.evidence)}).`;
      // Turns other than those asked, or another face, are evidence; a person who could not do it (no
      // camera, not far enough, out of the frame) is absence of proof: it reviews and never adds up to a
      // rejection.
      if (reason === 'wrong_turns' || reason === 'another_person')
        add('liveness_challenge_failed', RISK_FACTORS.liveness_challenge_failed.weight, message);
      else addAbsent('liveness_challenge_failed', message);
      signal('liveness_challenge_failed', 'medium', message);
    } else if (live.reason === 'uncertain') {
      const ev = live.evidence as { live_probability?: number; review_below?: number } | undefined;
      addAbsent(
        'liveness_uncertain',
        `The liveness model is unsure about the selfie (live probability ${num(ev?.live_probability, 0).toFixed(2)}, below ${num(ev?.review_below, 0.5).toFixed(2)}) and no head-turn challenge confirmed it.`,
      );
    } else if (live.reason === 'challenge_missing') {
      addAbsent(
        'liveness_challenge_missing',
        'The tenant requires the head-turn challenge and this verification has none (it did not come from the capture page, or the page could not run it).',
      );
    } else {
      const spoof = num(live.spoof_probability, 1);
      // A clear spoof rejects; one near the threshold goes to review through its contribution.
      add(
        'liveness_spoof',
        450 + 300 * spoof,
        `The selfie looks like a presentation attack (spoof probability ${spoof.toFixed(2)}).`,
        num(live.confidence, 1) >= 0.75,
      );
      signal(
        'liveness_spoof',
        spoof >= 0.8 ? 'critical' : 'high',
        'The selfie looks like a presentation attack (printed photo or screen).',
      );
    }
  } else if (live && live.status === 'passed') {
    const spoof = num(live.spoof_probability, 0);
    add(
      'liveness_margin',
      100 * spoof,
      `The selfie looks live (spoof probability ${spoof.toFixed(2)}); the closer to 0.5, the more this adds.`,
    );
  }

  // Nothing requested is passed by absence.
  const notRun = requested.filter((name) => {
    const c = checks[name];
    return !c || c.status === 'skipped';
  });
  const selfieMissing = notRun.filter((n) => checks[n]?.reason === 'selfie_missing');
  if (selfieMissing.length) {
    addAbsent(
      'selfie_missing',
      `No selfie was sent, so the requested ${selfieMissing.join(' and ')} check${selfieMissing.length > 1 ? 's' : ''} could not run.`,
    );
    signal('selfie_missing', 'medium', 'No selfie was sent: the face checks requested could not run.');
  }
  for (const name of notRun) {
    if (selfieMissing.includes(name)) continue;
    const reason = checks[name]?.reason ?? 'not_run';
    if (name === 'fraud' && reason === 'no_signal_applicable') {
      // Not a pass: named, but light: no forensic signal applied (no template for the ghost or the
      // colour, and the document was not found in the photo for the screen grid).
      addAbsent(
        'fraud_not_assessed',
        'No document-fraud signal of this build applies to this document, so none was assessed.',
      );
    } else if (name === 'ocr') {
      addAbsent('document_unreadable', `No text was found on the document (${reason}).`);
      signal('document_unreadable', 'medium', 'The document could not be read.');
    } else {
      addAbsent(`${name}_not_run`, `The requested ${name} check did not run (${reason}).`);
    }
  }

  const ocr = checks.ocr;
  if (ocr && (ocr.status === 'passed' || ocr.status === 'failed')) {
    const found = new Set(Array.isArray(ocr.signals) ? (ocr.signals as string[]) : []);
    for (const rule of DOCUMENT_RULES) {
      if (!found.has(rule.signal)) continue;
      const message = documentMessage(rule.code, ocr.evidence);
      add(rule.code, RISK_FACTORS[rule.code].weight, message, true);
      signal(rule.code, rule.severity, message);
    }
  }

  const data = input.extracted ?? {};
  const birth = typeof data.date_of_birth === 'string' ? data.date_of_birth : undefined;
  const age = birth ? ageOn(birth, input.today) : undefined;
  if (age !== undefined && age >= 0 && age < settings.minAgeYears) {
    const message = `The holder is ${age}, under the minimum age of ${settings.minAgeYears} (born ${birth}).`;
    add('under_minimum_age', 800, message, true);
    signal('under_minimum_age', 'high', message);
  }
  const impossible = impossibleDates(data, input.today);
  if (impossible.length) {
    const message = `The document's dates cannot be right: ${impossible.map((i) => i.message).join('; ')}.`;
    add('impossible_dates', 400, message);
    signal('impossible_dates', 'high', message);
  }

  const fraud = checks.fraud;
  if (fraud && (fraud.status === 'passed' || fraud.status === 'failed')) {
    const scores = (fraud.assessments ?? {}) as Record<string, { score?: number; flagged?: boolean }>;
    // Weak signals (below their reject point) count in full for the strongest only, a quarter for the
    // others: on a washed-out photo of a genuine card the ghost portrait and the colour both read low
    // together (one cause, two signals), and their sum rejected it (983 on a held-out genuine case).
    let seen = 0;
    const flaggedRules = FRAUD_RULES.filter((rule) => scores[rule.code]?.flagged)
      .map((rule) => ({ code: rule.code, rule, score: num(scores[rule.code]!.score, 1) }))
      .sort((a, b) => b.score - a.score);
    for (const { code, rule, score } of flaggedRules) {
      // Below its reject point a signal is weak evidence: it reviews, and stays low enough (at most 520)
      // that the small margins of checks passed with ease do not turn it into a rejection (a held-out
      // genuine card with a ghost flagged at 0.77 and a face margin of 84 was rejected at 790); a face
      // match barely passing still can.
      const strong = score >= rule.rejectAt;
      const weakShare = seen++ === 0 ? 1 : 0.25;
      const weight = RISK_FACTORS[code].weight;
      add(
        code,
        strong ? 400 + (weight - 400) * score : Math.min(weight, 400 + 150 * score) * weakShare,
        `${RISK_FACTORS[code].meaning} (score ${score.toFixed(2)}).`,
        strong,
      );
      signal(code, strong ? rule.severity : 'high', RISK_FACTORS[code].meaning);
    }
  }

  const duplicate = checks.duplicate;
  if (duplicate?.status === 'failed') {
    const seen = (duplicate.assessments ?? {}) as Record<
      string,
      { flagged?: boolean; other_identity?: number }
    >;
    const faceSeen = seen.face?.flagged === true;
    if (faceSeen) {
      const n = num(seen.face?.other_identity, 1);
      // One person under several identities (synthetic identities, mule accounts): a strong pattern,
      // but the face index can be wrong about twins or a look-alike, so a person decides.
      const message = `The selfie is the same person as ${n} earlier verification${n > 1 ? 's' : ''} of this account under another name or birth date (see the duplicate check's face_matches).`;
      add('duplicate_face_other_identity', 450, message);
      signal('duplicate_face_other_identity', 'high', message);
    }
    if (seen.document_number?.flagged ?? !faceSeen) {
      const n = Array.isArray(duplicate.matches) ? duplicate.matches.length : 1;
      // A returning customer verifies again: a match is for a person to look at, not a rejection; beside
      // a face under another identity it adds little (one story, told twice).
      const message = `This document number was already verified ${n} time${n > 1 ? 's' : ''} for this account (see the duplicate check's matches).`;
      add('duplicate_document_number', faceSeen ? 75 : 300, message);
      signal('duplicate_document_number', 'medium', message);
    }
  }

  let errored = false;
  for (const [name, result] of Object.entries(checks) as [CheckName, CheckResult][]) {
    if (result.status === 'error') {
      errored = true;
      add(`${name}_error`, 200, `The ${name} check could not be completed.`);
      signal(`${name}_error`, 'medium', `The ${name} check could not be completed.`);
    }
  }

  // Only evidence reaches the critical band (and rejects through it): what could not be checked adds up
  // to `high` at most, so it sends a case to a person and never rejects it.
  const total = factors.reduce((s, f) => s + f.contribution, 0);
  const evidence = factors.filter((f) => !absence.has(f)).reduce((s, f) => s + f.contribution, 0);
  const { rejectAt, verifyBelow } = settings;
  const score = Math.min(1000, evidence >= rejectAt ? total : Math.min(total, rejectAt - 1));
  const ran = Object.values(checks).filter((c) => c && (c.status === 'passed' || c.status === 'failed'));
  let decision: RiskAssessment['decision'];
  if (hardFail || score >= rejectAt) decision = 'rejected';
  // A check that could not complete leaves the case undecided: a person looks at it.
  else if (ran.length === 0 || errored || mustReview || score >= verifyBelow) decision = 'review';
  else decision = 'verified';
  return {
    risk_score: score,
    risk_level: levelOf(score),
    risk_factors: factors,
    fraud_signals: signals,
    decision,
    policy_version: settings.version,
  };
}

const CHALLENGE_REASONS: Record<string, string> = {
  too_few_frames: 'too few frames were filmed',
  face_not_found: 'the face was not found in enough frames',
  not_turned: 'the head did not turn as far as asked',
  wrong_turns: 'the turns seen were not the ones asked, in that order',
  flat_picture: 'the turns lay on one plane, as a picture does',
  another_person: 'the face filmed is not the one of the selfie',
  not_answered: 'the session was completed without answering it',
};

/** The challenge's failure in words, from the liveness evidence. */
function challengeReason(evidence: unknown): string {
  const c = (evidence as { challenge?: { reason?: string } } | undefined)?.challenge;
  return CHALLENGE_REASONS[c?.reason ?? ''] ?? 'no reason recorded';
}
