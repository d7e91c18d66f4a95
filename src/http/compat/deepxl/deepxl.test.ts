import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { NO_SHARED_DATA, SHARED_DATA, startTestServer, type TestServer } from '../../../../test/helpers.ts';
import { multipart, type Part } from '../../../../test/multipart.ts';
import { createRng, randomIdentity } from '../../../../test/synth/identities.ts';
import { photograph } from '../../../../test/synth/photograph.ts';
import { renderDocument } from '../../../../test/synth/render-document.ts';
import * as S from './schemas.ts';

type Json = Record<string, any>;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormatsModule.default(ajv);
const validResult = ajv.compile(S.DeepxlResult);
const validList = ajv.compile(S.DeepxlList);
const validError = ajv.compile(S.DeepxlError);

function assertShape(validate: ValidateFunction, body: unknown): void {
  assert.ok(validate(body), `${JSON.stringify(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
}

function assertDeepxlError(res: { statusCode: number; json(): any }, status: number, mention?: RegExp): Json {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  const body = res.json() as Json;
  assertShape(validError, body);
  assert.equal(body.statusCode, status);
  if (mention) assert.match(body.message, mention);
  return body;
}

/** The seed's tags (seeds/deepxl-verification.txt). */
const SEED_TAGS = {
  customerId: '9999',
  customerName: 'Acme Corp',
  documentId: 'DOC-2024-001',
  companyName: 'DeepXL',
  companyId: 'COMP-001',
};

describe('DeepXL dialect', { skip: NO_SHARED_DATA, timeout: 600_000 }, () => {
  let s: TestServer;
  let key: string;
  let otherTenantKey: string;
  let idCard: Buffer;
  let selfie: Buffer;
  let first: Json;

  const face = (f: string) => readFileSync(path.join(SHARED_DATA!, 'faces/deepface', f));
  const post = (parts: Part[], auth = key) => {
    const body = multipart(parts);
    return s.app.inject({
      method: 'POST',
      url: '/compat/deepxl/v1/verification',
      headers: { ...body.headers, authorization: `Bearer ${auth}` },
      payload: body.payload,
    });
  };
  const get = (url: string, auth = key) =>
    s.app.inject({ method: 'GET', url, headers: { 'x-api-key': auth } });
  const seedRequest = (tags: object = SEED_TAGS) => [
    { name: 'idFile', value: idCard, filename: 'passport.jpg', contentType: 'image/jpeg' },
    { name: 'selfieFile', value: selfie, filename: 'live_selfie.jpg', contentType: 'image/jpeg' },
    { name: 'tags', value: JSON.stringify(tags) },
  ];

  before(async () => {
    s = await startTestServer();
    key = await s.key();
    otherTenantKey = await s.key(['identity:read', 'identity:write'], 'tenant_b');
    // A generated, photographed Moroccan CNIE whose portrait is a deepface person; the selfie is
    // another photo of the same person (master.csv: img1.jpg / img2.jpg, "Yes").
    const rng = createRng(4242);
    const front = await renderDocument('mar_cnie_2020_front', randomIdentity(rng), {
      rng,
      portraitPath: path.join(SHARED_DATA!, 'faces/deepface', 'img1.jpg'),
    });
    idCard = (await photograph(front.image, 'clean', rng)).jpeg;
    selfie = face('img2.jpg');
  });
  after(async () => {
    await s.close();
  });

  test("the seed's request answers the seed's result shape, with real values", async () => {
    const res = await post(seedRequest());
    assert.equal(res.statusCode, 200, res.body);
    first = res.json() as Json;
    assertShape(validResult, first);
    const r = first.result;
    assert.ok(Number.isInteger(r.verificationId) && r.verificationId > 0);
    assert.equal(r.idFileName, 'passport.jpg');
    assert.equal(r.idFileType, 'jpeg');
    assert.equal(r.idFileSize, idCard.length);
    assert.equal(r.selfieFileName, 'live_selfie.jpg');
    assert.equal(r.selfieFileSize, selfie.length);
    const checks = Object.fromEntries(r.modelResults.technicalChecks.map((c: Json) => [c.type, c]));
    // DOCUMENT_FRAUD since the fraud check assesses the CNIE's ghost portrait (issue 13).
    assert.deepEqual(Object.keys(checks).sort(), ['DOCUMENT_FRAUD', 'FACE_MATCH', 'ID_QUALITY', 'LIVENESS']);
    assert.equal(checks.DOCUMENT_FRAUD.status, 'PASS', JSON.stringify(checks.DOCUMENT_FRAUD));
    assert.equal(checks.FACE_MATCH.status, 'PASS', JSON.stringify(checks.FACE_MATCH));
    assert.equal(checks.ID_QUALITY.status, 'PASS', JSON.stringify(checks.ID_QUALITY));
    assert.deepEqual(
      r.tags,
      Object.entries(SEED_TAGS).map(([name, value]) => ({ name, value })),
    );
    assert.ok(Math.abs(r.timestamp - Date.now() / 1000) < 600);
    assert.equal(r.timestampISO.slice(0, 19), new Date(r.timestamp * 1000).toISOString().slice(0, 19));
    assert.deepEqual(
      r.files.map((f: Json) => [f.category, f.fileName, f.contentType]),
      [
        ['id', 'passport.jpg', 'image/jpeg'],
        ['face', 'live_selfie.jpg', 'image/jpeg'],
      ],
    );
    assert.match(
      r.files[0].url,
      new RegExp(`/compat/deepxl/v1/files/v_id_${r.verificationId}_passport\\.jpg$`),
    );
  });

  test('the integer id round-trips through get and list', async () => {
    const id = first.result.verificationId as number;
    const one = await get(`/compat/deepxl/v1/verification/${id}`);
    assert.equal(one.statusCode, 200, one.body);
    assertShape(validResult, one.json());
    assert.deepEqual(one.json(), first);
    const list = await get('/compat/deepxl/v1/verification?limit=100');
    assert.equal(list.statusCode, 200, list.body);
    assertShape(validList, list.json());
    assert.ok(list.json().data.some((d: Json) => d.verificationId === id));
    assert.equal(list.json().count, list.json().data.length);
    // Another tenant sees neither the verification nor it in its list.
    assertDeepxlError(await get(`/compat/deepxl/v1/verification/${id}`, otherTenantKey), 404);
    assert.equal((await get('/compat/deepxl/v1/verification', otherTenantKey)).json().totalCount, 0);
    assertDeepxlError(await get('/compat/deepxl/v1/verification/abc'), 400);
  });

  test('tagFilter filters; sortBy, direction and offset page the list', async () => {
    const res = await post(seedRequest({ customerId: '1234', plan: 'gold' }));
    assert.equal(res.statusCode, 200, res.body);
    const second = res.json().result.verificationId as number;
    const byTag = async (q: string) =>
      (await get(`/compat/deepxl/v1/verification?${q}`)).json().data.map((d: Json) => d.verificationId);
    assert.deepEqual(await byTag('tagFilter=customerId=9999'), [first.result.verificationId]);
    assert.deepEqual(await byTag('tagFilter=customerId=1234'), [second]);
    assert.deepEqual(await byTag('tagFilter=customerId=1234&tagFilter=plan=gold'), [second]);
    assert.deepEqual(await byTag('tagFilter=customerId=1234&tagFilter=plan=silver'), []);
    assert.deepEqual(await byTag('tagFilter=customerName=Acme%20Corp'), [first.result.verificationId]);
    const asc = await byTag('sortBy=verificationId&direction=asc&limit=1');
    const desc = await byTag('sortBy=verificationId&direction=desc&limit=1');
    assert.ok(asc[0] < desc[0]);
    const page = (
      await get('/compat/deepxl/v1/verification?sortBy=verificationId&direction=asc&limit=1&offset=1')
    ).json();
    assert.equal(page.count, 1);
    assert.ok(page.totalCount >= 2);
    assert.ok(page.data[0].verificationId > asc[0]);
    assertDeepxlError(await get('/compat/deepxl/v1/verification?sortBy=colour'), 400, /sortBy/);
    assertDeepxlError(await get('/compat/deepxl/v1/verification?limit=500'), 400);
    assertDeepxlError(await get('/compat/deepxl/v1/verification?tagFilter=novalue'), 400, /tagFilter/);
  });

  test('files[].url downloads the stored image for its owner only', async () => {
    const [idRef, faceRef] = first.result.files as Json[];
    const path = (url: string) => new URL(url).pathname;
    const id = await get(path(idRef!.url));
    assert.equal(id.statusCode, 200);
    assert.equal(id.headers['content-type'], 'image/jpeg');
    assert.ok(id.rawPayload.equals(idCard));
    const faceImg = await get(path(faceRef!.url));
    assert.ok(faceImg.rawPayload.equals(selfie));
    assertDeepxlError(await get(path(idRef!.url), otherTenantKey), 404);
    assertDeepxlError(await get(path(idRef!.url).replace('passport.jpg', 'other.jpg')), 404);
    assertDeepxlError(await get('/compat/deepxl/v1/files/../../v1/identity/verifications'), 404);
    assertDeepxlError(await get(path(idRef!.url), 'hw_test_not_a_key'), 401);
  });

  test('the verification is a native one: same checks, metadata.dialect, in the native list', async () => {
    const list = await s.app.inject({
      method: 'GET',
      url: '/v1/identity/verifications?limit=100',
      headers: { authorization: `Bearer ${key}` },
    });
    const native = (list.json().data as Json[]).find((v) => v.number === first.result.verificationId);
    assert.ok(native, 'listed natively');
    assert.equal(native.metadata.dialect, 'deepxl');
    assert.deepEqual(native.metadata.tags, SEED_TAGS);
    const status = (c: Json | undefined) => (c?.status === 'passed' ? 'PASS' : 'FAIL');
    const byType = Object.fromEntries(
      first.result.modelResults.technicalChecks.map((c: Json) => [c.type, c]),
    );
    assert.equal(byType.FACE_MATCH.status, status(native.checks.face_match));
    assert.equal(byType.FACE_MATCH.confidence, native.checks.face_match.confidence);
    assert.equal(byType.LIVENESS.status, status(native.checks.liveness));
    assert.equal(byType.ID_QUALITY.status, status(native.checks.ocr));
    assert.equal(first.result.verified, native.status === 'verified');
    // And a verification made natively shows in DeepXL's list, without tags.
    const made = await s.app.inject({
      method: 'POST',
      url: '/v1/identity/verify',
      headers: { authorization: `Bearer ${key}` },
      payload: {
        document_front: idCard.toString('base64'),
        document_type: 'cin',
        country: 'MA',
        checks: ['ocr'],
      },
    });
    assert.equal(made.statusCode, 200, made.body);
    const viaDeepxl = await get(`/compat/deepxl/v1/verification/${made.json().number}`);
    assert.equal(viaDeepxl.statusCode, 200, viaDeepxl.body);
    assertShape(validResult, viaDeepxl.json());
    assert.deepEqual(viaDeepxl.json().result.tags, []);
    assert.deepEqual(
      viaDeepxl.json().result.modelResults.technicalChecks.map((c: Json) => c.type),
      ['ID_QUALITY'],
    );
  });

  test('bad requests answer DeepXL errors naming its own fields, and store nothing', async () => {
    const before = (await get('/compat/deepxl/v1/verification')).json().totalCount;
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n');
    assertDeepxlError(
      await post([
        { name: 'idFile', value: pdf, filename: 'id.pdf', contentType: 'application/pdf' },
        { name: 'selfieFile', value: selfie, filename: 's.jpg' },
      ]),
      415,
      /idFile is a PDF/,
    );
    assertDeepxlError(await post([{ name: 'idFile', value: idCard, filename: 'a.jpg' }]), 400, /selfieFile/);
    assertDeepxlError(
      await post([...seedRequest().slice(0, 2), { name: 'tags', value: '{"a":' }]),
      400,
      /tags/,
    );
    assertDeepxlError(
      await post([...seedRequest().slice(0, 2), { name: 'tags', value: '{"a":{"b":1}}' }]),
      400,
      /tags\.a/,
    );
    assertDeepxlError(await post([...seedRequest(), { name: 'colour', value: 'blue' }]), 400, /colour/);
    assertDeepxlError(
      await post([
        { name: 'idFile', value: idCard.subarray(0, 2000), filename: 'cut.jpg' },
        { name: 'selfieFile', value: selfie, filename: 's.jpg' },
      ]),
      400,
      /idFile/,
    );
    const big = Buffer.alloc(s.config.maxImageBytes + 1, 1);
    assertDeepxlError(
      await post([
        { name: 'idFile', value: big, filename: 'big.jpg' },
        { name: 'selfieFile', value: selfie, filename: 's.jpg' },
      ]),
      413,
    );
    const json = await s.app.inject({
      method: 'POST',
      url: '/compat/deepxl/v1/verification',
      headers: { authorization: `Bearer ${key}` },
      payload: { idFile: idCard.toString('base64') },
    });
    assertDeepxlError(json, 415, /multipart/);
    assertDeepxlError(await post(seedRequest(), 'hw_test_wrong'), 401);
    assertDeepxlError(await get('/compat/deepxl/v1/nothing-here'), 404);
    assert.equal((await get('/compat/deepxl/v1/verification')).json().totalCount, before);
  });
});
