/**
 * The `portrait_substitution` signal (src/app/fraud-check.ts): a Moroccan CNIE 2020 prints a small ghost
 * portrait from the main portrait's picture; a replaced main portrait leaves the holder's ghost beside
 * another face. Measured through `POST /v1/identity/verify` on generated cases (bench/eval-decisions.ts):
 * ghosts of the holder (genuine cards and cards with a tampered field, whose portraits are untouched)
 * against replaced portraits (`portrait_swap`), per split and difficulty: how many are flagged by the face
 * comparison alone (cosine below its threshold) and by the signal as it decides (the face comparison,
 * unless the ghost correlates as the main portrait's picture printed again), with the picture
 * correlation's spread where the faces compare low. Also the real DGSN specimen's ghost.
 *
 *   node --import tsx bench/eval-ghost.ts [perCell] [--split tune|heldout|both] [--heldout-seed-offset N]
 *                                         [--out rows.json]
 */
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { ghostPortrait, SAME_PICTURE_CORRELATION } from '../src/app/fraud-check.ts';
import { analyzeDocumentPortrait } from '../src/app/face-checks.ts';
import { templateById } from '../src/domain/documents/templates.ts';
import { portraitCrop } from '../src/pipeline/document/portrait-crop.ts';
import { cosine } from '../src/pipeline/face/embed.ts';
import { pictureCorrelation } from '../src/pipeline/fraud/same-picture.ts';
import { SHARED_DATA, startTestServer } from '../test/helpers.ts';
import type { CaseKind, Split } from '../test/synth/cases.ts';
import { evaluateDecisions, type DecisionRow } from './eval-decisions.ts';
import { quantile, table } from './metrics.ts';

const HOLDER_KINDS: readonly CaseKind[] = ['genuine', 'tampered_name', 'tampered_date', 'tampered_number'];

interface Ghost {
  flagged: boolean;
  cosine: number;
  threshold: number;
  picture?: number;
}

function ghostOf(r: DecisionRow): Ghost | undefined {
  const a = (r.checks.fraud as { assessments?: Record<string, unknown> } | undefined)?.assessments
    ?.portrait_substitution as
    | {
        assessed: boolean;
        flagged?: boolean;
        evidence?: { cosine: number; cosine_threshold: number; picture_correlation?: number };
      }
    | undefined;
  if (!a?.assessed || !a.evidence) return undefined;
  return {
    flagged: Boolean(a.flagged),
    cosine: a.evidence.cosine,
    threshold: a.evidence.cosine_threshold,
    ...(a.evidence.picture_correlation !== undefined ? { picture: a.evidence.picture_correlation } : {}),
  };
}

export function ghostTable(rows: readonly DecisionRow[], split: Split): string {
  const out: (string | number)[][] = [
    [
      'level',
      'cases',
      'holder ghosts',
      'flagged by face',
      'flagged',
      'low-face picture corr (min, median)',
      'replaced',
      'caught by face',
      'caught',
      'replaced picture corr (max)',
    ],
  ];
  const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  for (const level of ['clean', 'medium', 'hard', 'all'] as const) {
    const mine = rows.filter((r) => r.split === split && (level === 'all' || r.level === level));
    const holders = mine.filter((r) => HOLDER_KINDS.includes(r.kind)).flatMap((r) => ghostOf(r) ?? []);
    const swaps = mine.filter((r) => r.kind === 'portrait_swap').flatMap((r) => ghostOf(r) ?? []);
    const low = holders
      .filter((g) => g.cosine < g.threshold && g.picture !== undefined)
      .map((g) => g.picture!)
      .sort((a, b) => a - b);
    const swapPictures = swaps.flatMap((g) => (g.picture !== undefined ? [g.picture] : []));
    out.push([
      level,
      mine.length,
      holders.length,
      holders.filter((g) => g.cosine < g.threshold).length,
      holders.filter((g) => g.flagged).length,
      low.length ? `${f2(low[0]!)}, ${f2(quantile(low, 0.5))} (${low.length})` : '-',
      swaps.length,
      swaps.filter((g) => g.cosine < g.threshold).length,
      swaps.filter((g) => g.flagged).length,
      swapPictures.length ? f2(Math.max(...swapPictures)) : '-',
    ]);
  }
  return table(out);
}

/** The real DGSN specimen: its ghost against its main portrait, at its own size and doubled. */
async function specimen(): Promise<string> {
  const s = await startTestServer();
  try {
    const t = templateById('mar_cnie_2020')!;
    const rows: (string | number)[][] = [['specimen width', 'cosine', 'picture correlation']];
    for (const width of [515, 1030]) {
      const { data, info } = await sharp(
        `${SHARED_DATA}/documents/morocco/cnie_2020_recto_specimen_f-amine.png`,
      )
        .removeAlpha()
        .resize({ width })
        .raw()
        .toBuffer({ resolveWithObject: true });
      const front = { width: info.width, height: info.height, data: new Uint8Array(data) };
      const mainCrop = portraitCrop(front, t.portrait!.box);
      const main = await analyzeDocumentPortrait(s.runtime.deps, mainCrop);
      const { crop: ghostCrop, ghost } = await ghostPortrait(s.runtime.deps, front, t.ghostPortrait!.box);
      const picture =
        main && ghost
          ? pictureCorrelation(
              { image: ghostCrop, landmarks5: ghost.landmarks5 },
              { image: mainCrop, landmarks5: main.landmarks5 },
            )
          : undefined;
      rows.push([
        width,
        main && ghost ? cosine(main.embedding, ghost.embedding).toFixed(3) : 'no face',
        picture !== undefined ? picture.toFixed(3) : '-',
      ]);
    }
    return table(rows);
  } finally {
    await s.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!SHARED_DATA) {
    console.log('skipped: ../shared/data is absent (the cases take their people from it)');
    process.exit(0);
  }
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const perCell = Number(args.find((a) => /^\d+$/.test(a)) ?? 4);
  const split = opt('split') ?? 'both';
  const splits: Split[] = split === 'both' ? ['tune', 'heldout'] : [split as Split];
  const rows = await evaluateDecisions({
    perCell,
    splits,
    kinds: [...HOLDER_KINDS, 'portrait_swap'],
    levels: ['clean', 'medium', 'hard'],
    heldoutSeedOffset: Number(opt('heldout-seed-offset') ?? 0),
  });
  const file = opt('out');
  if (file) writeFileSync(file, JSON.stringify(rows, null, 1));
  for (const s of splits) {
    console.log(
      `\nGhost portrait on generated CNIE cases, ${s} split (same-picture threshold ${SAME_PICTURE_CORRELATION})`,
    );
    console.log(ghostTable(rows, s));
    // The errors by case, for diagnosis.
    for (const r of rows.filter((x) => x.split === s)) {
      const g = ghostOf(r);
      const wrong = r.kind === 'portrait_swap' ? g && !g.flagged : g?.flagged;
      if (wrong)
        console.log(
          `  ${r.kind} ${r.level} ${r.seed}: cosine ${g!.cosine}, picture ${g!.picture ?? '-'} → ${r.kind === 'portrait_swap' ? 'missed' : 'flagged'}`,
        );
    }
  }
  console.log('\nThe real DGSN specimen (../shared/data/documents/morocco)');
  console.log(await specimen());
}
