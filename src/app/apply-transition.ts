import { assertTransition } from '../domain/verification.ts';
import type { DataKey } from '../ports/keyring.ts';
import type { StoreTx, VerificationRow } from '../ports/stores.ts';
import type { AppDeps } from './deps.ts';
import { newId } from './ids.ts';
import { docAad, presentVerification, type VerificationDoc } from './verification-doc.ts';
import { enqueueEvent, eventForStatus } from './webhooks.ts';

/** The store row of a verification record: its indexable columns beside the sealed record. */
export function rowOf(doc: VerificationDoc, tenantId: string, sealed: Buffer): VerificationRow {
  return {
    id: doc.id,
    tenantId,
    status: doc.status,
    documentType: doc.document_type,
    country: doc.country,
    mode: doc.mode,
    riskScore: doc.risk_score ?? null,
    riskLevel: doc.risk_level ?? null,
    createdAt: doc.created_at,
    updatedAt: doc.updated_at,
    sealed,
    number: doc.number ?? 0,
  };
}

export interface Transition {
  tenantId: string;
  /** The record as it stands (its status is where the transition starts). */
  from: VerificationDoc;
  /** The record after the transition (its status is where it ends). */
  next: VerificationDoc;
  key: DataKey;
  actor: string;
  /** Audit event name (default `status.changed`) and what it records beside `from` and `to`. */
  event?: string;
  details?: Record<string, unknown>;
  /** The record is not stored yet (a sync verification decided before its first write): insert it. */
  insert?: boolean;
}

/**
 * The one way a verification's status changes (STYLE.md §7): the domain's transition rule enforced, the
 * record sealed and its row written, the change appended to the audit trail and, for an outcome a
 * client is told about, its webhook event enqueued, all in the caller's transaction.
 */
export async function applyTransition(deps: AppDeps, tx: StoreTx, t: Transition): Promise<void> {
  await writeTransition(tx, t);
  await announceTransition(deps, tx, t);
}

/** The first half of a transition: the domain rule checked, the record sealed and its row written. */
export async function writeTransition(tx: StoreTx, t: Transition): Promise<void> {
  assertTransition(t.from.status, t.next.status);
  const { tenantId, next } = t;
  const sealed = t.key.seal(Buffer.from(JSON.stringify(next)), docAad(tenantId, next.id));
  if (t.insert) await tx.insertVerification(rowOf(next, tenantId, sealed));
  else await tx.updateVerification(tenantId, rowOf(next, tenantId, sealed));
}

/**
 * The second half: the change appended to the audit trail and, for an outcome a client is told about,
 * its webhook event enqueued. (A pipeline outcome records its checks between the two halves.)
 */
export async function announceTransition(deps: AppDeps, tx: StoreTx, t: Transition): Promise<void> {
  const { tenantId, next } = t;
  await tx.appendAudit({
    id: newId('aud'),
    tenantId,
    verificationId: next.id,
    at: next.updated_at,
    event: t.event ?? 'status.changed',
    actor: t.actor,
    details: { from: t.from.status, to: next.status, ...t.details },
  });
  const type = eventForStatus(next.status);
  if (type)
    await enqueueEvent(deps, tx, {
      tenantId,
      type,
      subjectId: next.id,
      data: presentVerification(next),
      requestUrl: next.webhook_url,
    });
}
