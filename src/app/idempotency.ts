import { createHash } from 'node:crypto';
import { HuwiyaError } from '../domain/errors.ts';
import type { AppDeps, Caller } from './deps.ts';

/** API.md: 10-255 characters of [A-Za-z0-9_-], kept 24 h, scoped to API key + endpoint. */
const KEY_PATTERN = /^[A-Za-z0-9_-]{10,255}$/;
const TTL_MS = 24 * 3600 * 1000;

export interface StoredResponse {
  statusCode: number;
  body: unknown;
}

export type IdempotencyOutcome = { kind: 'replay'; response: StoredResponse } | { kind: 'proceed' };

export function requestFingerprint(parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(typeof p === 'string' ? Buffer.from(p) : p);
    h.update('\0');
  }
  return h.digest('hex');
}

/** Claim a key before running the request, or answer the stored response. */
export async function beginIdempotent(
  deps: AppDeps,
  caller: Caller,
  endpoint: string,
  key: string,
  fingerprint: string,
): Promise<IdempotencyOutcome> {
  if (!KEY_PATTERN.test(key))
    throw new HuwiyaError('idempotency_key_invalid', undefined, { param: 'Idempotency-Key' });
  const now = deps.now();
  const claimed = await deps.store.claimIdempotency({
    tenantId: caller.tenantId,
    apiKeyId: caller.apiKeyId,
    endpoint,
    key,
    requestHash: fingerprint,
    state: 'in_progress',
    statusCode: null,
    sealedResponse: null,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + TTL_MS).toISOString(),
  });
  if (claimed) return { kind: 'proceed' };
  const existing = await deps.store.getIdempotency(caller.tenantId, caller.apiKeyId, endpoint, key);
  if (!existing) return beginIdempotent(deps, caller, endpoint, key, fingerprint);
  if (existing.requestHash !== fingerprint)
    throw new HuwiyaError('idempotency_key_conflict', undefined, { param: 'Idempotency-Key' });
  if (existing.state === 'deleted')
    throw new HuwiyaError(
      'resource_not_found',
      'The verification this request created has been deleted; its answer is no longer kept.',
      { param: 'Idempotency-Key' },
    );
  if (existing.state !== 'done' || !existing.sealedResponse || existing.statusCode === null) {
    throw new HuwiyaError('idempotency_key_in_use', undefined, { param: 'Idempotency-Key' });
  }
  const body = deps.keyring
    .systemKey('idempotency')
    .open(existing.sealedResponse, aad(caller, endpoint, key));
  return {
    kind: 'replay',
    response: { statusCode: existing.statusCode, body: JSON.parse(body.toString('utf8')) },
  };
}

function aad(caller: Caller, endpoint: string, key: string): string {
  return `idem:${caller.tenantId}:${caller.apiKeyId}:${endpoint}:${key}`;
}

export async function finishIdempotent(
  deps: AppDeps,
  caller: Caller,
  endpoint: string,
  key: string,
  response: StoredResponse,
  /** The verification the answer is about: its deletion drops the stored answer. */
  subjectId?: string,
): Promise<void> {
  // Only final answers are kept; a 5xx or 429 releases the key so the client can retry.
  if (response.statusCode >= 500 || response.statusCode === 429) {
    await deps.store.releaseIdempotency(caller.tenantId, caller.apiKeyId, endpoint, key);
    return;
  }
  const sealed = deps.keyring
    .systemKey('idempotency')
    .seal(Buffer.from(JSON.stringify(response.body)), aad(caller, endpoint, key));
  await deps.store.finishIdempotency(
    { tenantId: caller.tenantId, apiKeyId: caller.apiKeyId, endpoint, key },
    response.statusCode,
    sealed,
    subjectId,
  );
}

export async function abandonIdempotent(
  deps: AppDeps,
  caller: Caller,
  endpoint: string,
  key: string,
): Promise<void> {
  await deps.store.releaseIdempotency(caller.tenantId, caller.apiKeyId, endpoint, key);
}
