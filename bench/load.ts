/**
 * Load scenario (hardening issue): `node --import tsx bench/load.ts [clients] [seconds]`, also the last part
 * of `npm run bench`. A real `huwiya serve` in its own process; `clients` concurrent clients for `seconds`
 * send a mix of sync verifications, async verifications, lists, gets and sessions while a probe reads
 * /healthz every 250 ms. Prints error rate, p50/p95 per kind, /healthz p95 under load and the server's
 * RSS at start and end.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantile, table } from './metrics.ts';
import { createRng, randomIdentity } from '../test/synth/identities.ts';
import { photograph } from '../test/synth/photograph.ts';
import { renderDocument } from '../test/synth/render-document.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../bin/huwiya.js');

type Kind = 'verify sync' | 'verify async' | 'list' | 'get' | 'session create+get';
const MIX: [Kind, number][] = [
  ['verify sync', 0.15],
  ['verify async', 0.1],
  ['list', 0.3],
  ['get', 0.25],
  ['session create+get', 0.2],
];

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

async function startServer(
  dataDir: string,
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const env = {
    ...process.env,
    HUWIYA_DATA_DIR: dataDir,
    HUWIYA_PORT: '0',
    HUWIYA_LOG_LEVEL: 'info',
    HUWIYA_RATE_LIMIT_PER_MINUTE: '1000000',
  };
  const keys = spawn(process.execPath, [BIN, 'keys', 'create', '--scopes', 'identity:read,identity:write'], {
    env,
  });
  let secret = '';
  keys.stdout.on('data', (d: Buffer) => (secret += d.toString()));
  await new Promise((r) => keys.on('close', r));
  const child = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  child.stdout.resume();
  process.env.LOAD_KEY = secret.trim();
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * A generated CNIE front whose portrait is deepface's img1 and the selfie img2 (the same person), as the
 * JSON of a verification with three checks in the given mode.
 */
async function verifyBodies(faces: string, seed: number): Promise<(mode: 'sync' | 'async') => string> {
  const rng = createRng(seed);
  const front = await renderDocument('mar_cnie_2020_front', randomIdentity(rng), {
    rng,
    portraitPath: path.join(faces, 'img1.jpg'),
  });
  const card = (await photograph(front.image, 'clean', rng)).jpeg.toString('base64');
  const selfie = readFileSync(path.join(faces, 'img2.jpg')).toString('base64');
  return (mode) =>
    JSON.stringify({
      document_front: card,
      selfie,
      document_type: 'cin',
      country: 'MA',
      checks: ['ocr', 'face_match', 'liveness'],
      mode,
    });
}

