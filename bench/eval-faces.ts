/**
 * Face verification on every face set we have, split by person: selfie vs selfie (deepface photos and
 * NUAA live webcam crops), live vs printed photo (NUAA's print attacks of the same subjects), and selfie vs
 * the portrait printed on a generated CNIE front photographed at three difficulties and read back through
 * the production path (located, rectified, template portrait box, four rotations, both ways up).
 *
 * People are split as the decision eval splits them (test/synth/cases.ts: every third deepface cluster,
 * every third NUAA subject is held out). Thresholds are chosen on the tune people's impostor pairs and
 * reported on the held-out people's pairs, which tuning never saw; both colour and grey embeddings are
 * measured (a card's portrait is often printed in grey).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { InferenceRunner } from '../src/ports/inference.ts';
import { templateById } from '../src/domain/documents/templates.ts';
import { portraitCrop } from '../src/pipeline/document/portrait-crop.ts';
import { prepareSide, turnSide } from '../src/pipeline/document/prepare-side.ts';
import { analyzeDocumentPortrait } from '../src/app/face-checks.ts';
import { analyzeFace, type FaceAnalysis } from '../src/pipeline/face/analyze-face.ts';
import { cosine } from '../src/pipeline/face/embed.ts';
import { decodeImage } from '../src/pipeline/image/decode.ts';
import { faceClusters, idPhotosOf, type Split } from '../test/synth/cases.ts';
import { createRng, randomIdentity } from '../test/synth/identities.ts';
import { photograph, type PhotoLevel } from '../test/synth/photograph.ts';
import { renderDocument } from '../test/synth/render-document.ts';
import { auc, pct, rateAtLeast, table, thresholdAtFar } from './metrics.ts';

const LIMITS = { maxImageBytes: 50e6, maxImagePixels: 100e6 };
const LEVELS: PhotoLevel[] = ['clean', 'medium', 'hard'];

type Media = 'selfie' | 'print' | 'card';
interface Sample {
  who: string;
  /** The photo it comes from: a card is never compared with the photo printed on it. */
  source: string;
  media: Media;
  split: Split;
  level?: PhotoLevel;
  colour: Float32Array;
  grey: Float32Array;
}

export type PairSet = 'selfie' | 'live_vs_print' | 'selfie_vs_card';
type Embedding = 'colour' | 'grey';
export interface Scores {
  genuine: number[];
  impostor: number[];
}
export type SplitScores = Record<Split, Scores>;

export interface FaceEvaluation {
  samples: { media: Media; split: Split; count: number; people: number }[];
  missed: { cards: number; photos: number; cardsBy: Record<string, number> };
  scores: Record<PairSet, Record<Embedding, SplitScores>>;
  /** Genuine selfie-vs-card pairs under 0.2 (grey), worst first: what to look at. */
  worstGenuineCards: { card: string; selfie: string; cosine: number }[];
}

function setOf(a: Media, b: Media): PairSet | undefined {
  const k = [a, b].sort().join('+');
  if (k === 'selfie+selfie') return 'selfie';
  if (k === 'print+selfie') return 'live_vs_print';
  if (k === 'card+selfie') return 'selfie_vs_card';
  return undefined;
}

/**
 * @param data `../shared/data`
 * @param renders cards printed per photo and difficulty
 */
