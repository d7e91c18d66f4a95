import { HuwiyaError } from '../domain/errors.ts';
import type { AppDeps, Caller } from './deps.ts';
import { applyTransition } from './apply-transition.ts';
import { openVerificationDoc, type VerificationDoc } from './verification-doc.ts';

export type ManualDecision = 'verified' | 'rejected';

/**
 * A person's decision on a verification the policy sent to `review`: the only way out of that state
 * (domain transitions review → verified | rejected). The note stays inside the sealed record; the audit
 * keeps who decided, when, and the outcome; the completion event goes out as for any decision.
 */
export async function decideVerification(
  deps: AppDeps,
  caller: Caller,
  id: string,
  decision: ManualDecision,
  note?: string,
): Promise<VerificationDoc> {
  const key = await deps.keyring.get(deps.store, id);
  const at = deps.now().toISOString();
  const next = await deps.store.transaction(async (tx) => {
    const row = await tx.getVerification(caller.tenantId, id);
    if (!row?.sealed || !key)
      throw new HuwiyaError('resource_not_found', `No verification ${id}.`, { param: 'id' });
    const doc = openVerificationDoc(row, row.sealed, key, caller.tenantId);
    if (doc.status !== 'review')
      throw new HuwiyaError(
        'invalid_state',
        `Only a verification in review takes a manual decision; this one is ${doc.status}.`,
        { param: 'id' },
      );
    const decided: VerificationDoc = {
      ...doc,
      status: decision,
      updated_at: at,
      review: { decision, decided_at: at, decided_by: caller.apiKeyId, ...(note ? { note } : {}) },
    };
    await applyTransition(deps, tx, {
      tenantId: caller.tenantId,
      from: doc,
      next: decided,
      key,
      actor: caller.apiKeyId,
      details: { manual: true },
    });
    return decided;
  });
  deps.notifyJobs();
  return next;
}
