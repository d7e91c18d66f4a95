/**
 * The `printed_copy` signal (src/pipeline/fraud/colour-spread.ts, threshold in src/app/fraud-check.ts):
 * the share of greyscale copies flagged and of genuine photographs flagged.
 *
 *   node --import tsx bench/eval-printed-copy.ts [seedsPerLevel]
 *
 * Copies: DLC-2021 grey copies (../shared/data/fraud/dlc2021-gray-copy), each at its ground-truth outline
 * and at the outline the pipeline finds (prepareSide), on the working copy the service decodes. Genuine: generated CNIE fronts with real portraits,
 * photographed at three difficulties with the generator's colour casts, tune seeds and held-out seeds
 * (other people, other seeds); the DGSN specimen (a real card's colours) photographed by the same camera.
 * The DLC documents have no template here, so the product path does not assess them; the figure is what
 * the signal does on them as if their front were declared colour-printed. The copies through the
 * pipeline are also counted by what happened to them (not located, located off, located and flagged or
 * not), to tell the locator's share of the misses from the signal's; and the ID-1 copies flagged by colour
 * or by the other recapture signal, square corners (bench/eval-corners.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { loadCharset, loadManifest } from '../src/adapters/onnx/load-manifest.ts';
import { OnnxRunner } from '../src/adapters/onnx/onnx-runner.ts';
import { judgedAsCard, PRINTED_COPY_SPREAD } from '../src/app/fraud-check.ts';
import { RECTIFIED_PX_PER_MM, SIZE_MM } from '../src/domain/documents/document-template.ts';
import { prepareSide } from '../src/pipeline/document/prepare-side.ts';
import { orientLandscape, rectifyDocument } from '../src/pipeline/document/rectify-document.ts';
import { colourSpread } from '../src/pipeline/fraud/colour-spread.ts';
import { cornerShape } from '../src/pipeline/fraud/corner-shape.ts';
import type { RgbImage } from '../src/pipeline/image/rgb-image.ts';
import { SHARED_DATA } from '../test/helpers.ts';
import { peopleOf } from '../test/synth/cases.ts';
import { createRng, randomIdentity } from '../test/synth/identities.ts';
import { photograph, type PhotoLevel, type Quad } from '../test/synth/photograph.ts';
import { renderDocument } from '../test/synth/render-document.ts';
import { cornerError, loadWorkingImage } from './locate-eval.ts';
import { pct, quantile, table } from './metrics.ts';

const LEVELS: readonly PhotoLevel[] = ['clean', 'medium', 'hard'];

function atOutline(
  img: RgbImage,
  quad: readonly (readonly [number, number])[],
  size: 'ID1' | 'ID3',
): RgbImage {
  const corners = orientLandscape(quad.map(([x, y]) => ({ x, y })) as never);
  const [w, h] = SIZE_MM[size];
  return rectifyDocument(
    img,
    corners,
    Math.round(w * RECTIFIED_PX_PER_MM),
    Math.round(h * RECTIFIED_PX_PER_MM),
  );
}

/** Spreads measured on one set; NaN where nothing was usable (never flagged). */
interface Measured {
  set: string;
  attack: boolean;
  spreads: number[];
}

