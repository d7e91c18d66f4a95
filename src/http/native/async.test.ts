import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../../app/api-keys.ts';
import { SqliteStore } from '../../adapters/sqlite/sqlite-store.ts';
import { NO_SHARED_DATA, SHARED_DATA, startTestServer, type TestServer } from '../../../test/helpers.ts';

const faces = SHARED_DATA ? path.join(SHARED_DATA, 'faces/deepface') : '';
const b64 = (f: string) => readFileSync(path.join(faces, f)).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface V {
  id: string;
  status: string;
  checks: Record<string, { status: string }>;
}

describe('async mode, cancel and retry (in-process worker)', { skip: NO_SHARED_DATA }, () => {
  let s: TestServer;
  let key: string;
  const auth = () => ({ authorization: `Bearer ${key}` });
  before(async () => {
    s = await startTestServer();
    key = await s.key();
  });
  after(async () => s.close());

  async function waitFinal(id: string): Promise<V> {
    // Up to 30 s: what is asserted is the outcome, not the speed (a loaded 2-core machine took over 10 s).
    for (let i = 0; i < 300; i++) {
      const r = await s.app.inject({
        method: 'GET',
        url: `/v1/identity/verifications/${id}`,
        headers: auth(),
      });
      const v = r.json() as V;
      if (v.status !== 'pending') return v;
      await sleep(100);
    }
    throw new Error(`${id} stayed pending`);
  }

  test('mode async answers 201 pending, then a worker decides it', async () => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/identity/verify',
      headers: auth(),
      payload: {
        document_front: b64('img1.jpg'),
        selfie: b64('img2.jpg'),
        document_type: 'cin',
        country: 'MA',
        mode: 'async',
      },
    });
    assert.equal(r.statusCode, 201);
    const pending = r.json() as V;
    assert.equal(pending.status, 'pending');
    const done = await waitFinal(pending.id);
    assert.equal(done.checks.face_match!.status, 'passed');
    const audit = await s.app.inject({
      method: 'GET',
      url: `/v1/identity/verifications/${pending.id}/audit`,
      headers: auth(),
    });
    const events = (audit.json() as { events: { event: string; actor: string }[] }).events;
    assert.equal(events.filter((e) => e.event === 'checks.completed').length, 1);
    assert.equal(events.find((e) => e.event === 'checks.completed')?.actor, 'worker');
  });

  test('retry runs a rejected verification again; cancel and retry refuse other states', async () => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/identity/verify',
      headers: auth(),
      payload: {
        document_front: b64('img1.jpg'),
        selfie: b64('img3.jpg'),
        document_type: 'cin',
        country: 'MA',
      },
    });
    const rejected = r.json() as V;
    assert.equal(rejected.status, 'rejected');
    const cancel = await s.app.inject({
      method: 'POST',
      url: `/v1/identity/verifications/${rejected.id}/cancel`,
      headers: auth(),
    });
    assert.equal(cancel.statusCode, 409);
    assert.equal((cancel.json() as { error: { code: string } }).error.code, 'invalid_state');
    const retry = await s.app.inject({
      method: 'POST',
      url: `/v1/identity/verifications/${rejected.id}/retry`,
      headers: auth(),
    });
    assert.equal(retry.statusCode, 200);
    assert.equal((retry.json() as V).status, 'pending');
    const again = await waitFinal(rejected.id);
    assert.equal(again.status, 'rejected');
    assert.equal(again.checks.face_match!.status, 'failed');
    const audit = await s.app.inject({
      method: 'GET',
      url: `/v1/identity/verifications/${rejected.id}/audit`,
      headers: auth(),
    });
    const events = (audit.json() as { events: { event: string }[] }).events.map((e) => e.event);
    assert.deepEqual(
      events.filter((e) => e === 'checks.completed' || e === 'verification.retried'),
      ['checks.completed', 'verification.retried', 'checks.completed'],
    );
    const other = await s.key(['identity:write'], 'tenant_b');
    const foreign = await s.app.inject({
      method: 'POST',
      url: `/v1/identity/verifications/${rejected.id}/retry`,
      headers: { authorization: `Bearer ${other}` },
    });
    assert.equal(foreign.statusCode, 404);
  });
});

describe('cancel a queued verification (no worker running)', { skip: NO_SHARED_DATA }, () => {
  test('a cancelled job never runs, even when a worker starts later', async () => {
    const s = await startTestServer({ HUWIYA_WORKER: 'off' });
    try {
      const key = await s.key();
      const auth = { authorization: `Bearer ${key}` };
      const r = await s.app.inject({
        method: 'POST',
        url: '/v1/identity/verify',
        headers: auth,
        payload: {
          document_front: b64('img1.jpg'),
          selfie: b64('img2.jpg'),
          document_type: 'cin',
          country: 'MA',
          mode: 'async',
        },
      });
      const { id } = r.json() as V;
      const c = await s.app.inject({
        method: 'POST',
        url: `/v1/identity/verifications/${id}/cancel`,
        headers: auth,
      });
      assert.equal(c.statusCode, 200);
      assert.equal((c.json() as V).status, 'cancelled');
      assert.equal(await s.runtime.deps.store.countJobs('cancelled'), 1);
      assert.equal(await s.runtime.deps.store.countJobs('queued'), 0);
    } finally {
      await s.close();
    }
  });
});

const BIN = fileURLToPath(new URL('../../../bin/huwiya.js', import.meta.url));

