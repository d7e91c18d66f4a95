import { HuwiyaError } from '../domain/errors.ts';
import type { VerificationStatus } from '../domain/verification.ts';
import { newWebhookSecret, webhookHeaders } from '../domain/webhook-signature.ts';
import type { StoreTx, WebhookDeliveryRecord, WebhookEndpointRecord } from '../ports/stores.ts';
import type { AppDeps, Caller } from './deps.ts';
import { newId } from './ids.ts';
import { isAllowedTarget, isLocalName, isPrivateAddress, literalAddress } from '../domain/network-targets.ts';

/** API.md "Webhooks". */
export const WEBHOOK_EVENTS = [
  'identity.verification.completed',
  'identity.verification.failed',
  'identity.verification.review',
  'identity.session.completed',
  'identity.session.expired',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number] | 'webhook.test';
export const API_VERSION = '2026-11-22';

/** API.md: immediately, +1 min, +5 min, +30 min, +2 h, +12 h, +24 h; then dead-lettered. */
export const DEFAULT_RETRY_SCHEDULE_MS = [0, 60_000, 300_000, 1_800_000, 7_200_000, 43_200_000, 86_400_000];
/** Old secrets keep verifying this long after a rotation. */
const ROTATION_GRACE_MS = 24 * 3600 * 1000;

export function eventForStatus(status: VerificationStatus): WebhookEventType | undefined {
  if (status === 'verified') return 'identity.verification.completed';
  if (status === 'rejected' || status === 'error') return 'identity.verification.failed';
  if (status === 'review') return 'identity.verification.review';
  return undefined;
}

interface SecretEntry {
  secret: string;
  created_at: string;
  expires_at: string | null;
}

const secretsAad = (tenantId: string, id: string) => `webhook-secrets:${tenantId}:${id}`;
const tenantSecretAad = (tenantId: string) => `webhook-tenant-secret:${tenantId}`;
const eventAad = (tenantId: string, id: string) => `webhook-event:${tenantId}:${id}`;

function openSecrets(deps: AppDeps, e: WebhookEndpointRecord): SecretEntry[] {
  const raw = deps.keyring.systemKey('webhooks').open(e.sealedSecrets, secretsAad(e.tenantId, e.id));
  return JSON.parse(raw.toString('utf8')) as SecretEntry[];
}

function sealSecrets(deps: AppDeps, tenantId: string, id: string, entries: SecretEntry[]): Buffer {
  return deps.keyring
    .systemKey('webhooks')
    .seal(Buffer.from(JSON.stringify(entries)), secretsAad(tenantId, id));
}

function activeSecrets(entries: SecretEntry[], now: Date): string[] {
  return entries.filter((s) => !s.expires_at || new Date(s.expires_at) > now).map((s) => s.secret);
}

/** The tenant's default secret, which signs deliveries to per-request `webhook_url`s; created on first use. */
async function tenantSecret(deps: AppDeps, tx: StoreTx, tenantId: string): Promise<string> {
  const key = deps.keyring.systemKey('webhooks');
  const open = (sealed: Buffer) => key.open(sealed, tenantSecretAad(tenantId)).toString('utf8');
  const existing = await tx.getTenantWebhookSecret(tenantId);
  if (existing) return open(existing);
  await tx.setTenantWebhookSecret(
    tenantId,
    key.seal(Buffer.from(newWebhookSecret()), tenantSecretAad(tenantId)),
    deps.now().toISOString(),
  );
  // The insert yields to a concurrent one: whichever secret is stored is the tenant's.
  return open((await tx.getTenantWebhookSecret(tenantId))!);
}

/**
 * Write an event and one delivery (with its job) per subscribed endpoint and per-request URL, inside the
 * caller's transaction: the outcome and its event commit together or not at all.
 */
