import { HuwiyaError } from '../domain/errors.ts';
import { RISK_FACTORS, type RiskFactorCode } from '../domain/risk-factors.ts';
import {
  parsePolicyOverrides,
  withOverrides,
  type PolicyOverrides,
  type PolicySettings,
} from '../domain/risk-policy.ts';
import type { AppDeps, Caller } from './deps.ts';
import { isSandboxTenant } from './sandbox.ts';

/**
 * A tenant's settings (`PUT /v1/developers/account/settings`), each revision kept so that a decision's
 * `policy_version` (`risk-…+t<revision>`) always names the rules it was made under:
 * - `policy`: replacements of the deployment's risk policy (minimum age, the verify and reject scores,
 *   any factor's weight and effect; docs/risk-factors.md);
 * - `duplicate.face_index`: whether verifications that request the duplicate check index and search
 *   selfies (ADR 0010). Turning it off removes every face the tenant indexed.
 * - `liveness.require_challenge`: whether a verification's liveness check needs the capture page's
 *   head-turn challenge passed (docs/adr/0013-active-liveness-challenge.md); without it the check
 *   reviews with `liveness_challenge_missing`. Off by default: API submissions have no challenge.
 */
export interface TenantSettings {
  policy: PolicyOverrides;
  duplicate: { face_index: boolean };
  liveness?: { require_challenge: boolean };
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
  policy: {},
  duplicate: { face_index: true },
  liveness: { require_challenge: false },
};

