import { checkWebhookUrl } from './webhooks.ts';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HuwiyaError } from '../domain/errors.ts';
import { DEFAULT_CHECKS, type CheckName } from '../domain/verification.ts';
import { decodeImage } from '../pipeline/image/decode.ts';
import type { SessionRecord } from '../ports/stores.ts';
import type { AppDeps, Caller, ImageField } from './deps.ts';
import { newId } from './ids.ts';
import { presentVerification } from './verification-doc.ts';
import { gradeImage } from './face-services.ts';
import { createVerification } from './verify.ts';
import { isSandboxTenant } from './sandbox.ts';
import { enqueueEvent } from './webhooks.ts';
import {
  CHALLENGE_RULES,
  notAnswered,
  type ChallengeOutcome,
  type TurnDirection,
} from '../domain/liveness-challenge.ts';
import { runAdmitted } from './admission.ts';

export type SessionPart = 'front' | 'back' | 'selfie';
/** What a session asks for: its images, and the head-turn challenge when it is on. */
export type SessionStep = SessionPart | 'liveness_challenge';
const FIELD: Record<SessionPart, ImageField> = {
  front: 'document_front',
  back: 'document_back',
  selfie: 'selfie',
};

/** TXCloud: sessions expire after 15 minutes by default. */
export const DEFAULT_SESSION_TTL_SECONDS = 900;

/** Who acts on a session: an API key of its tenant, or the session's own client token (capture page). */
export type SessionAccess =
  { kind: 'key'; caller: Caller } | { kind: 'client'; sessionId: string; token: string };

export interface SessionPrivate {
  checks: CheckName[];
  metadata: Record<string, unknown>;
  redirect_url?: string;
  webhook_url?: string;
  locale: string;
  /** The capture page's head-turn challenge (app/liveness-challenge.ts); absent in older sessions: off. */
  liveness_challenge?: 'on' | 'off';
  challenge?: IssuedChallenge;
  challenge_attempts?: number;
  challenge_outcome?: ChallengeOutcome;
}

export interface IssuedChallenge {
  id: string;
  turns: TurnDirection[];
  issued_at: string;
  expires_at: string;
  /** Answered once: a second answer, even of the same frames, is refused. */
  answered: boolean;
}

/** The document sides a type needs: a passport page has no back; cards do (the back carries the MRZ). */
export function sidesFor(documentType: string): SessionPart[] {
  return documentType === 'passport' ? ['front'] : ['front', 'back'];
}

function requiredParts(documentType: string, checks: CheckName[]): SessionPart[] {
  const parts = sidesFor(documentType);
  if (checks.includes('face_match') || checks.includes('liveness')) parts.push('selfie');
  return parts;
}

/** The steps a session needs: its parts, then the challenge when on (answered, passed or not, it is done). */
function requiredSteps(s: SessionRecord, p: SessionPrivate): SessionStep[] {
  const steps: SessionStep[] = requiredParts(s.documentType, p.checks);
  if (p.liveness_challenge === 'on') steps.push('liveness_challenge');
  return steps;
}

function stepDone(s: SessionRecord, p: SessionPrivate, step: SessionStep): boolean {
  return step === 'liveness_challenge' ? p.challenge_outcome !== undefined : !!s.uploads[step];
}

/** A session is ready when every step is done (the page may complete it). */
export function readiness(s: SessionRecord, p: SessionPrivate): 'ready' | 'pending' {
  return requiredSteps(s, p).every((x) => stepDone(s, p, x)) ? 'ready' : 'pending';
}

/** Whether a session's challenge can still be tried: on, not passed, attempts left. */
export function challengeAttemptsLeft(p: SessionPrivate): number {
  if (p.liveness_challenge !== 'on' || p.challenge_outcome?.status === 'passed') return 0;
  return Math.max(0, CHALLENGE_RULES.maxAttempts - (p.challenge_attempts ?? 0));
}

const hashToken = (t: string) => createHash('sha256').update(t).digest('hex');
const sealedAad = (tenantId: string, id: string) => `session:${tenantId}:${id}`;
export const sessionBlobKey = (tenantId: string, id: string, part: SessionPart) =>
  `${tenantId}/${id}/${part}`;

export function openPrivate(deps: AppDeps, s: SessionRecord): SessionPrivate {
  return JSON.parse(
    deps.keyring.systemKey('sessions').open(s.sealed, sealedAad(s.tenantId, s.id)).toString('utf8'),
  ) as SessionPrivate;
}

export function sealPrivate(
  deps: AppDeps,
  s: Pick<SessionRecord, 'tenantId' | 'id'>,
  p: SessionPrivate,
): Buffer {
  return deps.keyring.systemKey('sessions').seal(Buffer.from(JSON.stringify(p)), sealedAad(s.tenantId, s.id));
}

