/**
 * Full verifications against a baseline commit, in the same run (issue 15): the harness starts two real
 * servers, `huwiya serve` from this tree and from a `git worktree` of the baseline (sharing this tree's
 * node_modules), and times the same requests on both over HTTP, interleaved so that the machine's drift
 * falls on both alike. Ratios (this tree / baseline) hold across machines where absolute figures do not.
 *
 * Measured per server: a full verification (generated CNIE front + back + selfie, every default check,
 * JSON base64, sync) median and p95; an extract of the front and back; the throughput of 8 clients each
 * sending full verifications back to back; the server's peak resident memory (all its threads).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantile, table } from './metrics.ts';
import { createRng, randomIdentity } from '../test/synth/identities.ts';
import { photograph } from '../test/synth/photograph.ts';
import { renderDocument } from '../test/synth/render-document.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
/**
 * The default baseline: main as it was when the document engine's speed work began (issue 15), so that
 * every later run reports its progress against the same point. BENCH_BASELINE=<rev> picks another.
 */
export const DEFAULT_BASELINE = '0bc6103';

interface Server {
  label: string;
  child: ChildProcess;
  url: string;
  secret: string;
  dataDir: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function startServer(label: string, tree: string): Promise<Server> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `huwiya-bench-${label}-`));
  const port = await freePort();
  const env = {
    ...process.env,
    HUWIYA_DATA_DIR: dataDir,
    HUWIYA_PORT: String(port),
    HUWIYA_HOST: '127.0.0.1',
    HUWIYA_LOG_LEVEL: 'silent',
    HUWIYA_RATE_LIMIT_PER_MINUTE: '1000000',
  };
  const bin = path.join(tree, 'bin', 'huwiya.js');
  const key = JSON.parse(
    execFileSync(process.execPath, [bin, 'keys', 'create', '--tenant', 'bench', '--json'], {
      cwd: tree,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  ) as { secret: string };
  const child = spawn(process.execPath, [bin, 'serve'], {
    cwd: tree,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} server exited: ${stderr}`);
    const ok = await fetch(`${url}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${label} server not ready after 120 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { label, child, url, secret: key.secret, dataDir };
}

async function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode === null) {
    const exited = new Promise((r) => s.child.once('exit', r));
    s.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
  }
  rmSync(s.dataDir, { recursive: true, force: true });
}

/** Peak and current resident memory of a process (all its threads), MB. */
function memoryMb(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

async function post(s: Server, route: string, body: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${s.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.secret}`, 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${s.label} ${route}: ${res.status} ${text.slice(0, 200)}`);
  return ms;
}

/** Generated CNIE cases (front, back, selfie of the portrait's person), photographed clean and medium. */
async function cases(faces: string, n: number): Promise<{ verify: string; extract: string }[]> {
  const out: { verify: string; extract: string }[] = [];
  const selfie = readFileSync(path.join(faces, 'img2.jpg')).toString('base64');
  for (let i = 0; i < n; i++) {
    const rng = createRng(15_000 + i);
    const identity = randomIdentity(rng);
    const level = i % 2 ? 'medium' : 'clean';
    const front = await renderDocument('mar_cnie_2020_front', identity, {
      rng,
      portraitPath: path.join(faces, 'img1.jpg'),
    });
    const back = await renderDocument('mar_cnie_2020_back', identity, { rng });
    const sides = {
      document_front: (await photograph(front.image, level, rng)).jpeg.toString('base64'),
      document_back: (await photograph(back.image, level, rng)).jpeg.toString('base64'),
      document_type: 'cin',
      country: 'MA',
    };
    out.push({ verify: JSON.stringify({ ...sides, selfie }), extract: JSON.stringify(sides) });
  }
  return out;
}

const stats = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p95: quantile(s, 0.95) };
};

/**
 * The comparison table, or a line saying why it could not run (no baseline in this clone, no face
 * photos). `runs` full verifications per server, interleaved.
 */
