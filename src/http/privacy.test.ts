import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { NO_SHARED_DATA, SHARED_DATA, startTestServer, type TestServer } from '../../test/helpers.ts';

// Personal data never appears in logs (at the most verbose level) nor in plain text at rest.
const lines: string[] = [];
const stream = new Writable({
  write(chunk: Buffer, _enc, cb) {
    lines.push(chunk.toString('utf8'));
    cb();
  },
});
let server: TestServer;
const MARKER = 'Zineb-Benkirane-7Q3X';

before(async () => {
  server = await startTestServer({}, { level: 'trace', stream });
});
after(async () => server.close());

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test(
  'a verification leaves no personal data in logs or in plain text on disk',
  { skip: NO_SHARED_DATA },
  async () => {
    const secret = await server.key();
    const doc = readFileSync(path.join(SHARED_DATA!, 'faces/deepface/img1.jpg'));
    const selfie = readFileSync(path.join(SHARED_DATA!, 'faces/deepface/img2.jpg'));
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/identity/verify',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      payload: {
        document_front: doc.toString('base64'),
        selfie: selfie.toString('base64'),
        document_type: 'cin',
        country: 'MA',
        metadata: { full_name: MARKER, user_id: 'u-1' },
      },
    });
    assert.equal(res.statusCode, 200);
    // A failing request (its body must not be echoed into the logs either).
    const bad = await server.app.inject({
      method: 'POST',
      url: '/v1/identity/verify',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      payload: { document_front: `!!${MARKER}!!`, document_type: 'cin', country: 'MA' },
    });
    assert.equal(bad.statusCode, 400);
    const logs = lines.join('');
    assert.ok(logs.length > 0, 'the trace logger wrote something');
    assert.ok(!logs.includes(MARKER), 'metadata must not be logged');
    assert.ok(!logs.includes(secret), 'API keys must not be logged');
    assert.ok(!logs.includes(doc.toString('base64').slice(1000, 1100)), 'image bytes must not be logged');

    const files = filesUnder(server.dataDir);
    assert.ok(files.some((f) => f.endsWith('.sqlite')));
    for (const f of files) {
      const bytes = readFileSync(f);
      assert.ok(
        !bytes.includes(Buffer.from(MARKER)),
        `${path.relative(server.dataDir, f)} holds the metadata in plain text`,
      );
      assert.ok(
        !bytes.includes(selfie.subarray(2000, 2100)),
        `${path.relative(server.dataDir, f)} holds the selfie in plain text`,
      );
    }
  },
);
