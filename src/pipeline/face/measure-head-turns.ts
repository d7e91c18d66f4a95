import type { FrameMeasure } from '../../domain/liveness-challenge.ts';
import type { InferenceRunner } from '../../ports/inference.ts';
import { resizeTo, toGray, type RgbImage } from '../image/rgb-image.ts';
import { detectFaces } from './detect.ts';
import { frameMotion, noseOffset } from './head-motion.ts';
import { detectLandmarks, type Point } from './landmarks.ts';
import { planarFit, type GreyImage } from './planar-fit.ts';

/** Frames are measured at this longest side: the face fills a good part of a selfie frame. */
const WORK_SIDE = 640;

export interface ChallengeFrame {
  image: RgbImage;
  step: number;
  t: number;
}

interface Seen {
  grey: GreyImage;
  landmarks: Point[];
  image: RgbImage;
}

export interface HeadTurnMeasures {
  measures: FrameMeasure[];
  /** Patch correlation of frame i laid onto the frontal frame by the best homography (on demand). */
  planar: (i: number) => number | undefined;
  /** The frame at rest (the reference of every motion), to compare with the selfie. */
  frontal?: RgbImage;
}

/**
 * Measure the frames of a head-turn challenge: one face per frame (the most confident), its 68
 * landmarks, the nose parallax against the frame at rest (pipeline/face/head-motion.ts).
 */
export async function measureHeadTurns(
  frames: ChallengeFrame[],
  deps: { inference: InferenceRunner },
): Promise<HeadTurnMeasures> {
  const seen: (Seen | undefined)[] = [];
  for (const f of frames) {
    const s = Math.min(1, WORK_SIDE / Math.max(f.image.width, f.image.height));
    const image =
      s < 1
        ? await resizeTo(
            f.image,
            Math.max(1, Math.round(f.image.width * s)),
            Math.max(1, Math.round(f.image.height * s)),
          )
        : f.image;
    const face = (await detectFaces(image, deps))[0];
    if (!face) {
      seen.push(undefined);
      continue;
    }
    const landmarks = await detectLandmarks(image, face, deps);
    seen.push({ grey: { width: image.width, height: image.height, data: toGray(image) }, landmarks, image });
  }
  // The reference is the frame at the person's rest pose: the median nose offset of the whole film (the
  // page films a frontal lead, returns to the centre between turns and asks both ways), not the most
  // symmetric face, which on a face held a little askew is a turned frame.
  const offsets = seen.map((s) => (s ? noseOffset(s.landmarks) : undefined));
  const known = offsets.filter((o): o is number => o !== undefined).sort((a, b) => a - b);
  const rest = known.length ? known[Math.floor(known.length / 2)]! : 0;
  let ref = -1;
  let best = Infinity;
  offsets.forEach((o, i) => {
    if (o !== undefined && Math.abs(o - rest) < best) {
      best = Math.abs(o - rest);
      ref = i;
    }
  });
  const reference = seen[ref];
  const measures: FrameMeasure[] = frames.map((f, i) => {
    const s = seen[i];
    const m = s && reference ? frameMotion(reference.landmarks, s.landmarks) : undefined;
    return {
      step: f.step,
      t: f.t,
      face: !!s,
      ...(m ? { parallax: m.parallaxX, narrowing: m.narrowing } : {}),
    };
  });
  const planar = (i: number) => {
    const s = seen[i];
    if (!s || !reference) return undefined;
    return planarFit(reference.grey, reference.landmarks, s.grey, s.landmarks)?.patchCorrelation;
  };
  return { measures, planar, ...(reference ? { frontal: reference.image } : {}) };
}
