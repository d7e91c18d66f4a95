import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import {
  NO_SHARED_DATA,
  SHARED_DATA,
  startTestServer,
  statusBeforeBody,
  type TestServer,
} from '../../../../test/helpers.ts';
import { multipart, type Part } from '../../../../test/multipart.ts';
import { createRng, randomIdentity } from '../../../../test/synth/identities.ts';
import { photograph } from '../../../../test/synth/photograph.ts';
import { renderDocument } from '../../../../test/synth/render-document.ts';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { OVERALL_WEIGHTS } from './present.ts';
import * as S from './schemas.ts';

type Json = Record<string, any>;

const PREFIX = '/compat/deepidv/v1';

const ajv = new Ajv({ strict: false, allErrors: true });
addFormatsModule.default(ajv);
const shapes = {
  verify: ajv.compile(S.DeepidvVerifyResult),
  scan: ajv.compile(S.DeepidvScanResult),
  detect: ajv.compile(S.DeepidvFaceDetectResult),
  compare: ajv.compile(S.DeepidvFaceCompareResult),
  presign: ajv.compile(S.DeepidvPresignResult),
  error: ajv.compile(S.DeepidvError),
};

function assertShape(validate: ValidateFunction, body: unknown): void {
  assert.ok(validate(body), `${JSON.stringify(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
}

function assertDeepidvError(
  res: { statusCode: number; body: string },
  status: number,
  mention?: RegExp,
): void {
  assert.equal(res.statusCode, status, res.body);
  const body = JSON.parse(res.body) as Json;
  assertShape(shapes.error, body);
  assert.equal(typeof body.error, 'string');
  if (mention) assert.match(body.error, mention);
}

function assertConfidence(v: unknown, max: number): void {
  assert.equal(typeof v, 'number');
  assert.ok((v as number) >= 0 && (v as number) <= max, `${v} outside 0..${max}`);
}

describe('deepidv dialect', { skip: NO_SHARED_DATA, timeout: 600_000 }, () => {
  let s: TestServer;
  let key: string;
  let otherKey: string;
  let idCard: Buffer;
  let identity: ReturnType<typeof randomIdentity>;
  let selfie: Buffer;
  let stranger: Buffer;
  let noFace: Buffer;

  const face = (f: string) => readFileSync(path.join(SHARED_DATA!, 'faces/deepface', f));
  const postJson = (url: string, payload: object, k = key) =>
    s.app.inject({ method: 'POST', url: `${PREFIX}${url}`, headers: { 'x-api-key': k }, payload });
  const postForm = (url: string, parts: Part[], k = key) => {
    const b = multipart(parts);
    return s.app.inject({
      method: 'POST',
      url: `${PREFIX}${url}`,
      headers: { ...b.headers, 'x-api-key': k },
      payload: b.payload,
    });
  };
  /** Presign, then PUT each file to its URL; the keys. */
  const upload = async (files: Buffer[], k = key): Promise<string[]> => {
    const res = await postJson(
      '/upload/presign',
      { files: files.map((f) => ({ contentType: 'image/jpeg', byteLength: f.length })) },
      k,
    );
    assert.equal(res.statusCode, 200, res.body);
    assertShape(shapes.presign, res.json());
    const uploads = res.json().uploads as { uploadUrl: string; fileKey: string }[];
    for (const [i, u] of uploads.entries()) {
      const url = new URL(u.uploadUrl);
      const put = await s.app.inject({
        method: 'PUT',
        url: url.pathname + url.search,
        headers: { 'content-type': 'image/jpeg' },
        payload: files[i],
      });
      assert.equal(put.statusCode, 200, put.body);
    }
    return uploads.map((u) => u.fileKey);
  };

  before(async () => {
    s = await startTestServer();
    key = await s.key(['identity:read', 'identity:write', 'identity:review']);
    otherKey = await s.key(['identity:read', 'identity:write'], 'tenant_b');
    const rng = createRng(5151);
    identity = randomIdentity(rng);
    // A generated passport (its MRZ gives the identity) whose portrait is deepface's img1.jpg; the
    // selfie is img2.jpg, the same person (master.csv).
    const page = await renderDocument('icao_td3_passport', identity, {
      rng,
      portraitPath: path.join(SHARED_DATA!, 'faces/deepface', 'img1.jpg'),
    });
    idCard = (await photograph(page.image, 'clean', rng)).jpeg;
    selfie = face('img2.jpg');
    stranger = face('img20.jpg');
    noFace = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#7a8a99' } })
      .jpeg()
      .toBuffer();
  });
  after(async () => {
    await s.close();
  });

  test('presign 2 files, PUT both, verify with the two keys: the seed shape with real values', async () => {
    const [documentKey, faceKey] = await upload([idCard, selfie]);
    const res = await postJson('/identity/verify', { documentImage: documentKey, faceImage: faceKey });
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json() as Json;
    assertShape(shapes.verify, r);
    assert.deepEqual(Object.keys(r).sort(), [
      'document',
      'faceDetection',
      'faceMatch',
      'overallConfidence',
      'verified',
    ]);
    assert.equal(r.document.documentType, 'passport');
    assert.equal(r.document.lastName, identity.lastName.toUpperCase());
    assert.equal(r.document.documentNumber, identity.documentNumber);
    assert.match(r.document.dateOfBirth, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(r.faceDetection.faceDetected, true);
    assert.equal(r.faceMatch.isMatch, true, JSON.stringify(r.faceMatch));
    for (const v of [
      r.document.confidence,
      r.faceDetection.confidence,
      r.faceMatch.confidence,
      r.overallConfidence,
    ])
      assertConfidence(v, 100);
    assert.ok(r.faceMatch.confidence > 1, 'a 0-100 scale, not 0..1');
    assert.equal(r.faceMatch.threshold, 70);
    const blend =
      OVERALL_WEIGHTS.document * r.document.confidence +
      OVERALL_WEIGHTS.faceDetection * r.faceDetection.confidence +
      OVERALL_WEIGHTS.faceMatch * r.faceMatch.confidence;
    assert.ok(Math.abs(r.overallConfidence - blend) < 0.01, `${r.overallConfidence} vs ${blend}`);
    assert.deepEqual(
      [OVERALL_WEIGHTS.document, OVERALL_WEIGHTS.faceDetection, OVERALL_WEIGHTS.faceMatch],
      [0.4, 0.2, 0.4],
    );

    // The same verification, natively: same outcomes.
    const list = await s.app.inject({
      method: 'GET',
      url: '/v1/identity/verifications?limit=100',
      headers: { authorization: `Bearer ${key}` },
    });
    const native = (list.json().data as Json[]).find((v) => v.metadata?.dialect === 'deepidv');
    assert.ok(native, 'listed natively with metadata.dialect');
    assert.equal(native.checks.face_match.match, r.faceMatch.isMatch);
    assert.equal(Math.round(native.checks.face_match.similarity * 10000) / 100, r.faceMatch.confidence);
    assert.equal(native.extracted_data.document_number, r.document.documentNumber);
    assert.equal(native.status === 'verified', r.verified);
    // And through DeepXL, the other dialect, the same one.
    const viaDeepxl = await s.app.inject({
      method: 'GET',
      url: `/compat/deepxl/v1/verification/${native.number}`,
      headers: { 'x-api-key': key },
    });
    assert.equal(viaDeepxl.statusCode, 200, viaDeepxl.body);
    const fm = (viaDeepxl.json().result.modelResults.technicalChecks as Json[]).find(
      (c) => c.type === 'FACE_MATCH',
    );
    assert.equal(fm?.status, r.faceMatch.isMatch ? 'PASS' : 'FAIL');
  });

  test('forms mix in one call; a selfie without a face is reported in its block with a 200', async () => {
    const [documentKey] = await upload([idCard]);
    // A multipart file part and a base64url text field.
    const mixed = await postForm('/identity/verify', [
      { name: 'documentImage', value: idCard, filename: 'passport.jpg', contentType: 'image/jpeg' },
      { name: 'faceImage', value: selfie.toString('base64url') },
      { name: 'documentType', value: 'passport' },
    ]);
    assert.equal(mixed.statusCode, 200, mixed.body);
    assert.equal(mixed.json().faceMatch.isMatch, true);
    const partial = await postJson('/identity/verify', {
      documentImage: documentKey,
      faceImage: `data:image/jpeg;base64,${noFace.toString('base64')}`,
    });
    assert.equal(partial.statusCode, 200, partial.body);
    const p = partial.json() as Json;
    assertShape(shapes.verify, p);
    assert.equal(p.faceDetection.faceDetected, false);
    assert.equal(p.faceDetection.confidence, 0);
    assert.equal(p.faceMatch.isMatch, false);
    assert.equal(typeof p.faceMatch.error, 'string');
    assert.equal(p.verified, false);
    assert.equal(p.document.documentNumber, identity.documentNumber, 'the document part still ran');
  });

  test('keys: another tenant, expired, unknown, unsigned or reused URLs are refused', async () => {
    const [k] = await upload([selfie]);
    assertDeepidvError(await postJson('/face/detect', { image: k }, otherKey), 403, /not readable/);
    assertDeepidvError(await postJson('/face/detect', { image: 'upl_00000000000000000000' }), 403);
    // A URL tampered with, reused, or of the wrong length or type.
    const res = await postJson('/upload/presign', {
      files: [{ contentType: 'image/jpeg', byteLength: selfie.length }],
    });
    const url = new URL(res.json().uploads[0].uploadUrl as string);
    const put = (u: string, payload: Buffer, type = 'image/jpeg') =>
      s.app.inject({ method: 'PUT', url: u, headers: { 'content-type': type }, payload });
    const forged = url.pathname + url.search.replace(/signature=[0-9a-f]+/, `signature=${'0'.repeat(64)}`);
    assert.notEqual(forged, url.pathname + url.search);
    assertDeepidvError(await put(forged, selfie), 403, /not valid/);
    assertDeepidvError(await put(url.pathname + url.search, selfie.subarray(0, 100)), 400, /bytes/);
    assertDeepidvError(await put(url.pathname + url.search, selfie, 'image/png'), 400);
    assert.equal((await put(url.pathname + url.search, selfie)).statusCode, 200);
    assertDeepidvError(await put(url.pathname + url.search, selfie), 403, /already used/);
    // An hour and a minute later, the key and the URL have expired.
    const realNow = s.runtime.deps.now;
    s.runtime.deps.now = () => new Date(realNow().getTime() + 61 * 60_000);
    try {
      assertDeepidvError(await postJson('/face/detect', { image: k }), 403, /expired/);
      const late = await postJson('/upload/presign', {
        files: [{ contentType: 'image/jpeg', byteLength: 10 }],
      });
      assert.equal(late.statusCode, 200);
    } finally {
      s.runtime.deps.now = realNow;
    }
    const stale = new URL(
      (
        await postJson('/upload/presign', {
          files: [{ contentType: 'image/jpeg', byteLength: selfie.length }],
        })
      ).json().uploads[0].uploadUrl,
    );
    s.runtime.deps.now = () => new Date(realNow().getTime() + 16 * 60_000);
    try {
      assertDeepidvError(await put(stale.pathname + stale.search, selfie), 403, /expired/);
    } finally {
      s.runtime.deps.now = realNow;
    }
  });

  test('an upload URL is judged before its body is read', async () => {
    const address = await s.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = new URL(address);
    const res = await postJson('/upload/presign', {
      files: [{ contentType: 'image/jpeg', byteLength: selfie.length }],
    });
    const url = new URL(res.json().uploads[0].uploadUrl as string);
    const forged = url.pathname + url.search.replace(/signature=[0-9a-f]+/, `signature=${'0'.repeat(64)}`);
    /** Send a PUT's headers only, declaring `length` bytes, and read the answer (or time out). */
    const headersOnly = (target: string, length: number) =>
      statusBeforeBody(
        port,
        `PUT ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: ${length}\r\n\r\n`,
      );
    // A forged URL, and a valid one declaring another length than presigned: refused at once, with
    // up to 15 MB announced and none of it sent.
    assert.match(await headersOnly(forged, 14_000_000), / 403 /);
    assert.match(await headersOnly(url.pathname + url.search, 14_000_000), / 400 /);
    // The URL is still unused: the real upload goes through.
    const ok = await s.app.inject({
      method: 'PUT',
      url: url.pathname + url.search,
      headers: { 'content-type': 'image/jpeg' },
      payload: selfie,
    });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  test('document scan reads the Moroccan specimen without being told what it is', async () => {
    const dir = path.join(SHARED_DATA!, 'documents/morocco');
    const truth = JSON.parse(readFileSync(path.join(dir, 'ground_truth.json'), 'utf8')).items[0];
    const res = await postForm('/document/scan', [
      {
        name: 'documentImage',
        value: readFileSync(path.join(dir, truth.image)),
        filename: 'cin.png',
        contentType: 'image/png',
      },
    ]);
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json() as Json;
    assertShape(shapes.scan, r);
    assert.equal(r.documentNumber, truth.transcribed_fields_fr.cin);
    assert.equal(r.lastName, truth.transcribed_fields_fr.surname);
    assert.equal(r.firstName, truth.transcribed_fields_fr.given_name);
    assert.equal(r.documentType, 'national_id');
    assert.equal(r.issuingCountry, 'MAR');
    assertConfidence(r.confidence, 1);
    assert.ok(r.confidence > 0.5);
    assert.equal(r.mrzData, null, 'no MRZ on this side');
    assert.equal(r.rawFields.last_name_arabic, truth.transcribed_fields_ar.surname);
    const passport = await postJson('/document/scan', { documentImage: idCard.toString('base64') });
    assert.equal(passport.statusCode, 200, passport.body);
    assertShape(shapes.scan, passport.json());
    assert.equal(passport.json().mrzData.checkDigitsValid, true);
    assert.equal(passport.json().mrzData.lines.length, 2);
  });

  test('face detect and compare answer in their own scales', async () => {
    const d = (
      await postForm('/face/detect', [{ name: 'image', value: selfie, filename: 's.jpg' }])
    ).json() as Json;
    assert.equal(d.faceDetected, true);
    assertConfidence(d.confidence, 1);
    for (const k of ['top', 'left', 'width', 'height']) assertConfidence(d.boundingBox[k], 1);
    assert.deepEqual(
      d.landmarks.map((l: Json) => l.type),
      ['leftEye', 'rightEye', 'nose', 'mouthLeft', 'mouthRight'],
    );
    const [le, re] = d.landmarks;
    assert.ok(le.x < re.x && le.x > d.boundingBox.left && re.x < d.boundingBox.left + d.boundingBox.width);
    assertShape(shapes.detect, d);
    const none = await postJson('/face/detect', { image: noFace.toString('base64') });
    assertShape(shapes.detect, none.json());
    assert.equal(none.statusCode, 200);
    assert.equal(none.json().faceDetected, false);
    const same = (
      await postJson('/face/compare', {
        source: selfie.toString('base64'),
        target: face('img1.jpg').toString('base64'),
      })
    ).json();
    assertShape(shapes.compare, same);
    assert.equal(same.isMatch, true);
    assert.ok(same.confidence >= same.threshold && same.confidence <= 100);
    const other = (
      await postJson('/face/compare', {
        source: selfie.toString('base64'),
        target: stranger.toString('base64'),
      })
    ).json();
    assertShape(shapes.compare, other);
    assert.equal(other.isMatch, false);
    assert.ok(other.confidence < other.threshold);
    const half = (
      await postJson('/face/compare', {
        source: selfie.toString('base64'),
        target: noFace.toString('base64'),
      })
    ).json();
    assert.deepEqual([half.sourceFaceDetected, half.targetFaceDetected, half.isMatch], [true, false, false]);
  });

  test("errors are deepidv's {error} with its statuses", async () => {
    assertDeepidvError(
      await postJson('/face/detect', { image: selfie.toString('base64') }, 'hw_test_nope'),
      401,
    );
    assertDeepidvError(
      await s.app.inject({ method: 'POST', url: `${PREFIX}/face/detect`, payload: {} }),
      401,
    );
    assertDeepidvError(await postJson('/face/detect', { image: 'not base64 !!' }), 400, /image/);
    assertDeepidvError(await postJson('/face/detect', {}), 400, /image is required/);
    assertDeepidvError(
      await postJson('/face/detect', { image: selfie.toString('base64'), colour: 1 }),
      400,
      /colour/,
    );
    assertDeepidvError(
      await postJson('/identity/verify', {
        documentImage: idCard.toString('base64'),
        faceImage: selfie.toString('base64'),
        documentType: 'visa',
      }),
      400,
      /documentType/,
    );
    const pdf = Buffer.from('%PDF-1.7\n%%EOF\n').toString('base64');
    assertDeepidvError(await postJson('/document/scan', { documentImage: pdf }), 400, /PDF/);
    assertDeepidvError(
      await postJson('/upload/presign', { files: [{ contentType: 'application/pdf', byteLength: 10 }] }),
      400,
    );
    assertDeepidvError(
      await postJson('/upload/presign', {
        files: [{ contentType: 'image/jpeg', byteLength: 16 * 1024 * 1024 }],
      }),
      400,
    );
    assertDeepidvError(
      await postJson('/face/estimate-age', { image: selfie.toString('base64') }),
      404,
      /[Aa]ge estimation/,
    );
    assertDeepidvError(await postJson('/nowhere', {}), 404);
  });

  test('sessions: create, list, the hosted page flow, then a manual decision on review', async () => {
    // Declared French, the Moroccan card's country does not match: the policy sends it to review.
    const created = await postJson('/sessions', {
      documentType: 'passport',
      country: 'FR',
      metadata: { ref: 'abc' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const session = created.json() as Json;
    assert.match(session.sessionUrl, /\/capture\/ses_[0-9a-z]+#token=cst_/);
    assert.equal(session.status, 'pending');
    assert.deepEqual(session.metadata, { ref: 'abc' });
    const getOne = async () => {
      const r = await s.app.inject({
        method: 'GET',
        url: `${PREFIX}/sessions/${session.id}`,
        headers: { 'x-api-key': key },
      });
      assert.equal(r.statusCode, 200, r.body);
      return r.json() as Json;
    };
    const listed = await s.app.inject({
      method: 'GET',
      url: `${PREFIX}/sessions?limit=10`,
      headers: { 'x-api-key': key },
    });
    assert.ok((listed.json().sessions as Json[]).some((x) => x.id === session.id));
    const foreign = await s.app.inject({
      method: 'GET',
      url: `${PREFIX}/sessions/${session.id}`,
      headers: { 'x-api-key': otherKey },
    });
    assertDeepidvError(foreign, 404);
    assertDeepidvError(
      await s.app.inject({
        method: 'PATCH',
        url: `${PREFIX}/sessions/${session.id}`,
        headers: { 'x-api-key': key },
        payload: { decision: 'approved' },
      }),
      400,
      /pending/,
    );
    // What the hosted page does with the session's client token.
    const token = /#token=(.+)$/.exec(session.sessionUrl)![1]!;
    const native = (url: string, payload?: object) =>
      s.app.inject({
        method: 'POST',
        url: `/v1/identity/sessions/${session.id}${url}`,
        headers: { authorization: `Bearer ${token}` },
        payload,
      });
    for (const [side, img] of [
      ['front', idCard],
      ['selfie', selfie],
    ] as const) {
      const up = await native('/documents', { side, image: img.toString('base64') });
      assert.equal(up.statusCode, 200, up.body);
    }
    assert.equal((await getOne()).status, 'in_progress');
    assert.equal((await native('/complete')).statusCode, 200);
    let view = await getOne();
    for (let i = 0; i < 120 && view.status === 'processing'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      view = await getOne();
    }
    assert.equal(view.status, 'review', JSON.stringify(view));
    assert.equal(view.result.verified, false);
    assertDeepidvError(
      await s.app.inject({
        method: 'PATCH',
        url: `${PREFIX}/sessions/${session.id}`,
        headers: { 'x-api-key': key },
        payload: { decision: 'maybe' },
      }),
      400,
    );
    const decided = await s.app.inject({
      method: 'PATCH',
      url: `${PREFIX}/sessions/${session.id}`,
      headers: { 'x-api-key': key },
      payload: { decision: 'approved', note: 'checked the passport by hand' },
    });
    assert.equal(decided.statusCode, 200, decided.body);
    assert.equal(decided.json().status, 'verified');
    assert.equal(decided.json().decision.decision, 'approved');
    assert.equal(decided.json().result.verified, true);
    // Natively: verified, with the decision and its audit entry.
    const v = await s.app.inject({
      method: 'GET',
      url: `/v1/identity/verifications/${view.verificationId}`,
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(v.json().status, 'verified');
    assert.equal(v.json().review.note, 'checked the passport by hand');
    const audit = await s.app.inject({
      method: 'GET',
      url: `/v1/identity/verifications/${view.verificationId}/audit`,
      headers: { authorization: `Bearer ${key}` },
    });
    assert.ok(JSON.stringify(audit.json()).includes('"manual":true'));
    // A decided verification takes no second decision.
    assertDeepidvError(
      await s.app.inject({
        method: 'PATCH',
        url: `${PREFIX}/sessions/${session.id}`,
        headers: { 'x-api-key': key },
        payload: { decision: 'rejected' },
      }),
      400,
      /review/,
    );
  });

  test('429 carries Retry-After', async () => {
    const limited = await startTestServer({ HUWIYA_RATE_LIMIT_PER_MINUTE: '2' });
    try {
      const k = await limited.key();
      // Five calls against a budget of two a minute: even if a minute boundary falls between them,
      // at least one is refused.
      const answers = [];
      for (let i = 0; i < 5; i++)
        answers.push(
          await limited.app.inject({
            method: 'POST',
            url: `${PREFIX}/face/detect`,
            headers: { 'x-api-key': k },
            payload: {},
          }),
        );
      const refused = answers.find((a) => a.statusCode === 429);
      assert.ok(refused, answers.map((a) => a.statusCode).join(','));
      assertDeepidvError(refused, 429);
      assert.ok(Number(refused.headers['retry-after']) > 0);
    } finally {
      await limited.close();
    }
  });
});
