import { HuwiyaError } from '../domain/errors.ts';
import type { VerificationStatus } from '../domain/verification.ts';
import type { ListFilter } from '../ports/stores.ts';
import type { AppDeps, Caller } from './deps.ts';
import { newId } from './ids.ts';
import { docAad, type VerificationDoc } from './verification-doc.ts';

export async function getVerification(deps: AppDeps, caller: Caller, id: string): Promise<VerificationDoc> {
  const row = await deps.store.getVerification(caller.tenantId, id);
  const key = row ? await deps.keyring.get(deps.store, id) : undefined;
  if (!row || !key || !row.sealed)
    throw new HuwiyaError('resource_not_found', `No verification ${id}.`, { param: 'id' });
  return JSON.parse(key.open(row.sealed, docAad(caller.tenantId, id)).toString('utf8')) as VerificationDoc;
}

export async function listVerifications(
  deps: AppDeps,
  caller: Caller,
  filter: ListFilter,
): Promise<{ data: VerificationDoc[]; hasMore: boolean; total: number }> {
  for (const [param, cursor] of [
    ['starting_after', filter.startingAfter],
    ['ending_before', filter.endingBefore],
  ] as const) {
    if (cursor && !(await deps.store.getVerification(caller.tenantId, cursor))) {
      throw new HuwiyaError('invalid_cursor', `${param} does not name a verification of yours.`, { param });
    }
  }
  const { rows, hasMore, total } = await deps.store.listVerifications(caller.tenantId, filter);
  const data: VerificationDoc[] = [];
  for (const row of rows) {
    const key = await deps.keyring.get(deps.store, row.id);
    if (!key || !row.sealed) continue;
    data.push(
      JSON.parse(key.open(row.sealed, docAad(caller.tenantId, row.id)).toString('utf8')) as VerificationDoc,
    );
  }
  return { data, hasMore, total };
}

/**
 * Delete: destroy the data key (the sealed record and images become unreadable), then remove rows and
 * files. The audit keeps a tombstone with no personal data.
 */
export async function deleteVerification(
  deps: AppDeps,
  caller: Caller,
  id: string,
): Promise<{
  id: string;
  object: 'verification';
  deleted: true;
  deleted_at: string;
  data_key_destroyed: true;
}> {
  const row = await deps.store.getVerification(caller.tenantId, id);
  if (!row) throw new HuwiyaError('resource_not_found', `No verification ${id}.`, { param: 'id' });
  const at = deps.now().toISOString();
  await deps.store.transaction(async (tx) => {
    await deps.keyring.destroy(tx, id);
    await tx.deleteBlobs(caller.tenantId, id);
    await tx.deleteVerification(caller.tenantId, id);
    await tx.appendAudit({
      id: newId('aud'),
      tenantId: caller.tenantId,
      verificationId: id,
      at,
      event: 'verification.deleted',
      actor: caller.apiKeyId,
      details: { previous_status: row.status as VerificationStatus, data_key_destroyed: true },
    });
  });
  await deps.blobs.deletePrefix(`${caller.tenantId}/${id}`);
  return { id, object: 'verification', deleted: true, deleted_at: at, data_key_destroyed: true };
}

export async function getAudit(deps: AppDeps, caller: Caller, id: string) {
  const events = await deps.store.listAudit(caller.tenantId, id);
  if (events.length === 0)
    throw new HuwiyaError('resource_not_found', `No verification ${id}.`, { param: 'id' });
  return {
    object: 'identity.audit_trail',
    verification_id: id,
    deleted: !(await deps.store.getVerification(caller.tenantId, id)),
    events: events.map((e) => ({
      id: e.id,
      timestamp: e.at,
      event: e.event,
      actor: e.actor,
      details: e.details,
    })),
  };
}