export async function evaluateFaceSets(
  data: string,
  deps: { inference: InferenceRunner; charset: string[] },
  renders = 1,
): Promise<FaceEvaluation> {
  const { inference } = deps;
  const samples: Sample[] = [];
  let missedPhotos = 0;
  let missedCards = 0;
  const missedBy: Record<string, number> = {};
  const describe = async (bytes: Buffer, name: string): Promise<FaceAnalysis | undefined> => {
    const d = await decodeImage(bytes, name, LIMITS);
    return analyzeFace(d.image, { inference }, { tryRotations: true, greyEmbedding: true });
  };
  // People: deepface identity clusters and NUAA subjects, every third one held out.
  const people: { who: string; split: Split; photos: string[]; prints: string[]; idPhotos: string[] }[] = [];
  faceClusters(path.join(data, 'faces/deepface'))
    .filter((g) => g.length >= 2)
    .forEach((g, i) =>
      people.push({
        who: `deepface:${path.basename(g[0]!)}`,
        split: i % 3 === 2 ? 'heldout' : 'tune',
        photos: g,
        prints: [],
        idPhotos: idPhotosOf(g),
      }),
    );
  const nuaa = path.join(data, 'liveness/nuaa');
  const subjects = [...new Set(readdirSync(path.join(nuaa, 'real')).map((f) => f.slice(0, 4)))].sort();
  subjects.forEach((s, i) => {
    const of = (dir: string) =>
      readdirSync(path.join(nuaa, dir))
        .filter((f) => f.startsWith(s))
        .sort()
        .map((f) => path.join(nuaa, dir, f));
    const photos = of('real');
    people.push({
      who: `nuaa:${s}`,
      split: i % 3 === 2 ? 'heldout' : 'tune',
      photos,
      prints: of('fake'),
      idPhotos: photos,
    });
  });

  const cnie = templateById('mar_cnie_2020')!;
  let seed = 0;
  for (const p of people) {
    for (const [media, files] of [
      ['selfie', p.photos],
      ['print', p.prints],
    ] as const) {
      for (const f of files) {
        const a = await describe(readFileSync(f), path.basename(f));
        if (!a) {
          missedPhotos++;
          continue;
        }
        samples.push({
          who: p.who,
          source: f,
          media,
          split: p.split,
          colour: a.embedding,
          grey: a.greyEmbedding!,
        });
      }
    }
    for (const f of p.idPhotos) {
      for (let r = 0; r < renders; r++) {
        for (const level of LEVELS) {
          const rng = createRng(880_000 + seed++);
          const front = await renderDocument('mar_cnie_2020_front', randomIdentity(rng), {
            rng,
            portraitPath: f,
          });
          const photo = await photograph(front.image, level, rng);
          const d = await decodeImage(photo.jpeg, 'card', LIMITS);
          const side = await prepareSide(d.image, deps);
          let best: FaceAnalysis | undefined;
          for (const s of [side, await turnSide(side)]) {
            const a = await analyzeDocumentPortrait({ inference }, portraitCrop(s.image, cnie.portrait!.box));
            if (a && (!best || a.box.score > best.box.score)) best = a;
          }
          if (!best) {
            missedCards++;
            missedBy[`${p.who.split(':')[0]} ${level}`] =
              (missedBy[`${p.who.split(':')[0]} ${level}`] ?? 0) + 1;
            continue;
          }
          samples.push({
            who: p.who,
            source: f,
            media: 'card',
            split: p.split,
            level,
            colour: best.embedding,
            grey: best.greyEmbedding!,
          });
        }
      }
    }
  }

  const worst: FaceEvaluation['worstGenuineCards'] = [];
  const empty = (): SplitScores => ({
    tune: { genuine: [], impostor: [] },
    heldout: { genuine: [], impostor: [] },
  });
  const scores = {} as Record<PairSet, Record<Embedding, SplitScores>>;
  for (const s of ['selfie', 'live_vs_print', 'selfie_vs_card'] as const)
    scores[s] = { colour: empty(), grey: empty() };
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) {
      const a = samples[i]!;
      const b = samples[j]!;
      // Pairs within one split only: a held-out figure never involves a tune person.
      if (a.split !== b.split || a.source === b.source) continue;
      const set = setOf(a.media, b.media);
      if (!set) continue;
      const same = a.who === b.who;
      for (const e of ['colour', 'grey'] as const) {
        const t = scores[set][e][a.split];
        const c = cosine(a[e], b[e]);
        (same ? t.genuine : t.impostor).push(c);
        if (same && e === 'grey' && set === 'selfie_vs_card' && c < 0.2) {
          const [card, selfie] = a.media === 'card' ? [a, b] : [b, a];
          worst.push({
            card: `${path.basename(card.source)} ${card.level}`,
            selfie: path.basename(selfie.source),
            cosine: c,
          });
        }
      }
    }
  }
  worst.sort((x, y) => x.cosine - y.cosine);
  const summary: FaceEvaluation['samples'] = [];
  for (const media of ['selfie', 'print', 'card'] as const)
    for (const split of ['tune', 'heldout'] as const) {
      const of = samples.filter((s) => s.media === media && s.split === split);
      summary.push({ media, split, count: of.length, people: new Set(of.map((s) => s.who)).size });
    }
  return {
    worstGenuineCards: worst,
    samples: summary,
    missed: { cards: missedCards, photos: missedPhotos, cardsBy: missedBy },
    scores,
  };
}

/** Wilson 95 % interval of a proportion k/n. */
export function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.96;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = p + (z * z) / (2 * n);
  const h = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, (c - h) / d), Math.min(1, (c + h) / d)];
}

/** Cosine at FAR 0.1 % on the tune people's impostor pairs, rounded up to 0.01. */
export function tunedThreshold(s: SplitScores): number {
  return Math.ceil(thresholdAtFar(s.tune.impostor, 0.001) * 100) / 100;
}

function rateCi(scores: number[], t: number): string {
  const k = scores.filter((x) => x >= t).length;
  const [lo, hi] = wilson(k, scores.length);
  return `${pct(k / scores.length)} [${(lo * 100).toFixed(1)}-${(hi * 100).toFixed(1)}]`;
}

/** One row per pair set and embedding: pair counts, AUC, and the tune threshold applied to held-out people. */
export function faceTable(ev: FaceEvaluation): string {
  const rows: (string | number)[][] = [
    [
      'pairs',
      'embedding',
      'tune gen/imp',
      'held-out gen/imp',
      'AUC tune',
      'AUC held-out',
      'threshold (tune FAR 0.1 %)',
      'held-out TAR [95 % CI]',
      'held-out FAR',
    ],
  ];
  for (const [set, byEmb] of Object.entries(ev.scores))
    for (const [e, s] of Object.entries(byEmb)) {
      const t = tunedThreshold(s);
      rows.push([
        set,
        e,
        `${s.tune.genuine.length}/${s.tune.impostor.length}`,
        `${s.heldout.genuine.length}/${s.heldout.impostor.length}`,
        auc(s.tune.genuine, s.tune.impostor).toFixed(4),
        auc(s.heldout.genuine, s.heldout.impostor).toFixed(4),
        t.toFixed(2),
        rateCi(s.heldout.genuine, t),
        pct(rateAtLeast(s.heldout.impostor, t), 2),
      ]);
    }
  const counts = ev.samples.map((s) => `${s.media} ${s.split} ${s.count} (${s.people} people)`).join(', ');
  return `${table(rows)}\nfaces: ${counts}; no face found in ${ev.missed.photos} photos and ${ev.missed.cards} cards (${Object.entries(
    ev.missed.cardsBy,
  )
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')})`;
}