export async function benchLoad(faces: string, clients = 16, seconds = 120): Promise<string> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-load-'));
  const server = await startServer(dataDir);
  const key = process.env.LOAD_KEY!;
  const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const verifyBody = await verifyBodies(faces, 2026);
  const ids: string[] = [];
  const call = async (method: string, p: string, body?: string) => {
    const res = await fetch(server.url + p, { method, headers: auth, ...(body ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, text };
  };
  // One verification to read from the start.
  const seed = await call('POST', '/v1/identity/verify', verifyBody('async'));
  ids.push((JSON.parse(seed.text) as { id: string }).id);

  const lat = new Map<Kind, number[]>();
  const outcomes = new Map<string, number>();
  const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  const rssStart = rssOf(server.pid);
  const end = Date.now() + seconds * 1000;

  const health: number[] = [];
  const probe = (async () => {
    while (Date.now() < end) {
      const t0 = performance.now();
      try {
        await fetch(`${server.url}/healthz`).then((r) => r.text());
        health.push(performance.now() - t0);
      } catch {
        count('healthz failed');
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();

  const client = async (i: number) => {
    const r = createRng(1000 + i);
    while (Date.now() < end) {
      let x = r.next();
      let kind: Kind = MIX[0]![0];
      for (const [k, w] of MIX) {
        if (x < w) {
          kind = k;
          break;
        }
        x -= w;
      }
      const t0 = performance.now();
      try {
        let res: { status: number; text: string };
        if (kind === 'verify sync') res = await call('POST', '/v1/identity/verify', verifyBody('sync'));
        else if (kind === 'verify async') {
          res = await call('POST', '/v1/identity/verify', verifyBody('async'));
          if (res.status === 201) ids.push((JSON.parse(res.text) as { id: string }).id);
        } else if (kind === 'list') res = await call('GET', '/v1/identity/verifications?limit=20');
        else if (kind === 'get')
          res = await call('GET', `/v1/identity/verifications/${ids[Math.floor(r.next() * ids.length)]}`);
        else {
          res = await call(
            'POST',
            '/v1/identity/sessions',
            JSON.stringify({ document_type: 'passport', country: 'MA', checks: ['ocr', 'face_match'] }),
          );
          if (res.status === 201)
            res = await call('GET', `/v1/identity/sessions/${(JSON.parse(res.text) as { id: string }).id}`);
        }
        (lat.get(kind) ?? lat.set(kind, []).get(kind)!).push(performance.now() - t0);
        count(
          res.status === 429 || res.status === 503
            ? 'refused (429/503)'
            : res.status >= 400
              ? `${res.status}`
              : 'ok',
        );
      } catch {
        count('network error');
      }
    }
  };
  await Promise.all([probe, ...Array.from({ length: clients }, (_, i) => client(i))]);
  const rssEnd = rssOf(server.pid);
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });

  const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
  const errors = [...outcomes].filter(([k]) => k !== 'ok' && k !== 'refused (429/503)');
  const errorCount = errors.reduce((a, [, n]) => a + n, 0);
  const rows: (string | number)[][] = [['kind', 'requests', 'p50 ms', 'p95 ms']];
  for (const [kind] of MIX) {
    const v = [...(lat.get(kind) ?? [])].sort((a, b) => a - b);
    rows.push([
      kind,
      v.length,
      v.length ? quantile(v, 0.5).toFixed(0) : '-',
      v.length ? quantile(v, 0.95).toFixed(0) : '-',
    ]);
  }
  const h = [...health].sort((a, b) => a - b);
  rows.push(['/healthz (probe, 4/s)', h.length, quantile(h, 0.5).toFixed(1), quantile(h, 0.95).toFixed(1)]);
  return [
    `${clients} clients for ${seconds} s against one \`huwiya serve\` (embedded default, ${os.cpus().length} cores)`,
    table(rows),
    table([
      ['measure', 'value'],
      ['requests', total],
      [
        'errors (5xx, other 4xx, network)',
        `${errorCount} (${((100 * errorCount) / Math.max(1, total)).toFixed(2)} %) ${JSON.stringify(Object.fromEntries(errors))}`,
      ],
      ['refused with 429/503', outcomes.get('refused (429/503)') ?? 0],
      ['server RSS start → end', `${Math.round(rssStart / 1e6)} → ${Math.round(rssEnd / 1e6)} MB`],
    ]),
  ].join('\n');
}

/**
 * Capacity (keys-and-capacity issue, finding 5): only sync verifications (CNIE front + selfie, three
 * checks), at each client count in turn on a fresh server, for `seconds` each. Per row: decisions per
 * second (answers with a final status), answer latency p50/p95/max against the sync limit, answers
 * `pending` at the limit, refusals (429/503) and how many lacked Retry-After, errors, /healthz p95.
 */
export async function benchCapacity(faces: string, clientCounts: number[], seconds = 120): Promise<string> {
  const body = (await verifyBodies(faces, 2027))('sync');
  const rows: (string | number)[][] = [
    [
      'clients',
      'decisions/s',
      'p50 ms',
      'p95 ms',
      'max ms',
      'pending at limit',
      'refused 429/503',
      'refused without Retry-After',
      'errors',
      '/healthz p95 ms',
    ],
  ];
  for (const clients of clientCounts) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-capacity-'));
    const server = await startServer(dataDir);
    const headers = { authorization: `Bearer ${process.env.LOAD_KEY}`, 'content-type': 'application/json' };
    const end = Date.now() + seconds * 1000;
    const lat: number[] = [];
    let decided = 0;
    let pending = 0;
    let refused = 0;
    let bare = 0;
    let errors = 0;
    const health: number[] = [];
    const probe = (async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        await fetch(`${server.url}/healthz`)
          .then((r) => r.text())
          .catch(() => (errors += 1));
        health.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const client = async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        try {
          const res = await fetch(`${server.url}/v1/identity/verify`, { method: 'POST', headers, body });
          const json = (await res.json()) as { status?: string };
          lat.push(performance.now() - t0);
          if (res.status === 200 && json.status === 'pending') pending++;
          else if (res.status === 200) decided++;
          else if (res.status === 429 || res.status === 503) {
            refused++;
            if (!res.headers.get('retry-after')) bare++;
            const wait = Number(res.headers.get('retry-after') ?? 1);
            await new Promise((r) => setTimeout(r, Math.min(wait, 5) * 1000));
          } else errors++;
        } catch {
          errors++;
        }
      }
    };
    const t0 = Date.now();
    await Promise.all([probe, ...Array.from({ length: clients }, client)]);
    const elapsed = (Date.now() - t0) / 1000;
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
    const l = [...lat].sort((a, b) => a - b);
    const h = [...health].sort((a, b) => a - b);
    rows.push([
      clients,
      (decided / elapsed).toFixed(2),
      quantile(l, 0.5).toFixed(0),
      quantile(l, 0.95).toFixed(0),
      (l.at(-1) ?? 0).toFixed(0),
      pending,
      refused,
      bare,
      errors,
      quantile(h, 0.95).toFixed(1),
    ]);
  }
  return table(rows);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const faces = path.resolve(here, '../../shared/data/faces/deepface');
  if (process.argv[2] === 'capacity') {
    const seconds = Number(process.argv[3] ?? 120);
    console.log(`Sync capacity, ${seconds} s per row (embedded default, ${os.cpus().length} cores)`);
    console.log(await benchCapacity(faces, [8, 16, 32], seconds));
  } else {
    const clients = Number(process.argv[2] ?? 16);
    const seconds = Number(process.argv[3] ?? 120);
    console.log(await benchLoad(faces, clients, seconds));
  }
}