/** What a decision and the duplicate check need of the tenant's settings. */
export interface TenantConfig {
  policy: PolicySettings;
  faceIndex: boolean;
  requireLivenessChallenge: boolean;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Validate a settings body; a field left out takes its default (PUT replaces the whole). */
export function parseTenantSettings(body: unknown): TenantSettings {
  if (!isObject(body)) throw new HuwiyaError('invalid_parameter', 'The settings must be a JSON object.');
  for (const key of Object.keys(body))
    if (key !== 'policy' && key !== 'duplicate' && key !== 'liveness')
      throw new HuwiyaError('unknown_parameter', `${key} is not a setting (policy, duplicate, liveness).`, {
        param: key,
      });
  const policy = body.policy === undefined ? {} : parsePolicyOverrides(body.policy, 'policy');
  let faceIndex = true;
  if (body.duplicate !== undefined) {
    if (!isObject(body.duplicate))
      throw new HuwiyaError('invalid_parameter', 'duplicate must be an object.', { param: 'duplicate' });
    for (const key of Object.keys(body.duplicate))
      if (key !== 'face_index')
        throw new HuwiyaError('unknown_parameter', `duplicate.${key} is not a setting.`, {
          param: `duplicate.${key}`,
        });
    const v = body.duplicate.face_index;
    if (v !== undefined && typeof v !== 'boolean')
      throw new HuwiyaError('invalid_parameter', 'duplicate.face_index must be true or false.', {
        param: 'duplicate.face_index',
      });
    faceIndex = v ?? true;
  }
  let requireChallenge = false;
  if (body.liveness !== undefined) {
    if (!isObject(body.liveness))
      throw new HuwiyaError('invalid_parameter', 'liveness must be an object.', { param: 'liveness' });
    for (const key of Object.keys(body.liveness))
      if (key !== 'require_challenge')
        throw new HuwiyaError('unknown_parameter', `liveness.${key} is not a setting.`, {
          param: `liveness.${key}`,
        });
    const v = body.liveness.require_challenge;
    if (v !== undefined && typeof v !== 'boolean')
      throw new HuwiyaError('invalid_parameter', 'liveness.require_challenge must be true or false.', {
        param: 'liveness.require_challenge',
      });
    requireChallenge = v ?? false;
  }
  return { policy, duplicate: { face_index: faceIndex }, liveness: { require_challenge: requireChallenge } };
}

async function latest(deps: Pick<AppDeps, 'store'>, tenantId: string, revision?: number) {
  const r = await deps.store.getTenantSettings(tenantId, revision);
  return r ? { ...r, parsed: r.settings as unknown as TenantSettings } : undefined;
}

function configOf(
  base: PolicySettings,
  s: TenantSettings | undefined,
  revision: number | undefined,
): TenantConfig {
  if (!s || revision === undefined) return { policy: base, faceIndex: true, requireLivenessChallenge: false };
  const replaces = Object.keys(s.policy).length > 0;
  return {
    policy: replaces ? withOverrides(base, s.policy, `t${revision}`) : base,
    faceIndex: s.duplicate.face_index,
    // Settings stored before the liveness section have none: the default applies.
    requireLivenessChallenge: s.liveness?.require_challenge ?? false,
  };
}

/** The policy and face-index switch a tenant's verifications are decided under now. */
export async function tenantConfig(
  deps: Pick<AppDeps, 'store' | 'policy'>,
  tenantId: string,
): Promise<TenantConfig> {
  const r = await latest(deps, tenantId);
  return configOf(deps.policy, r?.parsed, r?.revision);
}

function present(deps: Pick<AppDeps, 'policy'>, r: Awaited<ReturnType<typeof latest>>) {
  const settings = r?.parsed ?? DEFAULT_TENANT_SETTINGS;
  const { policy } = configOf(deps.policy, r?.parsed, r?.revision);
  return {
    object: 'account.settings',
    revision: r?.revision ?? 0,
    updated_at: r?.createdAt ?? null,
    policy: settings.policy,
    duplicate: settings.duplicate,
    liveness: settings.liveness ?? DEFAULT_TENANT_SETTINGS.liveness,
    // What decisions are made under: the catalogue, the deployment's replacements, then these.
    effective_policy: {
      policy_version: policy.version,
      min_age_years: policy.minAgeYears,
      verify_below: policy.verifyBelow,
      reject_at: policy.rejectAt,
      factors: Object.fromEntries(
        (Object.keys(RISK_FACTORS) as RiskFactorCode[]).map((code) => [
          code,
          {
            weight: policy.factors[code]?.weight ?? RISK_FACTORS[code].weight,
            effect: policy.factors[code]?.effect ?? RISK_FACTORS[code].effect,
          },
        ]),
      ),
    },
  };
}

/** `GET /v1/developers/account/settings[?revision=N]`. */
export async function getTenantSettings(deps: AppDeps, caller: Caller, revision?: number) {
  const r = await latest(deps, caller.tenantId, revision);
  if (revision !== undefined && revision !== 0 && !r)
    throw new HuwiyaError('resource_not_found', `No settings revision ${revision}.`, { param: 'revision' });
  return present(deps, revision === 0 ? undefined : r);
}

/** `PUT /v1/developers/account/settings`: a new revision replacing the whole settings. */
export async function putTenantSettings(deps: AppDeps, caller: Caller, body: unknown) {
  const settings = parseTenantSettings(body);
  const at = deps.now().toISOString();
  const { record, facesRemoved } = await deps.store.transaction(async (tx) => {
    const before = await tx.getTenantSettings(caller.tenantId);
    const record = {
      tenantId: caller.tenantId,
      revision: (before?.revision ?? 0) + 1,
      settings: settings as unknown as Record<string, unknown>,
      createdAt: at,
      createdBy: caller.apiKeyId,
    };
    await tx.insertTenantSettings(record);
    // Off means forgotten: the faces indexed so far go with the switch (numbers stay: ADR 0009).
    const facesRemoved = settings.duplicate.face_index ? 0 : await tx.deleteTenantFaces(caller.tenantId);
    return { record, facesRemoved };
  });
  return {
    ...present(deps, { ...record, parsed: settings }),
    ...(facesRemoved ? { faces_removed: facesRemoved } : {}),
  };
}

/** `GET /v1/developers/account`: the tenant the key belongs to, and its settings. */
export async function getAccount(deps: AppDeps, caller: Caller) {
  const tenant = await deps.store.getTenant(caller.tenantId);
  if (!tenant) throw new HuwiyaError('resource_not_found');
  return {
    id: tenant.id,
    object: 'account',
    name: tenant.name,
    livemode: !isSandboxTenant(caller.tenantId),
    created_at: tenant.createdAt,
    settings: present(deps, await latest(deps, caller.tenantId)),
  };
}