export async function enqueueEvent(
  deps: AppDeps,
  tx: StoreTx,
  event: {
    tenantId: string;
    type: WebhookEventType;
    subjectId: string;
    data: unknown;
    requestUrl?: string;
    onlyEndpointId?: string;
  },
): Promise<{ eventId: string; deliveryIds: string[] }> {
  const now = deps.now().toISOString();
  const id = newId('evt');
  const envelope = { id, type: event.type, created_at: now, api_version: API_VERSION, data: event.data };
  await tx.insertWebhookEvent({
    id,
    tenantId: event.tenantId,
    type: event.type,
    subjectId: event.subjectId,
    sealedBody: deps.keyring
      .systemKey('webhook-events')
      .seal(Buffer.from(JSON.stringify(envelope)), eventAad(event.tenantId, id)),
    createdAt: now,
  });
  const targets: { endpointId: string | null; url: string }[] = [];
  for (const e of await tx.listWebhookEndpoints(event.tenantId)) {
    if (event.onlyEndpointId && e.id !== event.onlyEndpointId) continue;
    if (e.status !== 'active' && !event.onlyEndpointId) continue;
    if (!event.onlyEndpointId && !e.events.includes(event.type) && !e.events.includes('*')) continue;
    targets.push({ endpointId: e.id, url: e.url });
  }
  if (event.requestUrl && !event.onlyEndpointId) {
    await tenantSecret(deps, tx, event.tenantId);
    targets.push({ endpointId: null, url: event.requestUrl });
  }
  const deliveryIds: string[] = [];
  for (const t of targets) {
    const d: WebhookDeliveryRecord = {
      id: newId('whd'),
      tenantId: event.tenantId,
      eventId: id,
      endpointId: t.endpointId,
      url: t.url,
      state: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      lastStatusCode: null,
      lastError: null,
      deliveredAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await tx.insertWebhookDelivery(d);
    await tx.enqueueJob(
      { name: 'webhook.deliver', tenantId: event.tenantId, subjectId: d.id, maxAttempts: 3 },
      now,
    );
    deliveryIds.push(d.id);
  }
  return { eventId: id, deliveryIds };
}

export interface AttemptResult {
  delivered: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  state: WebhookDeliveryRecord['state'];
}

/**
 * One delivery attempt (the `webhook.deliver` job). Every attempt is logged; a failure schedules the next
 * attempt as a new job in the same transaction, and the last one dead-letters the delivery.
 */
export async function deliverWebhook(
  deps: AppDeps,
  tenantId: string,
  deliveryId: string,
): Promise<AttemptResult | undefined> {
  const d = await deps.store.getWebhookDelivery(tenantId, deliveryId);
  if (!d || d.state !== 'pending') return undefined;
  const event = await deps.store.getWebhookEvent(tenantId, d.eventId);
  if (!event) return undefined;
  const deadLetter = (lastError: string) =>
    deps.store.updateWebhookDelivery({ ...d, state: 'dead', lastError, updatedAt: deps.now().toISOString() });
  if (event.sealedBody.length === 0) {
    // Erased with its verification after this delivery was scheduled: nothing may be sent.
    await deadLetter('the event was erased with its verification');
    return undefined;
  }
  const body = deps.keyring
    .systemKey('webhook-events')
    .open(event.sealedBody, eventAad(tenantId, event.id))
    .toString('utf8');
  let secrets: string[];
  if (d.endpointId) {
    const endpoint = await deps.store.getWebhookEndpoint(tenantId, d.endpointId);
    if (!endpoint) {
      // The endpoint was deleted: nothing to send to.
      await deadLetter('endpoint deleted');
      return undefined;
    }
    secrets = activeSecrets(openSecrets(deps, endpoint), deps.now());
  } else {
    secrets = [await deps.store.transaction((tx) => tenantSecret(deps, tx, tenantId))];
  }
  const t0 = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const headers = webhookHeaders(secrets, event.id, Math.floor(deps.now().getTime() / 1000), body);
    statusCode = await deps.webhookSender.post(d.url, {
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'Huwiya-Webhooks/1' },
      body,
      timeoutMs: deps.webhooks.timeoutMs,
    });
    if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const durationMs = Math.round(performance.now() - t0);
  const now = deps.now();
  const attempt = d.attempts + 1;
  const delivered = error === null;
  const schedule = deps.webhooks.scheduleMs;
  const next: WebhookDeliveryRecord = {
    ...d,
    attempts: attempt,
    lastStatusCode: statusCode,
    lastError: error,
    updatedAt: now.toISOString(),
    state: delivered ? 'delivered' : attempt >= schedule.length ? 'dead' : 'pending',
    deliveredAt: delivered ? now.toISOString() : null,
    nextAttemptAt:
      delivered || attempt >= schedule.length
        ? null
        : new Date(now.getTime() + schedule[attempt]!).toISOString(),
  };
  const recorded = await deps.store.transaction(async (tx) => {
    await tx.insertWebhookAttempt({
      id: newId('wha'),
      tenantId,
      deliveryId: d.id,
      attempt,
      at: now.toISOString(),
      statusCode,
      durationMs,
      error,
    });
    // Dead-lettered while the request was in flight (its verification deleted): it stays so.
    if ((await tx.getWebhookDelivery(tenantId, d.id))?.state !== 'pending') return false;
    await tx.updateWebhookDelivery(next);
    if (next.state === 'pending' && next.nextAttemptAt) {
      await tx.enqueueJob(
        { name: 'webhook.deliver', tenantId, subjectId: d.id, runAt: next.nextAttemptAt, maxAttempts: 3 },
        now.toISOString(),
      );
    }
    return true;
  });
  if (!recorded) return { delivered, statusCode, durationMs, error, state: 'dead' };
  if (next.state === 'pending') deps.notifyJobs();
  return { delivered, statusCode, durationMs, error, state: next.state };
}

