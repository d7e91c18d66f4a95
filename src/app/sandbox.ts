import { randomInt } from 'node:crypto';
import countries from 'i18n-iso-countries';
import { HuwiyaError } from '../domain/errors.ts';
import { RISK_FACTORS, type RiskFactorCode } from '../domain/risk-factors.ts';
import {
  decide,
  FRAUD_SIGNAL_CODES,
  type PolicySettings,
  type RiskAssessment,
} from '../domain/risk-policy.ts';
import { tenantConfig } from './tenant-settings.ts';
import { DEFAULT_CHECKS, skipped, type CheckName, type CheckResult } from '../domain/verification.ts';
import type { AppDeps, Caller } from './deps.ts';
import { deleteVerification } from './manage-verifications.ts';

/**
 * The sandbox (docs/sandbox.md). A test key (`hw_test_…`) works on its tenant's sandbox tenant, whose data
 * no live key sees and which no live key's data reaches. There, a verification can name a scenario
 * (`metadata.sandbox_scenario`, or the one set by `POST /v1/developers/sandbox/simulate`): its checks
 * are then simulated without running any model, and the real risk policy decides on them, so each
 * scenario gives the status and the risk factor a live verification with that signal would. Without a
 * scenario, a sandbox verification runs the real pipeline on the images sent.
 */
export const SANDBOX_SUFFIX = '.test';

/** The sandbox tenant of a tenant: a name no live tenant can take (tenant ids have no dot). */
export function sandboxTenantOf(tenantId: string): string {
  return tenantId.endsWith(SANDBOX_SUFFIX) ? tenantId : `${tenantId}${SANDBOX_SUFFIX}`;
}

export function isSandboxTenant(tenantId: string): boolean {
  return tenantId.endsWith(SANDBOX_SUFFIX);
}

/** `verified` (every requested check passes), or the risk factor the scenario makes the policy name. */
export type SandboxScenario = 'verified' | RiskFactorCode;

/**
 * The check each factor's scenario simulates; `selfie`: the selfie is treated as missing by the face
 * checks. Exhaustive over the catalogue: a new risk factor does not compile without its scenario.
 */
const SCENARIO_CHECK: Record<RiskFactorCode, CheckName | 'selfie'> = {
  face_mismatch: 'face_match',
  face_match_margin: 'face_match',
  no_face_in_selfie: 'face_match',
  no_face_in_document: 'face_match',
  liveness_no_face: 'liveness',
  liveness_spoof: 'liveness',
  liveness_challenge_failed: 'liveness',
  liveness_challenge_missing: 'liveness',
  liveness_uncertain: 'liveness',
  liveness_margin: 'liveness',
  selfie_missing: 'selfie',
  document_unreadable: 'ocr',
  fraud_not_assessed: 'fraud',
  face_match_not_run: 'face_match',
  liveness_not_run: 'liveness',
  fraud_not_run: 'fraud',
  duplicate_not_run: 'duplicate',
  ocr_error: 'ocr',
  face_match_error: 'face_match',
  liveness_error: 'liveness',
  fraud_error: 'fraud',
  duplicate_error: 'duplicate',
  document_expired: 'ocr',
  mrz_check_digits_invalid: 'ocr',
  document_country_mismatch: 'ocr',
  mrz_visual_zone_mismatch: 'ocr',
  mrz_not_read: 'ocr',
  visual_zone_not_read: 'ocr',
  document_type_mismatch: 'ocr',
  under_minimum_age: 'ocr',
  impossible_dates: 'ocr',
  printed_copy: 'fraud',
  screen_replay: 'fraud',
  square_corners: 'fraud',
  editing_software: 'fraud',
  portrait_substitution: 'fraud',
  duplicate_face_other_identity: 'duplicate',
  duplicate_document_number: 'duplicate',
};

export const SANDBOX_SCENARIOS: readonly SandboxScenario[] = [
  'verified',
  ...(Object.keys(SCENARIO_CHECK) as RiskFactorCode[]),
];

