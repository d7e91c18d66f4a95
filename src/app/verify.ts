import { runAdmitted } from './admission.ts';
import { checkWebhookUrl } from './webhooks.ts';
import { HuwiyaError } from '../domain/errors.ts';
import { decide, type PolicySettings, type RiskAssessment } from '../domain/risk-policy.ts';
import { tenantConfig, type TenantConfig } from './tenant-settings.ts';
import { skipped, type CheckName, type CheckResult } from '../domain/verification.ts';
import type { StageTimes } from '../pipeline/face/analyze-face.ts';
import type { StoreTx } from '../ports/stores.ts';
import { decodeImage, type DecodedImage } from '../pipeline/image/decode.ts';
import type { Caller, AppDeps, ImageField } from './deps.ts';
import { faceModelVersions } from './face-checks.ts';
import {
  announceTransition,
  applyTransition,
  rowOf,
  writeTransition,
  type Transition,
} from './apply-transition.ts';
import { newId } from './ids.ts';
import { docAad, openVerificationDoc, type VerificationDoc } from './verification-doc.ts';
import { documentNumberIndex, duplicateCheck, indexFace } from './duplicate-check.ts';
import type { ChallengeOutcome } from '../domain/liveness-challenge.ts';
import { isSandboxTenant, sandboxPlan, simulateOutcome, type SandboxPlan } from './sandbox.ts';

export interface VerifyInput {
  images: Partial<Record<ImageField, Uint8Array>>;
  documentType: string;
  country: string;
  checks: CheckName[];
  mode: 'sync' | 'async';
  metadata: Record<string, unknown>;
  webhookUrl?: string;
  /** Names the images were uploaded under (multipart). */
  fileNames?: Partial<Record<ImageField, string>>;
  /** Key-value tags to filter lists by (kept in `metadata` by the dialect that has them; indexed blind). */
  tags?: Record<string, string>;
  /** The capture page's head-turn challenge, judged before the verification (sessions only). */
  livenessChallenge?: ChallengeOutcome;
}

const IMAGE_FIELDS: ImageField[] = ['document_front', 'document_back', 'selfie'];

export type Decoded = Partial<Record<ImageField, DecodedImage>>;
type Decoding = Partial<Record<ImageField, Promise<DecodedImage>>>;
type Checks = Partial<Record<CheckName, CheckResult>>;

/** Start decoding every image at once (libvips decodes in its own threads). */
function startDecoding(deps: Pick<AppDeps, 'limits'>, images: VerifyInput['images']): Decoding {
  const out: Decoding = {};
  for (const field of IMAGE_FIELDS) {
    const bytes = images[field];
    if (bytes) {
      const p = decodeImage(bytes, field, deps.limits);
      // Settled by whoever awaits it; a rejection here must not surface as unhandled meanwhile.
      p.catch(() => undefined);
      out[field] = p;
    }
  }
  return out;
}

async function settle(decoding: Decoding): Promise<Decoded> {
  const out: Decoded = {};
  // Every image is validated; the first bad one (in field order) is the error.
  const results = await Promise.allSettled(IMAGE_FIELDS.map((f) => decoding[f]));
  for (const [i, r] of results.entries()) {
    if (r.status === 'rejected') throw r.reason;
    if (r.value) out[IMAGE_FIELDS[i]!] = r.value;
  }
  return out;
}

export async function decodeAll(
  deps: Pick<AppDeps, 'limits'>,
  images: VerifyInput['images'],
): Promise<Decoded> {
  return settle(startDecoding(deps, images));
}

/**
 * Decode and run the checks in one pass for a sync request, in one pipeline slot. Bad input rejects with
 * the decoder's coded error.
 */
