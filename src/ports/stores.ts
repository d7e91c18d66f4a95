import type { VerificationStatus } from '../domain/verification.ts';

/** Scopes an API key can carry (API.md). */
export const SCOPES = ['identity:read', 'identity:write', 'admin'] as const;
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
}

export interface IdempotencyRecord {
  tenantId: string;
  apiKeyId: string;
  endpoint: string;
  key: string;
  requestHash: string;
  state: 'in_progress' | 'done';
  statusCode: number | null;
  /** Encrypted response body. */
  sealedResponse: Buffer | null;
  createdAt: string;
  expiresAt: string;
}

/** The queries one transaction can make. Every call that reads tenant data takes the tenant id. */
export interface StoreTx {
  createTenant(t: Tenant): Promise<void>;
  getTenant(id: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;

  insertApiKey(k: ApiKeyRecord, hash: string): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(tenantId?: string): Promise<ApiKeyRecord[]>;
  revokeApiKey(id: string, at: string): Promise<boolean>;
  touchApiKey(id: string, at: string): Promise<void>;

  insertVerification(v: VerificationRow): Promise<void>;
  updateVerification(tenantId: string, v: VerificationRow): Promise<void>;
  getVerification(tenantId: string, id: string): Promise<VerificationRow | undefined>;
  listVerifications(
    tenantId: string,
    f: ListFilter,
  ): Promise<{ rows: VerificationRow[]; hasMore: boolean; total: number }>;
  deleteVerification(tenantId: string, id: string): Promise<boolean>;

  replaceChecks(tenantId: string, verificationId: string, checks: CheckRow[]): Promise<void>;

  appendAudit(e: AuditEvent): Promise<void>;
  listAudit(tenantId: string, verificationId: string): Promise<AuditEvent[]>;

  insertBlob(b: BlobRecord): Promise<void>;
  listBlobs(tenantId: string, verificationId: string): Promise<BlobRecord[]>;
  deleteBlobs(tenantId: string, verificationId: string): Promise<void>;

  putDataKey(ownerId: string, tenantId: string, wrapped: Buffer, at: string): Promise<void>;
  getDataKey(ownerId: string): Promise<Buffer | undefined>;
  deleteDataKey(ownerId: string): Promise<void>;

  getIdempotency(
    tenantId: string,
    apiKeyId: string,
    endpoint: string,
    key: string,
  ): Promise<IdempotencyRecord | undefined>;
  /** Inserts unless a live record exists; returns false when one does. */
  claimIdempotency(r: IdempotencyRecord): Promise<boolean>;
  finishIdempotency(r: IdempotencyRecord): Promise<void>;
  releaseIdempotency(tenantId: string, apiKeyId: string, endpoint: string, key: string): Promise<void>;
  purgeIdempotency(before: string): Promise<number>;
}

export interface Store extends StoreTx {
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Raw bytes by key (encrypted before they get here). */
export interface BlobStore {
  put(key: string, bytes: Buffer): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  deletePrefix(prefix: string): Promise<void>;
}