/** The metadata keys a sandbox verification reads (ignored with live keys). */
export const SCENARIO_KEY = 'sandbox_scenario';
export const DOCUMENT_NUMBER_KEY = 'sandbox_document_number';

/** What a sandbox verification simulates, kept in its record so a worker simulates the same. */
export interface SandboxPlan {
  scenario: SandboxScenario;
  /** The document number the simulated document carries (duplicates are looked up on it for real). */
  document_number: string;
}

/** The verification a simulated duplicate points at: it exists nowhere. */
export const SIMULATED_MATCH_ID = 'ver_sandbox_simulated_match';

function isScenario(v: unknown): v is SandboxScenario {
  return typeof v === 'string' && (SANDBOX_SCENARIOS as readonly string[]).includes(v);
}

function needsOf(scenario: SandboxScenario): CheckName | 'selfie' | undefined {
  return scenario === 'verified' ? undefined : SCENARIO_CHECK[scenario];
}

/** Why a scenario cannot be simulated on this request, or undefined when it can. */
function unmet(
  scenario: SandboxScenario,
  checks: readonly CheckName[],
  hasSelfie: boolean,
): string | undefined {
  const needs = needsOf(scenario);
  if (needs === undefined) return undefined;
  if (needs === 'selfie')
    return checks.includes('face_match') || checks.includes('liveness')
      ? undefined
      : `The sandbox scenario ${scenario} needs the face_match or liveness check requested.`;
  if (!checks.includes(needs))
    return `The sandbox scenario ${scenario} simulates the ${needs} check: request it.`;
  if ((needs === 'face_match' || needs === 'liveness') && !hasSelfie)
    return `The sandbox scenario ${scenario} simulates the ${needs} check on a selfie: send one.`;
  return undefined;
}

/**
 * The sandbox plan of a new verification: its named scenario, else the one the tenant simulates (one use
 * taken), else none (the real pipeline runs). Live tenants never get one. A bad scenario is a 400.
 */
export async function sandboxPlan(
  deps: Pick<AppDeps, 'store' | 'now'>,
  tenantId: string,
  input: { metadata: Record<string, unknown>; checks: readonly CheckName[]; hasSelfie: boolean },
): Promise<SandboxPlan | undefined> {
  if (!isSandboxTenant(tenantId)) return undefined;
  const named = input.metadata[SCENARIO_KEY];
  const param = `metadata.${SCENARIO_KEY}`;
  if (named !== undefined && !isScenario(named))
    throw new HuwiyaError(
      'invalid_parameter',
      `Unknown sandbox scenario; GET /v1/developers/sandbox/fixtures lists them (${SANDBOX_SCENARIOS.slice(0, 4).join(', ')}, …).`,
      { param },
    );
  const number = input.metadata[DOCUMENT_NUMBER_KEY];
  if (number !== undefined && (typeof number !== 'string' || !/^[A-Z0-9]{4,20}$/.test(number)))
    throw new HuwiyaError('invalid_parameter', 'sandbox_document_number must be 4-20 of [A-Z0-9].', {
      param: `metadata.${DOCUMENT_NUMBER_KEY}`,
    });
  const documentNumber = number ?? `SB${String(randomInt(0, 1e8)).padStart(8, '0')}`;
  if (named !== undefined) {
    const why = unmet(named, input.checks, input.hasSelfie);
    if (why) throw new HuwiyaError('invalid_parameter', why, { param });
    return { scenario: named, document_number: documentNumber };
  }
  // The simulated scenario: taken in a transaction, so a counted simulation is used exactly that often.
  return deps.store.transaction(async (tx) => {
    const sim = await tx.getSandboxSimulation(tenantId);
    if (!sim || !isScenario(sim.scenario)) return undefined;
    const why = unmet(sim.scenario, input.checks, input.hasSelfie);
    if (why)
      throw new HuwiyaError('invalid_parameter', `${why} (set by POST /v1/developers/sandbox/simulate)`, {
        param: 'checks',
      });
    if (sim.remaining !== null)
      await tx.setSandboxSimulation(
        tenantId,
        sim.remaining > 1
          ? { ...sim, remaining: sim.remaining - 1, updatedAt: deps.now().toISOString() }
          : undefined,
      );
    return { scenario: sim.scenario, document_number: documentNumber };
  });
}

