import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { Kysely, Migrator, SqliteDialect, sql, type Transaction } from 'kysely';
import { randomBytes } from 'node:crypto';
import type {
  ApiKeyRecord,
  AuditEvent,
  BlobRecord,
  CheckRow,
  FaceIndexEntry,
  IdempotencyRecord,
  JobName,
  JobRecord,
  JobState,
  ListFilter,
  NewJob,
  SessionRecord,
  SessionStatus,
  DeliveryState,
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
  WebhookEventRecord,
  Store,
  StoreTx,
  Tenant,
  UploadRecord,
  SandboxSimulation,
  TenantSettingsRecord,
  VerificationRow,
} from '../../ports/stores.ts';
import type { VerificationStatus } from '../../domain/verification.ts';
import { migrationProvider } from './migrations.ts';

interface DB {
  tenants: { id: string; name: string; created_at: string };
  api_keys: {
    id: string;
    tenant_id: string;
    name: string;
    prefix: string;
    hash: string;
    mode: string;
    scopes: string;
    created_at: string;
    revoked_at: string | null;
    last_used_at: string | null;
  };
  verifications: {
    id: string;
    tenant_id: string;
    status: string;
    document_type: string;
    country: string;
    mode: string;
    risk_score: number | null;
    risk_level: string | null;
    created_at: string;
    updated_at: string;
    sealed: Buffer | null;
    number: number | null;
  };
  verification_tags: { tenant_id: string; verification_id: string; tag_hash: string };
  uploads: {
    id: string;
    tenant_id: string;
    content_type: string;
    byte_length: number;
    state: string;
    expires_at: string;
    created_at: string;
  };
  checks: {
    verification_id: string;
    tenant_id: string;
    name: string;
    status: string;
    confidence: number;
    details: string;
  };
  audit_events: {
    id: string;
    tenant_id: string;
    verification_id: string;
    at: string;
    event: string;
    actor: string;
    details: string;
  };
  blobs: {
    id: string;
    tenant_id: string;
    verification_id: string;
    kind: string;
    format: string;
    size_bytes: number;
    created_at: string;
  };
  data_keys: { owner_id: string; tenant_id: string; wrapped: Buffer; created_at: string };
  webhook_endpoints: {
    id: string;
    tenant_id: string;
    url: string;
    events: string;
    description: string | null;
    status: string;
    sealed_secrets: Buffer;
    created_at: string;
    updated_at: string;
  };
  tenant_webhook_secrets: { tenant_id: string; sealed_secret: Buffer; created_at: string };
  tenant_settings: {
    tenant_id: string;
    revision: number;
    settings: string;
    created_at: string;
    created_by: string;
  };
  sandbox_simulations: { tenant_id: string; scenario: string; remaining: number | null; updated_at: string };
  webhook_events: {
    id: string;
    tenant_id: string;
    type: string;
    subject_id: string;
    sealed_body: Buffer;
    created_at: string;
  };
  webhook_deliveries: {
    id: string;
    tenant_id: string;
    event_id: string;
    endpoint_id: string | null;
    url: string;
    state: string;
    attempts: number;
    next_attempt_at: string | null;
    last_status_code: number | null;
    last_error: string | null;
    delivered_at: string | null;
    created_at: string;
    updated_at: string;
  };
  webhook_attempts: {
    id: string;
    tenant_id: string;
    delivery_id: string;
    attempt: number;
    at: string;
    status_code: number | null;
    duration_ms: number;
    error: string | null;
  };
  sessions: {
    id: string;
    tenant_id: string;
    status: string;
    document_type: string;
    country: string;
    uploads: string;
    sealed: Buffer;
    client_token_hash: string;
    verification_id: string | null;
    expires_at: string;
    created_at: string;
    updated_at: string;
  };
  jobs: {
    id: string;
    name: string;
    tenant_id: string;
    subject_id: string;
    payload: string;
    state: string;
    attempts: number;
    max_attempts: number;
    run_at: string;
    locked_by: string | null;
    locked_until: string | null;
    last_error: string | null;
    created_at: string;
    updated_at: string;
  };
  idempotency_keys: {
    tenant_id: string;
    api_key_id: string;
    endpoint: string;
    key: string;
    request_hash: string;
    state: string;
    status_code: number | null;
    sealed_response: Buffer | null;
    subject_id: string | null;
    created_at: string;
    expires_at: string;
  };
}

type Q = Kysely<DB> | Transaction<DB>;

