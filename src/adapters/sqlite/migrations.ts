import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/** Versioned migrations, in order. Never edit one that has shipped: add the next. */
const migrations: Record<string, Migration> = {
  '0001_foundation': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema
        .createTable('verifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('document_type', 'text', (c) => c.notNull())
        .addColumn('country', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('risk_score', 'integer')
        .addColumn('risk_level', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('sealed', 'blob')
        .execute();
      await db.schema
        .createIndex('verifications_tenant_created')
        .on('verifications')
        .columns(['tenant_id', 'created_at', 'id'])
        .execute();
      await db.schema
        .createTable('checks')
        .addColumn('verification_id', 'text', (c) =>
          c.notNull().references('verifications.id').onDelete('cascade'),
        )
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('confidence', 'real', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('checks_pk', ['verification_id', 'name'])
        .execute();
      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('verification_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_by_verification')
        .on('audit_events')
        .columns(['tenant_id', 'verification_id', 'at'])
        .execute();
      await db.schema
        .createTable('blobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('verification_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('blobs_by_verification')
        .on('blobs')
        .columns(['tenant_id', 'verification_id'])
        .execute();
      await db.schema
        .createTable('data_keys')
        .addColumn('owner_id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('wrapped', 'blob', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('api_key_id', 'text', (c) => c.notNull())
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('sealed_response', 'blob')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_pk', ['tenant_id', 'api_key_id', 'endpoint', 'key'])
        .execute();
      await sql`select 1`.execute(db);
    },
  },
};

/** Durable jobs (the embedded queue and the outbox a broker relay will read), written in the same transaction as the state they act on. */
migrations['0002_jobs'] = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('subject_id', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('run_at', 'text', (c) => c.notNull())
      .addColumn('locked_by', 'text')
      .addColumn('locked_until', 'text')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('jobs_due').on('jobs').columns(['state', 'run_at']).execute();
    await db.schema.createIndex('jobs_by_subject').on('jobs').columns(['tenant_id', 'subject_id']).execute();
  },
};

/** Webhook endpoints, events (the outbox), deliveries and every attempt. */
migrations['0003_webhooks'] = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('webhook_endpoints')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('sealed_secrets', 'blob', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('webhook_endpoints_by_tenant')
      .on('webhook_endpoints')
      .columns(['tenant_id'])
      .execute();
    await db.schema
      .createTable('tenant_webhook_secrets')
      .addColumn('tenant_id', 'text', (c) => c.primaryKey())
      .addColumn('sealed_secret', 'blob', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('subject_id', 'text', (c) => c.notNull())
      .addColumn('sealed_body', 'blob', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('endpoint_id', 'text')
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'text')
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('delivered_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_by_tenant')
      .on('webhook_deliveries')
      .columns(['tenant_id', 'endpoint_id', 'created_at'])
      .execute();
    await db.schema
      .createTable('webhook_attempts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('delivery_id', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('error', 'text')
      .execute();
    await db.schema
      .createIndex('webhook_attempts_by_delivery')
      .on('webhook_attempts')
      .columns(['delivery_id', 'attempt'])
      .execute();
  },
};

/** Verification sessions (hosted capture). */
migrations['0004_sessions'] = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('document_type', 'text', (c) => c.notNull())
      .addColumn('country', 'text', (c) => c.notNull())
      .addColumn('uploads', 'text', (c) => c.notNull())
      .addColumn('sealed', 'blob', (c) => c.notNull())
      .addColumn('client_token_hash', 'text', (c) => c.notNull())
      .addColumn('verification_id', 'text')
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('sessions_by_tenant')
      .on('sessions')
      .columns(['tenant_id', 'created_at'])
      .execute();
  },
};

/**
 * A verification's integer number (the DeepXL dialect's `verificationId`; unique in the installation,
 * allocated in insertion order) and the blind index of its tags (HMAC of `key=value`, so a tag filter
 * needs no decryption and the store holds no tag in clear).
 */
migrations['0005_numbers_and_tags'] = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('verifications').addColumn('number', 'integer').execute();
    await sql`update verifications set number = (select count(*) from verifications v2 where v2.rowid <= verifications.rowid)`.execute(
      db,
    );
    await db.schema
      .createIndex('verifications_number')
      .on('verifications')
      .column('number')
      .unique()
      .execute();
    await db.schema
      .createTable('verification_tags')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('verification_id', 'text', (c) => c.notNull())
      .addColumn('tag_hash', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('verification_tags_pk', ['verification_id', 'tag_hash'])
      .execute();
    await db.schema
      .createIndex('verification_tags_by_hash')
      .on('verification_tags')
      .columns(['tenant_id', 'tag_hash'])
      .execute();
  },
};

/** Files uploaded to a presigned URL (deepidv dialect), usable by key until they expire. */
migrations['0006_uploads'] = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('uploads')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('content_type', 'text', (c) => c.notNull())
      .addColumn('byte_length', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
  },
};

/**
 * The face duplicate index (ADR 0010): a sqlite-vec table of 512-bit sketches, one partition per tenant
 * (a search reads only its tenant's rows), its row id the verification's number. The connection must
 * have sqlite-vec loaded (SqliteStore.open does).
 */
migrations['0007_face_index'] = {
  async up(db: Kysely<any>) {
    await sql`create virtual table face_index using vec0(
      tenant_id text partition key,
      sketch bit[512],
      +verification_id text,
      +sealed_embedding blob,
      +identity_hash text,
      +created_at text
    )`.execute(db);
  },
};

/**
 * The sandbox (test keys): a test key's data lives under its tenant's sandbox tenant (`<tenant>.test`, a
 * name no live tenant can take), created here for the test keys made before, and the scenario a tenant
 * told its sandbox to simulate (`POST /v1/developers/sandbox/simulate`).
 */
migrations['0008_sandbox'] = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('sandbox_simulations')
      .addColumn('tenant_id', 'text', (c) => c.primaryKey())
      .addColumn('scenario', 'text', (c) => c.notNull())
      .addColumn('remaining', 'integer')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await sql`insert into tenants (id, name, created_at)
      select k.tenant_id || '.test', k.tenant_id || ' (sandbox)', min(k.created_at) from api_keys k
      where k.mode = 'test' and not exists (select 1 from tenants t where t.id = k.tenant_id || '.test')
      group by k.tenant_id`.execute(db);
  },
};

/** A tenant's settings (risk policy replacements, face index switch), every revision kept. */
migrations['0009_tenant_settings'] = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('tenant_settings')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('tenant_settings_pk', ['tenant_id', 'revision'])
      .execute();
  },
};

/**
 * What a deletion must reach (hardening issue, finding 1): the verification an idempotent request created,
 * so that a replay after `DELETE` does not answer the deleted data.
 */
migrations['0010_idempotency_subject'] = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('idempotency_keys').addColumn('subject_id', 'text').execute();
    await db.schema
      .createIndex('idempotency_by_subject')
      .on('idempotency_keys')
      .columns(['tenant_id', 'subject_id'])
      .execute();
    await db.schema
      .createIndex('webhook_events_by_subject')
      .on('webhook_events')
      .columns(['tenant_id', 'subject_id'])
      .execute();
  },
};

/** Store-wide settings: the id of the master key the data is sealed with (keys issue #20, finding 1). */
migrations['0011_store_meta'] = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('store_meta')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