const alpha3 = (country: string): string =>
  (country.length === 3 ? country.toUpperCase() : countries.alpha2ToAlpha3(country.toUpperCase())) ?? 'UTO';

const FAMILY: Record<string, string> = {
  passport: 'passport',
  driving_license: 'driving_license',
  drivers_license: 'driving_license',
  residence_card: 'residence_permit',
  residence_permit: 'residence_permit',
  permit: 'residence_permit',
};

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function yearsFrom(today: Date, years: number, days = 0): string {
  const d = new Date(today);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  d.setUTCDate(d.getUTCDate() + days);
  return isoDay(d);
}

const SIM = { simulated: true, model_version: 'sandbox' } as const;

/**
 * The checks and document data a scenario simulates: every requested check passes clearly, except the
 * one the scenario is about, which gives the signal a live check would. Pure: the clock is passed in.
 */
export function simulateOutcome(
  plan: SandboxPlan,
  request: { checks: readonly CheckName[]; documentType: string; country: string; hasSelfie: boolean },
  today: Date,
): { checks: Partial<Record<CheckName, CheckResult>>; extracted: Record<string, unknown> } {
  const s = plan.scenario;
  const state = alpha3(request.country);
  const family = FAMILY[request.documentType] ?? 'national_id';
  const extracted: Record<string, unknown> = {
    document_type: family,
    document_number: plan.document_number,
    issuing_country: state,
    nationality: state,
    last_name: 'SANDBOX',
    first_name: 'ALEX',
    sex: 'F',
    date_of_birth: s === 'under_minimum_age' ? yearsFrom(today, -16, -30) : '1990-01-15',
    issue_date: s === 'impossible_dates' ? yearsFrom(today, 1) : yearsFrom(today, -2),
    expiry_date: s === 'document_expired' ? yearsFrom(today, 0, -40) : yearsFrom(today, 8),
  };
  const fields = Object.keys(extracted);
  extracted.field_confidences = Object.fromEntries(fields.map((f) => [f, 0.99]));
  extracted.field_provenance = Object.fromEntries(fields.map((f) => [f, 'sandbox']));

  const signals: string[] = [];
  const ocrSignal: Partial<Record<RiskFactorCode, string>> = {
    document_expired: 'document_expired',
    mrz_check_digits_invalid: 'mrz_check_digits_invalid',
    document_country_mismatch: 'country_mismatch',
    mrz_visual_zone_mismatch: 'mrz_visual_zone_mismatch',
    mrz_not_read: 'mrz_not_read',
    visual_zone_not_read: 'visual_zone_not_read',
    document_type_mismatch: 'document_type_mismatch',
  };
  if (s !== 'verified' && ocrSignal[s]) signals.push(ocrSignal[s]);
  if (s === 'document_country_mismatch') extracted.issuing_country = state === 'UTO' ? 'MAR' : 'UTO';
  const ocr: CheckResult = {
    status: s === 'mrz_check_digits_invalid' ? 'failed' : 'passed',
    confidence: s === 'mrz_check_digits_invalid' ? 0.6 : 0.97,
    ...(s === 'mrz_check_digits_invalid' ? { reason: 'mrz_check_digits_invalid' } : {}),
    signals,
    document_type_detected:
      s === 'document_type_mismatch' ? (family === 'passport' ? 'national_id' : 'passport') : family,
    country_detected: extracted.issuing_country,
    evidence: {
      source: s === 'mrz_not_read' ? 'visual_zone' : s === 'visual_zone_not_read' ? 'mrz' : 'mrz+visual_zone',
      disagreements:
        s === 'mrz_visual_zone_mismatch'
          ? [{ field: 'last_name', mrz: 'SANDBOX', visual_zone: 'SANDBOY', minor: false }]
          : [],
    },
    ...SIM,
  };
  const face: CheckResult =
    s === 'face_mismatch'
      ? {
          status: 'failed',
          confidence: 0.95,
          match: false,
          similarity_score: 0.12,
          similarity: 0.12,
          threshold: 0.7,
          ...SIM,
        }
      : s === 'no_face_in_selfie' || s === 'no_face_in_document'
        ? { status: 'failed', confidence: 1, reason: s, match: false, ...SIM }
        : {
            status: 'passed',
            // At the threshold for the margin scenario (a match too close to call), clear otherwise.
            confidence: s === 'face_match_margin' ? 0.5 : 0.98,
            match: true,
            similarity_score: s === 'face_match_margin' ? 0.7 : 0.95,
            similarity: s === 'face_match_margin' ? 0.7 : 0.95,
            threshold: 0.7,
            ...SIM,
          };
  const live: CheckResult =
    s === 'liveness_no_face'
      ? { status: 'failed', confidence: 1, reason: 'no_face_in_selfie', is_live: false, ...SIM }
      : s === 'liveness_challenge_failed' || s === 'liveness_challenge_missing' || s === 'liveness_uncertain'
        ? {
            status: 'failed',
            confidence: 0.9,
            reason:
              s === 'liveness_challenge_failed'
                ? 'challenge_failed'
                : s === 'liveness_challenge_missing'
                  ? 'challenge_missing'
                  : 'uncertain',
            is_live: false,
            spoof_probability: 0.05,
            spoof_type: 'none',
            quality_score: 0.95,
            ...(s === 'liveness_challenge_failed'
              ? { evidence: { challenge: { status: 'failed', reason: 'not_turned' } } }
              : {}),
            ...SIM,
          }
        : s === 'liveness_spoof'
          ? {
              status: 'failed',
              confidence: 0.96,
              is_live: false,
              spoof_probability: 0.98,
              spoof_type: 'photo',
              quality_score: 0.9,
              ...SIM,
            }
          : {
              status: 'passed',
              confidence: s === 'liveness_margin' ? 0.1 : 0.96,
              is_live: true,
              spoof_probability: s === 'liveness_margin' ? 0.45 : 0.02,
              spoof_type: 'none',
              quality_score: 0.95,
              ...SIM,
            };
  const fraudCode = FRAUD_SIGNAL_CODES.find((c) => c === s);
  const fraud: CheckResult =
    s === 'fraud_not_assessed'
      ? { ...skipped('no_signal_applicable'), signals: [], ...SIM }
      : {
          status: fraudCode ? 'failed' : 'passed',
          confidence: 0.95,
          ...(fraudCode ? { reason: fraudCode } : {}),
          signals: fraudCode ? [fraudCode] : [],
          assessments: Object.fromEntries(
            FRAUD_SIGNAL_CODES.map((k) => [
              k,
              { assessed: true, flagged: k === fraudCode, score: k === fraudCode ? 0.95 : 0.05 },
            ]),
          ),
          ...SIM,
        };
  const duplicate: CheckResult =
    s === 'duplicate_face_other_identity'
      ? {
          status: 'failed',
          confidence: 1,
          reason: 'face_seen_with_other_identity',
          matches: [],
          face_matches: [{ verification_id: SIMULATED_MATCH_ID, similarity: 0.91, same_identity: false }],
          assessments: {
            document_number: { assessed: true, flagged: false, matches: 0 },
            face: { assessed: true, flagged: true, matches: 1, other_identity: 1 },
          },
          ...SIM,
        }
      : s === 'duplicate_document_number'
        ? {
            status: 'failed',
            confidence: 1,
            reason: 'document_number_seen_before',
            matches: [
              { verification_id: SIMULATED_MATCH_ID, created_at: yearsFrom(today, -1), status: 'verified' },
            ],
            assessments: {
              document_number: { assessed: true, flagged: true, matches: 1 },
              face: { assessed: false, reason: 'simulated_selfie' },
            },
            ...SIM,
          }
        : {
            status: 'passed',
            confidence: 1,
            matches: [],
            assessments: {
              document_number: { assessed: true, flagged: false, matches: 0 },
              face: { assessed: false, reason: 'simulated_selfie' },
            },
            ...SIM,
          };
  const all: Record<CheckName, CheckResult> = { ocr, face_match: face, liveness: live, fraud, duplicate };
  const checks: Partial<Record<CheckName, CheckResult>> = {};
  for (const name of request.checks) {
    if (s === `${name}_not_run`) checks[name] = { ...skipped('not_available'), ...SIM };
    else if (s === `${name}_error`)
      checks[name] = { status: 'error', confidence: 0, reason: 'internal_error', ...SIM };
    else if (s === 'document_unreadable' && name === 'ocr')
      checks.ocr = { ...skipped('no_document_text_found'), ...SIM };
    else if ((name === 'face_match' || name === 'liveness') && (!request.hasSelfie || s === 'selfie_missing'))
      checks[name] = { ...skipped('selfie_missing'), ...SIM };
    else checks[name] = all[name];
  }
  return { checks, extracted: s === 'document_unreadable' ? {} : extracted };
}

