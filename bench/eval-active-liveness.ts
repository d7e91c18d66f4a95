/**
 * The capture page's head-turn challenge, judged as the server judges it (pipeline/face/
 * measure-head-turns.ts + domain/liveness-challenge.ts), on challenges filmed by test/synth/head-turn.ts
 * from still photos:
 * - bona fide: the person turns as asked (a generic head's depth, rotated about the neck);
 * - flat picture: a print or a screen showing the still photo, turned and tilted the way asked;
 * - loop: a recording of the person turning both ways, played whatever is asked;
 * - wrong order: the person (or a clip) turns the other way round.
 *
 * Split by photo: `tune` is the deepface photos the thresholds were chosen on (the first 40 by name, a
 * 30° turn); `held-out` is the other deepface photos and one NUAA live crop per subject, turns drawn
 * between 20° and 40° and other focal lengths. The same-person comparison uses the photo itself as the
 * selfie. APCER per attack and BPCER are reported; each challenge asks three turns drawn at random.
 *
 * Usage: node --import tsx bench/eval-active-liveness.ts [photos per split, default 12] [tune|heldout]
 */
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadManifest } from '../src/adapters/onnx/load-manifest.ts';
import { OnnxRunner } from '../src/adapters/onnx/onnx-runner.ts';
import {
  drawTurns,
  judgeChallenge,
  type ChallengeOutcome,
  type TurnDirection,
} from '../src/domain/liveness-challenge.ts';
import { analyzeFace } from '../src/pipeline/face/analyze-face.ts';
import { detectFaces } from '../src/pipeline/face/detect.ts';
import { cosine } from '../src/pipeline/face/embed.ts';
import { detectLandmarks } from '../src/pipeline/face/landmarks.ts';
import { measureHeadTurns } from '../src/pipeline/face/measure-head-turns.ts';
import { decodeImage } from '../src/pipeline/image/decode.ts';
import { encodeJpeg, resizeTo, type RgbImage } from '../src/pipeline/image/rgb-image.ts';
import type { InferenceRunner } from '../src/ports/inference.ts';
import { createRng } from '../test/synth/identities.ts';
import { filmChallenge, type ChallengeActor } from '../test/synth/head-turn.ts';
import { pct, table } from './metrics.ts';

const LIMITS = { maxImageBytes: 50e6, maxImagePixels: 100e6 };
type Kind = 'bona_fide' | 'flat' | 'loop' | 'wrong_order';
const KINDS: Kind[] = ['bona_fide', 'flat', 'loop', 'wrong_order'];

export interface ActiveSample {
  split: 'tune' | 'heldout';
  kind: Kind;
  name: string;
  outcome: ChallengeOutcome;
}

/** Server time per judged challenge (ms), for the speed line of the table. */
const judgeMs: number[] = [];

async function load(file: string, side: number): Promise<RgbImage> {
  const d = await decodeImage(readFileSync(file), path.basename(file), LIMITS);
  const s = side / Math.max(d.image.width, d.image.height);
  return resizeTo(d.image, Math.round(d.image.width * s), Math.round(d.image.height * s));
}

/** Film, encode as the page does (JPEG 0.8), decode, measure and judge one challenge. */
async function judge(
  img: RgbImage,
  kind: Kind,
  amplitude: number,
  seed: number,
  inference: InferenceRunner,
): Promise<ChallengeOutcome | undefined> {
  const face = (await detectFaces(img, { inference }))[0];
  if (!face) return undefined;
  const landmarks = await detectLandmarks(img, face, { inference });
  const asked = drawTurns(randomInt(2 ** 32));
  const rng = createRng(seed);
  const actor: ChallengeActor = kind === 'flat' ? 'flat' : kind === 'loop' ? 'loop' : 'head';
  const filmed: TurnDirection[] =
    kind === 'wrong_order' ? asked.map((t) => (t === 'left' ? 'right' : 'left')) : asked;
  const frames = filmChallenge(img, landmarks, filmed, actor, rng, amplitude);
  const jpegs = await Promise.all(frames.map((f) => encodeJpeg(f.image, 80)));
  // Timed from here: what the server does with an answer (decode, measure, compare, judge).
  const t0 = performance.now();
  const decoded = [];
  for (const [i, f] of frames.entries()) {
    const d = await decodeImage(jpegs[i]!, 'frame', LIMITS);
    decoded.push({ image: d.image, step: f.step, t: f.t });
  }
  const measured = await measureHeadTurns(decoded, { inference });
  const selfie = await analyzeFace(img, { inference });
  const frontal = measured.frontal && (await analyzeFace(measured.frontal, { inference }));
  const samePerson =
    selfie && frontal
      ? { similarity: cosine(selfie.embedding, frontal.embedding), threshold: 0.4 }
      : undefined;
  const outcome = judgeChallenge(asked, measured.measures, measured.planar, samePerson, new Date());
  judgeMs.push(performance.now() - t0);
  if (process.env.DEBUG && kind === 'bona_fide' && outcome.status !== 'passed')
    console.error(
      asked.join(','),
      outcome.observed.join(','),
      measured.measures.map((x) => `${x.step}:${x.parallax?.toFixed(3)}`).join(' '),
    );
  return outcome;
}