export async function evaluatePrintedCopy(seedsPerLevel = 8): Promise<string> {
  const data = SHARED_DATA;
  if (!data) return 'skipped: ../shared/data is absent';
  const manifest = await loadManifest();
  const inference = await OnnxRunner.load(manifest, { threads: 2 });
  const deps = { inference, charset: await loadCharset(manifest) };
  const sets: Measured[] = [];
  let dlcOutcome: Record<string, number> = {};
  let dlcEither = { n: 0, flagged: 0 };
  try {
    const dlcDir = path.join(data, 'fraud/dlc2021-gray-copy');
    const gt = JSON.parse(readFileSync(path.join(dlcDir, 'ground_truth.json'), 'utf8')) as {
      items: { image: string; doc_type: string; doc_quad_xy: [number, number][] }[];
    };
    const truth: number[] = [];
    const located: number[] = [];
    const either = { n: 0, flagged: 0 };
    // Where the copies through the pipeline are lost: not located, located off, or located but coloured.
    const outcome = {
      'not located': 0,
      'located off (corner error > 5 %)': 0,
      'located, flagged': 0,
      'located, not flagged': 0,
    };
    for (const it of gt.items) {
      const { img, scale } = await loadWorkingImage(path.join(dlcDir, it.image));
      const quad = it.doc_quad_xy.map(([x, y]) => [x * scale, y * scale] as const);
      truth.push(
        colourSpread(atOutline(img, quad, it.doc_type.includes('passport') ? 'ID3' : 'ID1'))?.spread ?? NaN,
      );
      const side = await prepareSide(img, deps);
      const spread = side.quad ? (colourSpread(side.image)?.spread ?? NaN) : NaN;
      located.push(spread);
      const off = side.quad
        ? cornerError(
            side.quad.corners,
            quad.map(([x, y]) => ({ x, y })),
          ) > 0.05
        : false;
      // The other recapture signal of ID-1 cards: square corners (a copy cut out square), on the same
      // located outline.
      if (!it.doc_type.includes('passport')) {
        either.n++;
        if (spread < PRINTED_COPY_SPREAD || (side.quad && cornerShape(img, side.quad.corners)?.square))
          either.flagged++;
      }
      outcome[
        !side.quad
          ? 'not located'
          : off
            ? 'located off (corner error > 5 %)'
            : spread < PRINTED_COPY_SPREAD
              ? 'located, flagged'
              : 'located, not flagged'
      ]++;
    }
    dlcOutcome = outcome;
    dlcEither = either;
    sets.push({ set: 'DLC-2021 grey copies, true outline', attack: true, spreads: truth });
    sets.push({
      set: 'DLC-2021 grey copies, located (not found: unflagged)',
      attack: true,
      spreads: located,
    });

    for (const split of ['tune', 'heldout'] as const) {
      const people = peopleOf(split);
      const truthG: number[] = [];
      const locatedG: number[] = [];
      for (let i = 0; i < seedsPerLevel; i++) {
        const seed = (split === 'tune' ? 1 : 500_001) + i;
        for (const level of LEVELS) {
          const rng = createRng(seed * 7919 + level.length);
          const doc = await renderDocument('mar_cnie_2020_front', randomIdentity(rng), {
            rng,
            portraitPath: rng.pick(rng.pick(people)),
          });
          const photo = await photograph(doc.image, level, rng);
          const { img } = await loadWorkingImage(photo.jpeg);
          truthG.push(colourSpread(atOutline(img, photo.quad as Quad, 'ID1'))?.spread ?? NaN);
          const side = await prepareSide(img, deps);
          locatedG.push(judgedAsCard(side, 'ID1') ? (colourSpread(side.image)?.spread ?? NaN) : NaN);
        }
      }
      sets.push({
        set: `generated genuine CNIE fronts, ${split}, true outline`,
        attack: false,
        spreads: truthG,
      });
      sets.push({
        set: `generated genuine CNIE fronts, ${split}, located (not found: not judged)`,
        attack: false,
        spreads: locatedG,
      });
    }

    const specimen = await sharp(path.join(data, 'documents/morocco/cnie_2020_recto_specimen_f-amine.png'))
      .png()
      .toBuffer();
    const spec: number[] = [];
    for (let seed = 1; seed <= seedsPerLevel; seed++) {
      for (const level of LEVELS) {
        const photo = await photograph(specimen, level, createRng(seed * 31 + level.length));
        const side = await prepareSide((await loadWorkingImage(photo.jpeg)).img, deps);
        spec.push(judgedAsCard(side, 'ID1') ? (colourSpread(side.image)?.spread ?? NaN) : NaN);
      }
    }
    sets.push({
      set: 'DGSN CNIE specimen photographed, located (not found: not judged)',
      attack: false,
      spreads: spec,
    });
  } finally {
    await inference.close();
  }

  const t = PRINTED_COPY_SPREAD;
  const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '-');
  const sweep = [0.022, 0.025, 0.028, 0.031, 0.034, 0.04];
  const flaggedAt = (spreads: number[], at: number) =>
    pct(spreads.filter((s) => s < at).length / spreads.length);
  return (
    table([
      ['set', 'n', 'flagged (spread < ' + t + ')', 'min', 'p3', 'median', 'p90'],
      ...sets.map(({ set, attack, spreads }) => {
        const flagged = spreads.filter((s) => s < t).length;
        const sorted = spreads.filter(Number.isFinite).sort((a, b) => a - b);
        return [
          `${attack ? 'copy' : 'genuine'}: ${set}`,
          spreads.length,
          `${flagged} (${pct(flagged / spreads.length)})`,
          f3(sorted[0] ?? NaN),
          f3(quantile(sorted, 0.03)),
          f3(quantile(sorted, 0.5)),
          f3(quantile(sorted, 0.9)),
        ];
      }),
    ]) +
    '\n\nDLC-2021 grey copies through the pipeline, by what happened to them:\n\n' +
    table([['outcome', 'frames'], ...Object.entries(dlcOutcome)]) +
    `\n\nDLC-2021 copies of ID-1 cards through the pipeline flagged by colour or by square corners: ` +
    `${dlcEither.flagged} of ${dlcEither.n} (${pct(dlcEither.flagged / Math.max(1, dlcEither.n))})` +
    '\n\nFlagged at other thresholds (the sweep the threshold was chosen from):\n\n' +
    table([
      ['set', ...sweep.map((v) => `< ${v}`)],
      ...sets.map(({ set, attack, spreads }) => [
        `${attack ? 'copy' : 'genuine'}: ${set}`,
        ...sweep.map((v) => flaggedAt(spreads, v)),
      ]),
    ])
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`\n## Printed copy (colour spread of the document front)\n`);
  console.log(await evaluatePrintedCopy(Number(process.argv[2] ?? 8)));
}
