import {
  decideFaceMatch,
  decideLiveness,
  DOCUMENT_MISMATCH_MARGIN,
  round4,
} from '../domain/face-match-policy.ts';
import type { CheckResult } from '../domain/verification.ts';
import { analyzeFace, type FaceAnalysis, type StageTimes } from '../pipeline/face/analyze-face.ts';
import { cosine } from '../pipeline/face/embed.ts';
import { modelVersions } from '../pipeline/face/model-manifest.ts';
import type { DecodedImage } from '../pipeline/image/decode.ts';
import { clampRect, cropBilinear, padded, rotateRight, type RgbImage } from '../pipeline/image/rgb-image.ts';
import { screenGrid } from '../pipeline/fraud/screen-grid.ts';
import type { ChallengeOutcome } from '../domain/liveness-challenge.ts';
import type { AppDeps } from './deps.ts';

export function faceModelVersions(deps: Pick<AppDeps, 'manifest'>): Record<string, string> {
  return modelVersions(deps.manifest);
}

export async function analyzeSelfie(
  deps: Pick<AppDeps, 'inference'>,
  img: RgbImage,
  /** `grey`: also embed the face in grey, to compare it with a document's portrait. */
  opts: { liveness: boolean; grey?: boolean; times?: StageTimes },
): Promise<FaceAnalysis | undefined> {
  return analyzeFace(img, deps, { liveness: opts.liveness, greyEmbedding: opts.grey, times: opts.times });
}

/**
 * The portrait on a document: same detector, four right-angle rotations tried (MODELS.md), and the face
 * also embedded in grey (a card's portrait is often printed in grey; face_match compares it in grey).
 * A portrait cut tight around the face (forehead to chin) fills the crop, and the detector, which learnt
 * faces with some context around them, misses it: when no face is found the crop is tried again inside a
 * border of its own mean edge colour (NUAA faces printed on generated cards: 27 of 288 missed without it).
 * `grey: false` skips the grey embedding where no face match will read it (a ghost portrait, already
 * grey; the main portrait when only the fraud check asked for it).
 */
export async function analyzeDocumentPortrait(
  deps: Pick<AppDeps, 'inference'>,
  img: RgbImage,
  times?: StageTimes,
  grey = true,
): Promise<FaceAnalysis | undefined> {
  const options = { tryRotations: true, greyEmbedding: grey, times };
  const found = await analyzeFace(img, deps, options);
  if (found) return found;
  const pad = Math.round(Math.max(img.width, img.height) * PORTRAIT_BORDER);
  const inBorder = await analyzeFace(padded(img, pad), deps, options);
  // The border is the same on every side, so in any rotation the face moves back by `pad` on both axes.
  return inBorder && unpadded(inBorder, pad);
}

/** Border added around a portrait crop where no face was found, as a share of its longer side. */
const PORTRAIT_BORDER = 0.3;

function unpadded(a: FaceAnalysis, pad: number): FaceAnalysis {
  return {
    ...a,
    box: { ...a.box, x: a.box.x - pad, y: a.box.y - pad },
    landmarks5: a.landmarks5.map((p) => ({ x: p.x - pad, y: p.y - pad })),
  };
}

function box(a: FaceAnalysis) {
  const r = (x: number) => Math.round(x);
  return {
    x: r(a.box.x),
    y: r(a.box.y),
    width: r(a.box.width),
    height: r(a.box.height),
    score: round4(a.box.score),
  };
}

/**
 * Whether the selfie is the person of the other face. Against a document's portrait (`document`) the two
 * faces are compared in grey, since the portrait is printed, often in grey, and photographed again, and
 * the threshold is the one calibrated on selfie-vs-card-portrait pairs; two photos (`photos`, the
 * stateless face-match endpoint) are compared in colour at the selfie-vs-selfie threshold.
 */
