/**
 * Face duplicate search at scale (ADR 0010): `node --import tsx bench/duplicate-search.ts [maxFaces]`,
 * also part of `npm run bench`. One tenant's index grows to 10 k, 100 k and 1 M generated faces through
 * the product's own path (a data key per verification, `indexFace`, `searchFaces` on a SQLite file).
 *
 * Generated embeddings spread like real ones: unit vectors in a random 92-dimensional subspace, so two
 * people's cosine has a standard deviation of 0.104, as deepface's impostor pairs do with our model
 * (manifest `calibration.duplicate_face`). A planted query is a stored face moved to an exact cosine
 * (0.50 = the threshold, 0.60, 0.70); recall is the share found with the product's 256 candidates, and
 * at 0.50 with 64. A fresh face (nobody stored) that
 * matches anyone is a false match.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { AesKeyring } from '../src/adapters/crypto/aes-keyring.ts';
import { loadManifest } from '../src/adapters/onnx/load-manifest.ts';
import { SqliteStore } from '../src/adapters/sqlite/sqlite-store.ts';
import { indexFace, searchFaces } from '../src/app/duplicate-check.ts';
import { createRng } from '../test/synth/identities.ts';
import { quantile, table } from './metrics.ts';

const DIMS = 512;
const SUBSPACE = 92;
const TENANT = 'tenant_bench';
const QUERIES = 60;

/** Person `i`'s face: deterministic, so a planted query can rebuild its target. */
function face(i: number): Float32Array {
  const rng = createRng(0x5eed0000 + i);
  const v = new Float32Array(DIMS);
  for (let d = 0; d < SUBSPACE; d++) v[(d * 5 + 3) % DIMS] = rng.gauss();
  return normalise(v);
}
function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
}
/** `a` moved to exactly cosine `c`, towards a random direction of the same subspace. */
function atCosine(a: Float32Array, c: number, seed: number): Float32Array {
  const b = face(seed);
  let dot = 0;
  for (let i = 0; i < DIMS; i++) dot += a[i]! * b[i]!;
  const o = normalise(b.map((x, i) => x - dot * a[i]!));
  return a.map((x, i) => c * x + Math.sqrt(1 - c * c) * o[i]!);
}

export async function benchDuplicateSearch(maxFaces = 1_000_000): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-dup-'));
  const file = path.join(dir, 'huwiya.sqlite');
  const store = await SqliteStore.open(file);
  const keyring = new AesKeyring(randomBytes(32));
  const manifest = await loadManifest();
  const deps = { store, keyring, manifest };
  const rows: (string | number)[][] = [
    [
      'faces',
      'index s',
      'MB',
      'search ms (median)',
      'p95',
      'recall @0.50',
      '@0.60',
      '@0.70',
      '@0.50, 64 nearest',
      'false matches / search',
    ],
  ];
  let stored = 0;
  let indexMs = 0;
  try {
    for (const size of [10_000, 100_000, 1_000_000].filter((n) => n <= maxFaces)) {
      const t0 = performance.now();
      for (; stored < size;) {
        const until = Math.min(size, stored + 5_000);
        await store.transaction(async (tx) => {
          for (; stored < until; stored++) {
            const id = `ver_bench${stored}`;
            const key = await keyring.create(tx, id, TENANT);
            await indexFace(deps, tx, {
              tenantId: TENANT,
              verificationId: id,
              number: stored + 1,
              createdAt: '2026-12-06T00:00:00Z',
              embedding: face(stored),
              extracted: undefined,
              key,
            });
          }
        });
      }
      indexMs += performance.now() - t0;
      const times: number[] = [];
      const found = { 0.5: 0, 0.6: 0, 0.7: 0 } as Record<number, number>;
      let in64 = 0;
      const rng = createRng(size);
      for (let q = 0; q < QUERIES; q++) {
        const target = rng.int(0, size - 1);
        for (const c of [0.5, 0.6, 0.7]) {
          // Just above the threshold: 0.50 exactly sits on it, and 8-bit rounding may fall either side.
          const query = atCosine(face(target), c + 0.002, 9_000_000 + q);
          const t = performance.now();
          const m = await searchFaces(deps, TENANT, query, null);
          times.push(performance.now() - t);
          if (m.some((x) => x.verification_id === `ver_bench${target}`)) found[c]!++;
          if (c === 0.5) {
            const fewer = await searchFaces(deps, TENANT, query, null, undefined, 64);
            if (fewer.some((x) => x.verification_id === `ver_bench${target}`)) in64++;
          }
        }
      }
      let falseMatches = 0;
      for (let q = 0; q < QUERIES; q++)
        falseMatches += (await searchFaces(deps, TENANT, face(50_000_000 + q), null)).length;
      rows.push([
        size.toLocaleString('en'),
        (indexMs / 1000).toFixed(0),
        (statSync(file).size / 1e6).toFixed(0),
        quantile(
          times.sort((a, b) => a - b),
          0.5,
        ).toFixed(1),
        quantile(times, 0.95).toFixed(1),
        `${found[0.5]}/${QUERIES}`,
        `${found[0.6]}/${QUERIES}`,
        `${found[0.7]}/${QUERIES}`,
        `${in64}/${QUERIES}`,
        (falseMatches / QUERIES).toFixed(2),
      ]);
      console.error(`duplicate search: ${size} faces done`);
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return table(rows);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('\nFace duplicate search (one tenant; product path: sketch scan, then exact cosine)');
  console.log(await benchDuplicateSearch(Number(process.argv[2] ?? 1_000_000)));
}
