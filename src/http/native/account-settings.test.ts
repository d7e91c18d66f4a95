import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { POLICY_VERSION } from '../../domain/risk-policy.ts';
import { startTestServer, type TestServer } from '../../../test/helpers.ts';

type Json = Record<string, any>;

let s: TestServer;
let png: string;
before(async () => {
  s = await startTestServer();
  png = (
    await sharp({ create: { width: 200, height: 140, channels: 3, background: { r: 90, g: 120, b: 160 } } })
      .png()
      .toBuffer()
  ).toString('base64');
});
after(async () => s.close());

async function call(key: string, method: 'GET' | 'PUT' | 'POST', url: string, payload?: Json) {
  const r = await s.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, payload });
  return { statusCode: r.statusCode, json: r.json() as Json };
}

test('account: GET shows the tenant and the policy its verifications are decided under', async () => {
  const key = await s.key(undefined, 'bank_a');
  const a = await call(key, 'GET', '/v1/developers/account');
  assert.equal(a.statusCode, 200, JSON.stringify(a.json));
  assert.equal(a.json.id, 'bank_a');
  assert.equal(a.json.livemode, true);
  assert.equal(a.json.settings.revision, 0);
  assert.equal(a.json.settings.effective_policy.policy_version, POLICY_VERSION);
  assert.equal(a.json.settings.effective_policy.min_age_years, 18);
  assert.deepEqual(a.json.settings.effective_policy.factors.face_mismatch, {
    weight: 800,
    effect: 'rejects_when_strong',
  });
  // Changing settings needs admin.
  const denied = await call(key, 'PUT', '/v1/developers/account/settings', { policy: { min_age_years: 21 } });
  assert.equal(denied.statusCode, 403);
  assert.equal(denied.json.error.code, 'insufficient_scope');
});

test('account settings: a tenant’s policy decides its verifications, names its revision, and no one else’s', async () => {
  const admin = await s.key(['admin'], 'bank_b', 'test');
  const other = await s.key(['admin'], 'bank_c', 'test');
  const verify = async (key: string, scenario: string, mode: 'sync' | 'async' = 'sync') => {
    const r = await call(key, 'POST', '/v1/identity/verify', {
      document_front: png,
      selfie: png,
      document_type: 'cin',
      country: 'MA',
      mode,
      metadata: { sandbox_scenario: scenario },
    });
    assert.ok(r.statusCode === 200 || r.statusCode === 201, JSON.stringify(r.json));
    let doc = r.json;
    for (let i = 0; i < 200 && doc.status === 'pending'; i++) {
      await new Promise((res) => setTimeout(res, 50));
      doc = (await call(key, 'GET', `/v1/identity/verifications/${doc.id}`)).json;
    }
    return doc;
  };
  // The simulated holder is born 1990-01-15: 36, verified under the default minimum age.
  assert.equal((await verify(admin, 'verified')).status, 'verified');
  assert.equal((await verify(admin, 'mrz_visual_zone_mismatch')).status, 'review');

  const put = await call(admin, 'PUT', '/v1/developers/account/settings', {
    policy: { min_age_years: 40, factors: { mrz_visual_zone_mismatch: { effect: 'rejects' } } },
  });
  assert.equal(put.statusCode, 200, JSON.stringify(put.json));
  assert.equal(put.json.revision, 1);
  assert.equal(put.json.effective_policy.policy_version, `${POLICY_VERSION}+t1`);
  assert.equal(put.json.effective_policy.factors.mrz_visual_zone_mismatch.effect, 'rejects');

  for (const mode of ['sync', 'async'] as const) {
    const young = await verify(admin, 'verified', mode);
    assert.equal(young.status, 'rejected', `${mode}: ${JSON.stringify(young.risk_factors)}`);
    assert.match(
      young.risk_factors.find((f: Json) => f.code === 'under_minimum_age').message,
      /minimum age of 40/,
    );
    assert.equal(young.policy_version, `${POLICY_VERSION}+t1`);
  }
  assert.equal((await verify(admin, 'mrz_visual_zone_mismatch')).status, 'rejected');
  // The fixtures table follows the sandbox's own policy.
  const fixtures = (await call(admin, 'GET', '/v1/developers/sandbox/fixtures')).json;
  const row = (fixtures.identity.scenarios as Json[]).find((f) => f.scenario === 'mrz_visual_zone_mismatch')!;
  assert.equal(row.status, 'rejected');
  // Another tenant keeps the default.
  const theirs = await verify(other, 'verified');
  assert.equal(theirs.status, 'verified');
  assert.equal(theirs.policy_version, POLICY_VERSION);

  // A new revision replaces the whole; the earlier one stays readable.
  const second = await call(admin, 'PUT', '/v1/developers/account/settings', {
    duplicate: { face_index: false },
  });
  assert.equal(second.json.revision, 2);
  assert.deepEqual(second.json.policy, {});
  assert.equal(second.json.effective_policy.policy_version, POLICY_VERSION);
  assert.equal((await verify(admin, 'verified')).status, 'verified');
  const r1 = await call(admin, 'GET', '/v1/developers/account/settings?revision=1');
  assert.equal(r1.json.policy.min_age_years, 40);
  assert.equal((await call(admin, 'GET', '/v1/developers/account/settings?revision=9')).statusCode, 404);
  // With the face index off, a face search is refused (numbers still work).
  const search = await call(admin, 'POST', '/v1/identity/duplicates/search', { image: png });
  assert.equal(search.statusCode, 409, JSON.stringify(search.json));

  // Bad settings: coded errors naming the field, no revision written.
  for (const [body, code, param] of [
    [{ policy: { factors: { made_up: { weight: 10 } } } }, 'unknown_parameter', 'policy.factors.made_up'],
    [{ policy: { verify_below: 900 } }, 'invalid_parameter', 'policy.verify_below'],
    [{ colour: 'blue' }, 'unknown_parameter', 'colour'],
  ] as const) {
    const r = await call(admin, 'PUT', '/v1/developers/account/settings', body);
    assert.equal(r.statusCode, 400, JSON.stringify(r.json));
    assert.equal(r.json.error.code, code, JSON.stringify(r.json));
    assert.equal(r.json.error.param, param, JSON.stringify(r.json));
  }
  assert.equal((await call(admin, 'GET', '/v1/developers/account/settings')).json.revision, 2);
});