/** What a scenario decides with the default checks (and the one it simulates): the fixtures' table. */
export function expectedDecision(
  scenario: SandboxScenario,
  deps: Pick<AppDeps, 'now'>,
  policy: PolicySettings,
): RiskAssessment {
  const needs = needsOf(scenario);
  const checks: CheckName[] = [...DEFAULT_CHECKS];
  if (needs && needs !== 'selfie' && !checks.includes(needs)) checks.push(needs);
  const today = deps.now();
  const out = simulateOutcome(
    { scenario, document_number: 'SB00000000' },
    { checks, documentType: 'cin', country: 'MA', hasSelfie: true },
    today,
  );
  return decide({
    requested: checks,
    checks: out.checks,
    extracted: out.extracted,
    today,
    settings: policy,
  });
}

function requireTestKey(caller: Caller): void {
  if (!isSandboxTenant(caller.tenantId)) throw new HuwiyaError('sandbox_only');
}

/** `GET /v1/developers/sandbox/fixtures`: every scenario, what it decides, and the magic inputs. */
export async function sandboxFixtures(deps: AppDeps, caller: Caller) {
  const sandbox = sandboxTenantOf(caller.tenantId);
  const sim = await deps.store.getSandboxSimulation(sandbox);
  // Decided under the sandbox's own settings, as its verifications are.
  const { policy } = await tenantConfig(deps, sandbox);
  return {
    object: 'sandbox.fixtures',
    livemode: !isSandboxTenant(caller.tenantId),
    identity: {
      magic_inputs: {
        [`metadata.${SCENARIO_KEY}`]:
          'With a test key: simulate this scenario instead of running the models (the real policy decides).',
        [`metadata.${DOCUMENT_NUMBER_KEY}`]:
          'With a test key: the document number the simulated document carries (4-20 of [A-Z0-9]); the duplicate check looks it up among your sandbox verifications for real.',
      },
      simulation: sim
        ? { scenario: sim.scenario, remaining: sim.remaining, updated_at: sim.updatedAt }
        : null,
      scenarios: SANDBOX_SCENARIOS.map((scenario) => {
        const d = expectedDecision(scenario, deps, policy);
        const needs = needsOf(scenario);
        return {
          scenario,
          status: d.decision,
          risk_score: d.risk_score,
          risk_factors: d.risk_factors.filter((f) => f.contribution > 0).map((f) => f.code),
          simulates: needs === 'selfie' ? 'selfie_missing' : (needs ?? null),
          description:
            scenario === 'verified'
              ? 'Every requested check passes clearly.'
              : RISK_FACTORS[scenario].meaning,
        };
      }),
    },
    transactions: { supported: false, reason: 'Huwiya verifies identities; it screens no transactions.' },
    watchlist: { supported: false, reason: 'Huwiya ships no watchlist (sanctions, PEP) data.' },
  };
}

