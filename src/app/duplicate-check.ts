import type { CheckResult } from '../domain/verification.ts';
import {
  faceSketcher,
  packEmbedding,
  unpackEmbedding,
  type FaceSketcher,
} from '../pipeline/duplicates/face-sketch.ts';
import { cosine } from '../pipeline/face/embed.ts';
import type { Keyring } from '../ports/keyring.ts';
import type { StoreTx } from '../ports/stores.ts';
import type { AppDeps } from './deps.ts';

/** Verifications listed at most as earlier holders of one document number, or of one face. */
const MAX_MATCHES = 20;
/**
 * Nearest sketches whose exact cosine is computed. People's faces are not spread evenly (two strangers'
 * cosine varies by ±0.10), so among 1 M stored faces a same-person pair right at the threshold is often
 * missed by the 64 nearest sketches (`bench/duplicate-search.ts`, two runs: 54 of 60 planted pairs at
 * cosine 0.50 found) and rarely by the 256 nearest (60 and 57 of 60; all 60 at cosine 0.60 and above);
 * opening 256 sealed rows costs a few milliseconds.
 */
const CANDIDATES = 256;

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
 * Keyed hash of who the document says the holder is (surname, given names, date of birth; letters only,
 * upper case), to tell a returning customer (same face, same person on paper, perhaps a renewed card)
 * from the same face under another identity.
 */
export function identityIndex(
  deps: Pick<AppDeps, 'keyring'>,
  extracted: Readonly<Record<string, unknown>> | undefined,
): string | null {
  const letters = (v: unknown) =>
    typeof v === 'string'
      ? v
          .normalize('NFD')
          .replace(/[^A-Za-z]/g, '')
          .toUpperCase()
      : '';
  const last = letters(extracted?.last_name);
  const birth = typeof extracted?.date_of_birth === 'string' ? extracted.date_of_birth : '';
  if (!last || !birth) return null;
  return deps.keyring.blindIndex('identity', `${last}|${letters(extracted?.first_name)}|${birth}`);
}

const sketchers = new WeakMap<Keyring, FaceSketcher>();
/** The installation's keyed rotation (ADR 0010), derived from the master key. */
function sketcherOf(keyring: Keyring): FaceSketcher {
  let s = sketchers.get(keyring);
  if (!s) {
    s = faceSketcher(Buffer.from(keyring.blindIndex('face_sketch', 'rotation-v1'), 'hex'));
    sketchers.set(keyring, s);
  }
  return s;
}

const faceAad = (verificationId: string) => `face:${verificationId}`;

/**
 * Put a decided verification's selfie in the tenant's face index (ADR 0010): its sketch, its rotated
 * embedding sealed with the verification's own data key (destroyed on DELETE), and its identity hash.
 * Only verifications that requested `duplicate` are indexed.
 */
export async function indexFace(
  deps: Pick<AppDeps, 'keyring'>,
  tx: StoreTx,
  entry: {
    tenantId: string;
    verificationId: string;
    number: number;
    createdAt: string;
    embedding: Float32Array;
    extracted: Readonly<Record<string, unknown>> | undefined;
    key: { seal(plaintext: Buffer, aad: string): Buffer };
  },
): Promise<void> {
  const s = sketcherOf(deps.keyring);
  const rotated = s.rotate(entry.embedding);
  await tx.putFace({
    tenantId: entry.tenantId,
    verificationId: entry.verificationId,
    number: entry.number,
    sketch: s.sketch(rotated),
    sealedEmbedding: entry.key.seal(packEmbedding(rotated), faceAad(entry.verificationId)),
    identityHash: identityIndex(deps, entry.extracted),
    createdAt: entry.createdAt,
  });
}

export interface FaceMatch {
  verification_id: string;
  created_at: string;
  similarity: number;
  /** Whether that verification's document named the same person (surname, given names, birth date). */
  same_identity: boolean | null;
}

