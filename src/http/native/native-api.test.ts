// Behaviour of the native (TXCloud-compatible) API through Fastify inject on a real app: real ONNX models,
// real SQLite and encrypted blobs in a temporary data dir. One server per file (plus a second one with a
// tiny rate limit). Cases that need ../shared/data skip when it is absent.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import sharp from 'sharp';
import { parse as parseYaml } from 'yaml';
import { errorCatalogue } from '../../domain/errors.ts';
import { NO_SHARED_DATA, SHARED_DATA, startTestServer, type TestServer } from '../../../test/helpers.ts';
import { multipart } from '../../../test/multipart.ts';

type Json = Record<string, any>;
type Headers = Record<string, string>;

const REFERENCE_DIR = path.resolve(
  fileURLToPath(new URL('../../../../shared/reference/txcloud', import.meta.url)),
);
const NO_REFERENCE = existsSync(path.join(REFERENCE_DIR, 'identity.openapi.yaml'))
  ? false
  : 'skipped: ../shared/reference/txcloud is absent';

const FACES = SHARED_DATA ? path.join(SHARED_DATA, 'faces', 'deepface') : '';
const NUAA = SHARED_DATA ? path.join(SHARED_DATA, 'liveness', 'nuaa') : '';

function face(name: string): Buffer {
  return readFileSync(path.join(FACES, name));
}

/** master.csv's label for a pair, in either order. */
function pairDecision(a: string, b: string): string | undefined {
  const lines = readFileSync(path.join(FACES, 'master.csv'), 'utf8').trim().split(/\r?\n/).slice(1);
  for (const line of lines) {
    const [x, y, decision] = line.split(',').map((s) => s.trim());
    if ((x === a && y === b) || (x === b && y === a)) return decision;
  }
  return undefined;
}

/** `count` files spread evenly over a folder's sorted listing. */
function spread(dir: string, count: number): string[] {
  const all = readdirSync(dir)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort();
  const step = all.length / count;
  return Array.from({ length: Math.min(count, all.length) }, (_, i) =>
    path.join(dir, all[Math.floor(i * step)]!),
  );
}

