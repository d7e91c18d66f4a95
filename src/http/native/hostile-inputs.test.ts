// TESTING.md "Hostile inputs": every public endpoint answers a broken or malicious request with the right
// 4xx in the error envelope (naming the field where there is one), never a 5xx or a crash; the server stays
// healthy, a bad input stores nothing, and what was stored before is still readable.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { errorCatalogue, type ErrorCode } from '../../domain/errors.ts';
import { startTestServer, type TestServer } from '../../../test/helpers.ts';
import { multipart as buildMultipart, type Part } from '../../../test/multipart.ts';

type Json = Record<string, any>;
type Headers = Record<string, string>;
type Reply = Awaited<ReturnType<TestServer['app']['inject']>>;

const VERIFY = '/v1/identity/verify';
const MB = 1024 * 1024;

let server: TestServer;
let key: string;
let baseline: Json;
/** A real 800×600 JPEG (a noisy synthetic card: plenty of entropy, so truncation really cuts pixels). */
let jpeg: Buffer;
let progressiveJpeg: Buffer;

const auth = (): Headers => ({ authorization: `Bearer ${key}` });
const json = (): Headers => ({ ...auth(), 'content-type': 'application/json' });

function verifyBody(extra: Json = {}): Json {
  return {
    document_front: jpeg.toString('base64'),
    document_type: 'cin',
    country: 'MA',
    checks: ['ocr'],
    ...extra,
  };
}

async function inject(
  method: 'GET' | 'POST' | 'DELETE' | 'PUT',
  url: string,
  payload?: string | Buffer | Json,
  headers: Headers = auth(),
): Promise<Reply> {
  return server.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
}

/** What a rejected request must leave untouched: the stored verifications and the blob directories. */
async function storedState(): Promise<{ total: number; blobDirs: number }> {
  const list = await inject('GET', '/v1/identity/verifications?limit=1');
  assert.equal(list.statusCode, 200, list.body);
  const dir = path.join(server.dataDir, 'blobs', 'tenant_a');
  return {
    total: (list.json() as Json).total_count as number,
    blobDirs: existsSync(dir) ? readdirSync(dir).length : 0,
  };
}

/**
 * Send a hostile request and check the answer: the expected status and code (one of several when the
 * outcome may legitimately vary), the full envelope, `param` when given, and that nothing was stored.
 */
