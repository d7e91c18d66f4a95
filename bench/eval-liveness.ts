/**
 * Passive liveness per attack type. Bona fide: the deepface photos, the NUAA live crops and the
 * silent-face live frame, as selfies. Attacks: NUAA's printed photos and silent-face's two spoofs (real),
 * and screen replays generated from the bona fide photos (test/synth/recapture.ts `screenReplay`: a
 * phone, tablet or monitor showing the face, its subpixel stripes, tone curve, bezel and glare, then
 * photographed by test/synth/photograph.ts at three difficulties; tune and held-out display families).
 *
 * For each selfie: the liveness model's live probability, and the display grid (`screenGrid`) measured
 * on the face's neighbourhood at the photo's own resolution. Reported: APCER per attack type and BPCER at
 * the manifest's liveness threshold, for the model alone, the grid alone, and either of them.
 *
 * Usage: node --import tsx bench/eval-liveness.ts [replays per photo]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadManifest } from '../src/adapters/onnx/load-manifest.ts';
import { OnnxRunner } from '../src/adapters/onnx/onnx-runner.ts';
import type { ModelManifest } from '../src/pipeline/face/model-manifest.ts';
import type { InferenceRunner } from '../src/ports/inference.ts';
import { selfieScreenGrid, SELFIE_SCREEN_GRID_SCORE } from '../src/app/face-checks.ts';
import { analyzeFace } from '../src/pipeline/face/analyze-face.ts';
import { decodeImage } from '../src/pipeline/image/decode.ts';
import { createRng } from '../test/synth/identities.ts';
import { photograph, type PhotoLevel } from '../test/synth/photograph.ts';
import { screenReplay } from '../test/synth/recapture.ts';
import { pct, table } from './metrics.ts';

const LIMITS = { maxImageBytes: 50e6, maxImagePixels: 100e6 };
const LEVELS: PhotoLevel[] = ['clean', 'medium', 'hard'];

export interface LivenessSample {
  kind: 'bona_fide' | 'print' | 'real_spoof' | 'screen_tune' | 'screen_heldout';
  name: string;
  /** undefined: no face found (an attack not found is not accepted; a live face not found is refused). */
  live?: number;
  grid?: number;
}

async function measure(
  bytes: Buffer,
  name: string,
  kind: LivenessSample['kind'],
  inference: InferenceRunner,
): Promise<LivenessSample> {
  const d = await decodeImage(bytes, name, LIMITS);
  const a = await analyzeFace(d.image, { inference }, { liveness: true, tryRotations: true });
  if (!a) return { kind, name };
  const grid = await selfieScreenGrid(d, a);
  return { kind, name, live: a.liveProbability, grid };
}

export async function evaluateLiveness(
  data: string,
  inference: InferenceRunner,
  replaysPerPhoto = 1,
): Promise<LivenessSample[]> {
  const out: LivenessSample[] = [];
  const jpgs = (d: string) =>
    readdirSync(d)
      .filter((f) => /\.(jpe?g|png)$/i.test(f) && !f.includes('_result'))
      .sort()
      .map((f) => path.join(d, f));
  const bona = [
    ...jpgs(path.join(data, 'faces/deepface')),
    ...jpgs(path.join(data, 'liveness/nuaa/real')),
    ...jpgs(path.join(data, 'liveness/silent-face')).filter((f) => /_T\d/.test(path.basename(f))),
  ];
  for (const f of bona) out.push(await measure(readFileSync(f), path.basename(f), 'bona_fide', inference));
  for (const f of jpgs(path.join(data, 'liveness/nuaa/fake')))
    out.push(await measure(readFileSync(f), path.basename(f), 'print', inference));
  for (const f of jpgs(path.join(data, 'liveness/silent-face')).filter((f) => /_F\d/.test(path.basename(f))))
    out.push(await measure(readFileSync(f), path.basename(f), 'real_spoof', inference));
  let seed = 0;
  for (const f of bona) {
    for (let r = 0; r < replaysPerPhoto; r++) {
      const rng = createRng(910_000 + seed);
      const variant = seed % 2 === 0 ? 'tune' : 'heldout';
      const level = LEVELS[seed % 3]!;
      seed++;
      const shown = await screenReplay(readFileSync(f), rng, variant);
      const photo = await photograph(shown.image, level, rng);
      out.push(
        await measure(
          photo.jpeg,
          `${path.basename(f)} ${shown.device} ${level}`,
          `screen_${variant}`,
          inference,
        ),
      );
    }
  }
  return out;
}

export function livenessTable(samples: LivenessSample[], manifest: ModelManifest): string {
  const t = manifest.thresholds.liveness_live_probability;
  const g = SELFIE_SCREEN_GRID_SCORE;
  // Accepted as live: a face found, the model at or above its threshold, and (fused) no display grid.
  const model = (s: LivenessSample) => s.live !== undefined && s.live >= t;
  const grid = (s: LivenessSample) => s.live !== undefined && (s.grid ?? 0) < g;
  const both = (s: LivenessSample) => model(s) && grid(s);
  // Accepted as live by the fused check but in the model's uncertain band: reviewed, not verified.
  const review = manifest.thresholds.liveness_review_below;
  const uncertain = (s: LivenessSample) => both(s) && review !== undefined && s.live! < review;
  const rows: (string | number)[][] = [
    ['selfies', 'count', 'no face', 'model', 'display grid', 'either (fused)', 'fused, in the review band'],
  ];
  const kinds = ['bona_fide', 'print', 'real_spoof', 'screen_tune', 'screen_heldout'] as const;
  for (const k of kinds) {
    const of = samples.filter((s) => s.kind === k);
    if (!of.length) continue;
    // Bona fide: BPCER (refused); attacks: APCER (accepted).
    const rate = (accept: (s: LivenessSample) => boolean) =>
      pct(of.filter((s) => (k === 'bona_fide' ? !accept(s) : accept(s))).length / of.length);
    rows.push([
      k === 'bona_fide' ? 'bona fide (BPCER)' : `${k} (APCER)`,
      of.length,
      of.filter((s) => s.live === undefined).length,
      rate(model),
      rate(grid),
      rate(both),
      pct(of.filter(uncertain).length / of.length),
    ]);
  }
  return `${table(rows)}\nmodel: live probability ≥ ${t} (manifest); display grid: score < ${g} on the face's neighbourhood; review band: live probability below ${review ?? '(none)'} (a verification without a passed head-turn challenge reviews)`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const manifest = await loadManifest();
  const inference = await OnnxRunner.load(manifest, { threads: 2 });
  const samples = await evaluateLiveness(
    path.resolve(here, '../../shared/data'),
    inference,
    Number(process.argv[2] ?? 1),
  );
  console.log(livenessTable(samples, manifest));
  const worst = samples
    .filter((s) => s.kind === 'bona_fide')
    .sort((a, b) => (b.grid ?? 0) - (a.grid ?? 0))
    .slice(0, 5)
    .map((s) => `${s.name} ${s.grid?.toFixed(2)}`);
  console.log(`highest display-grid scores on bona fide selfies: ${worst.join(', ')}`);
  const screens = samples
    .filter((s) => s.kind.startsWith('screen'))
    .map((s) => s.grid ?? 0)
    .sort((a, b) => a - b);
  console.log(
    `screen replays' grid scores: median ${screens[screens.length >> 1]?.toFixed(2)}, 25th percentile ${screens[screens.length >> 2]?.toFixed(2)}`,
  );
  await inference.close();
}
