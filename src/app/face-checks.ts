import { decideFaceMatch, decideLiveness, round4 } from '../domain/face-match-policy.ts';
import type { CheckResult } from '../domain/verification.ts';
import { analyzeFace, type FaceAnalysis, type StageTimes } from '../pipeline/face/analyze-face.ts';
import { cosine } from '../pipeline/face/embed.ts';
import { modelVersions } from '../pipeline/face/model-manifest.ts';
import type { RgbImage } from '../pipeline/image/rgb-image.ts';
import type { AppDeps } from './deps.ts';

export function faceModelVersions(deps: Pick<AppDeps, 'manifest'>): Record<string, string> {
  return modelVersions(deps.manifest);
}

export async function analyzeSelfie(
  deps: Pick<AppDeps, 'inference'>,
  img: RgbImage,
  opts: { liveness: boolean; times?: StageTimes },
): Promise<FaceAnalysis | undefined> {
  return analyzeFace(img, deps, { liveness: opts.liveness, times: opts.times });
}

/** The portrait on a document: same detector, four right-angle rotations tried (MODELS.md). */
export async function analyzeDocumentPortrait(
  deps: Pick<AppDeps, 'inference'>,
  img: RgbImage,
  times?: StageTimes,
): Promise<FaceAnalysis | undefined> {
  return analyzeFace(img, deps, { tryRotations: true, times });
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

export function faceMatchCheck(
  deps: Pick<AppDeps, 'manifest'>,
  selfie: FaceAnalysis | undefined,
  portrait: FaceAnalysis | undefined,
): CheckResult {
  const threshold = deps.manifest.thresholds.face_match_cosine;
  if (!selfie) return { status: 'failed', confidence: 1, reason: 'no_face_in_selfie', match: false };
  if (!portrait) return { status: 'failed', confidence: 1, reason: 'no_face_in_document', match: false };
  const d = decideFaceMatch(cosine(selfie.embedding, portrait.embedding), threshold);
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
      selfie_face: box(selfie),
      document_face: { ...box(portrait), rotation: portrait.rotation },
    },
    provenance: 'selfie_vs_document_front',
    model_version: deps.manifest.models.face_embed.version,
  };
}

export function livenessCheck(
  deps: Pick<AppDeps, 'manifest'>,
  selfie: FaceAnalysis | undefined,
): CheckResult {
  if (!selfie || selfie.liveProbability === undefined) {
    return { status: 'failed', confidence: 1, reason: 'no_face_in_selfie', is_live: false };
  }
  const d = decideLiveness(selfie.liveProbability, deps.manifest.thresholds.liveness_live_probability);
  return {
    status: d.isLive ? 'passed' : 'failed',
    confidence: d.confidence,
    is_live: d.isLive,
    spoof_probability: d.spoofProbability,
    // The passive model tells live from presentation attack, not which kind; print is the likeliest.
    spoof_type: d.isLive ? 'none' : 'photo',
    quality_score: round4(selfie.box.score),
    evidence: {
      live_probability: round4(selfie.liveProbability),
      threshold: deps.manifest.thresholds.liveness_live_probability,
      face: box(selfie),
    },
    model_version: deps.manifest.models.face_liveness.version,
  };
}
