import type { Analyser } from '../ports/analyser.ts';
import type { AllowedTarget } from '../domain/network-targets.ts';
import type { WebhookSender } from '../ports/webhook-sender.ts';
import type { PolicySettings } from '../domain/risk-policy.ts';
import type { ModelManifest } from '../pipeline/face/model-manifest.ts';
import type { InferenceRunner } from '../ports/inference.ts';
import type { Keyring } from '../ports/keyring.ts';
import type { LineOcr } from '../ports/line-ocr.ts';
import type { BlobStore, Scope, Store } from '../ports/stores.ts';
import type { Semaphore } from './semaphore.ts';

/** Everything a use case may touch, wired once in main.ts. */
export interface AppDeps {
  store: Store;
  blobs: BlobStore;
  keyring: Keyring;
  inference: InferenceRunner;
  manifest: ModelManifest;
  /** The text recogniser's character set (models manifest asset). */
  charset: readonly string[];
  /** Line reader for the visual zone (Latin and Arabic). */
  lineOcr: LineOcr;
  /** Runs a verification's image checks (on analysis threads in the server). */
  analyser: Analyser;
  now: () => Date;
  /** Risk policy settings of this deployment. */
  policy: PolicySettings;
  limits: {
    maxImageBytes: number;
    maxImagePixels: number;
    syncTimeoutMs: number;
    /** Request-path runs that may wait for a pipeline slot; beyond, `server_busy` (HUWIYA_MAX_QUEUED). */
    maxQueued: number;
  };
  /** Slots for decode + inference work in this process. */
  pipelineSlots: Semaphore;
  /** Slots for decoding alone (a submission's images checked before it is stored and queued). */
  decodeSlots: Semaphore;
  webhooks: {
    scheduleMs: number[];
    timeoutMs: number;
    /** Internal receivers the operator allowed (HUWIYA_WEBHOOK_ALLOWED_TARGETS); private addresses otherwise refused. */
    allowedTargets: readonly AllowedTarget[];
  };
  webhookSender: WebhookSender;
  /** Wake this process's workers after a job was enqueued (no-op when none runs here). */
  notifyJobs: () => void;
}

/** Who is calling: resolved from the API key by the edge, passed to every use case. */
export interface Caller {
  /** Whose data the call works on: the key's tenant, or for a test key its sandbox (app/sandbox.ts). */
  tenantId: string;
  apiKeyId: string;
  scopes: Scope[];
  mode: 'live' | 'test';
}

export type ImageField = 'document_front' | 'document_back' | 'selfie';