/** A synthetic 800×600 "document": a grey card with a checker of dark squares (sharp edges, no face). */
async function patternImage(): Promise<Buffer> {
  const cells: string[] = [];
  for (let row = 0; row < 35; row++) {
    for (let col = 0; col < 48; col++) {
      if ((row + col) % 2 === 0) {
        cells.push(`<rect x="${16 + col * 16}" y="${20 + row * 16}" width="10" height="10" fill="#222"/>`);
      }
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"><rect width="800" height="600" fill="#b4b4b4"/>${cells.join('')}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 92 }).toBuffer();
}

function assertErrorEnvelope(res: { statusCode: number; json(): any }, status: number, code: string): Json {
  assert.equal(res.statusCode, status, `expected ${status} ${code}, got ${res.statusCode}`);
  const body = res.json() as Json;
  assert.equal(body.error?.code, code, JSON.stringify(body));
  assert.equal(typeof body.error.type, 'string');
  assert.equal(body.error.type, errorCatalogue[code as keyof typeof errorCatalogue].type);
  assert.ok(typeof body.error.message === 'string' && body.error.message.length > 0);
  assert.match(body.error.request_id, /^req_[0-9a-f]+$/);
  return body.error as Json;
}

/** API.md: integer 0..1000, level from the published bands, and the decision consistent with both. */
function assertRiskConsistent(v: Json): void {
  assert.ok(
    Number.isInteger(v.risk_score) && v.risk_score >= 0 && v.risk_score <= 1000,
    `risk_score ${v.risk_score}`,
  );
  const band =
    v.risk_score < 250 ? 'low' : v.risk_score < 500 ? 'medium' : v.risk_score < 750 ? 'high' : 'critical';
  assert.equal(v.risk_level, band, `risk_score ${v.risk_score} is ${band}, not ${v.risk_level}`);
  if (v.status === 'verified') assert.equal(v.risk_level, 'low');
  if (v.risk_level === 'critical') assert.equal(v.status, 'rejected');
  if (v.status === 'rejected') assert.ok(v.fraud_signals.length > 0, 'a rejection names its signals');
  assert.equal(
    v.risk_factors.reduce((s: number, f: Json) => s + f.contribution, 0) >= v.risk_score,
    true,
    'every point of the score is explained by a factor',
  );
}

let server: TestServer;
let keyA: string; // tenant_a, read + write
let keyB: string; // tenant_b, read + write
let readOnlyKey: string; // tenant_a, identity:read
let adminKey: string; // tenant_a, admin
let pattern: Buffer;

const bearer = (key: string): Headers => ({ authorization: `Bearer ${key}` });

async function post(url: string, payload: unknown, headers: Headers = bearer(keyA)) {
  return server.app.inject({ method: 'POST', url, headers, payload: payload as Json });
}

async function get(url: string, headers: Headers = bearer(keyA)) {
  return server.app.inject({ method: 'GET', url, headers });
}

/** Every verification this file created (all in tenant_a: the admin key is tenant_a's too) and the responses. */
const createdA: string[] = [];
const verificationResponses: Json[] = [];

async function verify(body: Json, headers: Headers = bearer(keyA)): Promise<Json> {
  const res = await post('/v1/identity/verify', body, headers);
  assert.equal(res.statusCode, 200, res.body);
  const v = res.json() as Json;
  assert.equal(v.object, 'identity.verification');
  assert.match(v.id, /^ver_/);
  createdA.push(v.id);
  verificationResponses.push(v);
  return v;
}

const doc = (extra: Json = {}): Json => ({
  document_front: pattern.toString('base64'),
  document_type: 'cin',
  country: 'MA',
  checks: ['ocr'],
  ...extra,
});

let samePair: Json | undefined;
let differentPair: Json | undefined;
const otherResponses: Record<'face_match' | 'liveness' | 'validate', Json[]> = {
  face_match: [],
  liveness: [],
  validate: [],
};

describe('native API', () => {
  before(async () => {
    server = await startTestServer();
    keyA = await server.key();
    keyB = await server.key(['identity:read', 'identity:write'], 'tenant_b');
    readOnlyKey = await server.key(['identity:read']);
    adminKey = await server.key(['admin']);
    pattern = await patternImage();
  });

  after(async () => {
    await server?.close();
  });

  describe('verify', () => {
    test('same person (master.csv Yes) → face_match passed', { skip: NO_SHARED_DATA }, async () => {
      assert.equal(pairDecision('img1.jpg', 'img2.jpg'), 'Yes');
      const v = await verify({
        document_front: face('img1.jpg').toString('base64'),
        selfie: face('img2.jpg').toString('base64'),
        document_type: 'cin',
        country: 'MA',
      });
      samePair = v;
      assert.equal(v.checks.face_match.status, 'passed');
      assert.equal(v.checks.face_match.match, true);
      assert.ok(v.checks.face_match.similarity_score >= v.checks.face_match.threshold);
      assert.ok(v.checks.face_match.confidence >= 0 && v.checks.face_match.confidence <= 1);
      assert.deepEqual(v.checks_requested, ['ocr', 'face_match', 'liveness', 'fraud']);
      assert.ok(v.checks.liveness, 'liveness ran by default');
      assert.notEqual(v.status, 'pending');
      assertRiskConsistent(v);
    });

    test(
      'different persons (master.csv No) → face_match failed, rejected, high risk',
      { skip: NO_SHARED_DATA },
      async () => {
        assert.equal(pairDecision('img1.jpg', 'img3.jpg'), 'No');
        const v = await verify({
          document_front: face('img1.jpg').toString('base64'),
          selfie: face('img3.jpg').toString('base64'),
          document_type: 'cin',
          country: 'MA',
        });
        differentPair = v;
        assert.equal(v.checks.face_match.status, 'failed');
        assert.equal(v.checks.face_match.match, false);
        assert.ok(v.checks.face_match.similarity_score < v.checks.face_match.threshold);
        assert.equal(v.status, 'rejected');
        assert.ok(['high', 'critical'].includes(v.risk_level), v.risk_level);
        assert.ok(v.risk_score >= 500, `risk_score ${v.risk_score}`);
        assert.ok(v.fraud_signals.some((s: Json) => s.code === 'face_mismatch'));
        assert.ok(v.risk_factors.some((f: Json) => f.code === 'face_mismatch'));
        assertRiskConsistent(v);
      },
    );

    test('on a face photo: no document, so nothing is assessed, each says why, and the case reviews', async () => {
      const v = await verify(doc({ checks: undefined }));
      assert.deepEqual(v.checks_requested, ['ocr', 'face_match', 'liveness', 'fraud']);
      assert.equal(v.checks.fraud.status, 'skipped');
      assert.equal(v.checks.fraud.reason, 'no_signal_applicable');
      assert.equal(v.checks.fraud.assessments.printed_copy.assessed, false);
      assert.equal(v.checks.ocr.status, 'skipped');
      assert.equal(v.checks.ocr.reason, 'no_document_text_found');
      // No selfie: the face checks are skipped too, and an unverifiable case is never `verified`.
      assert.equal(v.checks.face_match.status, 'skipped');
      assert.equal(v.checks.face_match.reason, 'selfie_missing');
      assert.equal(v.checks.liveness.status, 'skipped');
      assert.equal(v.status, 'review');
      for (const code of ['selfie_missing', 'document_unreadable'])
        assert.ok(
          v.risk_factors.some((f: Json) => f.code === code),
          code,
        );
      assertRiskConsistent(v);
      assert.ok(v.model_versions && Object.keys(v.model_versions).length > 0);
      assert.equal(typeof v.policy_version, 'string');
    });

    test('country and document_type are echoed; metadata comes back', async () => {
      const v = await verify(
        doc({ document_type: 'drivers_license', country: 'fr', metadata: { ref: 'A-1' } }),
      );
      assert.equal(v.document_type, 'drivers_license');
      assert.equal(v.country, 'FR');
      assert.deepEqual(v.metadata, { ref: 'A-1' });
      assert.equal(v.webhook_url, undefined);
    });

    test('multipart upload gives the same face_match outcome as JSON', { skip: NO_SHARED_DATA }, async () => {
      for (const [pair, selfie] of [
        [samePair, 'img2.jpg'],
        [differentPair, 'img3.jpg'],
      ] as const) {
        assert.ok(pair, 'the JSON case ran first');
        const body = multipart([
          { name: 'document_type', value: 'cin' },
          { name: 'country', value: 'MA' },
          // The same checks as the JSON request (its defaults), so that the decision is comparable too.
          { name: 'checks', value: (pair.checks_requested as string[]).join(',') },
          {
            name: 'document_front',
            value: face('img1.jpg'),
            filename: 'front.jpg',
            contentType: 'image/jpeg',
          },
          { name: 'selfie', value: face(selfie), filename: 'selfie.jpg', contentType: 'image/jpeg' },
        ]);
        const res = await server.app.inject({
          method: 'POST',
          url: '/v1/identity/verify',
          headers: { ...bearer(keyA), ...body.headers },
          payload: body.payload,
        });
        assert.equal(res.statusCode, 200, res.body);
        const v = res.json() as Json;
        createdA.push(v.id);
        verificationResponses.push(v);
        assert.deepEqual(v.checks_requested, pair.checks_requested);
        assert.equal(v.checks.face_match.status, pair.checks.face_match.status);
        assert.equal(v.checks.face_match.match, pair.checks.face_match.match);
        // Same bytes, same models: the same similarity.
        assert.equal(v.checks.face_match.similarity_score, pair.checks.face_match.similarity_score);
        assert.equal(v.status, pair.status);
      }
    });

    test('mode async answers 201 pending, then the result is readable', async () => {
      const res = await post('/v1/identity/verify', doc({ mode: 'async' }));
      assert.equal(res.statusCode, 201, res.body);
      const v = res.json() as Json;
      createdA.push(v.id);
      assert.equal(v.status, 'pending');
      assert.equal(v.mode, 'async');
      let final: Json = v;
      // Polled for up to 30 s: the job reads a whole (text-less) document photo.
      for (let i = 0; i < 300 && final.status === 'pending'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        final = (await get(`/v1/identity/verifications/${v.id}`)).json() as Json;
      }
      assert.notEqual(final.status, 'pending');
      assert.equal(final.checks.ocr.reason, 'no_document_text_found');
    });
  });

  describe('liveness (NUAA printed-photo attacks)', () => {
    async function liveness(file: string): Promise<Json | undefined> {
      const res = await post('/v1/identity/liveness', { image: readFileSync(file).toString('base64') });
      if (res.statusCode === 422) {
        assertErrorEnvelope(res, 422, 'face_not_found');
        return undefined;
      }
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as Json;
      otherResponses.liveness.push(body);
      return body;
    }

    test('most printed photos are not live', { skip: NO_SHARED_DATA }, async () => {
      const answers = (await Promise.all(spread(path.join(NUAA, 'fake'), 10).map(liveness))).filter(
        (a): a is Json => a !== undefined,
      );
      assert.ok(answers.length >= 5, `only ${answers.length} of 10 fakes had a face`);
      const spoofed = answers.filter((a) => a.is_live === false);
      assert.ok(
        spoofed.length > answers.length / 2,
        `${spoofed.length} of ${answers.length} printed photos judged not live`,
      );
      for (const a of spoofed) {
        // Refused by the model (a photo), or in its review band (uncertain: not live, no attack named).
        if (a.signals.includes('liveness_uncertain')) {
          assert.equal(a.spoof_type, 'none');
          continue;
        }
        assert.equal(a.spoof_type, 'photo');
        assert.ok(a.spoof_probability > 0.5 || a.confidence >= 0.5);
        assert.ok(a.signals.includes('presentation_attack_suspected'));
      }
    });

    test('most live captures are live', { skip: NO_SHARED_DATA }, async () => {
      const answers = (await Promise.all(spread(path.join(NUAA, 'real'), 5).map(liveness))).filter(
        (a): a is Json => a !== undefined,
      );
      assert.ok(answers.length >= 3, `only ${answers.length} of 5 real captures had a face`);
      const live = answers.filter((a) => a.is_live === true);
      assert.ok(
        live.length > answers.length / 2,
        `${live.length} of ${answers.length} live captures judged live`,
      );
      for (const a of live) assert.equal(a.spoof_type, 'none');
    });

    test(
      'a fake used as the selfie of a verification fails its liveness check',
      { skip: NO_SHARED_DATA },
      async () => {
        // The first fake the endpoint judges not live, used as a selfie: the verification must not pass it.
        for (const file of spread(path.join(NUAA, 'fake'), 10)) {
          const a = await liveness(file);
          if (!a || a.is_live) continue;
          const v = await verify({
            document_front: pattern.toString('base64'),
            selfie: readFileSync(file).toString('base64'),
            document_type: 'passport',
            country: 'MA',
            checks: ['liveness'],
          });
          assert.equal(v.checks.liveness.status, 'failed');
          assert.equal(v.checks.liveness.is_live, false);
          assert.notEqual(v.status, 'verified');
          assertRiskConsistent(v);
          return;
        }
        assert.fail('no fake was judged not live');
      },
    );
  });

  describe('face-match and validate', () => {
    test(
      'POST /v1/identity/face-match: same pair matches, different pair does not',
      { skip: NO_SHARED_DATA },
      async () => {
        const same = await post('/v1/identity/face-match', {
          image_1: face('img1.jpg').toString('base64'),
          image_2: face('img2.jpg').toString('base64'),
        });
        assert.equal(same.statusCode, 200, same.body);
        const s = same.json() as Json;
        assert.equal(s.object, 'identity.face_match');
        assert.equal(s.match, true);
        assert.ok(s.similarity_score >= 0.7 && s.similarity_score <= 1);
        assert.equal(s.threshold, 0.7);
        const diff = await post('/v1/identity/face-match', {
          image_1: face('img1.jpg').toString('base64'),
          image_2: face('img3.jpg').toString('base64'),
        });
        assert.equal(diff.statusCode, 200, diff.body);
        const d = diff.json() as Json;
        assert.equal(d.match, false);
        assert.ok(d.similarity_score < 0.7 && d.similarity_score >= 0);
        otherResponses.face_match.push(s, d);
      },
    );

    test('POST /v1/identity/face-match without a face → 422 face_not_found naming the image', async () => {
      const res = await post('/v1/identity/face-match', {
        image_1: pattern.toString('base64'),
        image_2: pattern.toString('base64'),
      });
      const err = assertErrorEnvelope(res, 422, 'face_not_found');
      assert.equal(err.param, 'image_1');
    });

    test('POST /v1/identity/validate: sharp passes, heavily blurred is `blurry`', async () => {
      const sharpRes = await post('/v1/identity/validate', { image: pattern.toString('base64') });
      assert.equal(sharpRes.statusCode, 200, sharpRes.body);
      const ok = sharpRes.json() as Json;
      assert.equal(ok.object, 'identity.validation');
      const codes = ok.issues.map((i: Json) => i.code);
      assert.ok(!codes.includes('blurry') && !codes.includes('slightly_blurry'), JSON.stringify(ok.issues));
      assert.equal(ok.valid, true, JSON.stringify(ok.issues));

      const blurred = await sharp(pattern).blur(8).jpeg().toBuffer();
      const blurRes = await post('/v1/identity/validate', { image: blurred.toString('base64') });
      assert.equal(blurRes.statusCode, 200, blurRes.body);
      const bad = blurRes.json() as Json;
      const blurry = bad.issues.find((i: Json) => i.code === 'blurry');
      assert.ok(blurry, JSON.stringify(bad.issues));
      assert.equal(bad.valid, false);
      assert.ok(bad.quality_score < ok.quality_score);
      assert.ok(bad.recommendations.length > 0);
      otherResponses.validate.push(ok, bad);
    });

    test('POST /v1/identity/validate type selfie without a face → `no_face`', async () => {
      const res = await post('/v1/identity/validate', { image: pattern.toString('base64'), type: 'selfie' });
      assert.equal(res.statusCode, 200, res.body);
      const v = res.json() as Json;
      assert.equal(v.type, 'selfie');
      assert.ok(
        v.issues.some((i: Json) => i.code === 'no_face'),
        JSON.stringify(v.issues),
      );
      assert.equal(v.valid, false);
      otherResponses.validate.push(v);
    });

    test(
      'POST /v1/identity/validate type selfie on a real face → no `no_face`',
      { skip: NO_SHARED_DATA },
      async () => {
        const res = await post('/v1/identity/validate', {
          image: face('img2.jpg').toString('base64'),
          type: 'selfie',
        });
        assert.equal(res.statusCode, 200, res.body);
        const v = res.json() as Json;
        assert.ok(!v.issues.some((i: Json) => i.code === 'no_face'), JSON.stringify(v.issues));
      },
    );
  });

  describe('stored verifications', () => {
    test('GET by id answers the stored verification', async () => {
      const v = await verify(doc());
      const res = await get(`/v1/identity/verifications/${v.id}`);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), v);
    });

    test('GET list: limit=1 with starting_after walks every item once, newest first', async () => {
      // A few more so the walk has several pages even without shared data.
      for (let i = 0; i < 3; i++) await verify(doc());
      const full = (await get('/v1/identity/verifications?limit=100')).json() as Json;
      assert.equal(full.object, 'list');
      assert.equal(full.has_more, false);
      assert.equal(full.total_count, full.data.length);
      const fullIds = full.data.map((v: Json) => v.id);
      assert.deepEqual(
        new Set(fullIds),
        new Set(createdA),
        'the list holds exactly this tenant’s verifications',
      );
      const created = full.data.map((v: Json) => v.created_at);
      assert.deepEqual(created, [...created].sort().reverse(), 'newest first');

      const walked: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 100; page++) {
        const res = await get(
          `/v1/identity/verifications?limit=1${cursor ? `&starting_after=${cursor}` : ''}`,
        );
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as Json;
        assert.ok(body.data.length <= 1);
        assert.equal(body.total_count, full.total_count);
        walked.push(...body.data.map((v: Json) => v.id));
        if (!body.has_more) break;
        cursor = body.data[0].id;
      }
      assert.equal(new Set(walked).size, walked.length, 'no duplicates');
      assert.deepEqual(walked, fullIds, 'every item, in order');

      // And back again with ending_before.
      const last = walked[walked.length - 1]!;
      const back = (await get(`/v1/identity/verifications?limit=2&ending_before=${last}`)).json() as Json;
      assert.deepEqual(
        back.data.map((v: Json) => v.id),
        walked.slice(-3, -1),
      );
    });

    test('GET list: status filter, including the alias `failed` (= rejected)', async () => {
      const review = (await get('/v1/identity/verifications?status=review&limit=100')).json() as Json;
      assert.ok(review.data.length > 0, 'ocr-only verifications are in review');
      for (const v of review.data) assert.equal(v.status, 'review');
      assert.equal(review.total_count, review.data.length);

      const failed = await get('/v1/identity/verifications?status=failed&limit=100');
      assert.equal(failed.statusCode, 200, failed.body);
      const rejected = (await get('/v1/identity/verifications?status=rejected&limit=100')).json() as Json;
      assert.deepEqual((failed.json() as Json).data, rejected.data);
      for (const v of rejected.data) assert.equal(v.status, 'rejected');
      if (differentPair) assert.ok(rejected.data.some((v: Json) => v.id === differentPair!.id));
      const none = (await get('/v1/identity/verifications?status=expired')).json() as Json;
      assert.deepEqual(none.data, []);
      assert.equal(none.has_more, false);
    });

    test('audit trail: created, checks completed, status changed', async () => {
      const v = await verify(doc());
      const res = await get(`/v1/identity/verifications/${v.id}/audit`);
      assert.equal(res.statusCode, 200, res.body);
      const audit = res.json() as Json;
      assert.equal(audit.verification_id, v.id);
      assert.equal(audit.deleted, false);
      const events = audit.events.map((e: Json) => e.event);
      for (const e of ['verification.created', 'checks.completed', 'status.changed']) {
        assert.ok(events.includes(e), `${e} in ${events.join(', ')}`);
      }
      const changed = audit.events.find((e: Json) => e.event === 'status.changed');
      assert.equal(changed.details.from, 'pending');
      assert.equal(changed.details.to, v.status);
      for (const e of audit.events) assert.ok(!Number.isNaN(Date.parse(e.timestamp)));
    });

    test('DELETE destroys record and images; the audit keeps a tombstone without personal data', async () => {
      const secretName = 'Fatima-Zahra El Idrissi';
      const body = multipart([
        { name: 'document_type', value: 'cin' },
        { name: 'country', value: 'MA' },
        { name: 'checks', value: 'ocr' },
        { name: 'metadata', value: JSON.stringify({ customer_name: secretName }) },
        {
          name: 'document_front',
          value: pattern,
          filename: 'cin-fatima-front.jpg',
          contentType: 'image/jpeg',
        },
      ]);
      const created = await server.app.inject({
        method: 'POST',
        url: '/v1/identity/verify',
        headers: { ...bearer(keyA), ...body.headers },
        payload: body.payload,
      });
      assert.equal(created.statusCode, 200, created.body);
      const v = created.json() as Json;
      assert.deepEqual(v.metadata, { customer_name: secretName });
      const blobDir = path.join(server.dataDir, 'blobs', 'tenant_a', v.id);
      assert.ok(existsSync(blobDir), 'the images are stored while the verification lives');
      assert.ok(readdirSync(blobDir).length > 0);
      // Stored encrypted: the image bytes never sit on disk in the clear.
      for (const f of readdirSync(blobDir)) {
        const stored = readFileSync(path.join(blobDir, f));
        assert.equal(stored.includes(pattern.subarray(0, 64)), false);
      }

      const del = await server.app.inject({
        method: 'DELETE',
        url: `/v1/identity/verifications/${v.id}`,
        headers: bearer(keyA),
      });
      assert.equal(del.statusCode, 200, del.body);
      const receipt = del.json() as Json;
      assert.equal(receipt.id, v.id);
      assert.equal(receipt.object, 'verification');
      assert.equal(receipt.deleted, true);

      assertErrorEnvelope(await get(`/v1/identity/verifications/${v.id}`), 404, 'resource_not_found');
      const again = await server.app.inject({
        method: 'DELETE',
        url: `/v1/identity/verifications/${v.id}`,
        headers: bearer(keyA),
      });
      assertErrorEnvelope(again, 404, 'resource_not_found');
      const list = (await get('/v1/identity/verifications?limit=100')).json() as Json;
      assert.ok(!list.data.some((x: Json) => x.id === v.id));

      const auditRes = await get(`/v1/identity/verifications/${v.id}/audit`);
      assert.equal(auditRes.statusCode, 200, auditRes.body);
      const audit = auditRes.json() as Json;
      assert.equal(audit.deleted, true);
      assert.ok(audit.events.some((e: Json) => e.event === 'verification.deleted'));
      const text = auditRes.body;
      assert.ok(!text.includes(secretName), 'no metadata in the audit');
      assert.ok(!text.includes('cin-fatima-front'), 'no file name in the audit');
      assert.ok(!text.includes(pattern.toString('base64').slice(0, 40)), 'no image bytes in the audit');
      assert.ok(!text.includes(pattern.toString('base64url').slice(0, 40)));

      assert.equal(existsSync(blobDir), false, 'the blob files are gone');
    });
  });

  describe('tenants, keys and scopes', () => {
    let idA: string;
    before(async () => {
      idA = (await verify(doc())).id;
    });

    test("tenant_b's key gets 404 on tenant_a's verification (GET, audit, DELETE)", async () => {
      const h = bearer(keyB);
      assertErrorEnvelope(await get(`/v1/identity/verifications/${idA}`, h), 404, 'resource_not_found');
      assertErrorEnvelope(await get(`/v1/identity/verifications/${idA}/audit`, h), 404, 'resource_not_found');
      const del = await server.app.inject({
        method: 'DELETE',
        url: `/v1/identity/verifications/${idA}`,
        headers: h,
      });
      assertErrorEnvelope(del, 404, 'resource_not_found');
      const list = (await get('/v1/identity/verifications?limit=100', h)).json() as Json;
      assert.ok(!list.data.some((v: Json) => v.id === idA));
      assertErrorEnvelope(
        await get(`/v1/identity/verifications?starting_after=${idA}`, h),
        400,
        'invalid_cursor',
      );
      // Still there for its owner.
      assert.equal((await get(`/v1/identity/verifications/${idA}`)).statusCode, 200);
    });

    test('no key → 401 authentication_required', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/v1/identity/verifications' });
      assertErrorEnvelope(res, 401, 'authentication_required');
      const postRes = await server.app.inject({ method: 'POST', url: '/v1/identity/verify', payload: doc() });
      assertErrorEnvelope(postRes, 401, 'authentication_required');
    });

    test('bad keys → 401 invalid_api_key', async () => {
      for (const bad of [
        'nope',
        `hw_test_${'A'.repeat(32)}`,
        `${keyA}x`,
        keyA.replace('hw_live_', 'hw_test_'),
      ]) {
        assertErrorEnvelope(await get('/v1/identity/verifications', bearer(bad)), 401, 'invalid_api_key');
        assertErrorEnvelope(
          await get('/v1/identity/verifications', { 'x-api-key': bad }),
          401,
          'invalid_api_key',
        );
      }
    });

    test('x-api-key works as well as Bearer', async () => {
      const viaHeader = await get(`/v1/identity/verifications/${idA}`, { 'x-api-key': keyA });
      assert.equal(viaHeader.statusCode, 200, viaHeader.body);
      const viaBearer = await get(`/v1/identity/verifications/${idA}`, { authorization: `bearer ${keyA}` });
      assert.equal(viaBearer.statusCode, 200, viaBearer.body);
      assert.deepEqual(viaHeader.json(), viaBearer.json());
      const created = await post('/v1/identity/verify', doc(), { 'x-api-key': keyA });
      assert.equal(created.statusCode, 200, created.body);
      createdA.push((created.json() as Json).id);
    });

    test('read-only key: reads, but POST verify → 403 insufficient_scope', async () => {
      const h = bearer(readOnlyKey);
      assert.equal((await get(`/v1/identity/verifications/${idA}`, h)).statusCode, 200);
      assertErrorEnvelope(await post('/v1/identity/verify', doc(), h), 403, 'insufficient_scope');
      assertErrorEnvelope(
        await post('/v1/identity/validate', { image: pattern.toString('base64') }, h),
        403,
        'insufficient_scope',
      );
      const del = await server.app.inject({
        method: 'DELETE',
        url: `/v1/identity/verifications/${idA}`,
        headers: h,
      });
      assertErrorEnvelope(del, 403, 'insufficient_scope');
      assert.equal((await get(`/v1/identity/verifications/${idA}`)).statusCode, 200, 'not deleted');
    });

    test('admin key may do everything', async () => {
      const h = bearer(adminKey);
      const v = await verify(doc(), h);
      assert.equal((await get(`/v1/identity/verifications/${v.id}`, h)).statusCode, 200);
      assert.equal((await get(`/v1/identity/verifications/${idA}`, h)).statusCode, 200, 'same tenant');
    });
  });

  describe('Idempotency-Key', () => {
    test('same key and body → stored answer replayed, same id', async () => {
      const key = `idem_${randomBytes(8).toString('hex')}`;
      const h = { ...bearer(keyA), 'idempotency-key': key };
      const first = await post('/v1/identity/verify', doc({ metadata: { order: 1 } }), h);
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.headers['idempotent-replayed'], undefined);
      createdA.push((first.json() as Json).id);
      const second = await post('/v1/identity/verify', doc({ metadata: { order: 1 } }), h);
      assert.equal(second.statusCode, 200, second.body);
      assert.equal(second.headers['idempotent-replayed'], 'true');
      assert.deepEqual(second.json(), first.json());
      assert.equal((second.json() as Json).id, (first.json() as Json).id);

      // Scoped to key + endpoint: the same key on another endpoint is a fresh request.
      const other = await post('/v1/identity/validate', { image: pattern.toString('base64') }, h);
      assert.equal(other.statusCode, 200, other.body);
      assert.equal(other.headers['idempotent-replayed'], undefined);
    });

    test('same key, different body → 409 idempotency_key_conflict', async () => {
      const key = `idem_${randomBytes(8).toString('hex')}`;
      const h = { ...bearer(keyA), 'idempotency-key': key };
      const first = await post('/v1/identity/verify', doc({ metadata: { order: 2 } }), h);
      assert.equal(first.statusCode, 200, first.body);
      createdA.push((first.json() as Json).id);
      const conflict = await post('/v1/identity/verify', doc({ metadata: { order: 3 } }), h);
      const err = assertErrorEnvelope(conflict, 409, 'idempotency_key_conflict');
      assert.equal(err.type, 'idempotency_error');
    });

    test('a malformed key → 400 idempotency_key_invalid', async () => {
      for (const bad of ['abc', 'has spaces in it', 'x'.repeat(256)]) {
        const res = await post('/v1/identity/verify', doc(), { ...bearer(keyA), 'idempotency-key': bad });
        const err = assertErrorEnvelope(res, 400, 'idempotency_key_invalid');
        assert.equal(err.param, 'Idempotency-Key');
      }
    });
  });

  describe('rate limit', () => {
    let limited: TestServer;
    before(async () => {
      limited = await startTestServer({ HUWIYA_RATE_LIMIT_PER_MINUTE: '3' });
    });
    after(async () => {
      await limited?.close();
    });

    test('X-RateLimit-* headers, then 429 with retry_after on the 4th call', async () => {
      const key = await limited.key();
      // Fixed one-minute windows: keep the four calls inside one of them.
      const intoMinute = Date.now() % 60_000;
      if (intoMinute > 57_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 100));
      const call = () =>
        limited.app.inject({ method: 'GET', url: '/v1/identity/verifications', headers: bearer(key) });
      const resets = new Set<string>();
      for (let i = 1; i <= 3; i++) {
        const res = await call();
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.headers['x-ratelimit-limit'], '3');
        assert.equal(res.headers['x-ratelimit-remaining'], String(3 - i));
        const reset = Number(res.headers['x-ratelimit-reset']);
        assert.ok(reset * 1000 > Date.now() && reset * 1000 <= Date.now() + 61_000, `reset ${reset}`);
        resets.add(String(reset));
      }
      assert.equal(resets.size, 1);
      const fourth = await call();
      const err = assertErrorEnvelope(fourth, 429, 'rate_limit_exceeded');
      assert.equal(err.type, 'rate_limit_error');
      assert.ok(Number.isInteger(err.retry_after) && err.retry_after >= 1 && err.retry_after <= 60);
      assert.equal(fourth.headers['retry-after'], String(err.retry_after));
      assert.equal(fourth.headers['x-ratelimit-remaining'], '0');
      // Per key: another key of the same tenant has its own budget; public routes are not limited.
      const other = await limited.key();
      assert.equal(
        (
          await limited.app.inject({
            method: 'GET',
            url: '/v1/identity/verifications',
            headers: bearer(other),
          })
        ).statusCode,
        200,
      );
      assert.equal((await limited.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    });
  });

  describe('documentation', () => {
    const NATIVE_PATHS = [
      '/v1/identity/verify',
      '/v1/identity/verifications',
      '/v1/identity/verifications/{id}',
      '/v1/identity/verifications/{id}/audit',
      '/v1/identity/face-match',
      '/v1/identity/liveness',
      '/v1/identity/validate',
    ];

    test('GET /openapi.json is valid OpenAPI 3.1 and lists every native path', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/openapi.json' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /application\/json/);
      const spec = res.json() as Json;
      assert.match(spec.openapi, /^3\.1\./);
      const v = new Validator();
      const r = await v.validate(spec);
      assert.ok(r.valid, JSON.stringify(r.errors));
      for (const p of NATIVE_PATHS) assert.ok(spec.paths[p], `${p} in ${Object.keys(spec.paths).join(', ')}`);
      assert.ok(spec.paths['/v1/identity/verifications/{id}'].delete);
      for (const p of ['/openapi.json', '/docs']) assert.equal(spec.paths[p], undefined, `${p} is hidden`);
    });

    test('GET /docs is HTML and lists every error code', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/docs' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      for (const code of Object.keys(errorCatalogue)) assert.ok(res.body.includes(code), `${code} on /docs`);
      for (const p of NATIVE_PATHS) assert.ok(res.body.includes(p), `${p} on /docs`);
      assert.ok(!/<script/i.test(res.body), 'no scripts');
    });
  });

  describe('contract: the published TXCloud schemas', { skip: NO_REFERENCE }, () => {
    let schema: (name: string) => ValidateFunction;

    before(() => {
      const published = parseYaml(
        readFileSync(path.join(REFERENCE_DIR, 'identity.openapi.yaml'), 'utf8'),
      ) as Json;
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormatsModule.default(ajv);
      ajv.addSchema({ $id: 'txcloud', components: published.components });
      schema = (name) => {
        const fn = ajv.getSchema(`txcloud#/components/schemas/${name}`);
        assert.ok(fn, `${name} is a published schema`);
        return fn;
      };
    });

    function assertValid(name: string, value: unknown): void {
      const validate = schema(name);
      assert.ok(
        validate(value),
        `${name}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`,
      );
    }

    test('verify responses are Verification', async () => {
      assert.ok(verificationResponses.length > 0);
      for (const v of verificationResponses) assertValid('Verification', v);
    });

    test('GET by id is Verification and GET list is VerificationList', async () => {
      const list = (await get('/v1/identity/verifications?limit=100')).json() as Json;
      assertValid('VerificationList', list);
      for (const v of list.data.slice(0, 5)) {
        assertValid('Verification', (await get(`/v1/identity/verifications/${v.id}`)).json());
      }
      assertValid('VerificationList', (await get('/v1/identity/verifications?status=failed')).json());
    });

    test('face-match, liveness and validate answers match their published schemas', async () => {
      otherResponses.validate.push(
        (await post('/v1/identity/validate', { image: pattern.toString('base64') })).json() as Json,
      );
      for (const r of otherResponses.validate) assertValid('ValidateResponse', r);
      for (const r of otherResponses.face_match) assertValid('FaceMatchResponse', r);
      for (const r of otherResponses.liveness) assertValid('LivenessResponse', r);
    });

    test('the published schemas do reject a wrong shape (the validator is live)', () => {
      const validate = schema('Verification');
      assert.equal(validate({ id: 'ver_x', status: 'cancelled_by_magic' }), false);
      assert.equal(validate({ id: 'ver_x', risk_score: 1001 }), false);
      assert.equal(validate({ checks: { face_match: { status: 'review' } } }), false);
    });
  });
});