export function faceMatchCheck(
  deps: Pick<AppDeps, 'manifest'>,
  selfie: FaceAnalysis | undefined,
  portrait: FaceAnalysis | undefined,
  against: 'document' | 'photos' = 'document',
): CheckResult {
  const t = deps.manifest.thresholds;
  if (!selfie) return { status: 'failed', confidence: 1, reason: 'no_face_in_selfie', match: false };
  if (!portrait) return { status: 'failed', confidence: 1, reason: 'no_face_in_document', match: false };
  const grey = against === 'document' && selfie.greyEmbedding && portrait.greyEmbedding;
  const threshold =
    against === 'document' ? (t.document_portrait_cosine ?? t.face_match_cosine) : t.face_match_cosine;
  const d = decideFaceMatch(
    grey
      ? cosine(selfie.greyEmbedding!, portrait.greyEmbedding!)
      : cosine(selfie.embedding, portrait.embedding),
    threshold,
    against === 'document' ? DOCUMENT_MISMATCH_MARGIN : undefined,
  );
  return {
    status: d.match ? 'passed' : 'failed',
    confidence: d.confidence,
    match: d.match,
    similarity_score: d.similarity,
    similarity: d.similarity,
    threshold: 0.7,
    evidence: {
      cosine: d.cosine,
      cosine_threshold: d.cosineThreshold,
      compared_in: grey ? 'grey' : 'colour',
      selfie_face: box(selfie),
      document_face: { ...box(portrait), rotation: portrait.rotation },
    },
    provenance: 'selfie_vs_document_front',
    model_version: deps.manifest.models.face_embed.version,
  };
}

/**
 * At this display-grid score (`screenGrid`) on the selfie's face neighbourhood, the selfie is taken for a
 * face shown on a screen. Measured with bench/eval-liveness.ts (see SCREEN_GRID_SCORE for documents).
 */
export const SELFIE_SCREEN_GRID_SCORE = 8;

/**
 * Longest side, in working-copy pixels (DecodedImage: longest side 1 600), of the region around the face
 * searched for a display grid: fewer blocks make a noisier spectrum (a 320 px square of the face scored up
 * to 9.5 on bona fide selfies, the face's doubled box up to 6.0), more cost time (about 50 ms at 640).
 */
const SELFIE_GRID_SIDE = 640;

/**
 * The display grid around the selfie's face: the face's box doubled, at most SELFIE_GRID_SIDE pixels
 * around its centre, on the working copy as the face was found in it (never resampled again: that would
 * average the subpixel stripes away); undefined when the region is too small to hold one block.
 */
export async function selfieScreenGrid(photo: DecodedImage, face: FaceAnalysis): Promise<number | undefined> {
  const b = face.box;
  const view = face.rotation === 0 ? photo.image : await rotateRight(photo.image, face.rotation);
  const w = Math.min(2 * b.width, SELFIE_GRID_SIDE);
  const h = Math.min(2 * b.height, SELFIE_GRID_SIDE);
  const r = clampRect(view, {
    x: b.x + b.width / 2 - w / 2,
    y: b.y + b.height / 2 - h / 2,
    width: w,
    height: h,
  });
  return screenGrid(cropBilinear(view, r, r.width, r.height))?.score;
}

/** What a liveness check knows of the capture page's head-turn challenge. */
export interface ChallengeInput {
  outcome?: ChallengeOutcome;
  /** The tenant requires a passed challenge (`liveness.require_challenge`). */
  required: boolean;
}

/** The challenge as the check's evidence shows it (what was asked, seen, measured). */
function challengeEvidence(o: ChallengeOutcome) {
  return {
    status: o.status,
    ...(o.reason ? { reason: o.reason } : {}),
    asked: o.asked,
    observed: o.observed,
    turns: o.turns,
    frames: o.frames,
    frames_with_face: o.frames_with_face,
    moved_planar_correlations: o.moved_planar_correlations,
    ...(o.same_person ? { same_person: o.same_person } : {}),
  };
}

/**
 * Liveness: the model's live probability, the display grid around the face, and the capture page's
 * head-turn challenge when there was one (domain/liveness-challenge.ts).
 * - A grid at or above SELFIE_SCREEN_GRID_SCORE makes the selfie a screen replay whatever else says; its
 *   certainty grows from 0.5 at the threshold to 1 at twice it.
 * - A challenge passed shows a head turning as asked, which no flat picture does: the selfie is live
 *   (the model's probability stays in the evidence). A challenge failed because the turns lay on one
 *   plane is a picture (`spoof_type: photo`); failed otherwise (not turned, other turns, another face)
 *   it is `challenge_failed`, for a person to look at.
 * - No challenge where the tenant requires one: `challenge_missing`, never passed by absence.
 * - Without a passed challenge, a live probability above the threshold but below the manifest's
 *   `liveness_review_below` is `uncertain`: a person looks (the model alone lets most real prints and
 *   screens through near its threshold; issue 21).
 */