async function expectError(
  send: () => Promise<Reply>,
  status: number | number[],
  code: ErrorCode | ErrorCode[],
  param?: string | RegExp,
): Promise<Json> {
  const before = await storedState();
  const res = await send();
  assert.ok(res.statusCode < 500, `5xx: ${res.statusCode} ${res.body}`);
  const statuses = Array.isArray(status) ? status : [status];
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(statuses.includes(res.statusCode), `status ${res.statusCode}, expected ${statuses}: ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json() as Json;
  assert.deepEqual(Object.keys(body), ['error']);
  const err = body.error as Json;
  assert.ok(codes.includes(err.code), `code ${err.code}, expected ${codes}: ${res.body}`);
  assert.equal(err.type, errorCatalogue[err.code as ErrorCode].type);
  assert.ok(typeof err.message === 'string' && err.message.length > 0);
  assert.match(err.request_id, /^req_[0-9a-f]+$/);
  if (typeof param === 'string') assert.equal(err.param, param, res.body);
  else if (param) assert.match(String(err.param), param, res.body);
  assert.deepEqual(await storedState(), before, 'a rejected request stores nothing');
  return err;
}

function multipart(
  parts: Part[],
  boundary = 'huwiyaBoundary7MA4YWxkTrZu0gW',
): { payload: Buffer; headers: Headers } {
  const body = buildMultipart(parts, boundary);
  return { payload: body.payload, headers: { ...auth(), ...body.headers } };
}

function docParts(front: Buffer, extra: Part[] = []): Part[] {
  return [
    { name: 'document_type', value: 'cin' },
    { name: 'country', value: 'MA' },
    { name: 'checks', value: 'ocr' },
    ...extra,
    { name: 'document_front', value: front, filename: 'front.jpg', contentType: 'image/jpeg' },
  ];
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/**
 * A valid 8-bit greyscale PNG of width×height black pixels that really decompresses to that size, built in
 * milliseconds: one deflate segment for 100 rows, ended by a full flush so it is self-contained, repeated
 * height/100 times, then an empty final block and the Adler-32 of all-zero data. (Encoding the same image
 * with sharp takes ~25 s and needs the pixel limit lifted.)
 */
function pngBomb(width: number, height: number): Buffer {
  const rows = 100;
  assert.equal(height % rows, 0);
  const segment = zlib.deflateRawSync(Buffer.alloc(rows * (width + 1)), {
    level: 9,
    finishFlush: zlib.constants.Z_FULL_FLUSH,
  });
  const rawLength = (width + 1) * height; // a filter byte per row, then the pixels, all zero
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((rawLength % 65521) << 16) | 1) >>> 0);
  const idat = Buffer.concat([
    Buffer.from([0x78, 0xda]),
    ...Array<Buffer>(height / rows).fill(segment),
    Buffer.from([0x03, 0x00]),
    adler,
  ]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (grey), deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Rewrite the frame header (SOF0/1/2) of a JPEG so it claims width×height. */
function claimJpegSize(src: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(src);
  let i = 2;
  while (i + 9 < out.length && out[i] === 0xff) {
    const marker = out[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xc2) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + out.readUInt16BE(i + 2);
  }
  throw new Error('no SOF marker found');
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');

describe('hostile inputs', () => {
  before(async () => {
    // Every case also reads the store before and after; keep the per-key rate limit out of the way.
    server = await startTestServer({ HUWIYA_RATE_LIMIT_PER_MINUTE: '1000000' });
    key = await server.key();
    const noise = Buffer.alloc(800 * 600 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24; // deterministic noise
    const card = sharp(noise, { raw: { width: 800, height: 600, channels: 3 } });
    jpeg = await card.clone().jpeg({ quality: 85 }).toBuffer();
    progressiveJpeg = await card.clone().jpeg({ quality: 85, progressive: true }).toBuffer();
    const res = await inject('POST', VERIFY, verifyBody());
    assert.equal(res.statusCode, 200, res.body);
    baseline = res.json() as Json;
  });

  after(async () => {
    await server?.close();
  });

  afterEach(async () => {
    // The server survived, and what was stored before is intact.
    const health = await inject('GET', '/healthz', undefined, {});
    assert.equal(health.statusCode, 200);
    const stored = await inject('GET', `/v1/identity/verifications/${baseline.id}`);
    assert.equal(stored.statusCode, 200, stored.body);
    assert.deepEqual(stored.json(), baseline);
  });

  describe('JSON of the wrong shape', () => {
    test('empty body → 400 invalid_json', async () => {
      await expectError(() => inject('POST', VERIFY, '', json()), 400, 'invalid_json');
    });

    test('`{}` → 400 missing_parameter document_front', async () => {
      await expectError(
        () => inject('POST', VERIFY, '{}', json()),
        400,
        'missing_parameter',
        'document_front',
      );
    });

    test('array, null, string and number bodies → 400', async () => {
      for (const body of [
        '[]',
        `[${JSON.stringify(verifyBody())}]`,
        'null',
        '"document_front"',
        '42',
        'true',
      ]) {
        await expectError(() => inject('POST', VERIFY, body, json()), 400, [
          'invalid_parameter',
          'invalid_json',
        ]);
      }
    });

    test('JSON nested 5000 deep → 400 (top level, in an unknown field, in metadata)', async () => {
      const depth = 5000;
      await expectError(() => inject('POST', VERIFY, '['.repeat(depth) + ']'.repeat(depth), json()), 400, [
        'invalid_request',
        'invalid_parameter',
      ]);
      await expectError(
        () => inject('POST', VERIFY, '{"a":'.repeat(depth) + '1' + '}'.repeat(depth), json()),
        400,
        ['invalid_parameter', 'unknown_parameter'],
      );
      const nested = '['.repeat(depth) + ']'.repeat(depth);
      const body = JSON.stringify(verifyBody()).replace(/}$/, `,"metadata":{"deep":${nested}}}`);
      await expectError(() => inject('POST', VERIFY, body, json()), 400, 'invalid_parameter', 'metadata');
      // The same with an Idempotency-Key (its fingerprint walks the body too).
      await expectError(
        () => inject('POST', VERIFY, body, { ...json(), 'idempotency-key': 'deep-nesting-0001' }),
        400,
        'invalid_parameter',
        'metadata',
      );
    });

    test('truncated JSON → 400 invalid_json', async () => {
      const full = JSON.stringify(verifyBody());
      for (const cut of [
        '{"document_front": "abc',
        full.slice(0, Math.floor(full.length * 0.6)),
        '{',
        '{"a":}',
      ]) {
        await expectError(() => inject('POST', VERIFY, cut, json()), 400, 'invalid_json');
      }
    });

    test('wrong types → 400 invalid_parameter naming the field', async () => {
      const cases: [Json, string | RegExp][] = [
        [{ document_front: 123 }, 'document_front'],
        [{ document_front: ['abc'] }, 'document_front'],
        [{ document_front: { data: 'abc' } }, 'document_front'],
        [{ selfie: true }, 'selfie'],
        [{ checks: 'ocr' }, 'checks'],
        [{ checks: ['ocr', 'telepathy'] }, /^checks(\.1)?$/],
        [{ checks: ['ocr', 'ocr'] }, 'checks'],
        [{ country: 'Morocco' }, 'country'],
        [{ country: 212 }, 'country'],
        [{ document_type: 'spaceship' }, 'document_type'],
        [{ mode: 'later' }, 'mode'],
        [{ metadata: 'not an object' }, 'metadata'],
        [{ metadata: [1, 2] }, 'metadata'],
        [{ webhook_url: 'not a url' }, 'webhook_url'],
      ];
      for (const [extra, param] of cases) {
        await expectError(() => inject('POST', VERIFY, verifyBody(extra)), 400, 'invalid_parameter', param);
      }
    });

    test('missing required fields → 400 missing_parameter naming the field', async () => {
      for (const field of ['document_front', 'document_type', 'country']) {
        const body = verifyBody();
        delete body[field];
        await expectError(() => inject('POST', VERIFY, body), 400, 'missing_parameter', field);
      }
    });

    test('unknown field → 400 unknown_parameter with param', async () => {
      await expectError(
        () => inject('POST', VERIFY, verifyBody({ favourite_colour: 'blue' })),
        400,
        'unknown_parameter',
        'favourite_colour',
      );
      await expectError(
        () =>
          inject('POST', '/v1/identity/face-match', { image_1: b64(jpeg), image_2: b64(jpeg), image_3: 'x' }),
        400,
        'unknown_parameter',
        'image_3',
      );
    });

    test('__proto__ and constructor keys → 400, and nothing is polluted', async () => {
      const base = JSON.stringify(verifyBody()).slice(0, -1);
      for (const extra of [
        '"__proto__":{"polluted":"yes"}',
        '"constructor":{"prototype":{"polluted":"yes"}}',
        '"metadata":{"__proto__":{"polluted":"yes"}}',
        '"metadata":{"a":{"constructor":{"prototype":{"polluted":"yes"}}}}',
      ]) {
        await expectError(() => inject('POST', VERIFY, `${base},${extra}}`, json()), 400, [
          'invalid_request',
          'invalid_json',
          'unknown_parameter',
        ]);
      }
      const mp = multipart(docParts(jpeg, [{ name: '__proto__', value: '{"polluted":"yes"}' }]));
      await expectError(() => inject('POST', VERIFY, mp.payload, mp.headers), 400, [
        'invalid_request',
        'unknown_parameter',
      ]);
      assert.equal(({} as Json).polluted, undefined);
      assert.equal((Object.prototype as Json).polluted, undefined);
    });
  });

  describe('image encodings', () => {
    test('broken base64 → 400 invalid_base64 naming the field', async () => {
      await expectError(
        () => inject('POST', VERIFY, verifyBody({ document_front: '!!!notbase64!!!' })),
        400,
        'invalid_base64',
        'document_front',
      );
      await expectError(
        () => inject('POST', VERIFY, verifyBody({ selfie: '!!!notbase64!!!' })),
        400,
        'invalid_base64',
        'selfie',
      );
      // Padding in the middle, an impossible length, stray non-alphabet characters, a data URL that is not base64.
      const s = b64(jpeg);
      for (const bad of [
        'abcd=efgh',
        `${s}A`,
        `${s.slice(0, 400)}*${s.slice(401)}`,
        'data:image/jpeg,rawbytes',
      ]) {
        await expectError(
          () => inject('POST', VERIFY, verifyBody({ document_front: bad })),
          400,
          'invalid_base64',
          'document_front',
        );
      }
    });

    test('base64url, data URL and line-wrapped base64 of a real image are accepted', async () => {
      const url = jpeg.toString('base64url');
      assert.notEqual(url, b64(jpeg), 'the image exercises the url-safe alphabet');
      const forms = [
        url,
        `data:image/jpeg;base64,${b64(jpeg)}`,
        `data:image/png;base64,${b64(jpeg)}`, // the declared type is not trusted, the bytes are
        b64(jpeg).replace(/.{76}/g, '$&\r\n'),
      ];
      for (const document_front of forms) {
        const res = await inject('POST', VERIFY, verifyBody({ document_front }));
        assert.equal(res.statusCode, 200, res.body);
        assert.equal((res.json() as Json).status, 'review');
      }
    });

    test('text, SVG, HTML and GIF bytes as an image → 415 unsupported_media_type', async () => {
      const gif = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } })
        .gif()
        .toBuffer();
      const notImages: Buffer[] = [
        Buffer.from('hello world, this is not an image'.repeat(40)),
        Buffer.from(
          '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><rect width="640" height="480" fill="red"/></svg>',
        ),
        Buffer.from('<!doctype html><html><body><img src=x onerror=alert(1)></body></html>'),
        gif,
        Buffer.concat([Buffer.from('GIF89a'), jpeg]), // a JPEG behind a GIF signature
        Buffer.from([0xff, 0xd8]), // two bytes of JPEG signature
      ];
      for (const bytes of notImages) {
        await expectError(
          () => inject('POST', VERIFY, verifyBody({ document_front: b64(bytes) })),
          415,
          'unsupported_media_type',
          'document_front',
        );
        await expectError(
          () => inject('POST', '/v1/identity/liveness', { image: b64(bytes) }),
          415,
          'unsupported_media_type',
          'image',
        );
      }
      // As multipart files declared image/jpeg.
      for (const bytes of notImages.slice(1, 4)) {
        const mp = multipart(docParts(bytes));
        await expectError(
          () => inject('POST', VERIFY, mp.payload, mp.headers),
          415,
          'unsupported_media_type',
          'document_front',
        );
      }
    });

    test('truncated and byte-flipped JPEGs → 400 image_corrupt (or a normal 200), never 5xx', async () => {
      const truncated = [jpeg, progressiveJpeg].map((j) => j.subarray(0, Math.floor(j.length * 0.6)));
      const flipped = [jpeg, progressiveJpeg].map((j) => {
        const f = Buffer.from(j);
        for (let i = 700; i < f.length - 2; i += 113) f[i] = f[i]! ^ 0xff;
        return f;
      });
      const headerFlipped = Buffer.from(jpeg);
      for (let i = 4; i < 400; i += 7) headerFlipped[i] = headerFlipped[i]! ^ 0x5a;
      for (const bytes of [...truncated, ...flipped, headerFlipped]) {
        for (const [url, body] of [
          [VERIFY, verifyBody({ document_front: b64(bytes) })],
          ['/v1/identity/validate', { image: b64(bytes) }],
        ] as const) {
          const before = await storedState();
          const res = await inject('POST', url, body);
          assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body}`);
          if (res.statusCode !== 200) {
            assert.equal(res.statusCode, 400, res.body);
            const err = (res.json() as Json).error as Json;
            assert.equal(err.code, 'image_corrupt', res.body);
            assert.equal(err.param, url === VERIFY ? 'document_front' : 'image');
            assert.deepEqual(await storedState(), before);
          }
        }
      }
    });

    test('a PNG that decompresses to 30000×30000 → 413 image_dimensions_exceeded', async () => {
      const bomb = pngBomb(30000, 30000);
      assert.ok(bomb.length < 2 * MB, `${bomb.length} bytes`);
      const meta = await sharp(bomb, { limitInputPixels: false }).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 30000, 30000]);
      await expectError(
        () => inject('POST', VERIFY, verifyBody({ document_front: b64(bomb) })),
        413,
        'image_dimensions_exceeded',
        'document_front',
      );
      await expectError(
        () => inject('POST', VERIFY, verifyBody({ selfie: b64(bomb), checks: ['liveness'] })),
        413,
        'image_dimensions_exceeded',
        'selfie',
      );
      for (const [url, body, param] of [
        ['/v1/identity/liveness', { image: b64(bomb) }, 'image'],
        ['/v1/identity/validate', { image: b64(bomb) }, 'image'],
        ['/v1/identity/face-match', { image_1: b64(jpeg), image_2: b64(bomb) }, 'image_2'],
      ] as const) {
        await expectError(() => inject('POST', url, body), 413, 'image_dimensions_exceeded', param);
      }
      const mp = multipart(docParts(bomb));
      await expectError(
        () => inject('POST', VERIFY, mp.payload, mp.headers),
        413,
        'image_dimensions_exceeded',
        'document_front',
      );
    });

    test('a JPEG whose header claims 65500×65500 → 413 or 400, never 5xx', async () => {
      const small = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#468' } })
        .jpeg()
        .toBuffer();
      const liar = claimJpegSize(small, 65500, 65500);
      assert.deepEqual(
        await sharp(liar, { limitInputPixels: false })
          .metadata()
          .then((m) => [m.width, m.height]),
        [65500, 65500],
      );
      await expectError(
        () => inject('POST', VERIFY, verifyBody({ document_front: b64(liar) })),
        [413, 400],
        ['image_dimensions_exceeded', 'image_corrupt'],
        'document_front',
      );
      // A header claiming a size within the pixel cap, over far too little data.
      const modest = claimJpegSize(small, 4000, 3000);
      const res = await inject('POST', VERIFY, verifyBody({ document_front: b64(modest) }));
      assert.ok(res.statusCode < 500, res.body);
      if (res.statusCode !== 200) {
        await expectError(
          () => inject('POST', VERIFY, verifyBody({ document_front: b64(modest) })),
          400,
          'image_corrupt',
          'document_front',
        );
      }
    });

    test('a 10×10 image → 422 image_too_small', async () => {
      const tiny = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#888' } })
        .png()
        .toBuffer();
      await expectError(
        () => inject('POST', VERIFY, verifyBody({ document_front: b64(tiny) })),
        422,
        'image_too_small',
        'document_front',
      );
      await expectError(
        () => inject('POST', '/v1/identity/validate', { image: b64(tiny) }),
        422,
        'image_too_small',
        'image',
      );
    });
  });

  describe('sizes', () => {
    test('a 16 MB JSON body → 413 payload_too_large', async () => {
      const body = JSON.stringify(verifyBody({ document_front: 'A'.repeat(16 * MB) }));
      await expectError(() => inject('POST', VERIFY, body, json()), 413, 'payload_too_large');
    });

    test('a 16 MB file in multipart → 413 image_too_large naming the part', async () => {
      const big = Buffer.concat([jpeg, Buffer.alloc(16 * MB - jpeg.length, 0x42)]);
      const mp = multipart(docParts(big));
      await expectError(
        () => inject('POST', VERIFY, mp.payload, mp.headers),
        413,
        'image_too_large',
        'document_front',
      );
    });

    test('oversized metadata (> 16 KB) → 400 naming metadata', async () => {
      const metadata = { note: 'x'.repeat(17 * 1024) };
      await expectError(
        () => inject('POST', VERIFY, verifyBody({ metadata })),
        400,
        'invalid_parameter',
        'metadata',
      );
      const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
      await expectError(
        () => inject('POST', VERIFY, verifyBody({ metadata: many })),
        400,
        'invalid_parameter',
        'metadata',
      );
      const mp = multipart(docParts(jpeg, [{ name: 'metadata', value: JSON.stringify(metadata) }]));
      await expectError(
        () => inject('POST', VERIFY, mp.payload, mp.headers),
        400,
        'invalid_parameter',
        'metadata',
      );
      const notJson = multipart(docParts(jpeg, [{ name: 'metadata', value: '{not json' }]));
      await expectError(
        () => inject('POST', VERIFY, notJson.payload, notJson.headers),
        400,
        'invalid_parameter',
        'metadata',
      );
    });
  });

  describe('content types and multipart framing', () => {
    test('content-type text/plain (and other non-JSON types) → 415 unsupported_content_type', async () => {
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/xml',
        'image/jpeg',
      ]) {
        const payload = type === 'image/jpeg' ? jpeg : JSON.stringify(verifyBody());
        await expectError(
          () => inject('POST', VERIFY, payload, { ...auth(), 'content-type': type }),
          415,
          'unsupported_content_type',
        );
      }
      await expectError(
        () =>
          inject('POST', '/v1/identity/validate', 'image=abc', { ...auth(), 'content-type': 'text/plain' }),
        415,
        'unsupported_content_type',
      );
    });

    test('multipart without a boundary → 400', async () => {
      const mp = multipart(docParts(jpeg));
      await expectError(
        () => inject('POST', VERIFY, mp.payload, { ...auth(), 'content-type': 'multipart/form-data' }),
        400,
        'invalid_request',
      );
    });

    test('multipart with a broken boundary → 400', async () => {
      const mp = multipart(docParts(jpeg), 'theRealBoundary');
      for (const contentType of [
        'multipart/form-data; boundary=notTheBoundary',
        'multipart/form-data; boundary=',
        `multipart/form-data; boundary=${'b'.repeat(300)}`,
      ]) {
        await expectError(
          () => inject('POST', VERIFY, mp.payload, { ...auth(), 'content-type': contentType }),
          400,
          ['invalid_request', 'missing_parameter'],
        );
      }
      // Truncated before the closing boundary, in the middle of the file part.
      const cut = mp.payload.subarray(0, mp.payload.length - Math.floor(jpeg.length / 2));
      await expectError(() => inject('POST', VERIFY, cut, mp.headers), 400, 'invalid_request');
      // And on the other endpoints.
      for (const url of ['/v1/identity/face-match', '/v1/identity/liveness', '/v1/identity/validate']) {
        await expectError(
          () => inject('POST', url, mp.payload, { ...auth(), 'content-type': 'multipart/form-data' }),
          400,
          'invalid_request',
        );
      }
    });

    test('multipart with a field sent twice or too many parts → 4xx', async () => {
      const twice = multipart(docParts(jpeg, [{ name: 'document_front', value: jpeg, filename: 'a.jpg' }]));
      await expectError(
        () => inject('POST', VERIFY, twice.payload, twice.headers),
        400,
        'invalid_parameter',
        'document_front',
      );
      const crowd = multipart([
        ...docParts(jpeg),
        ...Array.from({ length: 20 }, (_, i) => ({ name: `extra${i}`, value: 'x' })),
      ]);
      await expectError(
        () => inject('POST', VERIFY, crowd.payload, crowd.headers),
        [400, 413],
        ['invalid_request', 'unknown_parameter'],
      );
    });
  });

  describe('routes and query strings', () => {
    test('unknown route → 404 route_not_found in the envelope', async () => {
      for (const [method, url] of [
        ['GET', '/nope'],
        ['POST', '/v1/identity/verify/extra'],
        ['PUT', VERIFY],
        ['GET', '/v1/../../etc/passwd'],
      ] as const) {
        await expectError(() => inject(method, url), 404, 'route_not_found');
      }
    });

    test('hostile query strings and ids → 4xx', async () => {
      const cases: [string, number, ErrorCode, string?][] = [
        ['/v1/identity/verifications?limit=abc', 400, 'invalid_parameter', 'limit'],
        ['/v1/identity/verifications?limit=0', 400, 'invalid_parameter', 'limit'],
        ['/v1/identity/verifications?limit=1000000', 400, 'invalid_parameter', 'limit'],
        ['/v1/identity/verifications?status=bogus', 400, 'invalid_parameter', 'status'],
        ['/v1/identity/verifications?created_after=yesterday', 400, 'invalid_parameter', 'created_after'],
        ['/v1/identity/verifications?starting_after=..%2F..%2Fetc', 400, 'invalid_cursor', 'starting_after'],
        ['/v1/identity/verifications?ending_before=ver_doesnotexist', 400, 'invalid_cursor', 'ending_before'],
        ['/v1/identity/verifications?sort=__proto__', 400, 'unknown_parameter', 'sort'],
        ['/v1/identity/verifications?__proto__=x', 400, 'unknown_parameter'],
        [`/v1/identity/verifications/${'x'.repeat(80)}`, 400, 'invalid_parameter', 'id'],
        [`/v1/identity/verifications/${'x'.repeat(200)}`, 400, 'invalid_request'],
        [`/v1/identity/verifications/${'x'.repeat(5000)}/audit`, 400, 'invalid_request'],
        ['/v1/identity/verifications/%E0%A4%A', 400, 'invalid_request'],
        ['/v1/identity/verifications/%ZZ', 400, 'invalid_request'],
        ['/v1/identity/verifications/ver_doesnotexist', 404, 'resource_not_found', 'id'],
        ['/v1/identity/verifications/..%2F..%2Fmaster.key', 404, 'resource_not_found', 'id'],
        ['/v1/identity/verifications/%00/audit', 404, 'resource_not_found', 'id'],
      ];
      for (const [url, status, code, param] of cases) {
        await expectError(() => inject('GET', url), status, code, param);
      }
      await expectError(
        () => inject('DELETE', '/v1/identity/verifications/..%2F..%2Fblobs'),
        404,
        'resource_not_found',
        'id',
      );
      assert.ok(existsSync(path.join(server.dataDir, 'blobs', 'tenant_a', baseline.id)));
    });
  });
});
