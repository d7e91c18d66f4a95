import { createHash, randomBytes } from 'node:crypto';
import { HuwiyaError } from '../domain/errors.ts';
import { SCOPES, type ApiKeyRecord, type Scope, type Store } from '../ports/stores.ts';
import type { Caller } from './deps.ts';
import { newId } from './ids.ts';
import { sandboxTenantOf } from './sandbox.ts';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Keys are 32 random base-62 characters (≈190 bits), so a plain SHA-256 is a safe stored form. */
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function randomSecret(n = 32): string {
  // Rejection sampling keeps the distribution uniform.
  let s = '';
  while (s.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 248 && s.length < n) s += BASE62[b % 62];
    }
  }
  return s;
}

export interface CreatedKey {
  record: ApiKeyRecord;
  /** Shown once; only its hash is stored. */
  secret: string;
}

export async function ensureTenant(
  store: Store,
  tenantId: string,
  name?: string,
  now = new Date(),
): Promise<void> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(tenantId))
    throw new HuwiyaError('invalid_parameter', 'tenant id must be 1-64 characters of [A-Za-z0-9_-]', {
      param: 'tenant',
    });
  if (!(await store.getTenant(tenantId)))
    await store.createTenant({ id: tenantId, name: name ?? tenantId, createdAt: now.toISOString() });
}

export async function createApiKey(
  store: Store,
  input: { tenantId: string; name: string; scopes: Scope[]; mode: 'live' | 'test' },
  now = new Date(),
): Promise<CreatedKey> {
  for (const s of input.scopes) {
    if (!(SCOPES as readonly string[]).includes(s))
      throw new HuwiyaError('invalid_parameter', `unknown scope "${s}"`, { param: 'scopes' });
  }
  if (input.scopes.length === 0)
    throw new HuwiyaError('invalid_parameter', 'at least one scope is needed', { param: 'scopes' });
  await ensureTenant(store, input.tenantId, undefined, now);
  // A test key's data lives in its tenant's sandbox (app/sandbox.ts), a tenant of its own.
  const sandbox = sandboxTenantOf(input.tenantId);
  if (input.mode === 'test' && !(await store.getTenant(sandbox)))
    await store.createTenant({
      id: sandbox,
      name: `${input.tenantId} (sandbox)`,
      createdAt: now.toISOString(),
    });
  const secret = `hw_${input.mode}_${randomSecret()}`;
  const record: ApiKeyRecord = {
    id: newId('key'),
    tenantId: input.tenantId,
    name: input.name,
    prefix: secret.slice(0, 12),
    mode: input.mode,
    scopes: [...new Set(input.scopes)],
    createdAt: now.toISOString(),
    revokedAt: null,
    lastUsedAt: null,
  };
  await store.insertApiKey(record, hashApiKey(secret));
  return { record, secret };
}

/** Resolve a presented secret to its caller; unknown and revoked keys are the same error. */
export async function authenticate(store: Store, secret: string | undefined): Promise<Caller> {
  if (!secret) throw new HuwiyaError('authentication_required');
  if (!/^hw_(live|test)_[A-Za-z0-9]{20,64}$/.test(secret)) throw new HuwiyaError('invalid_api_key');
  const key = await store.findApiKeyByHash(hashApiKey(secret));
  if (!key || key.revokedAt) throw new HuwiyaError('invalid_api_key');
  // A test key sees only its tenant's sandbox, and no live key sees the sandbox.
  const tenantId = key.mode === 'test' ? sandboxTenantOf(key.tenantId) : key.tenantId;
  return { tenantId, apiKeyId: key.id, scopes: key.scopes, mode: key.mode };
}

/** `admin` implies every other scope. */
export function requireScope(caller: Caller, scope: Scope): void {
  if (!caller.scopes.includes(scope) && !caller.scopes.includes('admin')) {
    throw new HuwiyaError('insufficient_scope', `This operation needs the ${scope} scope.`);
  }
}
