import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures (API.md "Webhooks"): Standard Webhooks — `webhook-signature: v1,<base64 HMAC-SHA256
 * of "id.timestamp.body">`, one entry per active secret — plus TXCloud's legacy `X-TXCloud-Signature`
 * (hex HMAC of the raw body) and `X-TXCloud-Timestamp`. Compared in constant time over the raw bytes,
 * never over re-serialised JSON. This file is also what integrators use to verify (the SDK exports it).
 */
export const SECRET_PREFIX = 'whsec_';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

function keyBytes(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
}

export function signStandard(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', keyBytes(secret))
    .update(`${id}.${timestampSeconds}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}

export function signLegacy(secret: string, body: string): string {
  return createHmac('sha256', keyBytes(secret)).update(body).digest('hex');
}

/** Every header a delivery carries, signed with every active secret (rotation keeps old ones a while). */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  if (secrets.length === 0) throw new Error('no webhook secret');
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => signStandard(s, id, timestampSeconds, body)).join(' '),
    'x-txcloud-signature': signLegacy(secrets[0]!, body),
    'x-txcloud-timestamp': String(timestampSeconds),
  };
}

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Verify a delivery as a receiver: the raw body as received, the request headers, and the endpoint's
 * secret(s). Rejects a bad signature, and a timestamp more than `toleranceSeconds` away from now
 * (replays). Returns the parsed event.
 */
export function verifyWebhook<T = unknown>(
  rawBody: string | Buffer,
  headers: Record<string, string | string[] | undefined>,
  secret: string | readonly string[],
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): T {
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sig = header(headers, 'webhook-signature');
  if (!id || !ts || !sig)
    throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature');
  const timestamp = Number(ts);
  if (!Number.isInteger(timestamp)) throw new WebhookVerificationError('invalid webhook-timestamp');
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance)
    throw new WebhookVerificationError('timestamp outside the tolerance (replay?)');
  const secrets = typeof secret === 'string' ? [secret] : secret;
  const presented = sig.split(' ').filter((s) => s.startsWith('v1,'));
  for (const s of secrets) {
    const expected = signStandard(s, id, timestamp, body);
    if (presented.some((p) => safeEqual(p, expected))) return JSON.parse(body) as T;
  }
  throw new WebhookVerificationError('no signature matches');
}
