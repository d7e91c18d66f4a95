/**
 * Turning a cosine similarity into the published face_match fields. The TXCloud contract reads
 * `similarity_score` on a 0..1 scale where ≥ 0.70 is a match; we map the calibrated cosine threshold
 * (models/manifest.json) onto 0.70 so clients keep that rule, and report the raw cosine as evidence.
 */
export const PUBLISHED_MATCH_SIMILARITY = 0.7;
/** Cosine distance from the threshold at which the decision is treated as certain (calibration report: impostor mean ≈ 0.0, genuine mean ≈ 0.7). */
const CERTAINTY_MARGIN = 0.15;
/**
 * Below the threshold, against a document's portrait, a mismatch is certain only further away: on the
 * tune people's selfie-vs-card pairs (bench/eval-faces.ts) genuine pairs trail down to 0.25 where
 * selfie-vs-selfie pairs do not, so a printed portrait between 0.25 and the threshold reads weak (review),
 * not certain (reject).
 */
export const DOCUMENT_MISMATCH_MARGIN = 0.375;

export interface FaceMatchDecision {
  match: boolean;
  similarity: number;
  confidence: number;
  cosine: number;
  cosineThreshold: number;
}

export function decideFaceMatch(
  cosine: number,
  cosineThreshold: number,
  /** Distance below the threshold at which a mismatch is certain. */
  mismatchMargin = CERTAINTY_MARGIN,
): FaceMatchDecision {
  const c = Math.max(-1, Math.min(1, cosine));
  const t = cosineThreshold;
  const similarity =
    c >= t
      ? PUBLISHED_MATCH_SIMILARITY + (1 - PUBLISHED_MATCH_SIMILARITY) * ((c - t) / (1 - t))
      : PUBLISHED_MATCH_SIMILARITY * (Math.max(0, c) / t);
  const confidence = 0.5 + 0.5 * Math.min(1, Math.abs(c - t) / (c >= t ? CERTAINTY_MARGIN : mismatchMargin));
  return {
    match: c >= t,
    similarity: round4(similarity),
    confidence: round4(confidence),
    cosine: round4(c),
    cosineThreshold: t,
  };
}

export interface LivenessDecision {
  isLive: boolean;
  spoofProbability: number;
  confidence: number;
}

/**
 * The published `spoof_probability` is calibrated so that the liveness threshold sits at 0.5
 * (is_live ⇔ spoof_probability < 0.5), whatever threshold calibration chose; the raw model output is
 * reported as evidence. Without this a selfie could be "live" with a spoof probability of 0.7.
 */
export function decideLiveness(liveProbability: number, threshold: number): LivenessDecision {
  const p = Math.max(0, Math.min(1, liveProbability));
  const isLive = p >= threshold;
  const calibratedLive = isLive
    ? 0.5 + 0.5 * ((p - threshold) / (1 - threshold || 1))
    : 0.5 * (p / (threshold || 1));
  // Distance from the threshold relative to the room on that side of it.
  const confidence = 0.5 + Math.abs(calibratedLive - 0.5);
  return { isLive, spoofProbability: round4(1 - calibratedLive), confidence: round4(confidence) };
}

export function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