/**
 * `POST /v1/developers/sandbox/simulate`: the scenario the caller's sandbox verifications simulate when
 * they name none (`config.count` times, or until changed); `none` clears it (the real pipeline runs).
 */
export async function simulateScenario(
  deps: AppDeps,
  caller: Caller,
  body: { scenario?: unknown; config?: unknown },
) {
  requireTestKey(caller);
  const { scenario } = body;
  if (scenario !== 'none' && !isScenario(scenario))
    throw new HuwiyaError(
      'invalid_parameter',
      'scenario must be one of the sandbox scenarios (GET /v1/developers/sandbox/fixtures) or none.',
      { param: 'scenario' },
    );
  const config = body.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new HuwiyaError('invalid_parameter', 'config must be an object.', { param: 'config' });
  for (const k of Object.keys(config))
    if (k !== 'count')
      throw new HuwiyaError('unknown_parameter', `config.${k} is not accepted.`, { param: `config.${k}` });
  const count = (config as { count?: unknown }).count;
  if (
    count !== undefined &&
    (!Number.isInteger(count) || (count as number) < 1 || (count as number) > 10_000)
  )
    throw new HuwiyaError('invalid_parameter', 'config.count must be an integer from 1 to 10000.', {
      param: 'config.count',
    });
  const updatedAt = deps.now().toISOString();
  const sim =
    scenario === 'none'
      ? undefined
      : { scenario, remaining: (count as number | undefined) ?? null, updatedAt };
  await deps.store.setSandboxSimulation(caller.tenantId, sim);
  const expected = sim
    ? expectedDecision(sim.scenario, deps, (await tenantConfig(deps, caller.tenantId)).policy)
    : undefined;
  return {
    object: 'sandbox.simulation',
    scenario: sim?.scenario ?? null,
    remaining: sim?.remaining ?? null,
    updated_at: updatedAt,
    expected_status: expected?.decision ?? null,
  };
}