/**
 * The tenant's earlier verifications whose selfie is the same person as `embedding`: the nearest
 * sketches by Hamming distance, then the exact cosine of each (its data key opened; a verification
 * deleted meanwhile has none and is skipped) against the duplicate threshold.
 */
export async function searchFaces(
  deps: Pick<AppDeps, 'keyring' | 'store' | 'manifest'>,
  tenantId: string,
  embedding: Float32Array,
  identityHash: string | null,
  selfId?: string,
  k = CANDIDATES,
): Promise<FaceMatch[]> {
  const s = sketcherOf(deps.keyring);
  const rotated = s.rotate(embedding);
  const threshold = deps.manifest.thresholds.duplicate_face_cosine;
  const candidates = await deps.store.nearestFaces(tenantId, s.sketch(rotated), k);
  const matches: FaceMatch[] = [];
  for (const c of candidates) {
    if (c.verificationId === selfId) continue;
    const key = await deps.keyring.get(deps.store, c.verificationId);
    if (!key) continue;
    const similarity = cosine(
      rotated,
      unpackEmbedding(key.open(c.sealedEmbedding, faceAad(c.verificationId))),
    );
    if (similarity < threshold) continue;
    matches.push({
      verification_id: c.verificationId,
      created_at: c.createdAt,
      similarity: Math.round(similarity * 1e4) / 1e4,
      same_identity: identityHash && c.identityHash ? identityHash === c.identityHash : null,
    });
  }
  return matches.sort((a, b) => b.similarity - a.similarity).slice(0, MAX_MATCHES);
}

/**
 * The `duplicate` check: the tenant's earlier verifications of the same document (issuing country and
 * number), and of the same face. A document number seen before is not an attack by itself (a returning
 * customer verifies again), and neither is the same face under the same name and birth date; the same
 * face under another identity is the pattern of one person opening accounts under several.
 */
export async function duplicateCheck(
  deps: Pick<AppDeps, 'keyring' | 'store' | 'manifest'>,
  tenantId: string,
  selfId: string | undefined,
  extracted: Readonly<Record<string, unknown>> | undefined,
  selfieEmbedding: Float32Array | undefined,
  /** Why no face is searched when there is no embedding. */
  noFaceReason: string,
): Promise<CheckResult> {
  const hash = documentNumberIndex(deps, extracted);
  const matches = hash
    ? (await deps.store.listVerifications(tenantId, { tagHashes: [hash], limit: MAX_MATCHES + 1 })).rows
        .filter((r) => r.id !== selfId)
        .slice(0, MAX_MATCHES)
        .map((r) => ({ verification_id: r.id, created_at: r.createdAt, status: r.status }))
    : [];
  const identity = identityIndex(deps, extracted);
  const faceMatches = selfieEmbedding
    ? await searchFaces(deps, tenantId, selfieEmbedding, identity, selfId)
    : undefined;
  // Under another identity, or under one the document did not let us read (a person looks at it).
  const otherIdentity = (faceMatches ?? []).filter((m) => m.same_identity !== true);
  if (!hash && !faceMatches) return { status: 'skipped', confidence: 0, reason: 'nothing_to_compare' };
  const numberSeen = matches.length > 0;
  const faceSeen = otherIdentity.length > 0;
  return {
    status: numberSeen || faceSeen ? 'failed' : 'passed',
    confidence: 1,
    ...(faceSeen
      ? { reason: 'face_seen_with_other_identity' }
      : numberSeen
        ? { reason: 'document_number_seen_before' }
        : {}),
    matches,
    ...(faceMatches ? { face_matches: faceMatches } : {}),
    assessments: {
      document_number: hash
        ? { assessed: true, flagged: numberSeen, matches: matches.length }
        : { assessed: false, reason: 'no_document_number' },
      face: faceMatches
        ? {
            assessed: true,
            flagged: faceSeen,
            matches: faceMatches.length,
            other_identity: otherIdentity.length,
            threshold: deps.manifest.thresholds.duplicate_face_cosine,
          }
        : { assessed: false, reason: noFaceReason },
    },
  };
}
