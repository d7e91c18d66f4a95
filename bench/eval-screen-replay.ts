/**
 * The `screen_replay` signal (src/pipeline/fraud/screen-grid.ts, threshold in src/app/fraud-check.ts): the
 * share of screen replays flagged and of genuine photographs flagged.
 *
 *   node --import tsx bench/eval-screen-replay.ts [seedsPerLevel]
 *
 * Each image goes through the service's own path: decoded to the 1600 px working copy, the side located
 * (prepareSide), its grid measured on the original photo's detail when larger (sideScreenGrid); a side not
 * located is not judged (unflagged). Half the generated cases come at a phone camera's own resolution. Screen replays: the decision
 * harness's generated cases (test/synth/cases.ts, front and back, the higher score), tune and held-out
 * (other display pixel scales and tints, other people and seeds). Genuine: the same generator's genuine
 * cases; the real passport, ID and visa images of ../shared/data/documents (scans, web specimens and
 * phone photos of many countries, never used to set the threshold but to check it) and the photographed
 * DGSN CNIE specimen. Printed copies are listed for information (a halftone is another pattern).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadCharset, loadManifest } from '../src/adapters/onnx/load-manifest.ts';
import { OnnxRunner } from '../src/adapters/onnx/onnx-runner.ts';
import { SCREEN_GRID_SCORE, sideScreenGrid } from '../src/app/fraud-check.ts';
import { prepareSide } from '../src/pipeline/document/prepare-side.ts';
import { decodeImage } from '../src/pipeline/image/decode.ts';
import { SHARED_DATA } from '../test/helpers.ts';
import { buildCase, type CaseKind } from '../test/synth/cases.ts';
import type { PhotoLevel } from '../test/synth/photograph.ts';
import { pct, quantile, table } from './metrics.ts';

const LEVELS: readonly PhotoLevel[] = ['clean', 'medium', 'hard'];

interface Measured {
  set: string;
  attack: boolean;
  scores: number[];
}

export async function evaluateScreenReplay(seedsPerLevel = 6): Promise<string> {
  const data = SHARED_DATA;
  if (!data) return 'skipped: ../shared/data is absent';
  const manifest = await loadManifest();
  const inference = await OnnxRunner.load(manifest, { threads: 2 });
  const deps = { inference, charset: await loadCharset(manifest) };
  const limits = { maxImageBytes: 50e6, maxImagePixels: 100e6, syncTimeoutMs: 0, maxQueued: 0 };
  /** The score of an image's located side (0 when no side is found: the service does not judge it). */
  const scoreOf = async (image: string | Buffer): Promise<number> => {
    const photo = await decodeImage(typeof image === 'string' ? readFileSync(image) : image, 'image', limits);
    const side = await prepareSide(photo.image, deps);
    return side.quad ? ((await sideScreenGrid({ limits }, side, photo)).grid?.score ?? 0) : 0;
  };
  const sets: Measured[] = [];
  try {
    const today = new Date();
    for (const split of ['tune', 'heldout'] as const)
      for (const [kind, attack] of [
        ['screen_replay', true],
        ['genuine', false],
        ['printed_copy', true],
      ] as [CaseKind, boolean][]) {
        const scores: number[] = [];
        for (let i = 0; i < seedsPerLevel; i++)
          for (const level of LEVELS) {
            // Seeds of their own (the decision harness's start at 1 and 1 000 000).
            const seed = (split === 'tune' ? 300_001 : 1_300_001) + i * 10 + LEVELS.indexOf(level);
            const c = await buildCase(kind, level, split, seed, today);
            const front = await scoreOf(c.images.document_front);
            const back = await scoreOf(c.images.document_back);
            scores.push(Math.max(front, back));
          }
        sets.push({ set: `generated ${kind.replace('_', ' ')}, ${split}`, attack, scores });
      }
    const real: number[] = [];
    const docs = path.join(data, 'documents');
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) => {
        const p = path.join(dir, f);
        return statSync(p).isDirectory() ? walk(p) : /\.(jpe?g|png)$/i.test(f) ? [p] : [];
      });
    for (const file of walk(docs)) real.push(await scoreOf(file));
    sets.push({ set: 'real documents of ../shared/data/documents', attack: false, scores: real });
  } finally {
    await inference.close();
  }
  const t = SCREEN_GRID_SCORE;
  const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
  return table([
    ['set', 'n', `flagged (score ≥ ${t})`, 'median', 'p90', 'max'],
    ...sets.map(({ set, attack, scores }) => {
      const flagged = scores.filter((s) => s >= t).length;
      const sorted = [...scores].sort((a, b) => a - b);
      return [
        `${attack ? 'attack' : 'genuine'}: ${set}`,
        scores.length,
        `${flagged} (${pct(flagged / scores.length)})`,
        f1(quantile(sorted, 0.5)),
        f1(quantile(sorted, 0.9)),
        f1(sorted[sorted.length - 1] ?? NaN),
      ];
    }),
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`\n## Screen replay (display pixel grid on the located document)\n`);
  console.log(await evaluateScreenReplay(Number(process.argv[2] ?? 6)));
}
