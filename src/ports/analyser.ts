import type { ChallengeOutcome } from '../domain/liveness-challenge.ts';
import type { CheckName, CheckResult } from '../domain/verification.ts';
import type { FaceAnalysis, StageTimes } from '../pipeline/face/analyze-face.ts';
import type { DecodedImage } from '../pipeline/image/decode.ts';

/** A verification's decoded images, by field. */
export type AnalysedImages = Partial<Record<'document_front' | 'document_back' | 'selfie', DecodedImage>>;

/** What the images are asked: the checks that look at pixels (every one but `duplicate`). */
export interface AnalysisRequest {
  checks: CheckName[];
  documentType: string;
  country: string;
  /** The head-turn challenge answered on the capture page, if any. */
  livenessChallenge?: ChallengeOutcome;
  /** Whether liveness needs a passed head-turn challenge (the tenant's `liveness.require_challenge`). */
  requireLivenessChallenge?: boolean;
  /** The clock the checks read (a document's expiry, an age), as the caller's `now` gives it. */
  nowIso: string;
  /** Analyse the selfie for its embedding even when no face check asks (the duplicate check's face index). */
  wantEmbedding?: boolean;
}

export interface Analysis {
  checks: Partial<Record<CheckName, CheckResult>>;
  extracted?: Record<string, unknown>;
  /** The selfie face's embedding, when a face was found in it (the duplicate check looks it up). */
  selfieEmbedding?: Float32Array;
  /** Milliseconds spent per face stage, summed. */
  times: StageTimes;
}

/** One photo's face, for the face endpoints (compare, passive liveness). */
export interface FaceRequest {
  /** Try the four right-angle rotations when no face is found upright. */
  tryRotations?: boolean;
  /** Score the face with the liveness model. */
  liveness?: boolean;
  /** Measure a display's subpixel grid around the face (liveness evidence). */
  screenGrid?: boolean;
}

export interface FaceReport {
  /** The most confident face; absent when none was found. */
  face?: FaceAnalysis;
  screenGrid?: number;
}

/**
 * Runs a verification's image checks: in this thread (the CLI, tests) or on analysis threads, so that the
 * main thread, which answers HTTP, never runs pixel loops (adapters/analysis-thread).
 */
export interface Analyser {
  analyse(request: AnalysisRequest, images: AnalysedImages): Promise<Analysis>;
  /** One photo's face (its own image, decoded). */
  face(request: FaceRequest, image: DecodedImage): Promise<FaceReport>;
  close(): Promise<void>;
}