function toKey(r: DB['api_keys']): ApiKeyRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    prefix: r.prefix,
    mode: r.mode as ApiKeyRecord['mode'],
    scopes: JSON.parse(r.scopes) as ApiKeyRecord['scopes'],
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

function toVerification(r: DB['verifications']): VerificationRow {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    status: r.status as VerificationStatus,
    documentType: r.document_type,
    country: r.country,
    mode: r.mode as VerificationRow['mode'],
    riskScore: r.risk_score,
    riskLevel: r.risk_level,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    sealed: r.sealed ? Buffer.from(r.sealed) : null,
    number: r.number ?? 0,
  };
}

function fromVerification(v: VerificationRow): DB['verifications'] {
  return {
    id: v.id,
    tenant_id: v.tenantId,
    status: v.status,
    document_type: v.documentType,
    country: v.country,
    mode: v.mode,
    risk_score: v.riskScore,
    risk_level: v.riskLevel,
    created_at: v.createdAt,
    updated_at: v.updatedAt,
    sealed: v.sealed,
    number: v.number,
  };
}

function toIdem(r: DB['idempotency_keys']): IdempotencyRecord {
  return {
    tenantId: r.tenant_id,
    apiKeyId: r.api_key_id,
    endpoint: r.endpoint,
    key: r.key,
    requestHash: r.request_hash,
    state: r.state as IdempotencyRecord['state'],
    statusCode: r.status_code,
    sealedResponse: r.sealed_response ? Buffer.from(r.sealed_response) : null,
    subjectId: r.subject_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

function toJob(r: DB['jobs']): JobRecord {
  return {
    id: r.id,
    name: r.name as JobName,
    tenantId: r.tenant_id,
    subjectId: r.subject_id,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    state: r.state as JobState,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    runAt: r.run_at,
    lockedBy: r.locked_by,
    lockedUntil: r.locked_until,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toEndpoint(r: DB['webhook_endpoints']): WebhookEndpointRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    events: JSON.parse(r.events) as string[],
    description: r.description,
    status: r.status as WebhookEndpointRecord['status'],
    sealedSecrets: Buffer.from(r.sealed_secrets),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function fromEndpoint(e: WebhookEndpointRecord): DB['webhook_endpoints'] {
  return {
    id: e.id,
    tenant_id: e.tenantId,
    url: e.url,
    events: JSON.stringify(e.events),
    description: e.description,
    status: e.status,
    sealed_secrets: e.sealedSecrets,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}

function toDelivery(r: DB['webhook_deliveries']): WebhookDeliveryRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    url: r.url,
    state: r.state as DeliveryState,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function fromDelivery(d: WebhookDeliveryRecord): DB['webhook_deliveries'] {
  return {
    id: d.id,
    tenant_id: d.tenantId,
    event_id: d.eventId,
    endpoint_id: d.endpointId,
    url: d.url,
    state: d.state,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    delivered_at: d.deliveredAt,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}

function toSession(r: DB['sessions']): SessionRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    status: r.status as SessionStatus,
    documentType: r.document_type,
    country: r.country,
    uploads: JSON.parse(r.uploads) as SessionRecord['uploads'],
    sealed: Buffer.from(r.sealed),
    clientTokenHash: r.client_token_hash,
    verificationId: r.verification_id,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function fromSession(s: SessionRecord): DB['sessions'] {
  return {
    id: s.id,
    tenant_id: s.tenantId,
    status: s.status,
    document_type: s.documentType,
    country: s.country,
    uploads: JSON.stringify(s.uploads),
    sealed: s.sealed,
    client_token_hash: s.clientTokenHash,
    verification_id: s.verificationId,
    expires_at: s.expiresAt,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

/** The queries, over either the database or one transaction. */
class SqliteTx implements StoreTx {
  constructor(protected readonly q: Q) {}

  async createTenant(t: Tenant) {
    await this.q.insertInto('tenants').values({ id: t.id, name: t.name, created_at: t.createdAt }).execute();
  }
  async getTenant(id: string) {
    const r = await this.q.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? { id: r.id, name: r.name, createdAt: r.created_at } : undefined;
  }
  async listTenants() {
    const rows = await this.q.selectFrom('tenants').selectAll().orderBy('created_at').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
  }

  async insertApiKey(k: ApiKeyRecord, hash: string) {
    await this.q
      .insertInto('api_keys')
      .values({
        id: k.id,
        tenant_id: k.tenantId,
        name: k.name,
        prefix: k.prefix,
        hash,
        mode: k.mode,
        scopes: JSON.stringify(k.scopes),
        created_at: k.createdAt,
        revoked_at: k.revokedAt,
        last_used_at: k.lastUsedAt,
      })
      .execute();
  }
  async findApiKeyByHash(hash: string) {
    const r = await this.q.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
    return r ? toKey(r) : undefined;
  }
  async listApiKeys(tenantId?: string) {
    let q = this.q.selectFrom('api_keys').selectAll();
    if (tenantId) q = q.where('tenant_id', '=', tenantId);
    return (await q.orderBy('created_at').execute()).map(toKey);
  }
  async revokeApiKey(id: string, at: string) {
    const r = await this.q
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
  async touchApiKey(id: string, at: string) {
    await this.q.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async allocateVerificationNumber() {
    // Inside the caller's transaction: SQLite runs one writer at a time, and the unique index backs it.
    const r = await this.q
      .selectFrom('verifications')
      .select((eb) => eb.fn.max('number').as('n'))
      .executeTakeFirst();
    return Number(r?.n ?? 0) + 1;
  }
  async insertVerification(v: VerificationRow) {
    await this.q.insertInto('verifications').values(fromVerification(v)).execute();
  }
  async getVerificationByNumber(tenantId: string, number: number) {
    const r = await this.q
      .selectFrom('verifications')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('number', '=', number)
      .executeTakeFirst();
    return r ? toVerification(r) : undefined;
  }
  async insertTags(tenantId: string, verificationId: string, tagHashes: readonly string[]) {
    if (tagHashes.length === 0) return;
    await this.q
      .insertInto('verification_tags')
      .values(
        [...new Set(tagHashes)].map((h) => ({
          tenant_id: tenantId,
          verification_id: verificationId,
          tag_hash: h,
        })),
      )
      // A retried verification indexes its document number again.
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  async updateVerification(tenantId: string, v: VerificationRow) {
    const { id: _id, tenant_id: _t, created_at: _c, number: _n, ...rest } = fromVerification(v);
    await this.q
      .updateTable('verifications')
      .set(rest)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', v.id)
      .execute();
  }
  async getVerification(tenantId: string, id: string) {
    const r = await this.q
      .selectFrom('verifications')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return r ? toVerification(r) : undefined;
  }
  async listVerifications(tenantId: string, f: ListFilter) {
    let base = this.q.selectFrom('verifications').where('tenant_id', '=', tenantId);
    if (f.status) base = base.where('status', '=', f.status);
    if (f.documentType) base = base.where('document_type', '=', f.documentType);
    if (f.createdAfter) base = base.where('created_at', '>', f.createdAfter);
    if (f.createdBefore) base = base.where('created_at', '<', f.createdBefore);
    for (const h of f.tagHashes ?? [])
      base = base.where('id', 'in', (eb) =>
        eb
          .selectFrom('verification_tags')
          .select('verification_id')
          .where('tenant_id', '=', tenantId)
          .where('tag_hash', '=', h),
      );
    const totalRow = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    let page = base.selectAll();
    // Newest first; ties on created_at broken by id so the order is total and cursors are exact.
    if (f.startingAfter) {
      const c = await this.getVerification(tenantId, f.startingAfter);
      if (c)
        page = page.where((eb) =>
          eb.or([
            eb('created_at', '<', c.createdAt),
            eb.and([eb('created_at', '=', c.createdAt), eb('id', '<', c.id)]),
          ]),
        );
    }
    if (f.endingBefore) {
      const c = await this.getVerification(tenantId, f.endingBefore);
      if (c) {
        const rows = await page
          .where((eb) =>
            eb.or([
              eb('created_at', '>', c.createdAt),
              eb.and([eb('created_at', '=', c.createdAt), eb('id', '>', c.id)]),
            ]),
          )
          .orderBy('created_at', 'asc')
          .orderBy('id', 'asc')
          .limit(f.limit + 1)
          .execute();
        const hasMore = rows.length > f.limit;
        return {
          rows: rows.slice(0, f.limit).reverse().map(toVerification),
          hasMore,
          total: Number(totalRow?.n ?? 0),
        };
      }
    }
    const by = f.order?.by ?? 'created_at';
    const direction = f.order?.direction ?? 'desc';
    const rows = await page
      .orderBy(by, direction)
      .orderBy('id', direction)
      .limit(f.limit + 1)
      .offset(f.offset ?? 0)
      .execute();
    return {
      rows: rows.slice(0, f.limit).map(toVerification),
      hasMore: rows.length > f.limit,
      total: Number(totalRow?.n ?? 0),
    };
  }
  async deleteVerification(tenantId: string, id: string) {
    const row = await this.q
      .selectFrom('verifications')
      .select('number')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (row?.number != null)
      await sql`delete from face_index where rowid = ${BigInt(row.number)}`.execute(this.q);
    await this.q
      .deleteFrom('verification_tags')
      .where('tenant_id', '=', tenantId)
      .where('verification_id', '=', id)
      .execute();
    await this.q
      .deleteFrom('checks')
      .where('tenant_id', '=', tenantId)
      .where('verification_id', '=', id)
      .execute();
    const r = await this.q
      .deleteFrom('verifications')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async putFace(f: FaceIndexEntry) {
    // vec0 has no upsert: a retried verification replaces its row.
    await sql`delete from face_index where rowid = ${BigInt(f.number)}`.execute(this.q);
    await sql`insert into face_index (rowid, tenant_id, sketch, verification_id, sealed_embedding,
      identity_hash, created_at)
      values (${BigInt(f.number)}, ${f.tenantId}, vec_bit(${Buffer.from(f.sketch)}), ${f.verificationId},
      ${f.sealedEmbedding}, ${f.identityHash}, ${f.createdAt})`.execute(this.q);
  }
  async nearestFaces(tenantId: string, sketch: Uint8Array, k: number) {
    const { rows } = await sql<{
      rowid: number;
      distance: number;
      verification_id: string;
      sealed_embedding: Buffer;
      identity_hash: string | null;
      created_at: string;
    }>`select rowid, distance, verification_id, sealed_embedding, identity_hash, created_at
      from face_index
      where sketch match vec_bit(${Buffer.from(sketch)}) and k = ${k} and tenant_id = ${tenantId}
      order by distance`.execute(this.q);
    return rows.map((r) => ({
      tenantId,
      verificationId: r.verification_id,
      number: Number(r.rowid),
      sealedEmbedding: r.sealed_embedding,
      identityHash: r.identity_hash,
      createdAt: r.created_at,
      distanceBits: Number(r.distance),
    }));
  }

  async replaceChecks(tenantId: string, verificationId: string, checks: CheckRow[]) {
    await this.q
      .deleteFrom('checks')
      .where('tenant_id', '=', tenantId)
      .where('verification_id', '=', verificationId)
      .execute();
    if (checks.length === 0) return;
    await this.q
      .insertInto('checks')
      .values(
        checks.map((c) => ({
          verification_id: verificationId,
          tenant_id: tenantId,
          name: c.name,
          status: c.status,
          confidence: c.confidence,
          details: JSON.stringify(c.details),
        })),
      )
      .execute();
  }

  async getTenantSettings(tenantId: string, revision?: number) {
    let q = this.q.selectFrom('tenant_settings').selectAll().where('tenant_id', '=', tenantId);
    if (revision !== undefined) q = q.where('revision', '=', revision);
    const r = await q.orderBy('revision', 'desc').limit(1).executeTakeFirst();
    return r
      ? {
          tenantId,
          revision: Number(r.revision),
          settings: JSON.parse(r.settings) as Record<string, unknown>,
          createdAt: r.created_at,
          createdBy: r.created_by,
        }
      : undefined;
  }
  async insertTenantSettings(r: TenantSettingsRecord) {
    await this.q
      .insertInto('tenant_settings')
      .values({
        tenant_id: r.tenantId,
        revision: r.revision,
        settings: JSON.stringify(r.settings),
        created_at: r.createdAt,
        created_by: r.createdBy,
      })
      .execute();
  }
  async deleteTenantFaces(tenantId: string) {
    // vec0 deletes by rowid (the verification's number); the tenant's numbers come from its verifications.
    const rows = await this.q
      .selectFrom('verifications')
      .select('number')
      .where('tenant_id', '=', tenantId)
      .where('number', 'is not', null)
      .execute();
    let n = 0;
    for (const r of rows) {
      const res = await sql`delete from face_index where rowid = ${BigInt(r.number!)}`.execute(this.q);
      n += Number(res.numAffectedRows ?? 0);
    }
    return n;
  }
  async getSandboxSimulation(tenantId: string) {
    const r = await this.q
      .selectFrom('sandbox_simulations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    return r ? { scenario: r.scenario, remaining: r.remaining, updatedAt: r.updated_at } : undefined;
  }
  async setSandboxSimulation(tenantId: string, s: SandboxSimulation | undefined) {
    if (!s) {
      await this.q.deleteFrom('sandbox_simulations').where('tenant_id', '=', tenantId).execute();
      return;
    }
    const row = { scenario: s.scenario, remaining: s.remaining, updated_at: s.updatedAt };
    await this.q
      .insertInto('sandbox_simulations')
      .values({ tenant_id: tenantId, ...row })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet(row))
      .execute();
  }

  async appendAudit(e: AuditEvent) {
    await this.q
      .insertInto('audit_events')
      .values({
        id: e.id,
        tenant_id: e.tenantId,
        verification_id: e.verificationId,
        at: e.at,
        event: e.event,
        actor: e.actor,
        details: JSON.stringify(e.details),
      })
      .execute();
  }
  async listAudit(tenantId: string, verificationId: string) {
    const rows = await this.q
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('verification_id', '=', verificationId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      verificationId: r.verification_id,
      at: r.at,
      event: r.event,
      actor: r.actor,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }

  async insertBlob(b: BlobRecord) {
    await this.q
      .insertInto('blobs')
      .values({
        id: b.id,
        tenant_id: b.tenantId,
        verification_id: b.verificationId,
        kind: b.kind,
        format: b.format,
        size_bytes: b.sizeBytes,
        created_at: b.createdAt,
      })
      .execute();
  }
  async listBlobs(tenantId: string, verificationId: string) {
    const rows = await this.q
      .selectFrom('blobs')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('verification_id', '=', verificationId)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      verificationId: r.verification_id,
      kind: r.kind as BlobRecord['kind'],
      format: r.format,
      sizeBytes: r.size_bytes,
      createdAt: r.created_at,
    }));
  }
  async deleteBlobs(tenantId: string, verificationId: string) {
    await this.q
      .deleteFrom('blobs')
      .where('tenant_id', '=', tenantId)
      .where('verification_id', '=', verificationId)
      .execute();
  }

  async putDataKey(ownerId: string, tenantId: string, wrapped: Buffer, at: string) {
    await this.q
      .insertInto('data_keys')
      .values({ owner_id: ownerId, tenant_id: tenantId, wrapped, created_at: at })
      .execute();
  }
  async getDataKey(ownerId: string) {
    const r = await this.q
      .selectFrom('data_keys')
      .select('wrapped')
      .where('owner_id', '=', ownerId)
      .executeTakeFirst();
    return r ? Buffer.from(r.wrapped) : undefined;
  }
  async deleteDataKey(ownerId: string) {
    await this.q.deleteFrom('data_keys').where('owner_id', '=', ownerId).execute();
  }
  async listDataKeys() {
    const rows = await this.q.selectFrom('data_keys').select(['owner_id', 'wrapped']).execute();
    return rows.map((r) => ({ ownerId: r.owner_id, wrapped: Buffer.from(r.wrapped) }));
  }
  async replaceDataKey(ownerId: string, wrapped: Buffer) {
    await this.q.updateTable('data_keys').set({ wrapped }).where('owner_id', '=', ownerId).execute();
  }
  async getMeta(name: string): Promise<string | undefined> {
    try {
      const r = await sql<{ value: string }>`select value from store_meta where name = ${name}`.execute(
        this.q,
      );
      return r.rows[0]?.value;
    } catch (e) {
      if (/no such table/.test((e as Error).message)) return undefined;
      throw e;
    }
  }

  async setMeta(name: string, value: string): Promise<void> {
    await sql`insert into store_meta (name, value) values (${name}, ${value})
      on conflict (name) do update set value = excluded.value`.execute(this.q);
  }

  async getIdempotency(tenantId: string, apiKeyId: string, endpoint: string, key: string) {
    const r = await this.q
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('api_key_id', '=', apiKeyId)
      .where('endpoint', '=', endpoint)
      .where('key', '=', key)
      .executeTakeFirst();
    return r ? toIdem(r) : undefined;
  }
  async claimIdempotency(r: IdempotencyRecord) {
    // An expired record is replaced; a live one wins.
    await this.q
      .deleteFrom('idempotency_keys')
      .where('tenant_id', '=', r.tenantId)
      .where('api_key_id', '=', r.apiKeyId)
      .where('endpoint', '=', r.endpoint)
      .where('key', '=', r.key)
      .where('expires_at', '<=', r.createdAt)
      .execute();
    const res = await this.q
      .insertInto('idempotency_keys')
      .values({
        tenant_id: r.tenantId,
        api_key_id: r.apiKeyId,
        endpoint: r.endpoint,
        key: r.key,
        request_hash: r.requestHash,
        state: r.state,
        status_code: r.statusCode,
        sealed_response: r.sealedResponse,
        subject_id: r.subjectId ?? null,
        created_at: r.createdAt,
        expires_at: r.expiresAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }
  async finishIdempotency(
    r: Pick<IdempotencyRecord, 'tenantId' | 'apiKeyId' | 'endpoint' | 'key'>,
    statusCode: number,
    sealedResponse: Buffer,
    subjectId?: string,
  ) {
    await this.q
      .updateTable('idempotency_keys')
      .set({
        state: 'done',
        status_code: statusCode,
        sealed_response: sealedResponse,
        subject_id: subjectId ?? null,
      })
      .where('tenant_id', '=', r.tenantId)
      .where('api_key_id', '=', r.apiKeyId)
      .where('endpoint', '=', r.endpoint)
      .where('key', '=', r.key)
      .execute();
  }
  async forgetIdempotentAnswers(tenantId: string, subjectId: string) {
    await this.q
      .updateTable('idempotency_keys')
      .set({ state: 'deleted', sealed_response: null })
      .where('tenant_id', '=', tenantId)
      .where('subject_id', '=', subjectId)
      .execute();
  }
  async releaseIdempotency(tenantId: string, apiKeyId: string, endpoint: string, key: string) {
    await this.q
      .deleteFrom('idempotency_keys')
      .where('tenant_id', '=', tenantId)
      .where('api_key_id', '=', apiKeyId)
      .where('endpoint', '=', endpoint)
      .where('key', '=', key)
      .execute();
  }
  async purgeIdempotency(before: string) {
    const r = await this.q.deleteFrom('idempotency_keys').where('expires_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
  async insertWebhookEndpoint(e: WebhookEndpointRecord) {
    await this.q.insertInto('webhook_endpoints').values(fromEndpoint(e)).execute();
  }
  async updateWebhookEndpoint(e: WebhookEndpointRecord) {
    const { id: _i, tenant_id: _t, created_at: _c, ...rest } = fromEndpoint(e);
    await this.q
      .updateTable('webhook_endpoints')
      .set(rest)
      .where('tenant_id', '=', e.tenantId)
      .where('id', '=', e.id)
      .execute();
  }
  async getWebhookEndpoint(tenantId: string, id: string) {
    const r = await this.q
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return r ? toEndpoint(r) : undefined;
  }
  async listWebhookEndpoints(tenantId: string) {
    const rows = await this.q
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toEndpoint);
  }
  async deleteWebhookEndpoint(tenantId: string, id: string) {
    const r = await this.q
      .deleteFrom('webhook_endpoints')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async getTenantWebhookSecret(tenantId: string) {
    const r = await this.q
      .selectFrom('tenant_webhook_secrets')
      .select('sealed_secret')
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    return r ? Buffer.from(r.sealed_secret) : undefined;
  }
  async setTenantWebhookSecret(tenantId: string, sealed: Buffer, at: string) {
    await this.q
      .insertInto('tenant_webhook_secrets')
      .values({ tenant_id: tenantId, sealed_secret: sealed, created_at: at })
      .onConflict((oc) => oc.column('tenant_id').doNothing())
      .execute();
  }
  async insertWebhookEvent(e: WebhookEventRecord) {
    await this.q
      .insertInto('webhook_events')
      .values({
        id: e.id,
        tenant_id: e.tenantId,
        type: e.type,
        subject_id: e.subjectId,
        sealed_body: e.sealedBody,
        created_at: e.createdAt,
      })
      .execute();
  }
  async forgetWebhookEvents(tenantId: string, subjectIds: string[], at: string) {
    if (subjectIds.length === 0) return;
    const events = this.q
      .selectFrom('webhook_events')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('subject_id', 'in', subjectIds);
    await this.q
      .updateTable('webhook_deliveries')
      .set({ state: 'dead', last_error: 'the event was erased with its verification', updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('state', '=', 'pending')
      .where('event_id', 'in', events)
      .execute();
    await this.q
      .updateTable('webhook_events')
      .set({ sealed_body: Buffer.alloc(0) })
      .where('tenant_id', '=', tenantId)
      .where('subject_id', 'in', subjectIds)
      .execute();
  }
  async getWebhookEvent(tenantId: string, id: string) {
    const r = await this.q
      .selectFrom('webhook_events')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return r
      ? {
          id: r.id,
          tenantId: r.tenant_id,
          type: r.type,
          subjectId: r.subject_id,
          sealedBody: Buffer.from(r.sealed_body),
          createdAt: r.created_at,
        }
      : undefined;
  }
  async insertWebhookDelivery(d: WebhookDeliveryRecord) {
    await this.q.insertInto('webhook_deliveries').values(fromDelivery(d)).execute();
  }
  async updateWebhookDelivery(d: WebhookDeliveryRecord) {
    const { id: _i, tenant_id: _t, created_at: _c, ...rest } = fromDelivery(d);
    await this.q
      .updateTable('webhook_deliveries')
      .set(rest)
      .where('tenant_id', '=', d.tenantId)
      .where('id', '=', d.id)
      .execute();
  }
  async getWebhookDelivery(tenantId: string, id: string) {
    const r = await this.q
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return r ? toDelivery(r) : undefined;
  }
  async listWebhookDeliveries(
    tenantId: string,
    filter: { endpointId?: string; state?: DeliveryState; limit: number },
  ) {
    let q = this.q.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', tenantId);
    if (filter.endpointId) q = q.where('endpoint_id', '=', filter.endpointId);
    if (filter.state) q = q.where('state', '=', filter.state);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(toDelivery);
  }
  async insertWebhookAttempt(a: WebhookAttemptRecord) {
    await this.q
      .insertInto('webhook_attempts')
      .values({
        id: a.id,
        tenant_id: a.tenantId,
        delivery_id: a.deliveryId,
        attempt: a.attempt,
        at: a.at,
        status_code: a.statusCode,
        duration_ms: a.durationMs,
        error: a.error,
      })
      .execute();
  }
  async listWebhookAttempts(tenantId: string, deliveryId: string) {
    const rows = await this.q
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('delivery_id', '=', deliveryId)
      .orderBy('attempt')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      deliveryId: r.delivery_id,
      attempt: r.attempt,
      at: r.at,
      statusCode: r.status_code,
      durationMs: r.duration_ms,
      error: r.error,
    }));
  }
  async insertSession(s: SessionRecord) {
    await this.q.insertInto('sessions').values(fromSession(s)).execute();
  }
  async deleteSession(tenantId: string, id: string) {
    await this.q.deleteFrom('sessions').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }
  async updateSession(s: SessionRecord) {
    const { id: _i, tenant_id: _t, created_at: _c, ...rest } = fromSession(s);
    await this.q
      .updateTable('sessions')
      .set(rest)
      .where('tenant_id', '=', s.tenantId)
      .where('id', '=', s.id)
      .execute();
  }
  async getSession(tenantId: string, id: string) {
    const r = await this.q
      .selectFrom('sessions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return r ? toSession(r) : undefined;
  }
  async insertUpload(u: UploadRecord) {
    await this.q
      .insertInto('uploads')
      .values({
        id: u.id,
        tenant_id: u.tenantId,
        content_type: u.contentType,
        byte_length: u.byteLength,
        state: u.state,
        expires_at: u.expiresAt,
        created_at: u.createdAt,
      })
      .execute();
  }
  async getUpload(id: string) {
    const r = await this.q.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    return r
      ? {
          id: r.id,
          tenantId: r.tenant_id,
          contentType: r.content_type,
          byteLength: r.byte_length,
          state: r.state as UploadRecord['state'],
          expiresAt: r.expires_at,
          createdAt: r.created_at,
        }
      : undefined;
  }
  async markUploaded(id: string) {
    const r = await this.q
      .updateTable('uploads')
      .set({ state: 'uploaded' })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
  async deleteUpload(id: string) {
    await this.q.deleteFrom('uploads').where('id', '=', id).execute();
  }
  async listSessions(tenantId: string, page: { limit: number; offset: number }) {
    const base = this.q.selectFrom('sessions').where('tenant_id', '=', tenantId);
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    const rows = await base
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return { rows: rows.map(toSession), total: Number(total?.n ?? 0) };
  }
  async getSessionForToken(id: string) {
    const r = await this.q.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toSession(r) : undefined;
  }
  async enqueueJob(job: NewJob, now: string) {
    const id = `job_${randomBytes(10).toString('hex')}`;
    await this.q
      .insertInto('jobs')
      .values({
        id,
        name: job.name,
        tenant_id: job.tenantId,
        subject_id: job.subjectId,
        payload: JSON.stringify(job.payload ?? {}),
        state: 'queued',
        attempts: 0,
        max_attempts: job.maxAttempts ?? 5,
        run_at: job.runAt ?? now,
        locked_by: null,
        locked_until: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return id;
  }
  async claimJob(names: readonly JobName[], workerId: string, now: string, lockedUntil: string) {
    if (names.length === 0) return undefined;
    // One statement, so two workers (threads or processes) can never claim the same job.
    const r = await sql<DB['jobs']>`
      update jobs set state = 'running', locked_by = ${workerId}, locked_until = ${lockedUntil},
        attempts = attempts + 1, updated_at = ${now}
      where id = (
        select id from jobs
        where name in (${sql.join(names.map((n) => sql`${n}`))})
          and ((state = 'queued' and run_at <= ${now}) or (state = 'running' and locked_until < ${now}))
        order by run_at, created_at limit 1)
      returning *`.execute(this.q);
    const row = r.rows[0];
    return row ? toJob(row) : undefined;
  }
  async finishJob(
    id: string,
    workerId: string,
    state: 'done' | 'failed' | 'cancelled',
    now: string,
    error?: string,
  ) {
    const r = await this.q
      .updateTable('jobs')
      .set({ state, locked_by: null, locked_until: null, updated_at: now, last_error: error ?? null })
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
  async retryJobLater(id: string, workerId: string, runAt: string, now: string, error: string) {
    const r = await this.q
      .updateTable('jobs')
      .set({
        state: 'queued',
        run_at: runAt,
        locked_by: null,
        locked_until: null,
        updated_at: now,
        last_error: error,
      })
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
  async extendJobLease(id: string, workerId: string, lockedUntil: string) {
    const r = await this.q
      .updateTable('jobs')
      .set({ locked_until: lockedUntil })
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
  async listJobLeaseHolders() {
    const rows = await this.q
      .selectFrom('jobs')
      .select('locked_by')
      .distinct()
      .where('state', '=', 'running')
      .where('locked_by', 'is not', null)
      .execute();
    return rows.map((r) => r.locked_by!);
  }
  async releaseJobLeases(workerId: string, now: string) {
    const r = await this.q
      .updateTable('jobs')
      // A lease that ran out at the epoch: claimable by the next claim, whatever its clock says.
      .set({ locked_until: new Date(0).toISOString(), updated_at: now })
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
  async cancelJobsFor(tenantId: string, subjectId: string, now: string) {
    const r = await this.q
      .updateTable('jobs')
      .set({ state: 'cancelled', updated_at: now, locked_by: null, locked_until: null })
      .where('tenant_id', '=', tenantId)
      .where('subject_id', '=', subjectId)
      .where('state', 'in', ['queued', 'running'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
  async listJobsFor(tenantId: string, subjectId: string) {
    const rows = await this.q
      .selectFrom('jobs')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('subject_id', '=', subjectId)
      .orderBy('created_at')
      .execute();
    return rows.map(toJob);
  }
  async countJobs(state?: JobState) {
    let q = this.q.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n'));
    if (state) q = q.where('state', '=', state);
    const r = await q.executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}

export class SqliteStore extends SqliteTx implements Store {
  private constructor(private readonly db: Kysely<DB>) {
    super(db);
  }

  /** Open (creating the file and folder if needed) and bring the schema up to date. */
  static async open(file: string, options: { migrate?: boolean } = {}): Promise<SqliteStore> {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const sqlite = new Database(file);
    // The face duplicate index is a sqlite-vec table (migration 0007); the extension ships in the npm
    // package for each platform.
    sqliteVec.load(sqlite);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // Deleted rows are overwritten with zeros, not left in free pages where the master key could still
    // unwrap a destroyed data key (keys-and-data-at-rest issue, finding 3).
    sqlite.pragma('secure_delete = ON');
    // The database, its log and shared-memory file hold key hashes and sealed data: owner-only.
    if (file !== ':memory:')
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
    const store = new SqliteStore(db);
    if (options.migrate !== false) await store.migrate();
    return store;
  }

  async migrate(): Promise<string[]> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(new SqliteTx(trx)));
  }

  async anyDataKeyOwner(): Promise<string | undefined> {
    try {
      const r = await sql<{ owner_id: string }>`select owner_id from data_keys limit 1`.execute(this.db);
      return r.rows[0]?.owner_id;
    } catch (e) {
      if (/no such table/.test((e as Error).message)) return undefined;
      throw e;
    }
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('tenants').select('id').limit(1).execute();
  }

  async scrubFreedData() {
    // secure_delete (set at open) zeroes freed pages as they are written; the checkpoint writes them into
    // the database file and the truncation drops the log frames that still held the old pages.
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