export async function analyzeNow(
  deps: AppDeps,
  input: VerifyInput & Pick<CheckRequest, 'tenant'>,
  times?: StageTimes,
): Promise<{ decoded: Decoded; outcome: CheckOutcome }> {
  if (!input.images.document_front) {
    throw new HuwiyaError('missing_parameter', 'document_front is required.', { param: 'document_front' });
  }
  return runAdmitted(deps, async () => {
    const decoded = await decodeAll(deps, input.images);
    return { decoded, outcome: await runChecks(deps, input, decoded, times) };
  });
}

export function blobKey(tenantId: string, verificationId: string, field: string): string {
  return `${tenantId}/${verificationId}/${field}`;
}

/** Blind index of one tag, as stored and as looked up by a list filter. */
export function tagHash(deps: Pick<AppDeps, 'keyring'>, key: string, value: string): string {
  return deps.keyring.blindIndex('tag', `${key}=${value}`);
}

/**
 * Validate every input, then store the pending verification and its encrypted images in one go:
 * a bad input stores nothing, and once this returns nothing is lost even if processing crashes.
 */
export async function createVerification(
  deps: AppDeps,
  caller: Caller,
  input: VerifyInput,
  options: {
    decoded?: Decoded;
    enqueue?: boolean;
    /** A sync request's outcome, already computed: the verification is written decided, in one go. */
    outcome?: { outcome: CheckOutcome; elapsedMs: number };
    /** The sandbox plan already resolved (sync path); resolved here otherwise. */
    sandbox?: SandboxPlan | null;
    /** The tenant's policy and switches, when already read (sync path). */
    tenant?: TenantConfig;
  } = {},
): Promise<{ doc: VerificationDoc; decoded: Decoded }> {
  const preDecoded = options.decoded;
  const enqueue = options.enqueue ?? input.mode === 'async';
  if (input.webhookUrl !== undefined) checkWebhookUrl(deps, input.webhookUrl, 'webhook_url');
  if (!input.images.document_front) {
    throw new HuwiyaError('missing_parameter', 'document_front is required.', { param: 'document_front' });
  }
  const sandbox =
    options.sandbox !== undefined
      ? (options.sandbox ?? undefined)
      : await planOf(deps, caller.tenantId, input);
  // Decoding to check the images is short: it has slots of its own, so an async submission (or a sync one
  // past its time limit) is stored at once instead of waiting behind every queued pipeline run.
  const decoded = preDecoded ?? (await deps.decodeSlots.run(() => decodeAll(deps, input.images)));
  const policy = options.outcome
    ? (options.tenant ?? (await tenantConfig(deps, caller.tenantId))).policy
    : undefined;
  const now = deps.now().toISOString();
  const id = newId('ver');
  const doc: VerificationDoc = {
    id,
    object: 'identity.verification',
    created_at: now,
    updated_at: now,
    status: 'pending',
    mode: input.mode,
    document_type: input.documentType,
    country: input.country,
    checks_requested: input.checks,
    checks: {},
    fraud_signals: [],
    risk_factors: [],
    metadata: input.metadata,
    input_files: Object.fromEntries(
      IMAGE_FIELDS.filter((f) => decoded[f]).map((f) => {
        const name = input.fileNames?.[f];
        return [
          f,
          {
            format: decoded[f]!.format,
            size_bytes: decoded[f]!.byteLength,
            ...(name ? { file_name: name } : {}),
          },
        ];
      }),
    ),
    webhook_url: input.webhookUrl,
    model_versions: faceModelVersions(deps),
    livemode: !isSandboxTenant(caller.tenantId),
    ...(sandbox ? { sandbox } : {}),
    ...(input.livenessChallenge ? { liveness_challenge: input.livenessChallenge } : {}),
  };
  const written: string[] = [];
  let decided: VerificationDoc | undefined;
  try {
    await deps.store.transaction(async (tx) => {
      const key = await deps.keyring.create(tx, id, caller.tenantId);
      for (const field of IMAGE_FIELDS) {
        const bytes = input.images[field];
        const info = decoded[field];
        if (!bytes || !info) continue;
        const k = blobKey(caller.tenantId, id, field);
        await deps.blobs.put(k, key.seal(Buffer.from(bytes), `blob:${k}`));
        written.push(k);
        await tx.insertBlob({
          id: newId('doc'),
          tenantId: caller.tenantId,
          verificationId: id,
          kind: field,
          format: info.format,
          sizeBytes: bytes.length,
          createdAt: now,
        });
      }
      doc.number = await tx.allocateVerificationNumber();
      // A sync outcome is decided before the first write: the row is inserted as decided (below).
      if (!options.outcome) {
        const sealed = key.seal(Buffer.from(JSON.stringify(doc)), docAad(caller.tenantId, id));
        await tx.insertVerification(rowOf(doc, caller.tenantId, sealed));
      }
      await tx.insertTags(
        caller.tenantId,
        id,
        Object.entries(input.tags ?? {}).map(([k, v]) => tagHash(deps, k, v)),
      );
      // Async: the job is written with the verification, so it cannot be lost or run for a phantom.
      if (enqueue) {
        await tx.enqueueJob({ name: 'verification.process', tenantId: caller.tenantId, subjectId: id }, now);
      }
      await tx.appendAudit({
        id: newId('aud'),
        tenantId: caller.tenantId,
        verificationId: id,
        at: now,
        event: 'verification.created',
        actor: caller.apiKeyId,
        details: {
          mode: input.mode,
          checks: input.checks,
          images: Object.fromEntries(
            Object.entries(decoded).map(([f, d]) => [
              f,
              { format: d.format, bytes: d.byteLength, width: d.originalWidth, height: d.originalHeight },
            ]),
          ),
        },
      });
      if (options.outcome) {
        decided = decidedDoc(deps, doc, options.outcome.outcome, policy!);
        await recordOutcome(deps, tx, {
          tenantId: caller.tenantId,
          from: doc,
          next: decided,
          key,
          actor: 'pipeline',
          elapsedMs: options.outcome.elapsedMs,
          selfieEmbedding: options.outcome.outcome.selfieEmbedding,
          insert: true,
        });
      }
    });
  } catch (e) {
    if (written.length > 0) await deps.blobs.deletePrefix(`${caller.tenantId}/${id}`).catch(() => undefined);
    throw e;
  }
  if (enqueue || decided) deps.notifyJobs();
  return { doc: decided ?? doc, decoded };
}

