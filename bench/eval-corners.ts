/**
 * The `square_corners` signal (src/pipeline/fraud/corner-shape.ts, judged in src/app/fraud-check.ts): the
 * share of sides whose corners read square, on genuine cards and on recaptures.
 *
 *   node --import tsx bench/eval-corners.ts [seedsPerLevel]
 *
 * Generated: CNIE fronts and backs photographed at three difficulties (genuine: rounded ISO corners), the
 * same printed on paper (colour or grey, cut out or on a sheet) and shown on screens, each on the tune
 * split and on the held-out one (other people, other seeds, the generator's held-out print and screen
 * variants); each judged at the outline the pipeline finds (prepareSide), as the service does. Real:
 * DLC-2021's grey copies of ID-1 cards (Albanian, Spanish, Estonian) at their true outline and at the
 * located one; some were cut square, some round, so the figure there says how often square corners are
 * seen on real copies, and that rounded ones are read as rounded on real photographs. Counted per side;
 * the service flags a card only when no side of it reads clearly rounded (front and back are one card).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadCharset, loadManifest } from '../src/adapters/onnx/load-manifest.ts';
import { OnnxRunner } from '../src/adapters/onnx/onnx-runner.ts';
import { prepareSide } from '../src/pipeline/document/prepare-side.ts';
import { cornerShape, type CornerShape } from '../src/pipeline/fraud/corner-shape.ts';
import { SHARED_DATA } from '../test/helpers.ts';
import { peopleOf, type Split } from '../test/synth/cases.ts';
import { createRng, randomIdentity } from '../test/synth/identities.ts';
import { photograph, type PhotoLevel } from '../test/synth/photograph.ts';
import { printCopy, screenReplay } from '../test/synth/recapture.ts';
import { renderDocument } from '../test/synth/render-document.ts';
import { loadWorkingImage } from './locate-eval.ts';
import { pct, table } from './metrics.ts';

const LEVELS: readonly PhotoLevel[] = ['clean', 'medium', 'hard'];
const KINDS = ['genuine', 'colour copy', 'grey copy', 'screen'] as const;

interface Tally {
  n: number;
  judged: number;
  square: number;
}

const tally = (): Tally => ({ n: 0, judged: 0, square: 0 });
function count(t: Tally, shape: CornerShape | undefined): void {
  t.n++;
  if (!shape) return;
  t.judged++;
  if (shape.square) t.square++;
}

export async function evaluateCorners(seedsPerLevel = 6): Promise<string> {
  const manifest = await loadManifest();
  const inference = await OnnxRunner.load(manifest, { threads: 2 });
  const deps = { inference, charset: await loadCharset(manifest) };
  const rows: [string, Tally][] = [];
  try {
    for (const split of ['tune', 'heldout'] as Split[]) {
      const people = peopleOf(split);
      const tallies = new Map(KINDS.map((k) => [k, tally()]));
      for (let i = 0; i < seedsPerLevel; i++) {
        for (const level of LEVELS) {
          const seed = (split === 'tune' ? 100 : 900_000) + i * 7 + level.length;
          const rng = createRng(seed);
          const identity = randomIdentity(rng);
          const portraitPath = rng.pick(rng.pick(people));
          for (const side of ['mar_cnie_2020_front', 'mar_cnie_2020_back'] as const) {
            const doc = await renderDocument(side, identity, { rng, portraitPath });
            for (const kind of KINDS) {
              let image = doc.image;
              let cornerRadius: number | undefined;
              if (kind === 'colour copy' || kind === 'grey copy') {
                // Drawn until the print is of the kind wanted (the generator draws colour or grey itself).
                for (let t = 0; ; t++) {
                  const p = await printCopy(doc.image, createRng(seed * 31 + t), split);
                  if (p.greyscale === (kind === 'grey copy')) {
                    image = p.image;
                    break;
                  }
                }
                cornerRadius = 0;
              } else if (kind === 'screen') {
                image = (await screenReplay(doc.image, rng, split)).image;
                cornerRadius = 0.02;
              }
              const longSide = rng.pick([1600, 3264]);
              const photo = await photograph(image, level, rng, { cornerRadius, longSide });
              const { img } = await loadWorkingImage(photo.jpeg);
              const found = await prepareSide(img, deps);
              count(tallies.get(kind)!, found.quad ? cornerShape(img, found.quad.corners) : undefined);
            }
          }
        }
      }
      for (const k of KINDS) rows.push([`generated CNIE ${k}, ${split}, located`, tallies.get(k)!]);
    }

    if (SHARED_DATA) {
      const dir = path.join(SHARED_DATA, 'fraud/dlc2021-gray-copy');
      const { items } = JSON.parse(readFileSync(path.join(dir, 'ground_truth.json'), 'utf8')) as {
        items: { image: string; doc_type: string; doc_quad_xy: [number, number][] }[];
      };
      const truth = tally();
      const located = tally();
      for (const it of items.filter((i) => !i.doc_type.includes('passport'))) {
        const { img, scale } = await loadWorkingImage(path.join(dir, it.image));
        count(
          truth,
          cornerShape(
            img,
            it.doc_quad_xy.map(([x, y]) => ({ x: x * scale, y: y * scale })),
          ),
        );
        const found = await prepareSide(img, deps);
        count(located, found.quad ? cornerShape(img, found.quad.corners) : undefined);
      }
      rows.push(['DLC-2021 grey copies of ID-1 cards, true outline', truth]);
      rows.push(['DLC-2021 grey copies of ID-1 cards, located', located]);
    }
  } finally {
    await inference.close();
  }
  return table([
    ['set (sides)', 'n', 'judged', 'square', 'square of n'],
    ...rows.map(([set, t]) => [set, t.n, t.judged, t.square, pct(t.square / t.n)]),
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`\n## Square corners (ID-1 cards)\n`);
  console.log(await evaluateCorners(Number(process.argv[2] ?? 6)));
}
