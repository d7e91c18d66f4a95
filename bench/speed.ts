/**
 * Speed harness: `npm run bench`. Warm-up, then median and p90 per stage and end to end, on this machine.
 * Uses ../shared/data faces when present, otherwise a synthetic image (stages still timed; no face found).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InjectOptions } from 'fastify';
import { createApiKey } from '../src/app/api-keys.ts';
import { getVerification } from '../src/app/manage-verifications.ts';
import { presentDeepidvVerify } from '../src/http/compat/deepidv/present.ts';
import { presentDeepxl } from '../src/http/compat/deepxl/present.ts';
import { parseConfig } from '../src/config.ts';
import { createHttpServer, createRuntime } from '../src/main.ts';
import { analyzeFace, type StageTimes } from '../src/pipeline/face/analyze-face.ts';
import { decodeImage } from '../src/pipeline/image/decode.ts';
import { benchAgainstBaseline } from './compare-baseline.ts';
import { benchDuplicateSearch } from './duplicate-search.ts';
import { benchCapacity, benchLoad } from './load.ts';
import { quantile, table } from './metrics.ts';
import { createRng, randomIdentity } from '../test/synth/identities.ts';
import { photograph } from '../test/synth/photograph.ts';
import { renderDocument } from '../test/synth/render-document.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const WARMUP = 5;
const here = path.dirname(fileURLToPath(import.meta.url));
const faces = path.resolve(here, '../../shared/data/faces/deepface');
if (!existsSync(faces)) {
  console.log(`skipped: ${faces} is absent; the speed harness needs two face photos from ../shared/data`);
  process.exit(0);
}
const docBytes = readFileSync(path.join(faces, 'img1.jpg'));
const selfieBytes = readFileSync(path.join(faces, 'img2.jpg'));

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-bench-'));
const config = parseConfig({
  HUWIYA_DATA_DIR: dataDir,
  HUWIYA_LOG_LEVEL: 'silent',
  HUWIYA_RATE_LIMIT_PER_MINUTE: '100000',
});
const runtime = await createRuntime(config);
const deps = runtime.deps;

const samples: Record<string, number[]> = {};
const push = (k: string, v: number) => (samples[k] ??= []).push(v);

// A machine reference, to compare figures taken on different machines: one text detection on a fixed
// 1024×672 input (what a rectified ID-1 side costs onnxruntime), alone, and a fixed loop of plain
// JavaScript. The same commit's document figures scale with these.
{
  for (let i = 0; i < WARMUP + 10; i++) {
    // A new buffer each time: the inference threads take ownership of the one they are sent.
    const input = { data: new Float32Array(3 * 672 * 1024).fill(0.5), dims: [1, 3, 672, 1024] };
    const t0 = performance.now();
    await deps.inference.run('text_detect', input);
    if (i >= WARMUP)
      push('machine reference: one text detection, 1024×672 (onnxruntime)', performance.now() - t0);
  }
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    let x = 0;
    for (let k = 0; k < 1e8; k++) x += k % 7;
    if (x < 0) console.log(x);
    push('machine reference: 1e8 iterations of a JavaScript loop', performance.now() - t0);
  }
}

// Per stage, on the selfie: decode, then the face stages with liveness.
for (let i = 0; i < WARMUP + RUNS; i++) {
  let t0 = performance.now();
  const d = await decodeImage(selfieBytes, 'selfie', deps.limits);
  const decodeMs = performance.now() - t0;
  const times: StageTimes = {};
  t0 = performance.now();
  await analyzeFace(d.image, deps, { liveness: true, times });
  const faceMs = performance.now() - t0;
  if (i < WARMUP) continue;
  push(
    `decode (${(selfieBytes.length / 1e6).toFixed(1)} MB JPEG ${d.originalWidth}×${d.originalHeight})`,
    decodeMs,
  );
  for (const [k, v] of Object.entries(times)) push(k, v);
  push('face total (detect→liveness)', faceMs);
}

// End to end through HTTP (inject): JSON base64, sync, face_match + liveness, stored and encrypted.
const app = await createHttpServer(config, runtime, false);
await app.ready();
const { secret } = await createApiKey(deps.store, {
  tenantId: 'bench',
  name: 'bench',
  scopes: ['identity:write', 'identity:read'],
  mode: 'live',
});
const payload = JSON.stringify({
  document_front: docBytes.toString('base64'),
  selfie: selfieBytes.toString('base64'),
  document_type: 'cin',
  country: 'MA',
  checks: ['face_match', 'liveness'],
});
for (let i = 0; i < WARMUP + RUNS; i++) {
  const t0 = performance.now();
  const res = await app.inject({
    method: 'POST',
    url: '/v1/identity/verify',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    payload,
  });
  const ms = performance.now() - t0;
  if (res.statusCode !== 200) throw new Error(`verify answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
  if (i >= WARMUP) push('verify end-to-end (HTTP inject, 2 images, face_match+liveness)', ms);
}

// Documents: a generated CNIE (front and back, photographed clean) through POST /v1/identity/extract,
// with the engine's own per-stage timings.
{
  const rng = createRng(42);
  const identity = randomIdentity(rng);
  const front = await renderDocument('mar_cnie_2020_front', identity, {
    rng,
    portraitPath: path.join(faces, 'img1.jpg'),
  });
  const back = await renderDocument('mar_cnie_2020_back', identity, { rng });
  const docPayload = JSON.stringify({
    document_front: (await photograph(front.image, 'clean', rng)).jpeg.toString('base64'),
    document_back: (await photograph(back.image, 'clean', rng)).jpeg.toString('base64'),
    document_type: 'cin',
    country: 'MA',
  });
  const docRuns = Math.max(5, Math.round(RUNS / 5));
  for (let i = 0; i < 2 + docRuns; i++) {
    const t0 = performance.now();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/identity/extract',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      payload: docPayload,
    });
    const ms = performance.now() - t0;
    if (res.statusCode !== 200)
      throw new Error(`extract answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
    if (i < 2) continue;
    const t = (res.json() as { checks: { ocr: { evidence: { timings_ms: Record<string, number> } } } }).checks
      .ocr.evidence.timings_ms;
    for (const [k, v] of Object.entries(t)) push(`document front+back: ${k}`, v);
    push('document front+back: extract end-to-end (HTTP inject)', ms);
  }
}

// Dialects: the same work through the native API and through DeepXL and deepidv. The overhead of a
// dialect is its request and response mapping; measured on its own (microseconds per call, on a stored
// verification) and as the difference between the same request natively and through the dialect.
const dialectRows: (string | number)[][] = [['measure', 'runs', 'native ms', 'dialect ms', 'overhead ms']];
{
  const auth = { authorization: `Bearer ${secret}` };
  // A generated CNIE front (no MRZ on that side) whose portrait is the selfie's person: the native call
  // declares it (cin, MA), the dialects cannot, and the engine finds its template either way.
  const rng = createRng(7);
  const front = await renderDocument('mar_cnie_2020_front', randomIdentity(rng), {
    rng,
    portraitPath: path.join(faces, 'img1.jpg'),
  });
  const idCard = (await photograph(front.image, 'clean', rng)).jpeg;
  const boundary = 'benchboundary7a1c';
  const form = (parts: [string, Buffer | string, string?][]) => ({
    headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([
      ...parts.flatMap(([name, value, file]) => [
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${file}"\r\nContent-Type: image/jpeg` : ''}\r\n\r\n`,
        ),
        Buffer.from(value),
        Buffer.from('\r\n'),
      ]),
      Buffer.from(`--${boundary}--\r\n`),
    ]),
  });
  const nativeForm = (checks: string) =>
    form([
      ['document_front', idCard, 'id.jpg'],
      ['selfie', selfieBytes, 'selfie.jpg'],
      ['document_type', 'cin'],
      ['country', 'MA'],
      ['checks', checks],
    ]);
  const timed = async (init: InjectOptions & { url: string }) => {
    const t0 = performance.now();
    const res = await app.inject(init);
    const ms = performance.now() - t0;
    if (res.statusCode !== 200)
      throw new Error(
        `${String((init as { url: string }).url)}: ${res.statusCode} ${res.body.slice(0, 200)}`,
      );
    return { ms, res };
  };
  const runs = Math.max(5, Math.round(RUNS / 5));
  const pairs: Record<string, [number[], number[]]> = {};
  const add = (k: string, native: number, dialect: number) => {
    const p = (pairs[k] ??= [[], []]);
    p[0].push(native);
    p[1].push(dialect);
  };
  let deepxlNumber = 0;
  let nativeId = '';
  for (let i = 0; i < 1 + runs; i++) {
    // Interleaved, so that the machine's drift falls on both sides alike.
    const n1 = await timed({
      method: 'POST',
      url: '/v1/identity/verify',
      ...nativeForm('ocr,face_match,liveness,fraud'),
    });
    const d1 = await timed({
      method: 'POST',
      url: '/compat/deepxl/v1/verification',
      ...form([
        ['idFile', idCard, 'id.jpg'],
        ['selfieFile', selfieBytes, 'selfie.jpg'],
        ['tags', '{"customerId":"9999"}'],
      ]),
    });
    const n2 = await timed({ method: 'POST', url: '/v1/identity/verify', ...nativeForm('ocr,face_match') });
    const d2 = await timed({
      method: 'POST',
      url: '/compat/deepidv/v1/identity/verify',
      ...form([
        ['documentImage', idCard, 'id.jpg'],
        ['faceImage', selfieBytes, 'selfie.jpg'],
        ['documentType', 'auto'],
      ]),
    });
    nativeId = (n1.res.json() as { id: string }).id;
    deepxlNumber = (d1.res.json() as { result: { verificationId: number } }).result.verificationId;
    const n3 = await timed({ method: 'GET', url: `/v1/identity/verifications/${nativeId}`, headers: auth });
    const d3 = await timed({
      method: 'GET',
      url: `/compat/deepxl/v1/verification/${deepxlNumber}`,
      headers: auth,
    });
    if (i === 0) continue;
    add('DeepXL POST /verification vs native verify (same 4 checks)', n1.ms, d1.ms);
    add('deepidv POST /identity/verify vs native verify (ocr + face_match)', n2.ms, d2.ms);
    add('DeepXL GET /verification/{id} vs native GET (no pipeline)', n3.ms, d3.ms);
  }
  const med = (v: number[]) =>
    quantile(
      [...v].sort((a, b) => a - b),
      0.5,
    );
  for (const [k, [n, d]] of Object.entries(pairs))
    dialectRows.push([k, n.length, med(n).toFixed(1), med(d).toFixed(1), (med(d) - med(n)).toFixed(1)]);
  // The mappers alone, on a stored verification.
  const doc = await getVerification(
    deps,
    { tenantId: 'bench', apiKeyId: 'bench', scopes: ['identity:read'], mode: 'live' },
    nativeId,
  );
  const perCall = (f: () => unknown) => {
    const n = 2000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    return ((performance.now() - t0) / n) * 1000;
  };
  dialectRows.push([
    'DeepXL response mapping alone (µs per call)',
    2000,
    '-',
    perCall(() => JSON.stringify(presentDeepxl(doc, 'http://h/compat/deepxl/v1/files'))).toFixed(1),
    '-',
  ]);
  dialectRows.push([
    'deepidv response mapping alone (µs per call)',
    2000,
    '-',
    perCall(() => JSON.stringify(presentDeepidvVerify(doc))).toFixed(1),
    '-',
  ]);
}

// Async throughput: a burst of submissions, each with a per-request webhook to a local receiver.
const BURST = Number(process.env.BENCH_BURST ?? 200);
const delivered = new Map<string, number>();
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const e = JSON.parse(body) as { data: { id: string } };
    if (!delivered.has(e.data.id)) delivered.set(e.data.id, performance.now());
    res.end('ok');
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
const asyncPayload = JSON.stringify({ ...JSON.parse(payload), mode: 'async', webhook_url: hook });
const submitted = new Map<string, number>();
const burstStart = performance.now();
await Promise.all(
  Array.from({ length: BURST }, async () => {
    const t0 = performance.now();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/identity/verify',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      payload: asyncPayload,
    });
    if (res.statusCode !== 201)
      throw new Error(`async verify answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
    submitted.set((res.json() as { id: string }).id, t0);
  }),
);
const submitMs = performance.now() - burstStart;
while (delivered.size < BURST) await new Promise((r) => setTimeout(r, 50));
const totalMs = performance.now() - burstStart;
const lat = [...submitted].map(([id, t0]) => delivered.get(id)! - t0).sort((a, b) => a - b);
receiver.close();

const rows: (string | number)[][] = [['stage', 'runs', 'median ms', 'p90 ms']];
for (const [k, v] of Object.entries(samples)) {
  const s = [...v].sort((a, b) => a - b);
  rows.push([k, s.length, quantile(s, 0.5).toFixed(1), quantile(s, 0.9).toFixed(1)]);
}
console.log(
  `\nHuwiya speed (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${RUNS} runs after ${WARMUP} warm-up)`,
);
console.log(table(rows));
console.log('\nDialect overhead (medians; same images, interleaved runs)');
console.log(table(dialectRows));
console.log(
  `\nAsync burst of ${BURST} verifications (2 images, face_match + liveness, webhook per request; ${config.pipelineConcurrency} workers)`,
);
console.log(
  table([
    ['measure', 'value'],
    ['all submissions accepted (201) in', `${(submitMs / 1000).toFixed(1)} s`],
    ['all webhooks received after', `${(totalMs / 1000).toFixed(1)} s`],
    ['throughput', `${(BURST / (totalMs / 1000)).toFixed(2)} verifications/s`],
    ['submission → webhook, median', `${(quantile(lat, 0.5) / 1000).toFixed(1)} s`],
    ['submission → webhook, p90', `${(quantile(lat, 0.9) / 1000).toFixed(1)} s`],
  ]),
);
await app.close();
await runtime.close();
rmSync(dataDir, { recursive: true, force: true });

// Full verifications on two real servers, this tree and a baseline commit, over HTTP (issue 15).
const baselineRuns = Number(process.env.BENCH_BASELINE_RUNS ?? 30);
if (baselineRuns > 0) {
  console.log('\nFull verification against a baseline commit (two servers, same requests, interleaved)');
  console.log(await benchAgainstBaseline(faces, baselineRuns));
}

const duplicateFaces = Number(process.env.BENCH_DUPLICATE_FACES ?? 1_000_000);
if (duplicateFaces > 0) {
  console.log('\nFace duplicate search (one tenant; product path: sketch scan, then exact cosine; ADR 0010)');
  console.log(await benchDuplicateSearch(duplicateFaces));
}

const loadSeconds = Number(process.env.BENCH_LOAD_SECONDS ?? 120);
if (loadSeconds > 0) {
  console.log('\nLoad: mixed traffic against a real server (bench/load.ts)');
  console.log(await benchLoad(faces, 16, loadSeconds));
  console.log('\nSync capacity: only sync verifications at 8, 16 and 32 clients (bench/load.ts capacity)');
  console.log(await benchCapacity(faces, [8, 16, 32], loadSeconds));
}
