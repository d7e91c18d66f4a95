/**
 * Writes synthetic samples for a human to look at or for the accuracy harness:
 *
 *   node --import tsx test/synth/cli.ts <outDir> <count> [seed]
 *
 * For each of `count` identities: every document side as a flat PNG, a clean and a hard photograph of each
 * (JPEG), and `<n>.json` with the identity, each side's truth and each photograph's document quad. Portraits
 * come from `../shared/data/faces/deepface/*.jpg` when present (or `SYNTH_FACES=<dir>`; portrait-shaped photos
 * only), else a silhouette.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createRng, randomIdentity } from './identities.ts';
import { photograph } from './photograph.ts';
import { DOCUMENT_KINDS, renderDocument } from './render-document.ts';

const DEFAULT_FACES = fileURLToPath(new URL('../../../shared/data/faces/deepface/', import.meta.url));

/**
 * Face photos to use as portraits: the portrait-shaped ones (at most 1.3 times wider than tall), since the
 * wide ones are often stage or group shots where the automatic crop misses the face.
 */
async function faces(): Promise<string[]> {
  const dir = process.env.SYNTH_FACES ?? DEFAULT_FACES;
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort()
    .map((f) => path.join(dir, f));
  const shapes = await Promise.all(
    files.map(async (f) => {
      const m = await sharp(f).metadata();
      const w = m.autoOrient?.width ?? m.width ?? 0;
      const h = m.autoOrient?.height ?? m.height ?? 1;
      return w / h <= 1.3;
    }),
  );
  return files.filter((_, i) => shapes[i]);
}

async function main(): Promise<void> {
  const [outDir, countArg, seedArg] = process.argv.slice(2);
  if (!outDir || !countArg) {
    console.error('usage: node --import tsx test/synth/cli.ts <outDir> <count> [seed]');
    process.exit(2);
  }
  const count = Number(countArg);
  const seed = seedArg === undefined ? 1 : Number(seedArg);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
    console.error('count must be a positive integer and seed an integer');
    process.exit(2);
  }
  mkdirSync(outDir, { recursive: true });
  const photos = await faces();
  const manifest: unknown[] = [];
  for (let n = 0; n < count; n++) {
    // One generator per identity, so that sample n is the same whatever the count.
    const rng = createRng(seed * 100_003 + n);
    const identity = randomIdentity(rng);
    const portraitPath = photos.length > 0 ? rng.pick(photos) : undefined;
    const sides: Record<string, unknown> = {};
    for (const kind of DOCUMENT_KINDS) {
      const t0 = performance.now();
      const doc = await renderDocument(kind, identity, { rng, portraitPath });
      const renderMs = Math.round(performance.now() - t0);
      const base = `${String(n).padStart(4, '0')}-${kind}`;
      writeFileSync(path.join(outDir, `${base}.png`), doc.image);
      const shots: Record<string, unknown> = {};
      for (const level of ['clean', 'hard'] as const) {
        const p = await photograph(doc.image, level, rng);
        writeFileSync(path.join(outDir, `${base}-${level}.jpg`), p.jpeg);
        shots[level] = {
          file: `${base}-${level}.jpg`,
          width: p.width,
          height: p.height,
          quad: p.quad.map(([x, y]) => [Number(x.toFixed(2)), Number(y.toFixed(2))]),
        };
      }
      sides[kind] = {
        file: `${base}.png`,
        width: doc.width,
        height: doc.height,
        truth: doc.truth,
        inkBoxes: doc.inkBoxes,
        photographs: shots,
      };
      console.log(`${base}: rendered in ${renderMs} ms`);
    }
    const record = {
      index: n,
      seed,
      portrait: portraitPath ? path.basename(portraitPath) : null,
      identity,
      sides,
    };
    writeFileSync(
      path.join(outDir, `${String(n).padStart(4, '0')}.json`),
      `${JSON.stringify(record, null, 2)}\n`,
    );
    manifest.push(record);
  }
  writeFileSync(path.join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`${count} identities, ${count * DOCUMENT_KINDS.length} sides written to ${outDir}`);
}

await main();