export function livenessCheck(
  deps: Pick<AppDeps, 'manifest'>,
  selfie: FaceAnalysis | undefined,
  screenGridScore?: number,
  challenge: ChallengeInput = { required: false },
): CheckResult {
  if (!selfie || selfie.liveProbability === undefined) {
    return { status: 'failed', confidence: 1, reason: 'no_face_in_selfie', is_live: false };
  }
  const model = decideLiveness(selfie.liveProbability, deps.manifest.thresholds.liveness_live_probability);
  const t = SELFIE_SCREEN_GRID_SCORE;
  const screen = screenGridScore !== undefined && screenGridScore >= t;
  const screenCertainty = screen ? 0.5 + 0.5 * Math.min(1, (screenGridScore - t) / t) : 0;
  const o = challenge.outcome;
  const evidence = {
    live_probability: round4(selfie.liveProbability),
    threshold: deps.manifest.thresholds.liveness_live_probability,
    ...(screenGridScore !== undefined
      ? { screen_grid_score: round4(screenGridScore), screen_grid_threshold: t }
      : {}),
    face: box(selfie),
    ...(o ? { challenge: challengeEvidence(o) } : {}),
    ...(challenge.required ? { challenge_required: true } : {}),
  };
  const common = {
    quality_score: round4(selfie.box.score),
    evidence,
    model_version: deps.manifest.models.face_liveness.version,
  };
  if (screen) {
    return {
      status: 'failed',
      confidence: model.isLive ? round4(screenCertainty) : model.confidence,
      is_live: false,
      spoof_probability: round4(Math.max(model.spoofProbability, screenCertainty)),
      spoof_type: 'screen',
      ...common,
    };
  }
  if (o?.status === 'passed') {
    return {
      status: 'passed',
      confidence: CHALLENGE_CONFIDENCE,
      is_live: true,
      spoof_probability: round4(1 - CHALLENGE_CONFIDENCE),
      spoof_type: 'none',
      ...common,
    };
  }
  if (o?.reason === 'flat_picture') {
    return {
      status: 'failed',
      confidence: CHALLENGE_CONFIDENCE,
      is_live: false,
      spoof_probability: CHALLENGE_CONFIDENCE,
      spoof_type: 'photo',
      ...common,
    };
  }
  if (!model.isLive) {
    // The model tells live from presentation attack, not which kind (print is the likeliest).
    return {
      status: 'failed',
      confidence: model.confidence,
      is_live: false,
      spoof_probability: model.spoofProbability,
      spoof_type: 'photo',
      ...common,
    };
  }
  if (o || challenge.required) {
    return {
      status: 'failed',
      confidence: model.confidence,
      reason: o ? 'challenge_failed' : 'challenge_missing',
      is_live: false,
      spoof_probability: model.spoofProbability,
      spoof_type: 'none',
      ...common,
    };
  }
  const reviewBelow = deps.manifest.thresholds.liveness_review_below;
  if (reviewBelow !== undefined && selfie.liveProbability < reviewBelow) {
    // Above the threshold but in the band where the model is unsure (issue 21: uncertain is not live).
    return {
      status: 'failed',
      confidence: model.confidence,
      reason: 'uncertain',
      is_live: false,
      spoof_probability: model.spoofProbability,
      spoof_type: 'none',
      ...common,
      evidence: { ...evidence, review_below: reviewBelow },
    };
  }
  return {
    status: 'passed',
    confidence: model.confidence,
    is_live: true,
    spoof_probability: model.spoofProbability,
    spoof_type: 'none',
    ...common,
  };
}

/**
 * How sure a judged challenge is, either way: a flat picture's turns fit one plane at patch correlation
 * ≥ 0.98 and a head's at ≤ 0.93 (bench/eval-active-liveness.ts), so the verdict is clear-cut; it is not 1
 * because a picture bent while it turns, or a video of the person, is not ruled out.
 */
const CHALLENGE_CONFIDENCE = 0.95;
