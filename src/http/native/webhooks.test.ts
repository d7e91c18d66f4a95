import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyWebhook, WebhookVerificationError } from '../../domain/webhook-signature.ts';
import { NO_SHARED_DATA, SHARED_DATA, startTestServer, type TestServer } from '../../../test/helpers.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A local receiver that answers `plan[i]` to the i-th request (200 once the plan runs out). */
function receiver(plan: number[]): Promise<{ url: string; got: Received[]; server: Server; plan: number[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ headers: req.headers, body, at: Date.now() });
      res.statusCode = plan.shift() ?? 200;
      res.end('ok');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/hook`, got, server, plan });
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(f: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(50);
  }
}

describe('webhooks', { skip: NO_SHARED_DATA }, () => {
  let s: TestServer;
  let admin: string;
  let user: string;
  const faces = SHARED_DATA ? path.join(SHARED_DATA, 'faces/deepface') : '';
  const b64 = (f: string) => readFileSync(path.join(faces, f)).toString('base64');
  const receivers: Server[] = [];

  before(async () => {
    s = await startTestServer({
      HUWIYA_WEBHOOK_RETRY_SCHEDULE_MS: '0,150,300',
      HUWIYA_RATE_LIMIT_PER_MINUTE: '10000',
    });
    admin = await s.key(['admin'], 'tenant_w');
    user = await s.key(['identity:read', 'identity:write'], 'tenant_w');
  });
  after(async () => {
    for (const r of receivers) r.close();
    await s.close();
  });

  async function createEndpoint(url: string, events: string[]) {
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/developers/webhooks',
      headers: { authorization: `Bearer ${admin}` },
      payload: { url, events, description: 'test' },
    });
    assert.equal(r.statusCode, 201, r.body);
    return r.json() as { id: string; secret: string };
  }

  async function verify(extra: Record<string, unknown> = {}) {
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/identity/verify',
      headers: { authorization: `Bearer ${user}` },
      payload: {
        document_front: b64('img1.jpg'),
        selfie: b64('img2.jpg'),
        document_type: 'cin',
        country: 'MA',
        checks: ['face_match'],
        ...extra,
      },
    });
    assert.ok(r.statusCode === 200 || r.statusCode === 201, r.body);
    return r.json() as { id: string; status: string };
  }

  test('endpoint management needs the admin scope', async () => {
    const r = await s.app.inject({
      method: 'GET',
      url: '/v1/developers/webhooks',
      headers: { authorization: `Bearer ${user}` },
    });
    assert.equal(r.statusCode, 403);
    const bad = await s.app.inject({
      method: 'POST',
      url: '/v1/developers/webhooks',
      headers: { authorization: `Bearer ${admin}` },
      payload: { url: 'ftp://example.test/x', events: ['identity.verification.completed'] },
    });
    assert.equal(bad.statusCode, 400);
    const unknown = await s.app.inject({
      method: 'POST',
      url: '/v1/developers/webhooks',
      headers: { authorization: `Bearer ${admin}` },
      payload: { url: 'http://127.0.0.1:9/x', events: ['identity.nothing'] },
    });
    assert.equal(unknown.statusCode, 400);
  });

  test('a receiver down for the first attempts gets the event later, signed, exactly once', async () => {
    const rx = await receiver([503, 500]);
    receivers.push(rx.server);
    const ep = await createEndpoint(rx.url, ['identity.verification.completed']);
    const v = await verify();
    assert.equal(v.status, 'verified');
    const ok = await until(() => rx.got.length >= 3 && rx.got[2]);
    const event = verifyWebhook<{ id: string; type: string; data: { id: string; status: string } }>(
      ok.body,
      ok.headers as Record<string, string>,
      ep.secret,
    );
    assert.equal(event.type, 'identity.verification.completed');
    assert.equal(event.data.id, v.id);
    assert.equal(event.data.status, 'verified');
    assert.ok(ok.headers['x-txcloud-signature']);
    // The same event id on every attempt (receivers deduplicate on it).
    assert.equal(new Set(rx.got.map((g) => g.headers['webhook-id'])).size, 1);
    // A replay of that delivery more than 5 minutes later is refused by the shipped verifier.
    assert.throws(
      () =>
        verifyWebhook(ok.body, ok.headers as Record<string, string>, ep.secret, {
          nowSeconds: Number(ok.headers['webhook-timestamp']) + 301,
        }),
      WebhookVerificationError,
    );
    await sleep(500);
    assert.equal(rx.got.length, 3, 'no delivery after success');
    const logs = await s.app.inject({
      method: 'GET',
      url: `/v1/developers/webhooks/${ep.id}/logs`,
      headers: { authorization: `Bearer ${admin}` },
    });
    const entry = (
      logs.json() as {
        data: { status: string; attempts: number; attempt_log: { response_code: number }[] }[];
      }
    ).data[0]!;
    assert.equal(entry.status, 'delivered');
    assert.equal(entry.attempts, 3);
    assert.deepEqual(
      entry.attempt_log.map((a) => a.response_code),
      [503, 500, 200],
    );
    await s.app.inject({
      method: 'DELETE',
      url: `/v1/developers/webhooks/${ep.id}`,
      headers: { authorization: `Bearer ${admin}` },
    });
  });

  test('a per-request webhook_url receives the async result signed with the tenant secret', async () => {
    const rx = await receiver([]);
    receivers.push(rx.server);
    const secret = (
      (
        await s.app.inject({
          method: 'GET',
          url: '/v1/developers/webhooks/signing-secret',
          headers: { authorization: `Bearer ${admin}` },
        })
      ).json() as {
        secret: string;
      }
    ).secret;
    const v = await verify({ mode: 'async', webhook_url: rx.url });
    const got = await until(() => rx.got[0]);
    const event = verifyWebhook<{ data: { id: string } }>(
      got.body,
      got.headers as Record<string, string>,
      secret,
    );
    assert.equal(event.data.id, v.id);
    assert.equal(
      (event.data as Record<string, unknown>).webhook_url,
      undefined,
      'internal fields are not sent',
    );
  });

  test('deliveries that never succeed are dead-lettered, listed, and can be redelivered', async () => {
    const rx = await receiver([500, 500, 500]);
    receivers.push(rx.server);
    const ep = await createEndpoint(rx.url, ['*']);
    await verify();
    await until(() => rx.got.length >= 3);
    type DeliveryList = { data: { id: string; endpoint_id: string; status: string }[] };
    let list: DeliveryList = { data: [] };
    for (let i = 0; i < 200 && !list.data.some((x) => x.endpoint_id === ep.id); i++) {
      await sleep(50);
      const r = await s.app.inject({
        method: 'GET',
        url: '/v1/developers/webhooks/deliveries?state=dead',
        headers: { authorization: `Bearer ${admin}` },
      });
      list = r.json() as DeliveryList;
    }
    const d = list.data.find((x) => x.endpoint_id === ep.id)!;
    const again = await s.app.inject({
      method: 'POST',
      url: `/v1/developers/webhooks/deliveries/${d.id}/redeliver`,
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(again.statusCode, 200, again.body);
    await until(() => rx.got.length >= 4);
    assert.ok(verifyWebhook(rx.got[3]!.body, rx.got[3]!.headers as Record<string, string>, ep.secret));
    await s.app.inject({
      method: 'DELETE',
      url: `/v1/developers/webhooks/${ep.id}`,
      headers: { authorization: `Bearer ${admin}` },
    });
  });

  test('test events and secret rotation: old and new secrets both verify during the grace period', async () => {
    const rx = await receiver([]);
    receivers.push(rx.server);
    const ep = await createEndpoint(rx.url, ['identity.verification.review']);
    const rotated = await s.app.inject({
      method: 'POST',
      url: `/v1/developers/webhooks/${ep.id}/rotate-secret`,
      headers: { authorization: `Bearer ${admin}` },
    });
    const newSecret = (rotated.json() as { secret: string; secrets: unknown[] }).secret;
    assert.notEqual(newSecret, ep.secret);
    assert.equal((rotated.json() as { secrets: unknown[] }).secrets.length, 2);
    const t = await s.app.inject({
      method: 'POST',
      url: `/v1/developers/webhooks/${ep.id}/test`,
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(t.statusCode, 200, t.body);
    assert.equal((t.json() as { delivered: boolean; response_code: number }).delivered, true);
    const got = rx.got[0]!;
    assert.ok(verifyWebhook(got.body, got.headers as Record<string, string>, ep.secret));
    assert.ok(verifyWebhook(got.body, got.headers as Record<string, string>, newSecret));
  });
});