// ---------- Endpoint management (/v1/developers/webhooks) ----------

/**
 * A webhook target as the service will accept it (endpoints, per-request and per-session URLs alike):
 * http or https, and not this machine or a private network written as an address or a local name unless
 * the operator allowed it. A name is checked again, against the address it resolves to, at each delivery.
 */
export function checkWebhookUrl(deps: AppDeps, url: string, param = 'url'): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HuwiyaError('invalid_parameter', `${param} is not a valid URL.`, { param });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new HuwiyaError('invalid_parameter', `${param} must be an http or https URL.`, { param });
  }
  const ip = literalAddress(u);
  const local = ip ? isPrivateAddress(ip) : isLocalName(u.hostname);
  if (local && !isAllowedTarget(deps.webhooks.allowedTargets, u.hostname, ip)) {
    throw new HuwiyaError(
      'invalid_parameter',
      `${param} points at a private or local address; an operator can allow an internal receiver with HUWIYA_WEBHOOK_ALLOWED_TARGETS.`,
      { param },
    );
  }
  return u.toString();
}

function validateEvents(events: string[]): string[] {
  for (const e of events) {
    if (e !== '*' && !(WEBHOOK_EVENTS as readonly string[]).includes(e)) {
      throw new HuwiyaError(
        'invalid_parameter',
        `unknown event ${e}; known: ${WEBHOOK_EVENTS.join(', ')} or *`,
        { param: 'events' },
      );
    }
  }
  if (events.length === 0)
    throw new HuwiyaError('invalid_parameter', 'events must name at least one event.', { param: 'events' });
  return [...new Set(events)];
}