/** Load a verification's decoded images back from the encrypted store (async path, retries). */
async function loadDecoded(deps: AppDeps, tenantId: string, id: string): Promise<Decoded> {
  const key = await deps.keyring.get(deps.store, id);
  if (!key) throw new HuwiyaError('resource_not_found');
  const images: VerifyInput['images'] = {};
  for (const field of IMAGE_FIELDS) {
    const k = blobKey(tenantId, id, field);
    const sealed = await deps.blobs.get(k);
    if (sealed) images[field] = key.open(sealed, `blob:${k}`);
  }
  return decodeAll(deps, images);
}

/** A new verification's sandbox plan (test keys only; app/sandbox.ts). */
function planOf(deps: AppDeps, tenantId: string, input: VerifyInput): Promise<SandboxPlan | undefined> {
  return sandboxPlan(deps, tenantId, {
    metadata: input.metadata,
    checks: input.checks,
    hasSelfie: input.images.selfie !== undefined,
  });
}

export interface CheckRequest {
  checks: CheckName[];
  documentType: string;
  country: string;
  /**
   * Whose store the `duplicate` check looks in, and the verification itself (not its own duplicate).
   * Without it (the CLI has no tenant) that check answers `not_available`.
   */
  tenant?: {
    id: string;
    verificationId?: string;
    /** Whether the tenant indexes and searches selfies (its `duplicate.face_index` setting; default on). */
    faceIndex?: boolean;
    /** Whether liveness needs a passed head-turn challenge (its `liveness.require_challenge` setting). */
    requireLivenessChallenge?: boolean;
  };
  /** The head-turn challenge answered on the capture page, if any. */
  livenessChallenge?: ChallengeOutcome;
  /** A sandbox verification's scenario: its checks are simulated, no model runs. */
  sandbox?: SandboxPlan;
}