/** `POST /v1/developers/sandbox/reset`: delete every sandbox verification and clear the simulation. */
/**
 * Remove every session of a tenant (the sandbox reset): rows, keys (what was sealed with them is then
 * unreadable) and uploads. Their verifications, if any, are deleted on their own. Returns how many.
 */
async function deleteTenantSessions(deps: AppDeps, tenantId: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rows } = await deps.store.listSessions(tenantId, { limit: 100, offset: 0 });
    if (!rows.length) return deleted;
    for (const s of rows) {
      await deps.store.transaction(async (tx) => {
        await tx.deleteSession(tenantId, s.id);
        await deps.keyring.destroy(tx, s.id);
      });
      await deps.blobs.deletePrefix(`${tenantId}/${s.id}`);
      deleted++;
    }
  }
}

export async function resetSandbox(deps: AppDeps, caller: Caller) {
  requireTestKey(caller);
  let deleted = 0;
  for (;;) {
    const { rows } = await deps.store.listVerifications(caller.tenantId, { limit: 100 });
    if (!rows.length) break;
    for (const r of rows) {
      await deleteVerification(deps, caller, r.id);
      deleted++;
    }
  }
  const sessions = await deleteTenantSessions(deps, caller.tenantId);
  await deps.store.setSandboxSimulation(caller.tenantId, undefined);
  return {
    object: 'sandbox.reset',
    verifications_deleted: deleted,
    sessions_deleted: sessions,
    simulation_cleared: true,
    reset_at: deps.now().toISOString(),
  };
}