export function presentSession(
  deps: AppDeps,
  s: SessionRecord,
  extra: { url?: string; client_token?: string } = {},
) {
  const p = openPrivate(deps, s);
  const parts = requiredParts(s.documentType, p.checks);
  const steps = requiredSteps(s, p);
  const docs = sidesFor(s.documentType).map((side) => ({
    side,
    uploaded: !!s.uploads[side],
    quality_score: s.uploads[side]?.quality_score,
  }));
  return {
    id: s.id,
    object: 'identity.session',
    status: s.status,
    document_type: s.documentType,
    country: s.country,
    checks: p.checks,
    documents: docs,
    selfie_required: parts.includes('selfie'),
    selfie_uploaded: !!s.uploads.selfie,
    required: steps,
    missing: steps.filter((x) => !stepDone(s, p, x)),
    liveness_challenge: {
      mode: p.liveness_challenge ?? 'off',
      ...(p.challenge_outcome
        ? { status: p.challenge_outcome.status, reason: p.challenge_outcome.reason }
        : { status: 'not_taken' }),
      attempts_left: challengeAttemptsLeft(p),
    },
    locale: p.locale,
    redirect_url: p.redirect_url,
    metadata: p.metadata,
    verification_id: s.verificationId ?? undefined,
    expires_at: s.expiresAt,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    ...extra,
  };
}

export interface CreateSessionInput {
  documentType: string;
  country: string;
  checks?: CheckName[];
  metadata?: Record<string, unknown>;
  expiresInSeconds?: number;
  redirectUrl?: string;
  webhookUrl?: string;
  locale?: string;
  /** The head-turn challenge on the capture page: on by default when liveness is checked. */
  livenessChallenge?: 'on' | 'off';
}

/**
 * Where the capture page sends the end user when done: a web address only. A `javascript:` or `data:` URL
 * would run in the page's origin, next to the client token.
 */
function checkRedirectUrl(url: string): void {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:'))
    throw new HuwiyaError('invalid_parameter', 'redirect_url must be an http or https URL.', {
      param: 'redirect_url',
    });
}