export interface CheckOutcome {
  checks: Checks;
  extracted?: Record<string, unknown>;
  /** The selfie's embedding when `duplicate` was requested: indexed with the decided verification. */
  selfieEmbedding?: Float32Array;
}

export async function runChecks(
  deps: AppDeps,
  request: CheckRequest,
  images: Decoded,
  times?: StageTimes,
): Promise<CheckOutcome> {
  if (request.sandbox) return simulated(deps, request, request.sandbox, images.selfie !== undefined);
  const requested = request.checks;
  const wantDuplicate = requested.includes('duplicate');
  const hasSelfie = images.selfie !== undefined;
  const faceIndex = request.tenant?.faceIndex !== false;
  const analysis = await deps.analyser.analyse(
    {
      checks: requested.filter((c) => c !== 'duplicate'),
      documentType: request.documentType,
      country: request.country,
      ...(request.livenessChallenge ? { livenessChallenge: request.livenessChallenge } : {}),
      requireLivenessChallenge: request.tenant?.requireLivenessChallenge ?? false,
      nowIso: deps.now().toISOString(),
      wantEmbedding: wantDuplicate && faceIndex,
    },
    images,
  );
  if (times)
    for (const [stage, ms] of Object.entries(analysis.times) as [keyof StageTimes, number][])
      times[stage] = (times[stage] ?? 0) + ms;
  const checks: Checks = analysis.checks;
  const extracted = analysis.extracted;
  const embedding = analysis.selfieEmbedding;
  if (wantDuplicate)
    checks.duplicate = request.tenant
      ? await duplicateCheck(
          deps,
          request.tenant.id,
          request.tenant.verificationId,
          extracted,
          faceIndex ? embedding : undefined,
          faceIndex ? (hasSelfie ? 'no_face_in_selfie' : 'selfie_missing') : 'face_index_off',
        )
      : skipped('not_available');
  return {
    checks,
    extracted,
    ...(wantDuplicate && embedding && faceIndex ? { selfieEmbedding: embedding } : {}),
  };
}

/**
 * A sandbox verification's outcome: its scenario's simulated checks; the duplicate check, unless the
 * scenario simulates it, looks the simulated document number up among the sandbox's verifications.
 */
async function simulated(
  deps: AppDeps,
  request: CheckRequest,
  plan: SandboxPlan,
  hasSelfie: boolean,
): Promise<CheckOutcome> {
  const out = simulateOutcome(plan, { ...request, hasSelfie }, deps.now());
  if (out.checks.duplicate && !plan.scenario.startsWith('duplicate_') && request.tenant) {
    const real = await duplicateCheck(
      deps,
      request.tenant.id,
      request.tenant.verificationId,
      out.extracted,
      undefined,
      'simulated_selfie',
    );
    out.checks.duplicate = { ...real, simulated: true };
  }
  return {
    checks: out.checks,
    ...(request.checks.includes('ocr') ? { extracted: out.extracted } : {}),
  };
}

/**
 * The decision on a pipeline outcome: the one policy call for the API, the worker and the CLI, with the
 * deployment's settings and the service's clock.
 */
export function decideOutcome(
  deps: Pick<AppDeps, 'now' | 'policy'>,
  requested: readonly CheckName[],
  outcome: CheckOutcome,
  /** The tenant's policy (app/tenant-settings.ts); the deployment's when there is no tenant (the CLI). */
  policy: PolicySettings = deps.policy,
): RiskAssessment {
  return decide({
    requested,
    checks: outcome.checks,
    extracted: outcome.extracted,
    today: deps.now(),
    settings: policy,
  });
}

function timeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * A verification answered in the request (every dialect's sync call): decode and analyse first, bounded
 * by the sync time limit, then store and decide. Past the limit the verification is stored with a job,
 * finishes in a worker, and the answer is the pending verification.
 */
export async function verifyNow(
  deps: AppDeps,
  caller: Caller,
  input: VerifyInput,
  /** How long the request already waited before the use case started (the sync limit counts from arrival). */
  options: { waitedMs?: number } = {},
): Promise<VerificationDoc> {
  if (input.webhookUrl !== undefined) checkWebhookUrl(deps, input.webhookUrl, 'webhook_url');
  const sandbox = (await planOf(deps, caller.tenantId, input)) ?? null;
  const tenant = await tenantConfig(deps, caller.tenantId);
  const analysis = analyzeNow(deps, {
    ...input,
    tenant: {
      id: caller.tenantId,
      faceIndex: tenant.faceIndex,
      requireLivenessChallenge: tenant.requireLivenessChallenge,
    },
    ...(sandbox ? { sandbox } : {}),
  });
  analysis.catch(() => undefined);
  const t0 = performance.now();
  const ready = await timeout(analysis, Math.max(0, deps.limits.syncTimeoutMs - (options.waitedMs ?? 0)));
  if (!ready) return (await createVerification(deps, caller, input, { enqueue: true, sandbox, tenant })).doc;
  const elapsedMs = Math.round(performance.now() - t0);
  const { doc } = await createVerification(deps, caller, input, {
    decoded: ready.decoded,
    outcome: { outcome: ready.outcome, elapsedMs },
    sandbox,
    tenant,
  });
  return doc;
}

/** The record once decided on an outcome (checks, extracted data, the policy's score and decision). */
function decidedDoc(
  deps: AppDeps,
  doc: VerificationDoc,
  outcome: CheckOutcome,
  policy: PolicySettings,
): VerificationDoc {
  const { checks, extracted } = outcome;
  const risk = decideOutcome(deps, doc.checks_requested, { checks, extracted }, policy);
  return {
    ...doc,
    ...(extracted ? { extracted_data: extracted } : {}),
    status: risk.decision,
    updated_at: deps.now().toISOString(),
    checks,
    risk_score: risk.risk_score,
    risk_level: risk.risk_level,
    fraud_signals: risk.fraud_signals,
    risk_factors: risk.risk_factors,
    policy_version: risk.policy_version,
  };
}

/** Store a decided (or errored) outcome: its checks, their audit entry, then the status transition. */
async function recordOutcome(
  deps: AppDeps,
  tx: StoreTx,
  t: Transition & { elapsedMs: number; selfieEmbedding?: Float32Array },
): Promise<void> {
  const { tenantId, next } = t;
  const id = next.id;
  const transition = { ...t, details: { risk_score: next.risk_score, risk_level: next.risk_level } };
  await writeTransition(tx, transition);
  // Every decided verification's document number is indexed (keyed hash), so later ones can find it.
  const numberIndex = documentNumberIndex(deps, next.extracted_data);
  if (numberIndex) await tx.insertTags(tenantId, id, [numberIndex]);
  // A selfie is indexed only when the verification asked for the duplicate check (ADR 0010).
  if (t.selfieEmbedding && next.number !== undefined)
    await indexFace(deps, tx, {
      tenantId,
      verificationId: id,
      number: next.number,
      createdAt: next.created_at,
      embedding: t.selfieEmbedding,
      extracted: next.extracted_data,
      key: t.key,
    });
  await tx.replaceChecks(
    tenantId,
    id,
    Object.entries(next.checks).map(([name, c]) => ({
      verificationId: id,
      name,
      status: c.status,
      confidence: c.confidence,
      details: { reason: c.reason ?? null, model_version: c.model_version ?? null },
    })),
  );
  await tx.appendAudit({
    id: newId('aud'),
    tenantId,
    verificationId: id,
    at: next.updated_at,
    event: 'checks.completed',
    actor: t.actor,
    details: {
      elapsed_ms: t.elapsedMs,
      checks: Object.fromEntries(
        Object.entries(next.checks).map(([n, c]) => [
          n,
          { status: c.status, confidence: c.confidence, reason: c.reason },
        ]),
      ),
      model_versions: next.model_versions,
      policy_version: next.policy_version,
      error: next.error?.code,
    },
  });
  await announceTransition(deps, tx, transition);
}

/** Run the pipeline on a pending verification and store its outcome through a transition. */
export async function processVerification(
  deps: AppDeps,
  tenantId: string,
  id: string,
  pre: { decoded?: Decoded } = {},
  actor = 'pipeline',
): Promise<VerificationDoc> {
  const row = await deps.store.getVerification(tenantId, id);
  const key = await deps.keyring.get(deps.store, id);
  if (!row || !key || !row.sealed) throw new HuwiyaError('resource_not_found');
  const doc = openVerificationDoc(row, row.sealed, key, tenantId);
  if (doc.status !== 'pending') return doc;
  let next: VerificationDoc;
  let selfieEmbedding: Float32Array | undefined;
  const t0 = performance.now();
  try {
    const tenant = await tenantConfig(deps, tenantId);
    const outcome = await deps.pipelineSlots.run(async () => {
      const decoded = pre.decoded ?? (await loadDecoded(deps, tenantId, id));
      return runChecks(
        deps,
        {
          checks: doc.checks_requested,
          documentType: doc.document_type,
          country: doc.country,
          tenant: {
            id: tenantId,
            verificationId: id,
            faceIndex: tenant.faceIndex,
            requireLivenessChallenge: tenant.requireLivenessChallenge,
          },
          ...(doc.liveness_challenge ? { livenessChallenge: doc.liveness_challenge } : {}),
          ...(doc.sandbox ? { sandbox: doc.sandbox } : {}),
        },
        decoded,
      );
    }, 'background');
    next = decidedDoc(deps, doc, outcome, tenant.policy);
    selfieEmbedding = outcome.selfieEmbedding;
  } catch (e) {
    const code = e instanceof HuwiyaError ? e.code : 'internal_error';
    next = {
      ...doc,
      status: 'error',
      updated_at: deps.now().toISOString(),
      error: {
        code,
        message: e instanceof HuwiyaError ? e.message : 'The pipeline failed on this verification.',
      },
    };
  }
  const elapsedMs = Math.round(performance.now() - t0);
  const written = await deps.store.transaction(async (tx) => {
    // Decided elsewhere meanwhile (cancelled, or another worker whose lease overlapped): keep that outcome.
    const current = await tx.getVerification(tenantId, id);
    if (!current || current.status !== 'pending') return false;
    await recordOutcome(deps, tx, { tenantId, from: doc, next, key, actor, elapsedMs, selfieEmbedding });
    return true;
  });
  if (written) deps.notifyJobs();
  if (!written) {
    const row = await deps.store.getVerification(tenantId, id);
    if (!row?.sealed) throw new HuwiyaError('resource_not_found');
    return openVerificationDoc(row, row.sealed, key, tenantId);
  }
  return next;
}

/**
 * A pending verification whose processing was given up (its job failed or kept crashing its worker):
 * `error`, with the failed event, so that nobody waits for an outcome that will not come.
 */
export async function failVerification(
  deps: AppDeps,
  tenantId: string,
  id: string,
  reason: string,
): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const row = await tx.getVerification(tenantId, id);
    if (!row?.sealed || row.status !== 'pending') return;
    const key = await deps.keyring.get(tx, id);
    if (!key) return;
    const doc = openVerificationDoc(row, row.sealed, key, tenantId);
    const next: VerificationDoc = {
      ...doc,
      status: 'error',
      updated_at: deps.now().toISOString(),
      error: {
        code: 'internal_error',
        message: 'Processing failed repeatedly and was abandoned; submit the verification again.',
      },
    };
    await applyTransition(deps, tx, {
      tenantId,
      from: doc,
      next,
      key,
      actor: 'worker',
      event: 'processing.abandoned',
      details: { reason },
    });
  });
  deps.notifyJobs();
}