export function presentEndpoint(deps: AppDeps, e: WebhookEndpointRecord) {
  const secrets = openSecrets(deps, e);
  const active = secrets.filter((s) => !s.expires_at || new Date(s.expires_at) > deps.now());
  return {
    id: e.id,
    object: 'webhook_endpoint',
    url: e.url,
    events: e.events,
    description: e.description ?? undefined,
    status: e.status,
    secret: active[0]?.secret,
    secrets: active.map((s) => ({ created_at: s.created_at, expires_at: s.expires_at })),
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}

export async function createEndpoint(
  deps: AppDeps,
  caller: Caller,
  input: { url: string; events: string[]; description?: string },
) {
  const now = deps.now().toISOString();
  const id = newId('we');
  const e: WebhookEndpointRecord = {
    id,
    tenantId: caller.tenantId,
    url: checkWebhookUrl(deps, input.url),
    events: validateEvents(input.events),
    description: input.description ?? null,
    status: 'active',
    sealedSecrets: sealSecrets(deps, caller.tenantId, id, [
      { secret: newWebhookSecret(), created_at: now, expires_at: null },
    ]),
    createdAt: now,
    updatedAt: now,
  };
  await deps.store.insertWebhookEndpoint(e);
  return presentEndpoint(deps, e);
}

async function endpointOf(deps: AppDeps, caller: Caller, id: string): Promise<WebhookEndpointRecord> {
  const e = await deps.store.getWebhookEndpoint(caller.tenantId, id);
  if (!e) throw new HuwiyaError('resource_not_found', `No webhook endpoint ${id}.`, { param: 'id' });
  return e;
}

export async function getEndpoint(deps: AppDeps, caller: Caller, id: string) {
  return presentEndpoint(deps, await endpointOf(deps, caller, id));
}

export async function listEndpoints(deps: AppDeps, caller: Caller) {
  const list = await deps.store.listWebhookEndpoints(caller.tenantId);
  return { object: 'list', data: list.map((e) => presentEndpoint(deps, e)) };
}

export async function updateEndpoint(
  deps: AppDeps,
  caller: Caller,
  id: string,
  input: { url?: string; events?: string[]; description?: string; status?: 'active' | 'disabled' },
) {
  const e = await endpointOf(deps, caller, id);
  const next: WebhookEndpointRecord = {
    ...e,
    url: input.url !== undefined ? checkWebhookUrl(deps, input.url) : e.url,
    events: input.events !== undefined ? validateEvents(input.events) : e.events,
    description: input.description !== undefined ? input.description : e.description,
    status: input.status ?? e.status,
    updatedAt: deps.now().toISOString(),
  };
  await deps.store.updateWebhookEndpoint(next);
  return presentEndpoint(deps, next);
}

export async function deleteEndpoint(deps: AppDeps, caller: Caller, id: string) {
  await endpointOf(deps, caller, id);
  await deps.store.deleteWebhookEndpoint(caller.tenantId, id);
  return { id, object: 'webhook_endpoint', deleted: true };
}

/** A new secret signs from now on; the previous ones keep verifying for `graceMs` (several active during rotation). */
export async function rotateEndpointSecret(
  deps: AppDeps,
  caller: Caller,
  id: string,
  graceMs = ROTATION_GRACE_MS,
) {
  const e = await endpointOf(deps, caller, id);
  const now = deps.now();
  const expires = new Date(now.getTime() + graceMs).toISOString();
  const old = openSecrets(deps, e)
    .filter((s) => !s.expires_at || new Date(s.expires_at) > now)
    .map((s) => ({ ...s, expires_at: s.expires_at && s.expires_at < expires ? s.expires_at : expires }));
  const next: WebhookEndpointRecord = {
    ...e,
    sealedSecrets: sealSecrets(deps, e.tenantId, e.id, [
      { secret: newWebhookSecret(), created_at: now.toISOString(), expires_at: null },
      ...old,
    ]),
    updatedAt: now.toISOString(),
  };
  await deps.store.updateWebhookEndpoint(next);
  return presentEndpoint(deps, next);
}

/** Send a test event to one endpoint now and report the attempt; failures follow the normal retry schedule. */
export async function testEndpoint(deps: AppDeps, caller: Caller, id: string, eventType?: string) {
  const e = await endpointOf(deps, caller, id);
  const type = (eventType ?? 'webhook.test') as WebhookEventType;
  if (type !== 'webhook.test' && !(WEBHOOK_EVENTS as readonly string[]).includes(type)) {
    throw new HuwiyaError('invalid_parameter', `unknown event ${type}`, { param: 'event_type' });
  }
  const { eventId, deliveryIds } = await deps.store.transaction((tx) =>
    enqueueEvent(deps, tx, {
      tenantId: caller.tenantId,
      type,
      subjectId: e.id,
      data: { test: true, endpoint_id: e.id },
      onlyEndpointId: e.id,
    }),
  );
  const result = await deliverWebhook(deps, caller.tenantId, deliveryIds[0]!);
  return {
    object: 'webhook_test',
    event_id: eventId,
    delivery_id: deliveryIds[0],
    delivered: result?.delivered ?? false,
    response_code: result?.statusCode ?? null,
    duration_ms: result?.durationMs ?? null,
    error: result?.error ?? null,
  };
}

async function presentDelivery(deps: AppDeps, d: WebhookDeliveryRecord, withAttempts: boolean) {
  const event = await deps.store.getWebhookEvent(d.tenantId, d.eventId);
  return {
    id: d.id,
    object: 'webhook_delivery',
    event_id: d.eventId,
    event_type: event?.type,
    endpoint_id: d.endpointId,
    url: d.url,
    status: d.state,
    response_code: d.lastStatusCode,
    attempts: d.attempts,
    last_error: d.lastError,
    next_attempt_at: d.nextAttemptAt,
    delivered_at: d.deliveredAt,
    created_at: d.createdAt,
    ...(withAttempts
      ? {
          attempt_log: (await deps.store.listWebhookAttempts(d.tenantId, d.id)).map((a) => ({
            attempt: a.attempt,
            at: a.at,
            response_code: a.statusCode,
            duration_ms: a.durationMs,
            error: a.error,
          })),
        }
      : {}),
  };
}

export async function endpointLogs(deps: AppDeps, caller: Caller, id: string, limit = 50) {
  await endpointOf(deps, caller, id);
  const list = await deps.store.listWebhookDeliveries(caller.tenantId, { endpointId: id, limit });
  return { object: 'list', data: await Promise.all(list.map((d) => presentDelivery(deps, d, true))) };
}

export async function listDeliveries(
  deps: AppDeps,
  caller: Caller,
  state: WebhookDeliveryRecord['state'] | undefined,
  limit = 50,
) {
  const list = await deps.store.listWebhookDeliveries(caller.tenantId, { state, limit });
  return { object: 'list', data: await Promise.all(list.map((d) => presentDelivery(deps, d, true))) };
}

/** Dead-lettered (or delivered) deliveries can be sent again, on a fresh retry schedule. */
export async function redeliver(deps: AppDeps, caller: Caller, deliveryId: string) {
  const d = await deps.store.getWebhookDelivery(caller.tenantId, deliveryId);
  if (!d) throw new HuwiyaError('resource_not_found', `No delivery ${deliveryId}.`, { param: 'id' });
  if (d.state === 'pending')
    throw new HuwiyaError('invalid_state', 'The delivery is still being attempted.', { param: 'id' });
  const event = await deps.store.getWebhookEvent(caller.tenantId, d.eventId);
  if (!event || event.sealedBody.length === 0)
    throw new HuwiyaError(
      'invalid_state',
      "The delivery's event was erased with its verification; it cannot be sent again.",
      { param: 'id' },
    );
  const now = deps.now().toISOString();
  const next: WebhookDeliveryRecord = {
    ...d,
    state: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    updatedAt: now,
  };
  await deps.store.transaction(async (tx) => {
    await tx.updateWebhookDelivery(next);
    await tx.enqueueJob(
      { name: 'webhook.deliver', tenantId: d.tenantId, subjectId: d.id, maxAttempts: 3 },
      now,
    );
  });
  deps.notifyJobs();
  return presentDelivery(deps, next, false);
}

export async function signingSecret(deps: AppDeps, caller: Caller) {
  const secret = await deps.store.transaction((tx) => tenantSecret(deps, tx, caller.tenantId));
  return { object: 'webhook_signing_secret', secret, used_for: 'deliveries to per-request webhook_url' };
}
