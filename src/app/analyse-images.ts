import type {
  Analysis,
  AnalysedImages,
  AnalysisRequest,
  FaceReport,
  FaceRequest,
} from '../ports/analyser.ts';
import { analyzeFace } from '../pipeline/face/analyze-face.ts';
import { skipped } from '../domain/verification.ts';
import type { StageTimes } from '../pipeline/face/analyze-face.ts';
import type { DecodedImage } from '../pipeline/image/decode.ts';
import type { AppDeps } from './deps.ts';
import {
  analyzeDocumentPortrait,
  analyzeSelfie,
  faceMatchCheck,
  livenessCheck,
  selfieScreenGrid,
} from './face-checks.ts';
import { fraudCheck, ghostPortrait, sideScreenGrid } from './fraud-check.ts';
import type { Box } from '../domain/documents/document-template.ts';
import { oncePerImage } from '../pipeline/image/once-per-image.ts';
import type { RgbImage } from '../pipeline/image/rgb-image.ts';
import { ocrCheck, type OcrOutcome } from './ocr-check.ts';
import { portraitCrop } from '../pipeline/document/portrait-crop.ts';

/** What the image checks need: the models, the line reader, the limits and the policy; no store. */
export type AnalysisDeps = Pick<
  AppDeps,
  'inference' | 'manifest' | 'charset' | 'lineOcr' | 'limits' | 'policy'
>;

/**
 * A verification's image checks (every requested check but `duplicate`, which looks in the store): the
 * selfie, the document portrait and the document text analysed concurrently. Runs wherever its deps are (the main thread for the CLI, an analysis thread in the server).
 * `wantEmbedding`: the selfie is analysed for its embedding even when no face check asks (duplicates).
 */