export async function benchAgainstBaseline(
  faces: string,
  runs: number,
  baseline = process.env.BENCH_BASELINE ?? DEFAULT_BASELINE,
): Promise<string> {
  const servers: Server[] = [];
  let worktree: string | undefined;
  try {
    let commit: string | undefined;
    if (baseline !== 'none') {
      try {
        commit = execFileSync('git', ['rev-parse', '--verify', '--quiet', `${baseline}^{commit}`], {
          cwd: root,
          encoding: 'utf8',
        }).trim();
      } catch {
        commit = undefined;
      }
    }
    if (commit) {
      worktree = mkdtempSync(path.join(os.tmpdir(), 'huwiya-baseline-'));
      execFileSync('git', ['worktree', 'add', '--detach', '--force', worktree, commit], {
        cwd: root,
        stdio: 'ignore',
      });
      // The baseline runs on this tree's dependencies (models and libraries are the same packages).
      symlinkSync(path.join(root, 'node_modules'), path.join(worktree, 'node_modules'), 'dir');
      servers.push(await startServer(`baseline ${commit.slice(0, 7)}`, worktree));
    }
    servers.push(await startServer('this tree', root));
    const data = await cases(faces, 6);
    const timings = servers.map(() => ({ verify: [] as number[], extract: [] as number[], rate: 0 }));
    // Warm-up: every case once on every server (first inferences, JIT).
    for (const s of servers) for (const c of data) await post(s, '/v1/identity/verify', c.verify);
    for (let i = 0; i < runs; i++) {
      const c = data[i % data.length]!;
      // Interleaved, alternating which server goes first.
      const order = i % 2 ? [...servers.keys()].reverse() : [...servers.keys()];
      for (const k of order)
        timings[k]!.verify.push(await post(servers[k]!, '/v1/identity/verify', c.verify));
      if (i % 2 === 0)
        for (const k of order)
          timings[k]!.extract.push(await post(servers[k]!, '/v1/identity/extract', c.extract));
    }
    // Sustained throughput: 8 clients sending full verifications back to back, one server at a time.
    const CLIENTS = 8;
    const perClient = Math.max(2, Math.round(runs / 8));
    for (const [k, s] of servers.entries()) {
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, c) => {
          for (let j = 0; j < perClient; j++)
            await post(s, '/v1/identity/verify', data[(c + j) % data.length]!.verify);
        }),
      );
      timings[k]!.rate = (CLIENTS * perClient) / ((performance.now() - t0) / 1000);
    }
    const mem = servers.map((s) => memoryMb(s.child.pid!));
    const rows: (string | number)[][] = [
      ['measure', ...servers.map((s) => s.label), ...(servers.length > 1 ? ['ratio (this / baseline)'] : [])],
    ];
    const add = (label: string, values: number[], digits = 0) =>
      rows.push([
        label,
        ...values.map((v) => v.toFixed(digits)),
        ...(values.length > 1 ? [(values[1]! / values[0]!).toFixed(2)] : []),
      ]);
    const v = timings.map((t) => stats(t.verify));
    const e = timings.map((t) => stats(t.extract));
    add(
      `full verify median ms (CNIE front+back+selfie, all checks; ${runs} runs)`,
      v.map((x) => x.median),
    );
    add(
      'full verify p95 ms',
      v.map((x) => x.p95),
    );
    add(
      `extract front+back median ms (${timings[0]!.extract.length} runs)`,
      e.map((x) => x.median),
    );
    add(
      `throughput, ${CLIENTS} clients × ${perClient} full verifies (per second)`,
      timings.map((t) => t.rate),
      2,
    );
    add(
      'server peak RSS MB (all models loaded, after the runs)',
      mem.map((m) => m.peak),
    );
    const note = commit
      ? `baseline ${baseline} = ${commit.slice(0, 12)} (BENCH_BASELINE=<rev> to change, none to skip)`
      : `baseline ${baseline} is not in this clone: this tree only (BENCH_BASELINE=<rev> to pick one)`;
    return `${note}\n${table(rows)}`;
  } finally {
    for (const s of servers) await stopServer(s);
    if (worktree) {
      try {
        execFileSync('git', ['worktree', 'remove', '--force', worktree], { cwd: root, stdio: 'ignore' });
      } catch {
        rmSync(worktree, { recursive: true, force: true });
      }
    }
  }
}

// Run alone: node --import tsx bench/compare-baseline.ts [runs]
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const faces = path.resolve(root, '../shared/data/faces/deepface');
  if (!existsSync(faces)) console.log(`skipped: ${faces} is absent (the selfie and portrait come from it)`);
  else console.log(await benchAgainstBaseline(faces, Number(process.argv[2] ?? 30)));
}
