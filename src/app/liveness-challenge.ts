import { randomBytes } from 'node:crypto';
import { HuwiyaError } from '../domain/errors.ts';
import {
  CHALLENGE_RULES,
  drawTurns,
  judgeChallenge,
  type ChallengeOutcome,
} from '../domain/liveness-challenge.ts';
import { cosine } from '../pipeline/face/embed.ts';
import { measureHeadTurns, type ChallengeFrame } from '../pipeline/face/measure-head-turns.ts';
import { decodeImage } from '../pipeline/image/decode.ts';
import type { SessionRecord } from '../ports/stores.ts';
import { analyzeSelfie } from './face-checks.ts';
import type { AppDeps } from './deps.ts';
import { newId } from './ids.ts';
import {
  assertOpen,
  challengeAttemptsLeft,
  openPrivate,
  readiness,
  sealPrivate,
  sessionBlobKey,
  sessionFor,
  type SessionAccess,
  type SessionPrivate,
} from './sessions.ts';
import { runAdmitted } from './admission.ts';

/** One frame of a challenge answer: the image, the instruction shown, when (ms since the start). */
export interface FrameInput {
  image: Uint8Array;
  step: number;
  t: number;
}

/** A frame is a small video still: 2 MB and 4 MP at most (the page sends about 60 kB at 640 px). */
const FRAME_LIMITS = { maxImageBytes: 2_000_000, maxImagePixels: 4_000_000 };

function presentChallenge(c: NonNullable<SessionPrivate['challenge']>, p: SessionPrivate) {
  return {
    id: c.id,
    object: 'identity.liveness_challenge',
    turns: c.turns,
    expires_at: c.expires_at,
    attempts_left: challengeAttemptsLeft(p),
    frames: {
      min: CHALLENGE_RULES.minFrames,
      max: CHALLENGE_RULES.maxFrames,
      max_bytes: FRAME_LIMITS.maxImageBytes,
    },
  };
}

type Tx = Parameters<Parameters<AppDeps['store']['transaction']>[0]>[0];

async function update(deps: AppDeps, tx: Tx, s: SessionRecord, p: SessionPrivate): Promise<void> {
  await tx.updateSession({ ...s, sealed: sealPrivate(deps, s, p), updatedAt: deps.now().toISOString() });
}

/** The session read again inside a transaction (access was checked on the way in). */
async function reread(tx: Tx, s: SessionRecord): Promise<SessionRecord> {
  const cur = await tx.getSession(s.tenantId, s.id);
  if (!cur) throw new HuwiyaError('resource_not_found', `No session ${s.id}.`, { param: 'id' });
  return cur;
}

/**
 * `POST /v1/identity/sessions/{id}/liveness-challenge`: a new challenge (the order of turns the person
 * must follow), replacing any unanswered one. Each counts as an attempt; three per session.
 */
export async function issueChallenge(deps: AppDeps, access: SessionAccess, id: string) {
  const found = await sessionFor(deps, access, id);
  return deps.store.transaction(async (tx) => {
    const s = await reread(tx, found);
    assertOpen(s);
    const p = openPrivate(deps, s);
    if (p.liveness_challenge !== 'on')
      throw new HuwiyaError('invalid_state', 'This session has no liveness challenge.', { param: 'id' });
    if (p.challenge_outcome?.status === 'passed')
      throw new HuwiyaError('invalid_state', 'The liveness challenge is already passed.', { param: 'id' });
    if (challengeAttemptsLeft(p) === 0)
      throw new HuwiyaError('invalid_state', 'No liveness challenge attempt is left in this session.', {
        param: 'id',
      });
    const now = deps.now();
    const challenge = {
      id: newId('lch'),
      turns: drawTurns(randomBytes(4).readUInt32BE(0)),
      issued_at: now.toISOString(),
      expires_at: new Date(now.getTime() + CHALLENGE_RULES.ttlSeconds * 1000).toISOString(),
      answered: false,
    };
    const next: SessionPrivate = { ...p, challenge, challenge_attempts: (p.challenge_attempts ?? 0) + 1 };
    await update(deps, tx, s, next);
    return presentChallenge(challenge, next);
  });
}

/**
 * `POST /v1/identity/sessions/{id}/liveness-challenge/{challenge_id}/frames`: judge the frames filmed
 * while the page showed the turns. The challenge is spent before the frames are judged, so the same
 * answer can never be judged twice; the outcome is kept with the session and carried by its verification.
 */
