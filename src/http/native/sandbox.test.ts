import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../../../test/helpers.ts';

type Json = Record<string, any>;

let s: TestServer;
let testKey: string;
let liveKey: string;
let png: string;
let inferenceCalls = 0;

before(async () => {
  s = await startTestServer();
  testKey = await s.key(undefined, 'acme', 'test');
  liveKey = await s.key(undefined, 'acme', 'live');
  // Any decodable image: a sandbox scenario reads none of it (the decoder still validates it).
  png = (
    await sharp({ create: { width: 240, height: 160, channels: 3, background: { r: 200, g: 180, b: 150 } } })
      .png()
      .toBuffer()
  ).toString('base64');
  const inference = s.runtime.deps.inference;
  const run = inference.run.bind(inference);
  inference.run = (...args) => {
    inferenceCalls++;
    return run(...args);
  };
});
after(async () => s.close());

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

async function verify(key: string, body: Json): Promise<{ statusCode: number; json: Json }> {
  const r = await s.app.inject({
    method: 'POST',
    url: '/v1/identity/verify',
    headers: auth(key),
    payload: { document_front: png, selfie: png, document_type: 'cin', country: 'MA', ...body },
  });
  return { statusCode: r.statusCode, json: r.json() as Json };
}

async function get(key: string, url: string): Promise<{ statusCode: number; json: Json }> {
  const r = await s.app.inject({ method: 'GET', url, headers: auth(key) });
  return { statusCode: r.statusCode, json: r.json() as Json };
}

async function post(
  key: string,
  url: string,
  payload: Json = {},
): Promise<{ statusCode: number; json: Json }> {
  const r = await s.app.inject({ method: 'POST', url, headers: auth(key), payload });
  return { statusCode: r.statusCode, json: r.json() as Json };
}

const DEFAULT = ['ocr', 'face_match', 'liveness', 'fraud'];