export async function analyseImages(
  analysisDeps: AnalysisDeps,
  request: AnalysisRequest,
  images: AnalysedImages,
): Promise<Analysis> {
  const deps = { ...analysisDeps, now: () => new Date(request.nowIso) };
  const times: StageTimes = {};
  const wantEmbedding = request.wantEmbedding ?? false;
  const checks: Analysis['checks'] = {};
  const requested = request.checks;
  const wantFace = requested.includes('face_match');
  const wantLive = requested.includes('liveness');
  const wantFraud = requested.includes('fraud');
  // The fraud check reads the document as the ocr check does (located, rectified, template found).
  const wantOcr = requested.includes('ocr') || wantFraud;
  const hasSelfie = images.selfie !== undefined;
  // The selfie, the document portrait and the document text are analysed concurrently, each as soon as
  // its image is decoded.
  const selfieP =
    hasSelfie && (wantFace || wantLive || wantEmbedding)
      ? Promise.resolve(images.selfie!).then(async (d) => {
          const face = await analyzeSelfie(deps, d.image, { liveness: wantLive, grey: wantFace, times });
          // A face shown on a display leaves its subpixel grid around the face (liveness evidence).
          const screenGrid = face && wantLive ? await selfieScreenGrid(d, face) : undefined;
          return face && { ...face, screenGrid };
        })
      : Promise.resolve(undefined);
  const portraitGrey = hasSelfie && wantFace;
  const ocrP =
    wantOcr && images.document_front
      ? Promise.all([images.document_front, images.document_back]).then(([frontPhoto, back]) =>
          ocrCheck(
            deps,
            { front: frontPhoto!, back },
            { documentType: request.documentType, country: request.country },
            // Each side's own work starts once it is prepared, under the declared template, beside the
            // reading of its text (the main thread mostly waits for the inference threads then), after
            // the pending callbacks: the portrait, the ghost portrait, the display grid. The checks below
            // take it if the side and the template are still the ones read; otherwise they compute theirs
            // (oncePerImage; a failure there is the check's to report).
            (name, side, template) =>
              setImmediate(() => {
                const front = name === 'front';
                if (front && template?.portrait?.side === 'front' && (portraitGrey || wantFraud))
                  void portraitOnSide(deps, side.image, template.portrait.box, times, portraitGrey);
                if (front && wantFraud && template?.ghostPortrait?.side === 'front' && side.quad)
                  void ghostPortrait(deps, side.image, template.ghostPortrait.box, times);
                if (wantFraud && side.quad) void sideScreenGrid(deps, side, front ? frontPhoto : back);
              }),
          ),
        )
      : Promise.resolve(undefined);
  // With the document read, the portrait is looked for where its template puts it on the rectified
  // front (MODELS.md: much better than the whole photo); otherwise, or when that finds no face, on the
  // whole photo in its four rotations.
  const templatePortraitP =
    (portraitGrey || wantFraud) && images.document_front
      ? ocrP.then((ocr) => (ocr ? templatePortrait(deps, ocr, times, portraitGrey) : undefined))
      : Promise.resolve(undefined);
  const portraitP =
    hasSelfie && wantFace && images.document_front
      ? Promise.all([images.document_front, templatePortraitP]).then(
          async ([d, fromTemplate]) => fromTemplate ?? analyzeDocumentPortrait(deps, d!.image, times),
        )
      : Promise.resolve(undefined);
  // Document forensics on the rectified card, beside the face match (the main portrait is shared).
  const fraudP = wantFraud
    ? Promise.all([ocrP, templatePortraitP, images.document_front, images.document_back]).then(
        ([ocr, main, front, back]) => fraudCheck(deps, ocr, main, { front, back }, times),
      )
    : Promise.resolve(undefined);
  const [selfie, portrait, ocr, fraud] = await Promise.all([selfieP, portraitP, ocrP, fraudP]);
  if (wantFace)
    checks.face_match = hasSelfie ? faceMatchCheck(deps, selfie, portrait) : skipped('selfie_missing');
  if (wantLive)
    checks.liveness = hasSelfie
      ? livenessCheck(deps, selfie, selfie?.screenGrid, {
          outcome: request.livenessChallenge,
          required: request.requireLivenessChallenge ?? false,
        })
      : skipped('selfie_missing');
  if (ocr && requested.includes('ocr')) checks.ocr = ocr.check;
  if (fraud) checks.fraud = fraud;
  const extracted = requested.includes('ocr') ? ocr?.extracted : undefined;
  return {
    checks,
    ...(extracted ? { extracted } : {}),
    ...(selfie ? { selfieEmbedding: selfie.embedding } : {}),
    times,
  };
}

/** `grey`: the face match will compare it (analyzeDocumentPortrait). */
async function templatePortrait(
  deps: AnalysisDeps,
  ocr: OcrOutcome,
  times: StageTimes | undefined,
  grey: boolean,
) {
  const box = ocr.template?.portrait;
  const front = ocr.front?.image;
  if (!box || box.side !== 'front' || !front) return undefined;
  return portraitOnSide(deps, front, box.box, times, grey);
}

/** The portrait at `box` on a rectified front, read once per side (oncePerImage). */
function portraitOnSide(
  deps: AnalysisDeps,
  front: RgbImage,
  box: Box,
  times: StageTimes | undefined,
  grey: boolean,
) {
  return oncePerImage(front, `portrait ${box.join()} ${grey}`, () =>
    analyzeDocumentPortrait(deps, portraitCrop(front, box), times, grey),
  );
}

/** One photo's face for the face endpoints: found (in four rotations if asked), scored, its display grid. */
export async function analyseFace(
  deps: Pick<AnalysisDeps, 'inference'>,
  request: FaceRequest,
  image: DecodedImage,
): Promise<FaceReport> {
  const face = await analyzeFace(image.image, deps, {
    ...(request.tryRotations ? { tryRotations: true } : {}),
    ...(request.liveness ? { liveness: true } : {}),
  });
  if (!face) return {};
  const screenGrid = request.screenGrid ? await selfieScreenGrid(image, face) : undefined;
  return { face, ...(screenGrid !== undefined ? { screenGrid } : {}) };
}
