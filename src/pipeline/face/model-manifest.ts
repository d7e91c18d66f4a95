import type { ModelName } from '../../ports/inference.ts';

export interface ModelSpec {
  package: string;
  file: string;
  sha256: string;
  version: string;
  input: string;
  output: string;
}

/** models/manifest.json: each model's package file and hash, and the thresholds calibrated for them. */
export interface ModelManifest {
  schema: 1;
  models: Record<ModelName, ModelSpec>;
  thresholds: {
    /** Cosine similarity at or above which two faces are the same person. */
    face_match_cosine: number;
    /**
     * Cosine (grey embeddings) at or above which a selfie is the person of a document's portrait
     * (manifest `calibration.document_portrait`: `bench/eval-faces.ts`, tune people's card pairs).
     * Absent in an older manifest: face_match_cosine applies.
     */
    document_portrait_cosine?: number;
    /** softmax[0] at or above which a selfie is live. */
    liveness_live_probability: number;
    /**
     * Below this live probability (and at or above the threshold) the model is unsure: a verification
     * without a passed head-turn challenge reviews (`liveness_uncertain`). Absent in an older manifest:
     * no band.
     */
    liveness_review_below?: number;
    /**
     * Cosine between a card's main and ghost portraits below which they are taken for two people
     * (manifest `calibration.ghost_portrait`: tune-split pairs of `bench/eval-decisions.ts`).
     */
    ghost_portrait_cosine: number;
    /**
     * Cosine at or above which a stored selfie is the same person as a new one, for the duplicate
     * search (manifest `calibration.duplicate_face`): stricter than face_match, since one search makes a
     * comparison with every stored face.
     */
    duplicate_face_cosine: number;
  };
  calibration: Record<string, unknown>;
  /** Data files the models need (the recogniser's character set). */
  assets?: Record<string, { package: string; file: string; sha256: string }>;
}

export function modelVersions(manifest: ModelManifest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(manifest.models)) out[name] = spec.version;
  return out;
}