export async function createSession(
  deps: AppDeps,
  caller: Caller,
  input: CreateSessionInput,
  baseUrl: string,
) {
  const now = deps.now();
  const id = newId('ses');
  const token = `cst_${randomBytes(24).toString('base64url')}`;
  const ttl = input.expiresInSeconds ?? DEFAULT_SESSION_TTL_SECONDS;
  const checks = input.checks ?? [...DEFAULT_CHECKS];
  if (input.livenessChallenge === 'on' && !checks.includes('liveness'))
    throw new HuwiyaError('invalid_parameter', 'liveness_challenge "on" needs the liveness check.', {
      param: 'liveness_challenge',
    });
  if (input.webhookUrl !== undefined) checkWebhookUrl(deps, input.webhookUrl, 'webhook_url');
  if (input.redirectUrl !== undefined) checkRedirectUrl(input.redirectUrl);
  const priv: SessionPrivate = {
    checks,
    metadata: input.metadata ?? {},
    redirect_url: input.redirectUrl,
    webhook_url: input.webhookUrl,
    locale: input.locale ?? 'en',
    liveness_challenge: input.livenessChallenge ?? (checks.includes('liveness') ? 'on' : 'off'),
  };
  const s: SessionRecord = {
    id,
    tenantId: caller.tenantId,
    status: 'pending',
    documentType: input.documentType,
    country: input.country,
    uploads: {},
    sealed: sealPrivate(deps, { tenantId: caller.tenantId, id }, priv),
    clientTokenHash: hashToken(token),
    verificationId: null,
    expiresAt: new Date(now.getTime() + ttl * 1000).toISOString(),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  await deps.store.transaction(async (tx) => {
    await tx.insertSession(s);
    await deps.keyring.create(tx, id, caller.tenantId);
    await tx.enqueueJob(
      { name: 'session.expire', tenantId: caller.tenantId, subjectId: id, runAt: s.expiresAt },
      s.createdAt,
    );
  });
  // The token travels in the fragment: browsers never send it to a server or in a Referer.
  return presentSession(deps, s, { url: `${baseUrl}/capture/${id}#token=${token}`, client_token: token });
}

/**
 * Whether a client token opens this session: checked on the headers, before any body is read, so a
 * guessed token costs the guesser (its own rate budget) and never the end user's.
 */
export async function clientTokenMatches(deps: AppDeps, sessionId: string, token: string): Promise<boolean> {
  const s = sessionId ? await deps.store.getSessionForToken(sessionId) : undefined;
  return !!s && opensSession(s, token);
}

/** The token's hash against the session's, in constant time. */
function opensSession(s: SessionRecord, token: string): boolean {
  const a = Buffer.from(hashToken(token));
  return a.length === s.clientTokenHash.length && timingSafeEqual(a, Buffer.from(s.clientTokenHash));
}

/** Resolve an access to its session, enforcing tenant scope or the client token. */
export async function sessionFor(deps: AppDeps, access: SessionAccess, id: string): Promise<SessionRecord> {
  let s: SessionRecord | undefined;
  if (access.kind === 'key') s = await deps.store.getSession(access.caller.tenantId, id);
  else if (access.sessionId === id) {
    s = await deps.store.getSessionForToken(id);
    if (s && !opensSession(s, access.token)) s = undefined;
  }
  if (!s) throw new HuwiyaError('resource_not_found', `No session ${id}.`, { param: 'id' });
  return withExpiry(deps, s);
}

/** Expiry is enforced on access too (the expiry job may not have run yet). */
async function withExpiry(deps: AppDeps, s: SessionRecord): Promise<SessionRecord> {
  if ((s.status === 'pending' || s.status === 'ready') && new Date(s.expiresAt) <= deps.now()) {
    await expireSession(deps, s.tenantId, s.id);
    return (await deps.store.getSession(s.tenantId, s.id)) ?? s;
  }
  return s;
}

/** What the end user's phone (the client token) may see of its session: what the capture page needs. */
const CLIENT_VIEW = [
  'id',
  'object',
  'status',
  'document_type',
  'country',
  'documents',
  'selfie_required',
  'selfie_uploaded',
  'required',
  'missing',
  'liveness_challenge',
  'locale',
  'redirect_url',
  'expires_at',
] as const;

/** A session view cut to the client token's whitelist (never the integrator's metadata or checks). */
export function clientView(view: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(CLIENT_VIEW.filter((k) => view[k] !== undefined).map((k) => [k, view[k]]));
}

export async function getSession(deps: AppDeps, access: SessionAccess, id: string) {
  return presentSession(deps, await sessionFor(deps, access, id));
}

export function assertOpen(s: SessionRecord): void {
  if (s.status === 'expired')
    throw new HuwiyaError('invalid_state', 'The session has expired.', { param: 'id' });
  if (s.status === 'completed')
    throw new HuwiyaError('invalid_state', 'The session is already completed.', { param: 'id' });
}

/** Upload one part: validated, graded with the same rules as POST /identity/validate, stored encrypted. */
export async function uploadSessionPart(
  deps: AppDeps,
  access: SessionAccess,
  id: string,
  part: SessionPart,
  bytes: Uint8Array,
) {
  const s = await sessionFor(deps, access, id);
  assertOpen(s);
  if (part !== 'selfie' && !sidesFor(s.documentType).includes(part)) {
    throw new HuwiyaError('invalid_parameter', `A ${s.documentType} has no ${part} side.`, { param: 'side' });
  }
  const { quality, issues, format } = await runAdmitted(deps, async () => {
    const d = await decodeImage(bytes, part === 'selfie' ? 'selfie' : 'image', deps.limits);
    const g = await gradeImage(deps, d, part === 'selfie' ? 'selfie' : 'document');
    return { quality: g.score, issues: g.issues, format: d.format };
  });
  const now = deps.now().toISOString();
  const key = await deps.keyring.get(deps.store, s.id);
  if (!key) throw new HuwiyaError('resource_not_found', `No session ${id}.`, { param: 'id' });
  const k = sessionBlobKey(s.tenantId, s.id, part);
  await deps.blobs.put(k, key.seal(Buffer.from(bytes), `blob:${k}`));
  const uploads = {
    ...s.uploads,
    [part]: { quality_score: quality, format, bytes: bytes.length, uploaded_at: now },
  };
  const priv = openPrivate(deps, s);
  // A new selfie voids a challenge answered against the previous one (its person was compared to it).
  const privNext: SessionPrivate =
    part === 'selfie' && priv.challenge_outcome
      ? { ...priv, challenge_outcome: undefined, challenge: undefined }
      : priv;
  const withUploads = { ...s, uploads };
  const next: SessionRecord = {
    ...withUploads,
    sealed: privNext === priv ? s.sealed : sealPrivate(deps, s, privNext),
    status: readiness(withUploads, privNext),
    updatedAt: now,
  };
  await deps.store.updateSession(next);
  return {
    ...presentSession(deps, next),
    upload: { side: part, quality_score: quality, issues },
  };
}

/** Complete: the uploads become a verification (run by a worker); the session's own copies are destroyed. */
export async function completeSession(deps: AppDeps, access: SessionAccess, id: string) {
  const s = await sessionFor(deps, access, id);
  assertOpen(s);
  const priv = openPrivate(deps, s);
  // The challenge is not a gate: a session completed without answering it carries `not_answered`,
  // which reviews (a page that cannot film, a person who gave up), so skipping it gains nothing.
  const missing = requiredSteps(s, priv).filter((x) => x !== 'liveness_challenge' && !stepDone(s, priv, x));
  if (missing.length > 0) {
    throw new HuwiyaError('invalid_state', `Upload ${missing.join(', ')} before completing the session.`, {
      param: 'side',
    });
  }
  const challengeOutcome: ChallengeOutcome | undefined =
    priv.challenge_outcome ?? (priv.liveness_challenge === 'on' ? notAnswered(deps.now()) : undefined);
  const key = await deps.keyring.get(deps.store, s.id);
  if (!key) throw new HuwiyaError('resource_not_found', `No session ${id}.`, { param: 'id' });
  const images: Partial<Record<ImageField, Uint8Array>> = {};
  for (const part of Object.keys(s.uploads) as SessionPart[]) {
    const k = sessionBlobKey(s.tenantId, s.id, part);
    const sealed = await deps.blobs.get(k);
    if (sealed) images[FIELD[part]] = key.open(sealed, `blob:${k}`);
  }
  const caller: Caller =
    access.kind === 'key'
      ? access.caller
      : {
          tenantId: s.tenantId,
          apiKeyId: `session:${s.id}`,
          scopes: ['identity:write'],
          mode: isSandboxTenant(s.tenantId) ? 'test' : 'live',
        };
  const { doc } = await createVerification(deps, caller, {
    images,
    documentType: s.documentType,
    country: s.country,
    checks: priv.checks,
    mode: 'async',
    metadata: { ...priv.metadata, session_id: s.id },
    webhookUrl: priv.webhook_url,
    ...(challengeOutcome ? { livenessChallenge: challengeOutcome } : {}),
  });
  const now = deps.now().toISOString();
  const next: SessionRecord = { ...s, status: 'completed', verificationId: doc.id, updatedAt: now };
  await deps.store.transaction(async (tx) => {
    await tx.updateSession(next);
    await enqueueEvent(deps, tx, {
      tenantId: s.tenantId,
      type: 'identity.session.completed',
      subjectId: s.id,
      data: { ...presentSession(deps, next), verification: presentVerification(doc) },
      requestUrl: priv.webhook_url,
    });
    await deps.keyring.destroy(tx, s.id);
  });
  deps.notifyJobs();
  await deps.blobs.deletePrefix(`${s.tenantId}/${s.id}`);
  return { verification: presentVerification(doc), session: presentSession(deps, next) };
}

/** The `session.expire` job (and lazy expiry on access): open sessions past their time become expired. */
export async function expireSession(deps: AppDeps, tenantId: string, id: string): Promise<boolean> {
  const now = deps.now();
  const expired = await deps.store.transaction(async (tx) => {
    const s = await tx.getSession(tenantId, id);
    if (!s || (s.status !== 'pending' && s.status !== 'ready') || new Date(s.expiresAt) > now) return false;
    const next: SessionRecord = { ...s, status: 'expired', updatedAt: now.toISOString() };
    await tx.updateSession(next);
    await enqueueEvent(deps, tx, {
      tenantId,
      type: 'identity.session.expired',
      subjectId: id,
      data: presentSession(deps, next),
      requestUrl: openPrivate(deps, s).webhook_url,
    });
    await deps.keyring.destroy(tx, s.id);
    return true;
  });
  if (expired) {
    deps.notifyJobs();
    await deps.blobs.deletePrefix(`${tenantId}/${id}`);
  }
  return expired;
}

/** A tenant's sessions, newest first (expiry applied on the way, as on every access). */
export async function listSessions(deps: AppDeps, caller: Caller, page: { limit: number; offset: number }) {
  const { rows, total } = await deps.store.listSessions(caller.tenantId, page);
  const data = [];
  for (const row of rows) data.push(presentSession(deps, await withExpiry(deps, row)));
  return { data, total };
}

/** What the hosted page needs to render (no secrets, no metadata). */
export async function sessionForPage(deps: AppDeps, id: string, token: string) {
  const s = await sessionFor(deps, { kind: 'client', sessionId: id, token }, id);
  const p = presentSession(deps, s);
  return {
    id: p.id,
    status: p.status,
    document_type: p.document_type,
    required: p.required,
    missing: p.missing,
    liveness_challenge: p.liveness_challenge,
    locale: p.locale,
    redirect_url: p.redirect_url,
    expires_at: p.expires_at,
  };
}
