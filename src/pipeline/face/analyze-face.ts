import type { InferenceRunner } from '../../ports/inference.ts';
import { greyRgb, rotateRight, type RgbImage } from '../image/rgb-image.ts';
import { alignFace } from './align.ts';
import { detectFaces, type FaceBox } from './detect.ts';
import { embedFace } from './embed.ts';
import { detectLandmarks, fivePoints, type Point } from './landmarks.ts';
import { livenessScore } from './liveness.ts';

export type Rotation = 0 | 90 | 180 | 270;

export interface FaceAnalysis {
  /** Box in the coordinates of the image after `rotation` (clockwise) was applied. */
  box: FaceBox;
  rotation: Rotation;
  facesFound: number;
  landmarks5: Point[];
  embedding: Float32Array;
  /** The embedding of the same aligned face in grey, when asked for (portraits printed in grey). */
  greyEmbedding?: Float32Array;
  /** softmax[0] of the liveness model, when asked for. */
  liveProbability?: number;
}

/** Milliseconds per stage, filled when given (bench and audit). */
export type StageTimes = Partial<Record<'detect' | 'landmarks' | 'align' | 'embed' | 'liveness', number>>;

export interface AnalyzeOptions {
  liveness?: boolean;
  /** Try the four right-angle rotations when no face is found upright (document portraits). */
  tryRotations?: boolean;
  /** Also embed the aligned face in grey. */
  greyEmbedding?: boolean;
  times?: StageTimes;
}

function add(times: StageTimes | undefined, stage: keyof StageTimes, t0: number): void {
  if (times) times[stage] = (times[stage] ?? 0) + (performance.now() - t0);
}

/**
 * Find the most confident face (highest score, not the largest box: MODELS.md) and describe it.
 * Returns undefined when no face is found in any tried orientation: that is data, not an error.
 */
export async function analyzeFace(
  img: RgbImage,
  deps: { inference: InferenceRunner },
  options: AnalyzeOptions = {},
): Promise<FaceAnalysis | undefined> {
  const { times } = options;
  const rotations: Rotation[] = options.tryRotations ? [0, 90, 270, 180] : [0];
  for (const rotation of rotations) {
    const view = rotation === 0 ? img : await rotateRight(img, rotation);
    let t0 = performance.now();
    const faces = await detectFaces(view, deps);
    add(times, 'detect', t0);
    const best = faces[0];
    if (!best) continue;
    t0 = performance.now();
    const landmarks = await detectLandmarks(view, best, deps);
    const five = fivePoints(landmarks);
    add(times, 'landmarks', t0);
    t0 = performance.now();
    const aligned = await alignFace(view, five);
    add(times, 'align', t0);
    t0 = performance.now();
    const embedding = await embedFace(aligned, deps);
    const greyEmbedding = options.greyEmbedding ? await embedFace(greyRgb(aligned), deps) : undefined;
    add(times, 'embed', t0);
    let liveProbability: number | undefined;
    if (options.liveness) {
      t0 = performance.now();
      liveProbability = await livenessScore(view, best, deps);
      add(times, 'liveness', t0);
    }
    return {
      box: best,
      rotation,
      facesFound: faces.length,
      landmarks5: five,
      embedding,
      ...(greyEmbedding ? { greyEmbedding } : {}),
      liveProbability,
    };
  }
  return undefined;
}
