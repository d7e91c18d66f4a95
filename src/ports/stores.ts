import type { VerificationStatus } from '../domain/verification.ts';

/** Scopes an API key can carry (API.md). */
/** `identity:review`: decide a verification in review by hand (a manual approval is more than a write). */
export const SCOPES = ['identity:read', 'identity:write', 'identity:review', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Tenant {
  id: string;
  name: string;
  createdAt: string;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  /** The visible start of the secret (`hw_live_abcd`), for people to recognise a key. */
  prefix: string;
  mode: 'live' | 'test';
  scopes: Scope[];
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** What is stored of a verification. Personal data lives only in `sealed` (encrypted with its data key). */
export interface VerificationRow {
  id: string;
  tenantId: string;
  status: VerificationStatus;
  documentType: string;
  country: string;
  mode: 'sync' | 'async';
  riskScore: number | null;
  riskLevel: string | null;
  createdAt: string;
  updatedAt: string;
  /** Encrypted JSON of the full public object (extracted data, checks, metadata). */
  sealed: Buffer | null;
  /** Integer number, unique in the installation (the DeepXL dialect's `verificationId`). */
  number: number;
}

export interface CheckRow {
  verificationId: string;
  name: string;
  status: string;
  confidence: number;
  /** Non-personal details (scores, thresholds, model versions). */
  details: Record<string, unknown>;
}

export interface AuditEvent {
  id: string;
  tenantId: string;
  verificationId: string;
  at: string;
  event: string;
  actor: string;
  /** Never personal data: ids, statuses, check outcomes, sizes. */
  details: Record<string, unknown>;
}

export interface BlobRecord {
  id: string;
  tenantId: string;
  verificationId: string;
  kind: 'document_front' | 'document_back' | 'selfie' | 'portrait';
  format: string;
  sizeBytes: number;
  createdAt: string;
}

export interface ListFilter {
  status?: VerificationStatus;
  documentType?: string;
  createdAfter?: string;
  createdBefore?: string;
  limit: number;
  /** Verification id cursors (newest first ordering). */
  startingAfter?: string;
  endingBefore?: string;
  /** Blind indexes of tags (`Keyring.blindIndex('tag', 'key=value')`), every one required. */
  tagHashes?: string[];
  /** Offset pagination with an explicit order (dialects that page by offset; cursors then unused). */
  offset?: number;
  order?: { by: 'created_at' | 'number'; direction: 'asc' | 'desc' };
}

/**
 * One verification's face in the duplicate index (ADR 0010): the sign sketch of its selfie's embedding
 * under the keyed rotation, the rotated embedding sealed, and keyed hashes of its identity data.
 */
export interface FaceIndexEntry {
  tenantId: string;
  verificationId: string;
  /** The verification's number (unique in the installation): the index row's id. */
  number: number;
  /** 64 bytes: one sign bit per dimension of the rotated embedding. */
  sketch: Uint8Array;
  /** The rotated embedding (float32), sealed with the verification's data key. */
  sealedEmbedding: Buffer;
  /** Keyed hash of name and date of birth, when they were read. */
  identityHash: string | null;
  createdAt: string;
}

export interface TenantSettingsRecord {
  tenantId: string;
  revision: number;
  /** JSON as validated by app/tenant-settings.ts (no personal data). */
  settings: Record<string, unknown>;
  createdAt: string;
  /** The API key that set it. */
  createdBy: string;
}

export interface SandboxSimulation {
  scenario: string;
  /** Verifications left to simulate; null: until changed or reset. */
  remaining: number | null;
  updatedAt: string;
}

export interface IdempotencyRecord {
  tenantId: string;
  apiKeyId: string;
  endpoint: string;
  key: string;
  requestHash: string;
  /** `deleted`: the verification the request created was deleted; a replay is refused, never answered. */
  state: 'in_progress' | 'done' | 'deleted';
  statusCode: number | null;
  /** Encrypted response body. */
  sealedResponse: Buffer | null;
  /** The verification the answer is about, when there is one. */
  subjectId?: string | null;
  createdAt: string;
  expiresAt: string;
}

/** The queries one transaction can make. Every call that reads tenant data takes the tenant id. */
export interface StoreTx extends JobStoreTx, WebhookStoreTx, SessionStoreTx, UploadStoreTx {
  createTenant(t: Tenant): Promise<void>;
  getTenant(id: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;

  insertApiKey(k: ApiKeyRecord, hash: string): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(tenantId?: string): Promise<ApiKeyRecord[]>;
  revokeApiKey(id: string, at: string): Promise<boolean>;
  touchApiKey(id: string, at: string): Promise<void>;

  /** The next verification number; call inside the transaction that inserts the verification. */
  allocateVerificationNumber(): Promise<number>;
  insertVerification(v: VerificationRow): Promise<void>;
  getVerificationByNumber(tenantId: string, number: number): Promise<VerificationRow | undefined>;
  insertTags(tenantId: string, verificationId: string, tagHashes: readonly string[]): Promise<void>;
  updateVerification(tenantId: string, v: VerificationRow): Promise<void>;
  getVerification(tenantId: string, id: string): Promise<VerificationRow | undefined>;
  listVerifications(
    tenantId: string,
    f: ListFilter,
  ): Promise<{ rows: VerificationRow[]; hasMore: boolean; total: number }>;
  /** Removes the verification with its checks, tags and face index row. */
  deleteVerification(tenantId: string, id: string): Promise<boolean>;

  /** Index (or re-index, on a retry) a verification's face. */
  putFace(f: FaceIndexEntry): Promise<void>;
  /** The tenant's `k` faces whose sketches are nearest `sketch` by Hamming distance, nearest first. */
  nearestFaces(
    tenantId: string,
    sketch: Uint8Array,
    k: number,
  ): Promise<(Omit<FaceIndexEntry, 'sketch'> & { distanceBits: number })[]>;

  replaceChecks(tenantId: string, verificationId: string, checks: CheckRow[]): Promise<void>;

  /** A tenant's settings at `revision`, or its latest; undefined when it never set any. */
  getTenantSettings(tenantId: string, revision?: number): Promise<TenantSettingsRecord | undefined>;
  /** Add a revision (the next number; the caller read the latest in the same transaction). */
  insertTenantSettings(r: TenantSettingsRecord): Promise<void>;
  /** Remove every face the tenant's verifications indexed (the face index switched off); how many. */
  deleteTenantFaces(tenantId: string): Promise<number>;

  /** The scenario a sandbox tenant simulates for verifications that name none (test keys only). */
  getSandboxSimulation(tenantId: string): Promise<SandboxSimulation | undefined>;
  /** Set (or with `undefined` clear) the sandbox tenant's simulated scenario. */
  setSandboxSimulation(tenantId: string, s: SandboxSimulation | undefined): Promise<void>;

  appendAudit(e: AuditEvent): Promise<void>;
  listAudit(tenantId: string, verificationId: string): Promise<AuditEvent[]>;

  insertBlob(b: BlobRecord): Promise<void>;
  listBlobs(tenantId: string, verificationId: string): Promise<BlobRecord[]>;
  deleteBlobs(tenantId: string, verificationId: string): Promise<void>;

  putDataKey(ownerId: string, tenantId: string, wrapped: Buffer, at: string): Promise<void>;
  getDataKey(ownerId: string): Promise<Buffer | undefined>;
  deleteDataKey(ownerId: string): Promise<void>;
  /** Every wrapped data key (a master-key rotation re-wraps them all in one transaction). */
  listDataKeys(): Promise<{ ownerId: string; wrapped: Buffer }[]>;
  replaceDataKey(ownerId: string, wrapped: Buffer): Promise<void>;
  /** A store-wide setting (the master key's id, the sealed root secret); undefined before its table exists. */
  getMeta(name: string): Promise<string | undefined>;
  setMeta(name: string, value: string): Promise<void>;

  getIdempotency(
    tenantId: string,
    apiKeyId: string,
    endpoint: string,
    key: string,
  ): Promise<IdempotencyRecord | undefined>;
  /** Inserts unless a live record exists; returns false when one does. */
  claimIdempotency(r: IdempotencyRecord): Promise<boolean>;
  /** Store the final answer of a claimed key. */
  finishIdempotency(
    r: Pick<IdempotencyRecord, 'tenantId' | 'apiKeyId' | 'endpoint' | 'key'>,
    statusCode: number,
    sealedResponse: Buffer,
    subjectId?: string,
  ): Promise<void>;
  /** Drop the stored answers about a deleted verification, keeping their keys refused. */
  forgetIdempotentAnswers(tenantId: string, subjectId: string): Promise<void>;
  releaseIdempotency(tenantId: string, apiKeyId: string, endpoint: string, key: string): Promise<void>;
  purgeIdempotency(before: string): Promise<number>;
}

export interface Store extends StoreTx {
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  /** The owner of some stored data key, if any (to test a master key against data stored before). */
  anyDataKeyOwner(): Promise<string | undefined>;
  /** Bring the schema up to date; the names of the migrations applied. */
  migrate(): Promise<string[]>;
  /** Make what deletions freed unreadable on disk (outside any transaction, after a deletion). */
  scrubFreedData(): Promise<void>;
  close(): Promise<void>;
}

/** Raw bytes by key (encrypted before they get here). */
export interface BlobStore {
  put(key: string, bytes: Buffer): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  deletePrefix(prefix: string): Promise<void>;
}

/** Job kinds; the worker refuses to start without a handler for each (STYLE.md §6). */
export const JOB_NAMES = [
  'verification.process',
  'webhook.deliver',
  'session.expire',
  'upload.expire',
] as const;
export type JobName = (typeof JOB_NAMES)[number];
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobRecord {
  id: string;
  name: JobName;
  tenantId: string;
  /** The object the job acts on (a verification id). */
  subjectId: string;
  payload: Record<string, unknown>;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  runAt: string;
  lockedBy: string | null;
  lockedUntil: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewJob {
  name: JobName;
  tenantId: string;
  subjectId: string;
  payload?: Record<string, unknown>;
  runAt?: string;
  maxAttempts?: number;
}

/** The durable queue's queries (embedded: the same SQLite database, so enqueues join the caller's transaction). */
export interface JobStoreTx {
  enqueueJob(job: NewJob, now: string): Promise<string>;
  /** Lock the next due job (queued, or running with an expired lease) for `workerId` until `lockedUntil`. */
  claimJob(
    names: readonly JobName[],
    workerId: string,
    now: string,
    lockedUntil: string,
  ): Promise<JobRecord | undefined>;
  finishJob(
    id: string,
    workerId: string,
    state: 'done' | 'failed' | 'cancelled',
    now: string,
    error?: string,
  ): Promise<boolean>;
  retryJobLater(id: string, workerId: string, runAt: string, now: string, error: string): Promise<boolean>;
  /** Heartbeat: push a running job's lease forward; false when the job is no longer this worker's. */
  extendJobLease(id: string, workerId: string, lockedUntil: string): Promise<boolean>;
  /** The workers holding a running job's lease now (expired or not). */
  listJobLeaseHolders(): Promise<string[]>;
  /** Make a dead worker's running jobs claimable at once instead of when their leases run out. */
  releaseJobLeases(workerId: string, now: string): Promise<number>;
  cancelJobsFor(tenantId: string, subjectId: string, now: string): Promise<number>;
  listJobsFor(tenantId: string, subjectId: string): Promise<JobRecord[]>;
  countJobs(state?: JobState): Promise<number>;
}

export interface WebhookEndpointRecord {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  description: string | null;
  status: 'active' | 'disabled';
  /** Encrypted JSON list of `{secret, created_at, expires_at}`: the newest signs first, old ones until they expire. */
  sealedSecrets: Buffer;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookEventRecord {
  id: string;
  tenantId: string;
  type: string;
  /** The verification or session the event is about. */
  subjectId: string;
  /** Encrypted envelope JSON (it carries the verification object). */
  sealedBody: Buffer;
  createdAt: string;
}

export type DeliveryState = 'pending' | 'delivered' | 'dead';

export interface WebhookDeliveryRecord {
  id: string;
  tenantId: string;
  eventId: string;
  /** The endpoint, or null for a per-request `webhook_url` (signed with the tenant's default secret). */
  endpointId: string | null;
  url: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookAttemptRecord {
  id: string;
  tenantId: string;
  deliveryId: string;
  attempt: number;
  at: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

export interface WebhookStoreTx {
  insertWebhookEndpoint(e: WebhookEndpointRecord): Promise<void>;
  updateWebhookEndpoint(e: WebhookEndpointRecord): Promise<void>;
  getWebhookEndpoint(tenantId: string, id: string): Promise<WebhookEndpointRecord | undefined>;
  listWebhookEndpoints(tenantId: string): Promise<WebhookEndpointRecord[]>;
  deleteWebhookEndpoint(tenantId: string, id: string): Promise<boolean>;
  getTenantWebhookSecret(tenantId: string): Promise<Buffer | undefined>;
  setTenantWebhookSecret(tenantId: string, sealed: Buffer, at: string): Promise<void>;
  insertWebhookEvent(e: WebhookEventRecord): Promise<void>;
  getWebhookEvent(tenantId: string, id: string): Promise<WebhookEventRecord | undefined>;
  /**
   * Erase the bodies of the events about these subjects (an empty body) and dead-letter their pending
   * deliveries: what a deleted verification's events said is no longer stored or sent.
   */
  forgetWebhookEvents(tenantId: string, subjectIds: string[], at: string): Promise<void>;
  insertWebhookDelivery(d: WebhookDeliveryRecord): Promise<void>;
  updateWebhookDelivery(d: WebhookDeliveryRecord): Promise<void>;
  getWebhookDelivery(tenantId: string, id: string): Promise<WebhookDeliveryRecord | undefined>;
  listWebhookDeliveries(
    tenantId: string,
    filter: { endpointId?: string; state?: DeliveryState; limit: number },
  ): Promise<WebhookDeliveryRecord[]>;
  insertWebhookAttempt(a: WebhookAttemptRecord): Promise<void>;
  listWebhookAttempts(tenantId: string, deliveryId: string): Promise<WebhookAttemptRecord[]>;
}

export type SessionStatus = 'pending' | 'ready' | 'completed' | 'expired';

export interface SessionRecord {
  id: string;
  tenantId: string;
  status: SessionStatus;
  documentType: string;
  country: string;
  /** Uploaded parts: `front`, `back`, `selfie` → quality score. */
  uploads: Record<string, { quality_score: number; format: string; bytes: number; uploaded_at: string }>;
  /** Encrypted JSON: checks, metadata, redirect_url, webhook_url, locale (may identify the person). */
  sealed: Buffer;
  clientTokenHash: string;
  verificationId: string | null;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
}

export interface SessionStoreTx {
  insertSession(s: SessionRecord): Promise<void>;
  updateSession(s: SessionRecord): Promise<void>;
  getSession(tenantId: string, id: string): Promise<SessionRecord | undefined>;
  /** Look a session up by its id alone, for client-token requests (the token is then checked against it). */
  getSessionForToken(id: string): Promise<SessionRecord | undefined>;
  /** Remove a session's row (its key and uploads are destroyed by the caller). */
  deleteSession(tenantId: string, id: string): Promise<void>;
  /** A tenant's sessions, newest first. */
  listSessions(
    tenantId: string,
    page: { limit: number; offset: number },
  ): Promise<{ rows: SessionRecord[]; total: number }>;
}

/** A file uploaded to a presigned URL; its bytes are in the blob store, sealed with the upload's own key. */
export interface UploadRecord {
  id: string;
  tenantId: string;
  contentType: string;
  byteLength: number;
  state: 'pending' | 'uploaded';
  /** After this the key no longer reads and the bytes are deleted. */
  expiresAt: string;
  createdAt: string;
}

export interface UploadStoreTx {
  insertUpload(u: UploadRecord): Promise<void>;
  /** Whatever its tenant: the caller tells another tenant's key (403) from its own. */
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /** pending → uploaded; false when it was not pending. */
  markUploaded(id: string): Promise<boolean>;
  deleteUpload(id: string): Promise<void>;
}