test('sandbox: every scenario gives the status and risk factor its fixture lists, and runs no model', async () => {
  const fixtures = await get(testKey, '/v1/developers/sandbox/fixtures');
  assert.equal(fixtures.statusCode, 200, JSON.stringify(fixtures.json));
  const scenarios = fixtures.json.identity.scenarios as Json[];
  assert.ok(scenarios.length > 30);
  // The fixture table is the real policy's: these are the statuses a live verification gets.
  const status = Object.fromEntries(scenarios.map((f) => [f.scenario, f.status]));
  assert.equal(status.verified, 'verified');
  assert.equal(status.face_mismatch, 'rejected');
  assert.equal(status.liveness_spoof, 'rejected');
  assert.equal(status.document_expired, 'rejected');
  assert.equal(status.under_minimum_age, 'rejected');
  assert.equal(status.screen_replay, 'rejected');
  assert.equal(status.selfie_missing, 'review');
  assert.equal(status.mrz_visual_zone_mismatch, 'review');
  assert.equal(status.duplicate_document_number, 'review');
  assert.equal(status.fraud_error, 'review');
  const before = inferenceCalls;
  for (const f of scenarios) {
    const checks =
      f.simulates && f.simulates !== 'selfie_missing' && !DEFAULT.includes(f.simulates)
        ? [...DEFAULT, f.simulates]
        : DEFAULT;
    const r = await verify(testKey, { checks, metadata: { sandbox_scenario: f.scenario, order: 'A-1' } });
    assert.equal(r.statusCode, 200, `${f.scenario}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.status, f.status, `${f.scenario}: ${JSON.stringify(r.json.risk_factors)}`);
    assert.equal(r.json.livemode, false);
    assert.equal(r.json.sandbox.scenario, f.scenario);
    assert.equal(r.json.metadata.order, 'A-1');
    const codes = (r.json.risk_factors as Json[]).map((x) => x.code);
    if (f.scenario !== 'verified')
      assert.ok(codes.includes(f.scenario), `${f.scenario} names ${codes.join(', ')}`);
    else assert.deepEqual(codes, ['face_match_margin', 'liveness_margin']);
    for (const c of Object.values(r.json.checks as Record<string, Json>)) assert.equal(c.simulated, true);
  }
  assert.equal(inferenceCalls, before, 'a sandbox scenario ran a model');
});

test('sandbox: a test key and a live key never see each other’s verifications', async () => {
  const sandboxed = await verify(testKey, { metadata: { sandbox_scenario: 'verified' } });
  assert.equal(sandboxed.statusCode, 200);
  const live = await verify(liveKey, { mode: 'async', metadata: { sandbox_scenario: 'face_mismatch' } });
  assert.equal(live.statusCode, 201, JSON.stringify(live.json));
  // A live key ignores the magic values: the real pipeline runs, no scenario is kept.
  assert.equal(live.json.livemode, true);
  assert.equal(live.json.sandbox, undefined);
  assert.equal((await get(liveKey, `/v1/identity/verifications/${sandboxed.json.id}`)).statusCode, 404);
  assert.equal((await get(testKey, `/v1/identity/verifications/${live.json.id}`)).statusCode, 404);
  const liveList = (await get(liveKey, '/v1/identity/verifications?limit=100')).json;
  assert.deepEqual(
    (liveList.data as Json[]).map((v) => v.id),
    [live.json.id],
  );
  const testList = (await get(testKey, '/v1/identity/verifications?limit=100')).json;
  assert.ok((testList.data as Json[]).every((v) => v.livemode === false));
  assert.ok((testList.data as Json[]).some((v) => v.id === sandboxed.json.id));
});

test('sandbox: bad magic values are 400s naming the field', async () => {
  let r = await verify(testKey, { metadata: { sandbox_scenario: 'approve_everything' } });
  assert.equal(r.statusCode, 400);
  assert.equal(r.json.error.code, 'invalid_parameter');
  assert.equal(r.json.error.param, 'metadata.sandbox_scenario');
  r = await verify(testKey, { checks: ['ocr'], metadata: { sandbox_scenario: 'liveness_spoof' } });
  assert.equal(r.statusCode, 400);
  assert.match(r.json.error.message, /liveness/);
  r = await verify(testKey, { selfie: undefined, metadata: { sandbox_scenario: 'face_mismatch' } });
  assert.equal(r.statusCode, 400);
  assert.match(r.json.error.message, /selfie/);
  r = await verify(testKey, {
    metadata: { sandbox_scenario: 'verified', sandbox_document_number: 'no spaces' },
  });
  assert.equal(r.statusCode, 400);
  assert.equal(r.json.error.param, 'metadata.sandbox_document_number');
  // Nothing is passed by absence in the sandbox either: no selfie, face checks requested → review.
  r = await verify(testKey, { selfie: undefined, metadata: { sandbox_scenario: 'verified' } });
  assert.equal(r.json.status, 'review');
  assert.ok((r.json.risk_factors as Json[]).some((f) => f.code === 'selfie_missing'));
});

test('sandbox: the duplicate check looks the simulated document number up for real', async () => {
  const body = {
    checks: [...DEFAULT, 'duplicate'],
    metadata: { sandbox_scenario: 'verified', sandbox_document_number: 'ZX998877' },
  };
  const first = await verify(testKey, body);
  assert.equal(first.json.status, 'verified', JSON.stringify(first.json.risk_factors));
  assert.equal(first.json.extracted_data.document_number, 'ZX998877');
  const second = await verify(testKey, body);
  assert.equal(second.json.status, 'review');
  assert.deepEqual(
    (second.json.checks.duplicate.matches as Json[]).map((m) => m.verification_id),
    [first.json.id],
  );
});

test('sandbox: simulate sets the scenario of the next verifications; live keys cannot', async () => {
  assert.equal(
    (await post(liveKey, '/v1/developers/sandbox/simulate', { scenario: 'verified' })).json.error.code,
    'sandbox_only',
  );
  const bad = await post(testKey, '/v1/developers/sandbox/simulate', {
    scenario: 'verified',
    config: { count: 0 },
  });
  assert.equal(bad.statusCode, 400);
  const set = await post(testKey, '/v1/developers/sandbox/simulate', {
    scenario: 'liveness_spoof',
    config: { count: 2 },
  });
  assert.equal(set.statusCode, 200, JSON.stringify(set.json));
  assert.equal(set.json.expected_status, 'rejected');
  // Async: the worker simulates the scenario recorded with the verification.
  const a = await verify(testKey, { mode: 'async' });
  assert.equal(a.statusCode, 201);
  let done = a.json;
  for (let i = 0; i < 200 && done.status === 'pending'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    done = (await get(testKey, `/v1/identity/verifications/${a.json.id}`)).json;
  }
  assert.equal(done.status, 'rejected');
  assert.equal(done.sandbox.scenario, 'liveness_spoof');
  const b = await verify(testKey, {});
  assert.ok((b.json.risk_factors as Json[]).some((f) => f.code === 'liveness_spoof'));
  // Used twice: cleared.
  assert.equal((await get(testKey, '/v1/developers/sandbox/fixtures')).json.identity.simulation, null);
});

test('sandbox: reset deletes the sandbox verifications and sessions and nothing live', async () => {
  assert.equal((await post(liveKey, '/v1/developers/sandbox/reset')).statusCode, 403);
  const liveBefore = (await get(liveKey, '/v1/identity/verifications?limit=100')).json.total_count;
  const session = { document_type: 'passport', country: 'MA', checks: ['face_match'] };
  const testSession = await post(testKey, '/v1/identity/sessions', session);
  assert.equal(testSession.statusCode, 201, JSON.stringify(testSession.json));
  const liveSession = await post(liveKey, '/v1/identity/sessions', session);
  assert.equal(liveSession.statusCode, 201, JSON.stringify(liveSession.json));
  await post(testKey, '/v1/developers/sandbox/simulate', { scenario: 'face_mismatch' });
  const r = await post(testKey, '/v1/developers/sandbox/reset');
  assert.equal(r.statusCode, 200, JSON.stringify(r.json));
  assert.ok(r.json.verifications_deleted > 30);
  assert.equal(r.json.sessions_deleted, 1);
  assert.equal((await get(testKey, `/v1/identity/sessions/${testSession.json.id}`)).statusCode, 404);
  assert.equal((await get(liveKey, `/v1/identity/sessions/${liveSession.json.id}`)).statusCode, 200);
  assert.equal((await get(testKey, '/v1/identity/verifications')).json.total_count, 0);
  assert.equal((await get(testKey, '/v1/developers/sandbox/fixtures')).json.identity.simulation, null);
  assert.equal((await get(liveKey, '/v1/identity/verifications?limit=100')).json.total_count, liveBefore);
});