export async function answerChallenge(
  deps: AppDeps,
  access: SessionAccess,
  id: string,
  challengeId: string,
  frames: FrameInput[],
) {
  if (frames.length < CHALLENGE_RULES.minFrames || frames.length > CHALLENGE_RULES.maxFrames)
    throw new HuwiyaError(
      'invalid_parameter',
      `frames must hold ${CHALLENGE_RULES.minFrames} to ${CHALLENGE_RULES.maxFrames} images.`,
      { param: 'frames' },
    );
  const found = await sessionFor(deps, access, id);
  /** The challenge as it must be to be answered: this session's current one, unspent, in time, selfie in. */
  const usable = (s: SessionRecord) => {
    assertOpen(s);
    const p = openPrivate(deps, s);
    const c = p.challenge;
    if (!c || c.id !== challengeId)
      throw new HuwiyaError('resource_not_found', `No liveness challenge ${challengeId} in this session.`, {
        param: 'challenge_id',
      });
    if (c.answered)
      throw new HuwiyaError('invalid_state', 'This liveness challenge was already answered.', {
        param: 'challenge_id',
      });
    if (new Date(c.expires_at) <= deps.now())
      throw new HuwiyaError('invalid_state', 'This liveness challenge has expired; ask for a new one.', {
        param: 'challenge_id',
      });
    if (!s.uploads.selfie)
      throw new HuwiyaError('invalid_state', 'Upload the selfie before answering the liveness challenge.', {
        param: 'challenge_id',
      });
    return { p, c };
  };
  usable(found);
  // Every frame is decoded before the challenge is spent: a broken frame is a 400 that costs no attempt.
  const decoded = await runAdmitted(deps, async () => {
    const out: ChallengeFrame[] = [];
    for (const [i, f] of frames.entries()) {
      const d = await decodeImage(f.image, `frames[${i}].image`, FRAME_LIMITS);
      out.push({ image: d.image, step: f.step, t: f.t });
    }
    return out;
  });
  // Spent in a transaction, checked again inside it: two answers at once cannot both be judged.
  const { s, turns } = await deps.store.transaction(async (tx) => {
    const s = await reread(tx, found);
    const { p, c } = usable(s);
    await update(deps, tx, s, { ...p, challenge: { ...c, answered: true } });
    return { s, turns: c.turns };
  });
  const outcome = await deps.pipelineSlots.run(async () => {
    const measured = await measureHeadTurns(decoded, deps);
    const selfie = await sessionSelfie(deps, s);
    let samePerson: ChallengeOutcome['same_person'];
    if (measured.frontal && selfie) {
      const selfieFace = await analyzeSelfie(deps, selfie, { liveness: false });
      const frontalFace = await analyzeSelfie(deps, measured.frontal, { liveness: false });
      if (selfieFace && frontalFace) {
        samePerson = {
          similarity: Math.round(cosine(selfieFace.embedding, frontalFace.embedding) * 10000) / 10000,
          threshold: deps.manifest.thresholds.face_match_cosine,
        };
      }
    }
    return judgeChallenge(turns, measured.measures, measured.planar, samePerson, deps.now());
  });
  const after = await deps.store.transaction(async (tx) => {
    const cur = await reread(tx, found);
    const q = openPrivate(deps, cur);
    // A selfie uploaded meanwhile voided this challenge: its outcome is not kept.
    if (q.challenge?.id !== challengeId) return q;
    const next: SessionPrivate = { ...q, challenge_outcome: outcome };
    const steps = cur.status === 'pending' || cur.status === 'ready';
    await tx.updateSession({
      ...cur,
      sealed: sealPrivate(deps, cur, next),
      ...(steps ? { status: readiness(cur, next) } : {}),
      updatedAt: deps.now().toISOString(),
    });
    return next;
  });
  return {
    object: 'identity.liveness_challenge_result',
    challenge_id: challengeId,
    ...outcome,
    attempts_left: challengeAttemptsLeft(after),
  };
}

async function sessionSelfie(deps: AppDeps, s: SessionRecord) {
  const key = await deps.keyring.get(deps.store, s.id);
  const k = sessionBlobKey(s.tenantId, s.id, 'selfie');
  const sealed = key ? await deps.blobs.get(k) : undefined;
  if (!key || !sealed) return undefined;
  return (await decodeImage(key.open(sealed, `blob:${k}`), 'selfie', deps.limits)).image;
}
