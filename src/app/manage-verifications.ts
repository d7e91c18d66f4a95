import { HuwiyaError } from '../domain/errors.ts';
import type { VerificationStatus } from '../domain/verification.ts';
import type { ListFilter, StoreTx, VerificationRow } from '../ports/stores.ts';
import type { AppDeps, Caller, ImageField } from './deps.ts';
import { applyTransition } from './apply-transition.ts';
import { blobKey } from './verify.ts';
import { newId } from './ids.ts';
import { openVerificationDoc, type VerificationDoc } from './verification-doc.ts';

export async function getVerification(deps: AppDeps, caller: Caller, id: string): Promise<VerificationDoc> {
  return openOrNotFound(deps, caller, await deps.store.getVerification(caller.tenantId, id), id);
}

/** A row read for the caller, decrypted; missing, without a record or without its key, not found. */
async function openOrNotFound(
  deps: AppDeps,
  caller: Caller,
  row: VerificationRow | undefined,
  asked: string | number,
): Promise<VerificationDoc> {
  const key = row ? await deps.keyring.get(deps.store, row.id) : undefined;
  if (!row || !key || !row.sealed)
    throw new HuwiyaError('resource_not_found', `No verification ${asked}.`, { param: 'id' });
  return openVerificationDoc(row, row.sealed, key, caller.tenantId);
}

/** A verification by its integer number (the DeepXL dialect's id). */
export async function getVerificationByNumber(
  deps: AppDeps,
  caller: Caller,
  number: number,
): Promise<VerificationDoc> {
  return openOrNotFound(
    deps,
    caller,
    await deps.store.getVerificationByNumber(caller.tenantId, number),
    number,
  );
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
    data.push(openVerificationDoc(row, row.sealed, key, caller.tenantId));
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
  // The session a verification came from sent its result in its own event: that one goes too.
  const key = await deps.keyring.get(deps.store, id);
  const doc = key && row.sealed ? openVerificationDoc(row, row.sealed, key, caller.tenantId) : undefined;
  const sessionId = doc?.metadata?.session_id;
  const subjects = typeof sessionId === 'string' ? [id, sessionId] : [id];
  await deps.store.transaction(async (tx) => {
    // Nothing that repeats the verification survives it: stored idempotent answers, event bodies and
    // their pending deliveries (the audit tombstone below stays).
    await tx.forgetIdempotentAnswers(caller.tenantId, id);
    await tx.forgetWebhookEvents(caller.tenantId, subjects, at);
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
  await deps.store.scrubFreedData();
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

async function transition(
  deps: AppDeps,
  caller: Caller,
  id: string,
  from: readonly VerificationStatus[],
  to: VerificationStatus,
  event: string,
  effects: (tx: StoreTx, now: string) => Promise<void>,
): Promise<VerificationDoc> {
  const now = deps.now().toISOString();
  return deps.store.transaction(async (tx) => {
    const row = await tx.getVerification(caller.tenantId, id);
    const key = row ? await deps.keyring.get(tx, id) : undefined;
    if (!row || !key || !row.sealed)
      throw new HuwiyaError('resource_not_found', `No verification ${id}.`, { param: 'id' });
    if (!from.includes(row.status)) {
      throw new HuwiyaError(
        'invalid_state',
        `The verification is ${row.status}; this needs ${from.join(' or ')}.`,
        {
          param: 'id',
        },
      );
    }
    const doc = openVerificationDoc(row, row.sealed, key, caller.tenantId);
    const next: VerificationDoc = { ...doc, status: to, updated_at: now };
    if (to === 'pending') {
      // A retry starts from a clean slate: the previous outcome stays in the audit trail.
      next.checks = {};
      next.fraud_signals = [];
      next.risk_factors = [];
      delete next.risk_score;
      delete next.risk_level;
      delete next.error;
      delete next.policy_version;
    }
    await applyTransition(deps, tx, {
      tenantId: caller.tenantId,
      from: doc,
      next,
      key,
      actor: caller.apiKeyId,
      event,
    });
    await effects(tx, now);
    return next;
  });
}

/** POST …/cancel: a pending verification stops; its queued job is cancelled and a running one's result discarded. */
export async function cancelVerification(
  deps: AppDeps,
  caller: Caller,
  id: string,
): Promise<VerificationDoc> {
  return transition(deps, caller, id, ['pending'], 'cancelled', 'verification.cancelled', async (tx, now) => {
    await tx.cancelJobsFor(caller.tenantId, id, now);
  });
}

/** POST …/retry: an errored or rejected verification runs again on its stored images, asynchronously. */
export async function retryVerification(deps: AppDeps, caller: Caller, id: string): Promise<VerificationDoc> {
  const doc = await transition(
    deps,
    caller,
    id,
    ['error', 'rejected'],
    'pending',
    'verification.retried',
    async (tx, now) => {
      await tx.enqueueJob({ name: 'verification.process', tenantId: caller.tenantId, subjectId: id }, now);
    },
  );
  deps.notifyJobs();
  return doc;
}

/** A stored image of a verification, decrypted, with its format (404 when absent or deleted). */
export async function readVerificationImage(
  deps: AppDeps,
  caller: Caller,
  id: string,
  field: ImageField,
): Promise<{ bytes: Buffer; format: string }> {
  const blob = (await deps.store.listBlobs(caller.tenantId, id)).find((b) => b.kind === field);
  const key = blob ? await deps.keyring.get(deps.store, id) : undefined;
  const k = blobKey(caller.tenantId, id, field);
  const sealed = key ? await deps.blobs.get(k) : undefined;
  if (!blob || !key || !sealed)
    throw new HuwiyaError('resource_not_found', `No ${field} image for verification ${id}.`);
  return { bytes: key.open(sealed, `blob:${k}`), format: blob.format };
}
