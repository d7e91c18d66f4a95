import { round4 } from '../domain/face-match-policy.ts';
import type { CheckResult } from '../domain/verification.ts';
import { portraitCrop } from '../pipeline/document/portrait-crop.ts';
import { stretchContrast } from '../pipeline/fraud/stretch-contrast.ts';
import { cosine } from '../pipeline/face/embed.ts';
import type { FaceAnalysis, StageTimes } from '../pipeline/face/analyze-face.ts';
import type { AppDeps } from './deps.ts';
import { analyzeDocumentPortrait } from './face-checks.ts';
import type { OcrOutcome } from './ocr-check.ts';

export interface FraudSignalResult {
  assessed: boolean;
  flagged?: boolean;
  /** 0..1, how sure the signal is that the document was tampered with or recaptured. */
  score?: number;
  reason?: string;
  evidence?: Record<string, unknown>;
}

/**
 * The `fraud` check: forensic signals on the rectified document, each assessed where it applies and
 * reported with its evidence. This slice assesses portrait substitution on cards that print a ghost
 * portrait (the Moroccan CNIE 2020): the ghost must show the main portrait's person. Recapture (printed
 * copies, screens) is not assessed yet and says so.
 */
export async function fraudCheck(
  deps: Pick<AppDeps, 'inference' | 'manifest'>,
  ocr: OcrOutcome | undefined,
  mainPortrait: FaceAnalysis | undefined,
  times?: StageTimes,
): Promise<CheckResult> {
  const assessments: Record<string, FraudSignalResult> = {
    portrait_substitution: await portraitSubstitution(deps, ocr, mainPortrait, times),
    printed_copy: { assessed: false, reason: 'not_built' },
    screen_replay: { assessed: false, reason: 'not_built' },
  };
  const assessed = Object.entries(assessments).filter(([, s]) => s.assessed);
  const flagged = assessed.filter(([, s]) => s.flagged);
  if (!assessed.length)
    return { status: 'skipped', confidence: 0, reason: 'no_signal_applicable', signals: [], assessments };
  const worst = Math.max(...assessed.map(([, s]) => s.score ?? 0));
  return {
    status: flagged.length ? 'failed' : 'passed',
    confidence: round4(flagged.length ? worst : 1 - worst),
    ...(flagged.length ? { reason: flagged.map(([k]) => k).join(',') } : {}),
    // The flagged signals' codes (the contract's `signals` array), and every signal's assessment.
    signals: flagged.map(([k]) => k),
    assessments,
    model_version: deps.manifest.models.face_embed.version,
  };
}

async function portraitSubstitution(
  deps: Pick<AppDeps, 'inference' | 'manifest'>,
  ocr: OcrOutcome | undefined,
  main: FaceAnalysis | undefined,
  times?: StageTimes,
): Promise<FraudSignalResult> {
  const ghostBox = ocr?.template?.ghostPortrait;
  const front = ocr?.front;
  if (!ghostBox || ghostBox.side !== 'front' || !front?.quad)
    return { assessed: false, reason: ghostBox ? 'document_not_located' : 'no_ghost_portrait_on_template' };
  if (!main) return { assessed: false, reason: 'no_main_portrait' };
  const ghost = await analyzeDocumentPortrait(
    deps,
    stretchContrast(portraitCrop(front.image, ghostBox.box)),
    times,
  );
  if (!ghost) return { assessed: false, reason: 'ghost_portrait_not_found' };
  const threshold = deps.manifest.thresholds.ghost_portrait_cosine;
  const c = cosine(main.embedding, ghost.embedding);
  // Below the threshold: two people. The score grows from 0.5 at the threshold to 1 at 0.2 below it.
  const score =
    c >= threshold ? Math.max(0, 0.5 - (c - threshold)) : Math.min(1, 0.5 + (threshold - c) * 2.5);
  return {
    assessed: true,
    flagged: c < threshold,
    score: round4(score),
    evidence: { cosine: round4(c), cosine_threshold: threshold, ghost_face_score: round4(ghost.box.score) },
  };
}
