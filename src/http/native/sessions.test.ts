import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NO_SHARED_DATA, SHARED_DATA, startTestServer, type TestServer } from '../../../test/helpers.ts';

describe('sessions API', { skip: NO_SHARED_DATA }, () => {
  let s: TestServer;
  let key: string;
  let clock = Date.now();
  const img = (f: string) => readFileSync(path.join(SHARED_DATA!, 'faces/deepface', f)).toString('base64');
  before(async () => {
    s = await startTestServer({ HUWIYA_RATE_LIMIT_PER_MINUTE: '10000' });
    key = await s.key();
  });
  after(async () => s.close());

  async function create(extra: Record<string, unknown> = {}) {
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/identity/sessions',
      headers: { authorization: `Bearer ${key}` },
      payload: {
        document_type: 'passport',
        country: 'MA',
        checks: ['face_match'],
        redirect_url: 'https://example.test/done',
        ...extra,
      },
    });
    assert.equal(r.statusCode, 201, r.body);
    return r.json() as {
      id: string;
      url: string;
      client_token: string;
      status: string;
      expires_at: string;
      required: string[];
    };
  }

  test('create answers a capture URL with the token in its fragment, and the page is served with strict headers', async () => {
    const ses = await create();
    assert.equal(ses.status, 'pending');
    assert.deepEqual(ses.required, ['front', 'selfie']);
    assert.match(ses.url, new RegExp(`/capture/${ses.id}#token=cst_`));
    const page = await s.app.inject({ method: 'GET', url: `/capture/${ses.id}` });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    const rules = await s.app.inject({ method: 'GET', url: '/capture/assets/quality-rules.json' });
    assert.equal((rules.json() as { blurHigh: number }).blurHigh > 0, true);
  });

  test('the client token works for its own session only; uploads are graded; complete needs every part', async () => {
    const a = await create();
    const b = await create();
    const tok = { authorization: `Bearer ${a.client_token}` };
    const foreign = await s.app.inject({ method: 'GET', url: `/v1/identity/sessions/${b.id}`, headers: tok });
    assert.equal(foreign.statusCode, 404);
    const list = await s.app.inject({ method: 'GET', url: '/v1/identity/verifications', headers: tok });
    assert.equal(list.statusCode, 401, 'a client token is no API key');
    const early = await s.app.inject({
      method: 'POST',
      url: `/v1/identity/sessions/${a.id}/complete`,
      headers: tok,
    });
    assert.equal(early.statusCode, 409);
    assert.match((early.json() as { error: { message: string } }).error.message, /front, selfie/);
    const back = await s.app.inject({
      method: 'POST',
      url: `/v1/identity/sessions/${a.id}/documents`,
      headers: tok,
      payload: { side: 'back', image: img('img1.jpg') },
    });
    assert.equal(back.statusCode, 400, 'a passport has no back');
    const front = await s.app.inject({
      method: 'POST',
      url: `/v1/identity/sessions/${a.id}/documents`,
      headers: tok,
      payload: { side: 'front', image: img('img1.jpg') },
    });
    assert.equal(front.statusCode, 200, front.body);
    const selfie = await s.app.inject({
      method: 'POST',
      url: `/v1/identity/sessions/${a.id}/documents`,
      headers: tok,
      payload: { type: 'selfie', image: img('img2.jpg') },
    });
    const sj = selfie.json() as { status: string; upload: { quality_score: number; issues: unknown[] } };
    assert.equal(sj.status, 'ready');
    assert.ok(sj.upload.quality_score > 0);
    const done = await s.app.inject({
      method: 'POST',
      url: `/v1/identity/sessions/${a.id}/complete`,
      headers: tok,
    });
    assert.equal(done.statusCode, 200, done.body);
    const v = done.json() as { id: string; status: string; metadata?: unknown };
    assert.equal(v.status, 'pending');
    // The phone is told its part is done; the verification's contents are the integrator's.
    assert.equal(v.metadata, undefined);
    const verification = await s.app.inject({
      method: 'GET',
      url: `/v1/identity/verifications/${v.id}`,
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal((verification.json() as { metadata: { session_id: string } }).metadata.session_id, a.id);
    const got = await s.app.inject({
      method: 'GET',
      url: `/v1/identity/sessions/${a.id}`,
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal((got.json() as { verification_id: string; status: string }).verification_id, v.id);
    // Session images are destroyed once they became the verification's.
    assert.equal(await s.runtime.deps.keyring.get(s.runtime.deps.store, a.id), undefined);
  });

  test('a session past its time is expired and refuses uploads', async () => {
    const ses = await create({ expires_in: 60 });
    const realNow = s.runtime.deps.now;
    clock = Date.now() + 61_000;
    s.runtime.deps.now = () => new Date(clock);
    try {
      const r = await s.app.inject({
        method: 'POST',
        url: `/v1/identity/sessions/${ses.id}/documents`,
        headers: { authorization: `Bearer ${ses.client_token}` },
        payload: { side: 'front', image: img('img1.jpg') },
      });
      assert.equal(r.statusCode, 409);
      const got = await s.app.inject({
        method: 'GET',
        url: `/v1/identity/sessions/${ses.id}`,
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal((got.json() as { status: string }).status, 'expired');
    } finally {
      s.runtime.deps.now = realNow;
    }
  });
});