describe('crash safety', { skip: NO_SHARED_DATA }, () => {
  test('jobs survive SIGKILL of the server and each finishes exactly once after restart', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-crash-'));
    const env = {
      ...process.env,
      HUWIYA_DATA_DIR: dataDir,
      HUWIYA_WEBHOOK_ALLOWED_TARGETS: '127.0.0.1',
      HUWIYA_PORT: '0',
      HUWIYA_LOG_LEVEL: 'info',
      HUWIYA_RATE_LIMIT_PER_MINUTE: '10000',
      HUWIYA_JOB_LEASE_MS: '2000',
    };
    const store = await SqliteStore.open(path.join(dataDir, 'huwiya.sqlite'));
    const { secret } = await createApiKey(store, {
      tenantId: 'crash',
      name: 'k',
      scopes: ['identity:read', 'identity:write'],
      mode: 'live',
    });
    await store.close();
    const start = async (): Promise<{ child: ChildProcess; url: string }> => {
      const child = spawn(process.execPath, [BIN, 'serve'], {
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const t = setTimeout(() => reject(new Error(`no start: ${out}`)), 30_000);
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearTimeout(t);
            resolve(m[1]!);
          }
        });
      });
      return { child, url };
    };
    // A receiver for the per-request webhook: every verification's event must arrive (same event id on a
    // redelivery; receivers deduplicate on webhook-id).
    const received: { id: string; verification: string }[] = [];
    const rx = createServer((req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        const e = JSON.parse(b) as { id: string; data: { id: string } };
        received.push({ id: e.id, verification: e.data.id });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`;
    const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
    const body = JSON.stringify({
      document_front: b64('img1.jpg'),
      selfie: b64('img2.jpg'),
      document_type: 'cin',
      country: 'MA',
      mode: 'async',
      checks: ['face_match', 'liveness'],
      webhook_url: hookUrl,
    });
    let server = await start();
    const ids: string[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const r = await fetch(`${server.url}/v1/identity/verify`, { method: 'POST', headers, body });
        assert.equal(r.status, 201);
        ids.push(((await r.json()) as V).id);
      }
      // Some are done, one or two are running, the rest queued: kill -9 now.
      process.kill(-server.child.pid!, 'SIGKILL');
      await new Promise((r) => server.child.once('exit', r));
      server = await start();
      const deadline = Date.now() + 60_000;
      for (const id of ids) {
        for (;;) {
          const r = await fetch(`${server.url}/v1/identity/verifications/${id}`, { headers });
          const v = (await r.json()) as V;
          if (v.status !== 'pending') {
            assert.equal(v.status, 'verified', `${id}: ${JSON.stringify(v.checks)}`);
            break;
          }
          assert.ok(Date.now() < deadline, `${id} never finished`);
          await sleep(200);
        }
        const a = await fetch(`${server.url}/v1/identity/verifications/${id}/audit`, { headers });
        const events = ((await a.json()) as { events: { event: string }[] }).events;
        assert.equal(
          events.filter((e) => e.event === 'checks.completed').length,
          1,
          `${id} decided more than once`,
        );
        assert.equal(events.filter((e) => e.event === 'status.changed').length, 1);
      }
      const deadline2 = Date.now() + 30_000;
      while (new Set(received.map((r) => r.verification)).size < ids.length) {
        assert.ok(
          Date.now() < deadline2,
          `webhooks received for ${new Set(received.map((r) => r.verification)).size}/${ids.length}`,
        );
        await sleep(100);
      }
      assert.deepEqual([...new Set(received.map((r) => r.verification))].sort(), [...ids].sort());
      assert.equal(new Set(received.map((r) => r.id)).size, ids.length, 'one event per verification');
    } finally {
      // The server may already be gone (a crash is what this test looks for): keep the first error.
      try {
        process.kill(-server.child.pid!, 'SIGKILL');
      } catch {
        /* already exited */
      }
      rx.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a separate `huwiya worker` process', { skip: NO_SHARED_DATA }, () => {
  test('runs the jobs of a server started with HUWIYA_WORKER=off', async () => {
    const s = await startTestServer({ HUWIYA_WORKER: 'off' });
    const child = spawn(process.execPath, [BIN, 'worker'], {
      env: { ...process.env, HUWIYA_DATA_DIR: s.dataDir, HUWIYA_LOG_LEVEL: 'silent' },
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      const key = await s.key();
      const auth = { authorization: `Bearer ${key}` };
      const r = await s.app.inject({
        method: 'POST',
        url: '/v1/identity/verify',
        headers: auth,
        payload: {
          document_front: b64('img1.jpg'),
          selfie: b64('img2.jpg'),
          document_type: 'cin',
          country: 'MA',
          mode: 'async',
          checks: ['face_match'],
        },
      });
      const { id } = r.json() as V;
      let v: V = { id, status: 'pending', checks: {} };
      for (let i = 0; i < 300 && v.status === 'pending'; i++) {
        await sleep(100);
        v = (
          await s.app.inject({ method: 'GET', url: `/v1/identity/verifications/${id}`, headers: auth })
        ).json() as V;
      }
      assert.equal(v.status, 'verified');
      const audit = await s.app.inject({
        method: 'GET',
        url: `/v1/identity/verifications/${id}/audit`,
        headers: auth,
      });
      assert.equal(
        (audit.json() as { events: { event: string; actor: string }[] }).events.find(
          (e) => e.event === 'checks.completed',
        )?.actor,
        'worker',
      );
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await s.close();
    }
  });
});