test('GET /v1/capabilities lists checks, limits and model versions', async () => {
  const s = await startTestServer();
  try {
    const key = await s.key(['identity:read']);
    const res = await s.app.inject({
      method: 'GET',
      url: '/v1/capabilities',
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(res.statusCode, 200);
    const body = res.json() as {
      checks: Record<string, string>;
      model_versions: Record<string, string>;
      policy_version: string;
    };
    assert.equal(body.checks.face_match, 'available');
    assert.equal(body.checks.ocr, 'partial'); // the visual zone is read only where a template exists
    assert.equal(body.checks.fraud, 'partial');
    assert.equal(body.checks.duplicate, 'partial');
    assert.ok(body.model_versions.face_embed);
    assert.ok(body.policy_version);
    assert.equal((await s.app.inject({ method: 'GET', url: '/v1/capabilities' })).statusCode, 401);
  } finally {
    await s.close();
  }
});

test(
  'a burst of concurrent verifications all complete, each with its own outcome',
  { skip: NO_SHARED_DATA },
  async () => {
    const s = await startTestServer({ HUWIYA_PIPELINE_CONCURRENCY: '2' });
    try {
      const key = await s.key();
      const faces = path.join(SHARED_DATA!, 'faces/deepface');
      const b64 = (f: string) => readFileSync(path.join(faces, f)).toString('base64');
      const pairs = [
        ['img1.jpg', 'img2.jpg', 'passed'],
        ['img1.jpg', 'img3.jpg', 'failed'],
      ] as const;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => {
          const [doc, selfie, expected] = pairs[i % 2]!;
          return s.app
            .inject({
              method: 'POST',
              url: '/v1/identity/verify',
              headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
              payload: {
                document_front: b64(doc),
                selfie: b64(selfie),
                document_type: 'cin',
                country: 'MA',
                checks: ['face_match'],
              },
            })
            .then((r) => ({ r, expected }));
        }),
      );
      for (const { r, expected } of results) {
        assert.equal(r.statusCode, 200, r.body);
        assert.equal(
          (r.json() as { checks: { face_match: { status: string } } }).checks.face_match.status,
          expected,
        );
      }
      const list = await s.app.inject({
        method: 'GET',
        url: '/v1/identity/verifications?limit=100',
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal((list.json() as { total_count: number }).total_count, 8);
    } finally {
      await s.close();
    }
  },
);
