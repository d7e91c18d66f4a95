import type { CheckResult } from '../domain/verification.ts';
import type { AppDeps } from './deps.ts';

/** Verifications listed at most as earlier holders of one document number. */
const MAX_MATCHES = 20;

/**
 * The keyed hash under which a verification's document number is indexed: the issuing country and the
 * number, hashed with a key derived from the master key (never stored in clear; ADR 0009). It lives in
 * the verification's blind-index rows, which `DELETE` removes with the verification.
 */
export function documentNumberIndex(
  deps: Pick<AppDeps, 'keyring'>,
  extracted: Readonly<Record<string, unknown>> | undefined,
): string | undefined {
  const number = extracted?.document_number;
  if (typeof number !== 'string' || number.length < 4) return undefined;
  const country = typeof extracted?.issuing_country === 'string' ? extracted.issuing_country : '';
  return deps.keyring.blindIndex('document_number', `${country}|${number.toUpperCase()}`);
}

/**
 * The `duplicate` check, document-number part: the tenant's earlier verifications of the same document
 * (issuing country and number), each listed by id. A match is not an attack by itself (a returning
 * customer verifies again), so it is a factor for a person to look at. Face duplicates (the same face
 * under other identity data) are not built yet and say so.
 */
export async function duplicateCheck(
  deps: Pick<AppDeps, 'keyring' | 'store'>,
  tenantId: string,
  selfId: string | undefined,
  extracted: Readonly<Record<string, unknown>> | undefined,
): Promise<CheckResult> {
  const hash = documentNumberIndex(deps, extracted);
  if (!hash) return { status: 'skipped', confidence: 0, reason: 'no_document_number' };
  const { rows } = await deps.store.listVerifications(tenantId, {
    tagHashes: [hash],
    limit: MAX_MATCHES + 1,
  });
  const matches = rows
    .filter((r) => r.id !== selfId)
    .slice(0, MAX_MATCHES)
    .map((r) => ({ verification_id: r.id, created_at: r.createdAt, status: r.status }));
  return {
    status: matches.length ? 'failed' : 'passed',
    confidence: 1,
    ...(matches.length ? { reason: 'document_number_seen_before' } : {}),
    matches,
    assessments: {
      document_number: { assessed: true, flagged: matches.length > 0, matches: matches.length },
      face: { assessed: false, reason: 'not_built' },
    },
  };
}