export async function evaluateActiveLiveness(
  data: string,
  inference: InferenceRunner,
  perSplit = 12,
  only?: 'tune' | 'heldout',
): Promise<ActiveSample[]> {
  const deepface = readdirSync(path.join(data, 'faces/deepface'))
    .filter((f) => /^img\d+\.jpg$/.test(f))
    .sort();
  const nuaaDir = path.join(data, 'liveness/nuaa/real');
  const nuaa = [
    ...new Map(
      readdirSync(nuaaDir)
        .sort()
        .map((f) => [f.slice(0, 4), f]),
    ).values(),
  ];
  const tune = deepface
    .slice(0, 40)
    .slice(0, perSplit)
    .map((f) => path.join(data, 'faces/deepface', f));
  const heldout = [
    ...deepface
      .slice(40)
      .slice(0, Math.max(0, perSplit - nuaa.length))
      .map((f) => path.join(data, 'faces/deepface', f)),
    ...nuaa.map((f) => path.join(nuaaDir, f)),
  ];
  const out: ActiveSample[] = [];
  const splits = (
    [
      ['tune', tune],
      ['heldout', heldout],
    ] as const
  ).filter(([name]) => !only || name === only);
  for (const [split, files] of splits) {
    for (const [i, file] of files.entries()) {
      const img = await load(file, 640);
      for (const [k, kind] of KINDS.entries()) {
        const seed = (split === 'tune' ? 500000 : 1300000) + i * 10 + k;
        const amplitude = createRng(seed + 7).float(split === 'tune' ? 15 : 20, 40);
        const outcome = await judge(img, kind, amplitude, seed, inference);
        if (outcome) out.push({ split, kind, name: path.basename(file), outcome });
      }
    }
  }
  return out;
}

export function activeLivenessTable(samples: ActiveSample[]): string {
  const rows: (string | number)[][] = [
    ['split', 'filmed', 'challenges', 'passed', 'rate', 'failure reasons'],
  ];
  for (const split of ['tune', 'heldout'] as const)
    for (const kind of KINDS) {
      const s = samples.filter((x) => x.split === split && x.kind === kind);
      if (!s.length) continue;
      const passed = s.filter((x) => x.outcome.status === 'passed').length;
      const reasons = new Map<string, number>();
      for (const x of s)
        if (x.outcome.reason) reasons.set(x.outcome.reason, (reasons.get(x.outcome.reason) ?? 0) + 1);
      rows.push([
        split,
        kind === 'bona_fide' ? 'bona fide (BPCER = 1 - rate)' : `${kind} (APCER = rate)`,
        s.length,
        passed,
        pct(passed / s.length),
        [...reasons].map(([r, n]) => `${r} ${n}`).join(', '),
      ]);
    }
  const peaks = (kind: Kind, split: string) =>
    samples
      .filter((x) => x.kind === kind && x.split === split)
      .flatMap((x) =>
        kind === 'flat'
          ? x.outcome.moved_planar_correlations
          : x.outcome.turns.map((t) => t.planar_correlation),
      )
      .filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b);
  const q = (v: number[], f: number) =>
    v.length ? v[Math.min(v.length - 1, Math.floor(f * v.length))]!.toFixed(3) : '-';
  const lines = (['tune', 'heldout'] as const).map((split) => {
    const head = peaks('bona_fide', split);
    const flat = peaks('flat', split);
    const par = samples
      .filter((x) => x.kind === 'bona_fide' && x.split === split)
      .flatMap((x) => x.outcome.turns.map((t) => t.parallax))
      .sort((a, b) => a - b);
    return `${split}: bona fide turns' parallax min/p10/median ${q(par, 0)}/${q(par, 0.1)}/${q(par, 0.5)}; bona fide turns' peaks min/median/max ${q(head, 0)}/${q(head, 0.5)}/${q(head, 1)} (${head.length}); flat picture's most moved frames ${q(flat, 0)}/${q(flat, 0.5)}/${q(flat, 1)} (${flat.length})`;
  });
  const ms = [...judgeMs].sort((a, b) => a - b);
  const speed = ms.length
    ? `\nServer time per answer (decode, measure, compare with the selfie, judge; 2 threads): median ${ms[ms.length >> 1]!.toFixed(0)} ms, p90 ${ms[Math.floor(ms.length * 0.9)]!.toFixed(0)} ms over ${ms.length} answers of ${samples.length ? Math.round(samples.reduce((a, x) => a + x.outcome.frames, 0) / samples.length) : 0} frames on average.`
    : '';
  return `${table(rows)}\n\nPlanar correlation (threshold 0.95):\n${lines.join('\n')}${speed}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const data = path.resolve(fileURLToPath(new URL('../../shared/data', import.meta.url)));
  const manifest = await loadManifest();
  const inference = await OnnxRunner.load(manifest, { threads: 2 });
  const t0 = performance.now();
  const only = process.argv[3] as 'tune' | 'heldout' | undefined;
  const samples = await evaluateActiveLiveness(data, inference, Number(process.argv[2] ?? 12), only);
  console.log(activeLivenessTable(samples));
  console.log(`\n${samples.length} challenges in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  await inference.close();
}
