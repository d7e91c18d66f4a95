import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NO_SHARED_DATA, SHARED_DATA, startTestServer, type TestServer } from '../../../test/helpers.ts';
import { createRng } from '../../../test/synth/identities.ts';
import { filmChallenge, type ChallengeActor } from '../../../test/synth/head-turn.ts';
import { detectFaces } from '../../pipeline/face/detect.ts';
import { detectLandmarks } from '../../pipeline/face/landmarks.ts';
import { decodeImage } from '../../pipeline/image/decode.ts';
import { encodeJpeg, resizeTo, type RgbImage } from '../../pipeline/image/rgb-image.ts';

type Json = Record<string, unknown>;
type Turn = 'left' | 'right';

describe('liveness challenge (sessions)', { skip: NO_SHARED_DATA }, () => {
  let s: TestServer;
  let key: string;
  let photo: RgbImage;
  let selfieB64: string;
  before(async () => {
    s = await startTestServer({ HUWIYA_RATE_LIMIT_PER_MINUTE: '10000' });
    key = await s.key();
    const bytes = readFileSync(path.join(SHARED_DATA!, 'faces/deepface/img1.jpg'));
    const d = await decodeImage(bytes, 'selfie', { maxImageBytes: 5e7, maxImagePixels: 1e8 });
    const k = 640 / Math.max(d.image.width, d.image.height);
    photo = await resizeTo(d.image, Math.round(d.image.width * k), Math.round(d.image.height * k));
    selfieB64 = (await encodeJpeg(photo, 90)).toString('base64');
  });
  after(async () => s.close());

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, token: string, payload?: unknown) =>
    s.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload: payload as Json } : {}),
    });

  async function session(extra: Json = {}) {
    const r = await call('POST', '/v1/identity/sessions', key, {
      document_type: 'passport',
      country: 'MA',
      checks: ['liveness'],
      ...extra,
    });
    assert.equal(r.statusCode, 201, r.body);
    return r.json() as { id: string; client_token: string; required: string[]; liveness_challenge: Json };
  }

  async function upload(id: string, token: string, side: string, image: string) {
    const r = await call('POST', `/v1/identity/sessions/${id}/documents`, token, { side, image });
    assert.equal(r.statusCode, 200, r.body);
  }

  /** Film what `actor` does when asked `turns`, as the page sends it (JPEG data URLs). */
  async function frames(turns: Turn[], actor: ChallengeActor, seed: number) {
    const { inference } = s.runtime.deps;
    const face = (await detectFaces(photo, { inference }))[0]!;
    const landmarks = await detectLandmarks(photo, face, { inference });
    const filmed = filmChallenge(photo, landmarks, turns, actor, createRng(seed));
    return Promise.all(
      filmed.map(async (f) => ({
        image: `data:image/jpeg;base64,${(await encodeJpeg(f.image, 80)).toString('base64')}`,
        step: f.step,
        t: f.t,
      })),
    );
  }

  /** The verification once a worker decided it. */
  async function settled(id: string): Promise<Json> {
    let v: Json = {};
    for (let i = 0; i < 200; i++) {
      v = (await call('GET', `/v1/identity/verifications/${id}`, key)).json() as Json;
      if (v.status !== 'pending' && v.status !== 'processing') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    return v;
  }

  async function challenge(id: string, token: string) {
    const r = await call('POST', `/v1/identity/sessions/${id}/liveness-challenge`, token);
    assert.equal(r.statusCode, 201, r.body);
    return r.json() as { id: string; turns: Turn[]; attempts_left: number };
  }

  test('a session checking liveness asks for the challenge after the selfie; frames before the selfie are refused', async () => {
    const ses = await session();
    assert.deepEqual(ses.required, ['front', 'selfie', 'liveness_challenge']);
    assert.deepEqual(ses.liveness_challenge, { mode: 'on', status: 'not_taken', attempts_left: 3 });
    const off = await session({ liveness_challenge: 'off' });
    assert.deepEqual(off.required, ['front', 'selfie']);
    const bad = await call('POST', '/v1/identity/sessions', key, {
      document_type: 'passport',
      country: 'MA',
      checks: ['face_match'],
      liveness_challenge: 'on',
    });
    assert.equal(bad.statusCode, 400);
    const c = await challenge(ses.id, ses.client_token);
    assert.equal(c.turns.length, 3);
    assert.ok(c.turns.includes('left') && c.turns.includes('right'));
    const early = await call(
      'POST',
      `/v1/identity/sessions/${ses.id}/liveness-challenge/${c.id}/frames`,
      ses.client_token,
      {
        frames: await frames(c.turns, 'head', 1),
      },
    );
    assert.equal(early.statusCode, 409, early.body);
    assert.match(early.body, /selfie/);
    const done = await call('POST', `/v1/identity/sessions/${ses.id}/complete`, ses.client_token);
    assert.equal(done.statusCode, 409);
    assert.match(done.body, /front, selfie/);
  });

  test('a session completed without answering the challenge carries not_answered, which reviews', async () => {
    const ses = await session();
    await upload(ses.id, ses.client_token, 'front', selfieB64);
    await upload(ses.id, ses.client_token, 'selfie', selfieB64);
    const state = (await call('GET', `/v1/identity/sessions/${ses.id}`, key)).json() as Json;
    assert.deepEqual(state.missing, ['liveness_challenge']);
    const done = await call('POST', `/v1/identity/sessions/${ses.id}/complete`, ses.client_token);
    assert.equal(done.statusCode, 200, done.body);
    const v = await settled((done.json() as { id: string }).id);
    const live = (v.checks as Record<string, Json>).liveness!;
    assert.equal(live.reason, 'challenge_failed', JSON.stringify(live));
    assert.equal(v.status, 'review');
    assert.ok(
      (v.risk_factors as { code: string; description?: string }[]).some(
        (f) => f.code === 'liveness_challenge_failed',
      ),
    );
  });

  test('a head turning as asked passes, once; the verification carries it and is live', async () => {
    const ses = await session();
    await upload(ses.id, ses.client_token, 'front', selfieB64);
    await upload(ses.id, ses.client_token, 'selfie', selfieB64);
    const c = await challenge(ses.id, ses.client_token);
    const body = { frames: await frames(c.turns, 'head', 2) };
    const url = `/v1/identity/sessions/${ses.id}/liveness-challenge/${c.id}/frames`;
    const r = await call('POST', url, ses.client_token, body);
    assert.equal(r.statusCode, 200, r.body);
    const out = r.json() as Json & { turns: { ok: boolean; planar_correlation: number }[] };
    assert.equal(out.status, 'passed', r.body);
    assert.deepEqual(out.observed, c.turns);
    for (const t of out.turns) assert.ok(t.planar_correlation < 0.95, r.body);
    const again = await call('POST', url, ses.client_token, body);
    assert.equal(again.statusCode, 409, 'a challenge is answered once');
    const state = (await call('GET', `/v1/identity/sessions/${ses.id}`, key)).json() as Json;
    assert.equal(state.status, 'ready');
    assert.deepEqual(state.liveness_challenge, { mode: 'on', status: 'passed', attempts_left: 0 });
    const done = await call('POST', `/v1/identity/sessions/${ses.id}/complete`, ses.client_token);
    assert.equal(done.statusCode, 200, done.body);
    const v = await settled((done.json() as { id: string }).id);
    const live = (v.checks as Record<string, Json>).liveness!;
    assert.equal(live.status, 'passed', JSON.stringify(live));
    assert.equal((live.evidence as { challenge: Json }).challenge.status, 'passed');
    assert.equal((v.liveness_challenge as Json).status, 'passed');
  });

  test('a flat picture moved the way asked fails as a picture; turns in the wrong order or looped fail as other turns', async () => {
    const ses = await session();
    await upload(ses.id, ses.client_token, 'selfie', selfieB64);
    const answer = async (actor: ChallengeActor, reverse: boolean, seed: number) => {
      const c = await challenge(ses.id, ses.client_token);
      const turns = reverse ? c.turns.map((t): Turn => (t === 'left' ? 'right' : 'left')) : c.turns;
      const r = await call(
        'POST',
        `/v1/identity/sessions/${ses.id}/liveness-challenge/${c.id}/frames`,
        ses.client_token,
        {
          frames: await frames(turns, actor, seed),
        },
      );
      assert.equal(r.statusCode, 200, r.body);
      return r.json() as Json;
    };
    const flat = await answer('flat', false, 3);
    assert.equal(flat.status, 'failed');
    assert.equal(flat.reason, 'flat_picture', JSON.stringify(flat));
    const reversed = await answer('head', true, 4);
    assert.equal(reversed.reason, 'wrong_turns', JSON.stringify(reversed));
    const looped = await answer('loop', false, 5);
    assert.equal(looped.reason, 'wrong_turns', JSON.stringify(looped));
    assert.equal(looped.attempts_left, 0);
    const more = await call('POST', `/v1/identity/sessions/${ses.id}/liveness-challenge`, ses.client_token);
    assert.equal(more.statusCode, 409, 'three attempts per session');
  });

  test('hostile answers get a clear 4xx and spend nothing they should not', async () => {
    const ses = await session();
    await upload(ses.id, ses.client_token, 'selfie', selfieB64);
    const c = await challenge(ses.id, ses.client_token);
    const url = `/v1/identity/sessions/${ses.id}/liveness-challenge/${c.id}/frames`;
    const few = await call('POST', url, ses.client_token, { frames: [{ image: selfieB64, step: 0, t: 0 }] });
    assert.equal(few.statusCode, 400, few.body);
    const broken = await call('POST', url, ses.client_token, {
      frames: Array.from({ length: 10 }, (_, i) => ({ image: '!!!not base64', step: 0, t: i })),
    });
    assert.equal(broken.statusCode, 400, broken.body);
    const unknown = await call('POST', url, ses.client_token, { frames: [], extra: 1 });
    assert.equal(unknown.statusCode, 400);
    const other = await call(
      'POST',
      `/v1/identity/sessions/${ses.id}/liveness-challenge/lch_doesnotexist1/frames`,
      ses.client_token,
      {
        frames: Array.from({ length: 10 }, (_, i) => ({ image: selfieB64, step: 0, t: i })),
      },
    );
    assert.equal(other.statusCode, 404);
    // A truncated JPEG among the frames: a 400, and the challenge is not spent by it.
    const truncated = Buffer.from(selfieB64, 'base64').subarray(0, 2000).toString('base64');
    const frames = (first: string) =>
      Array.from({ length: 10 }, (_, i) => ({ image: i === 3 ? first : selfieB64, step: 0, t: i * 250 }));
    const cut = await call('POST', url, ses.client_token, { frames: frames(truncated) });
    assert.equal(cut.statusCode, 400, cut.body);
    const still = await call('POST', url, ses.client_token, { frames: frames(selfieB64) });
    assert.equal(still.statusCode, 200, still.body);
    assert.equal((still.json() as Json).reason, 'not_turned', 'a person holding still is not a picture');
  });

  test('a tenant that requires the challenge sends a verification without one to review', async () => {
    const admin = await s.key(['admin']);
    const put = await call('PUT', '/v1/developers/account/settings', admin, {
      liveness: { require_challenge: true },
    });
    assert.equal(put.statusCode, 200, put.body);
    try {
      const r = await call('POST', '/v1/identity/verify', key, {
        document_front: selfieB64,
        selfie: selfieB64,
        document_type: 'passport',
        country: 'MA',
        checks: ['liveness'],
      });
      assert.equal(r.statusCode, 200, r.body);
      const v = r.json() as Json & { risk_factors: { code: string }[]; checks: Record<string, Json> };
      assert.equal(v.checks.liveness!.reason, 'challenge_missing', JSON.stringify(v.checks.liveness));
      assert.equal(v.status, 'review');
      assert.ok(v.risk_factors.some((f) => f.code === 'liveness_challenge_missing'));
    } finally {
      await call('PUT', '/v1/developers/account/settings', admin, {});
    }
  });
});
