import { round4 } from '../domain/face-match-policy.ts';
import type { CheckResult } from '../domain/verification.ts';
import { ASPECT_BY_SIZE, type Box } from '../domain/documents/document-template.ts';
import { portraitCrop } from '../pipeline/document/portrait-crop.ts';
import { colourSpread } from '../pipeline/fraud/colour-spread.ts';
import { cornerShape } from '../pipeline/fraud/corner-shape.ts';
import { editorIn } from '../pipeline/fraud/editing-software.ts';
import { screenGrid, type ScreenGrid } from '../pipeline/fraud/screen-grid.ts';
import type { PreparedSide } from '../pipeline/document/prepare-side.ts';
import { rectifyDetail } from '../pipeline/document/rectify-detail.ts';
import type { DecodedImage } from '../pipeline/image/decode.ts';
import { pictureCorrelation, placeLandmarks } from '../pipeline/fraud/same-picture.ts';
import { stretchContrast } from '../pipeline/fraud/stretch-contrast.ts';
import { oncePerImage } from '../pipeline/image/once-per-image.ts';
import { blurred, greyRgb, medianFiltered, type RgbImage } from '../pipeline/image/rgb-image.ts';
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
 * portrait (the Moroccan CNIE 2020): the ghost must show the main portrait's person or be its picture
 * printed again; a greyscale printed copy on sides the template says are printed in colour; a screen
 * replay (a display's pixel grid) on every side found in the photo; square corners on ID-1 cards; and an
 * image editor named in the document photos' metadata.
 */
export async function fraudCheck(
  deps: Pick<AppDeps, 'inference' | 'manifest' | 'limits'>,
  ocr: OcrOutcome | undefined,
  mainPortrait: FaceAnalysis | undefined,
  /** The photos the sides were found in (their original detail, for the screen grid). */
  photos: { front?: DecodedImage; back?: DecodedImage },
  times?: StageTimes,
): Promise<CheckResult> {
  const assessments: Record<string, FraudSignalResult> = {
    portrait_substitution: await portraitSubstitution(deps, ocr, mainPortrait, times),
    printed_copy: printedCopy(ocr),
    screen_replay: await screenReplay(deps, ocr, photos),
    square_corners: squareCorners(ocr, photos),
    editing_software: editingSoftware(photos),
  };
  const assessed = Object.entries(assessments).filter(([, s]) => s.assessed);
  const flagged = assessed.filter(([, s]) => s.flagged);
  // API.md's named flags, each from its signal: true or false where it was assessed, null where not.
  const flag = (k: string) => (assessments[k]!.assessed ? Boolean(assessments[k]!.flagged) : null);
  const named = {
    tampering: flag('portrait_substitution'),
    photoshop: flag('editing_software'),
    screen_capture: flag('screen_replay'),
    printed_copy: flag('printed_copy'),
  };
  if (!assessed.length)
    return {
      status: 'skipped',
      confidence: 0,
      reason: 'no_signal_applicable',
      signals: [],
      ...named,
      assessments,
    };
  const worst = Math.max(...assessed.map(([, s]) => s.score ?? 0));
  return {
    status: flagged.length ? 'failed' : 'passed',
    confidence: round4(flagged.length ? worst : 1 - worst),
    ...(flagged.length ? { reason: flagged.map(([k]) => k).join(',') } : {}),
    // TXCloud's FraudCheck: whether any signal found the document altered or recaptured, the flagged
    // signals' codes (the contract's `signals` array), and every signal's assessment.
    tampering_detected: flagged.length > 0,
    signals: flagged.map(([k]) => k),
    ...named,
    assessments,
    model_version: deps.manifest.models.face_embed.version,
  };
}

/** The ghost portrait's crop as read, in turn until a face is found: as it is, then with its grain out. */
const GHOST_READINGS: readonly [string, (img: RgbImage) => Promise<RgbImage>][] = [
  ['none', async (img) => img],
  ['median_5', (img) => medianFiltered(img, 5)],
  ['blur_2', (img) => blurred(img, 2)],
];

/**
 * The ghost-vs-main cosine below which a ghost read only after denoising shows another person. Measured
 * (`bench/eval-decisions.ts`, tune split, 12 cases per cell): ghosts of the holder read after denoising
 * (genuine, tampered-field and screen-replayed cards) 18, from -0.08 to 0.68, 8 of them below the plain
 * threshold 0.22 (those on cards photographed directly, 5, from 0.19); replaced portraits read at -0.21
 * to 0.21 (36), so about half of the replaced portraits whose ghost is found only after denoising are
 * caught at this threshold, and a holder's own ghost is not refused for being blurred.
 */
export const DENOISED_GHOST_COSINE = 0;

/**
 * The ghost portrait of a rectified front, read once per side (oncePerImage: a verification starts it as
 * soon as the front is prepared). In grey: the ghost is printed in one ink, so any colour in its crop is
 * the light's, which the contrast stretch amplifies (on 63 tune cases under the generator's colour casts,
 * genuine ghosts read below the threshold 7 times in colour, 4 in grey; every replaced portrait was still
 * caught). A pale ghost photographed small comes out grainy, and the stretch amplifies the grain until
 * the detector sees no face: the crop is then read again with the grain taken out (a median filter, which
 * keeps the face's edges, then a blur). `denoise` names the reading that found the face; `crop` is the
 * ghost's region as cut from the front, in the coordinates of the face's landmarks.
 */
export function ghostPortrait(
  deps: Pick<AppDeps, 'inference'>,
  front: RgbImage,
  box: Box,
  times?: StageTimes,
): Promise<{ crop: RgbImage; ghost?: FaceAnalysis; denoise?: string }> {
  return oncePerImage(front, `ghost ${box.join()}`, async () => {
    const crop = portraitCrop(front, box);
    for (const [name, prepare] of GHOST_READINGS) {
      const ghost = await analyzeDocumentPortrait(
        deps,
        greyRgb(stretchContrast(await prepare(crop))),
        times,
        false,
      );
      if (ghost) return { crop, ghost, denoise: name };
    }
    return { crop };
  });
}

/**
 * At or above this picture correlation (`pictureCorrelation`), the ghost is the main portrait's picture
 * printed again, whatever the face model says: a ghost photographed small and blurred compares low as a
 * face (genuine cases down to cosine −0.05) but still correlates as a picture. Measured on the tune split
 * (`bench/eval-decisions.ts 20 --kinds genuine,portrait_swap`, 60 of each): genuine ghosts at 0.84 and
 * above where the face compared low, replaced portraits at most 0.75 and 0.62 for all but one; the real
 * DGSN specimen 0.96. Chosen between the two on the tune split only.
 */
export const SAME_PICTURE_CORRELATION = 0.8;
/**
 * Below this picture correlation the ghost is clearly another picture: with faces that compare only
 * loosely (cosine below GHOST_SAME_PERSON_COSINE), a replaced portrait whose look-alike the face model
 * passed (tune replaced portraits up to cosine 0.33, one of them at picture 0.15). Flagged below the
 * reject point: a person looks.
 */
export const OTHER_PICTURE_CORRELATION = 0.6;
/** At or above this ghost-vs-main cosine the faces are plainly one person's, whatever the picture says. */
export const GHOST_SAME_PERSON_COSINE = 0.45;

/**
 * Below this detection score a ghost's face is not trusted (nor is one found only turned, beside an upright
 * main portrait): on faded held-out ghosts the detector's only "faces" were the birth-year digits printed
 * over the ghost (0.75 to 0.87), while the holders' ghosts it found were mostly above 0.93.
 */
export const GHOST_FACE_TRUSTED = 0.9;
/**
 * The score of a replaced portrait seen through weaker evidence (a ghost face not trusted, a look-alike in
 * another picture): below the reject point, it reviews.
 */
const REVIEW_GHOST_SCORE = 0.7;
/** The ghost's picture scale against the main portrait's, searched when its face is not trusted. */
const GHOST_SCALES: readonly [number, number] = [0.25, 0.75];

async function portraitSubstitution(
  deps: Pick<AppDeps, 'inference' | 'manifest'>,
  ocr: OcrOutcome | undefined,
  main: FaceAnalysis | undefined,
  times?: StageTimes,
): Promise<FraudSignalResult> {
  const ghostBox = ocr?.template?.ghostPortrait;
  const mainBox = ocr?.template?.portrait;
  const front = ocr?.front;
  if (!ghostBox || ghostBox.side !== 'front' || !front?.quad)
    return { assessed: false, reason: ghostBox ? 'document_not_located' : 'no_ghost_portrait_on_template' };
  if (!main) return { assessed: false, reason: 'no_main_portrait' };
  const { crop: ghostCrop, ghost, denoise } = await ghostPortrait(deps, front.image, ghostBox.box, times);
  // The pictures are compared where the main portrait's face was found upright on its crop of the
  // rectified front (the main portrait is analysed there).
  const mainView =
    mainBox?.side === 'front' && main.rotation === 0
      ? { image: portraitCrop(front.image, mainBox.box), landmarks5: main.landmarks5 }
      : undefined;
  const trusted =
    ghost !== undefined && ghost.rotation === main.rotation && ghost.box.score >= GHOST_FACE_TRUSTED;
  // The ghost's picture against the main's: aligned through the ghost's own face when it is found upright,
  // else (or when that alignment does not correlate) through the main face placed where it fits the ghost
  // best, when the ghost's face is not trusted.
  let picture =
    mainView && ghost && ghost.rotation === 0
      ? pictureCorrelation({ image: ghostCrop, landmarks5: ghost.landmarks5 }, mainView)
      : undefined;
  let placed = false;
  if (mainView && !trusted && !(picture !== undefined && picture >= SAME_PICTURE_CORRELATION)) {
    const landmarks5 = placeLandmarks(ghostCrop, mainView, GHOST_SCALES);
    const atPlace = landmarks5 && pictureCorrelation({ image: ghostCrop, landmarks5 }, mainView);
    if (atPlace !== undefined && (picture === undefined || atPlace > picture)) {
      picture = atPlace;
      placed = true;
    }
  }
  const samePicture = picture !== undefined && picture >= SAME_PICTURE_CORRELATION;
  const pictureEvidence =
    picture !== undefined
      ? {
          picture_correlation: round4(picture),
          picture_correlation_threshold: SAME_PICTURE_CORRELATION,
          ...(placed ? { picture_aligned_by: 'placement' } : {}),
        }
      : {};
  if (!ghost) {
    // No face found in the ghost: the same picture passes; anything else is for a person to look at.
    if (picture === undefined) return { assessed: false, reason: 'ghost_portrait_not_found' };
    return {
      assessed: true,
      flagged: !samePicture,
      score: round4(samePicture ? 0 : REVIEW_GHOST_SCORE),
      evidence: { ghost_face_found: false, ...pictureEvidence },
    };
  }
  // A ghost read only once its grain was taken out is a blurrier face, whose embedding drifts from its
  // person's: judged at a lower cosine (DENOISED_GHOST_COSINE).
  const threshold =
    denoise === 'none' ? deps.manifest.thresholds.ghost_portrait_cosine : DENOISED_GHOST_COSINE;
  const c = cosine(main.embedding, ghost.embedding);
  // Another person when the faces compare below the threshold and the ghost is not the main portrait's
  // picture printed again. The score grows from 0.5 at the threshold to 1 at 0.2 below it; a ghost that
  // is the same picture scores below 0.5 however low its faces compare, and one whose face is not trusted
  // stays below the reject point (a person looks).
  const byFace =
    c >= threshold ? Math.max(0, 0.5 - (c - threshold)) : Math.min(1, 0.5 + (threshold - c) * 2.5);
  // Faces that compare only loosely beside a ghost that is clearly another picture: a look-alike.
  const otherPicture =
    !samePicture &&
    c >= threshold &&
    c < GHOST_SAME_PERSON_COSINE &&
    picture !== undefined &&
    picture < OTHER_PICTURE_CORRELATION;
  const score = samePicture
    ? Math.min(byFace, 0.49, 0.5 - (picture! - SAME_PICTURE_CORRELATION))
    : otherPicture
      ? REVIEW_GHOST_SCORE
      : trusted
        ? byFace
        : Math.min(byFace, REVIEW_GHOST_SCORE);
  return {
    assessed: true,
    flagged: (c < threshold && !samePicture) || otherPicture,
    score: round4(Math.max(0, score)),
    evidence: {
      cosine: round4(c),
      cosine_threshold: threshold,
      ...pictureEvidence,
      ghost_face_score: round4(ghost.box.score),
      ...(trusted ? {} : { ghost_face_trusted: false }),
      ...(denoise !== 'none' ? { ghost_denoised: denoise } : {}),
    },
  };
}

/**
 * Below this colour spread (`colourSpread`), a side printed in colour is taken for a greyscale copy.
 * Measured (`bench/eval-printed-copy.ts 25`): generated genuine CNIE fronts (their colours those of the
 * DGSN specimen, faded toward the paper by 0.55 to 1.15) under the camera's colour casts, 2 of 75 tune
 * fronts below at their true outline and 1 of 75 through the pipeline's own location, none of the 150
 * held-out ones (least 0.031); the DGSN specimen photographed 75 times, 0.064 at the least; DLC-2021 grey
 * copies at their true outline, 0.013 at the median and 115 of 125 below. Chosen at about 1 % of the tune
 * fronts, on the tune split only (on an earlier draw of their fading; the figures above are a fresh one).
 */
export const PRINTED_COPY_SPREAD = 0.028;
/** How fast the score falls above the threshold: 0 at (1 + 0.5 / PRINTED_COPY_FALL) × the threshold. */
const PRINTED_COPY_FALL = 2.5;

/**
 * Whether a prepared side is the card itself: found in the photo, or a photo cropped to the card (a scan,
 * whose frame has the card's aspect). Anything else would measure the photo (a face, a room), not the card.
 */
export function judgedAsCard(
  side: Pick<PreparedSide, 'quad' | 'image'>,
  size: keyof typeof ASPECT_BY_SIZE,
): boolean {
  if (side.quad) return true;
  const { width, height } = side.image;
  const aspect = Math.max(width, height) / Math.min(width, height);
  return Math.abs(aspect / ASPECT_BY_SIZE[size] - 1) <= 0.05;
}

/**
 * A greyscale printed copy: a side the template prints in colour shows no colour once the light's is taken
 * out. The score is 0.5 at the threshold and reaches 1 at half of it (a copy with almost no colour left);
 * above the threshold it falls to 0 a fifth higher: genuine fronts crowd just above it (their least 0.031
 * held out), and a weight that stayed high there would send them to review on its own.
 */
function printedCopy(ocr: OcrOutcome | undefined): FraudSignalResult {
  const template = ocr?.template;
  if (!template) return { assessed: false, reason: 'document_not_identified' };
  if (!template.colourPrinted?.includes('front'))
    return { assessed: false, reason: 'side_not_printed_in_colour' };
  // Only a card found in the photo and read as one is judged: otherwise the colours measured would be
  // the photo's (a face, a room), not the card's. A photo where no card was found counts as the card when
  // it is cropped to it (a scan): the frame has the card's aspect.
  const front = ocr.front;
  if (!front || !judgedAsCard(front, template.size))
    return { assessed: false, reason: 'document_not_located' };
  if (ocr.check.status !== 'passed' && ocr.check.status !== 'failed')
    return { assessed: false, reason: 'document_not_read' };
  const measured = colourSpread(front.image);
  if (!measured) return { assessed: false, reason: 'too_little_usable_colour' };
  const t = PRINTED_COPY_SPREAD;
  const s = measured.spread;
  const score = s < t ? Math.min(1, 0.5 + (t - s) / t) : Math.max(0, 0.5 - ((s - t) / t) * PRINTED_COPY_FALL);
  return {
    assessed: true,
    flagged: s < t,
    score: round4(score),
    evidence: {
      side: 'front',
      colour_spread: round4(s),
      colour_spread_threshold: t,
      // Where colour was found: each cell of a 6 × 4 grid over the card, row by row (null: unusable).
      colour_grid: measured.grid.map((v) => (Number.isNaN(v) ? null : round4(v))),
    },
  };
}

/**
 * Square corners on an ID-1 card (`cornerShape`): judged on each side found in the photo of a document read
 * as an ID-1 card (a wrong outline, a block of fields inside the card, would read square: a card that was
 * not read is not judged). Flagged when a side's corners read square and no side's read clearly rounded
 * (the sides are one card); the score is 0.5 plus half the share
 * of that side's judged corners that read square (0.5 times that share when not flagged). Measured in
 * `bench/eval-corners.ts` (generated CNIE fronts and backs, genuine, printed and on screens, tune and
 * held-out; DLC-2021's real grey copies, some cut square, some round).
 */
function squareCorners(
  ocr: OcrOutcome | undefined,
  photos: { front?: DecodedImage; back?: DecodedImage },
): FraudSignalResult {
  const template = ocr?.template;
  if (!template) return { assessed: false, reason: 'document_not_identified' };
  if (template.size !== 'ID1') return { assessed: false, reason: 'not_an_id1_card' };
  if (ocr.check.status !== 'passed' && ocr.check.status !== 'failed')
    return { assessed: false, reason: 'document_not_read' };
  const sides = (
    [
      ['front', ocr.front, photos.front],
      ['back', ocr.back, photos.back],
    ] as const
  ).flatMap(([side, s, photo]) => {
    const shape = s?.quad && photo ? cornerShape(photo.image, s.quad.corners) : undefined;
    return shape ? [{ side, shape }] : [];
  });
  if (!sides.length) return { assessed: false, reason: 'corners_not_seen' };
  const squareShare = (x: (typeof sides)[number]) => 1 - x.shape.rounded / x.shape.judged;
  const worst = [...sides].sort(
    (a, b) => Number(b.shape.square) - Number(a.shape.square) || squareShare(b) - squareShare(a),
  )[0]!;
  // Front and back are one card: a side whose corners read clearly rounded vouches for the other (a side
  // read square beside it is a blurred corner or an outline found a little off, as on two genuine cards
  // of 216 held-out cases).
  const vouched = sides.some((x) => x.shape.round);
  const flagged = worst.shape.square && !vouched;
  return {
    assessed: true,
    flagged,
    score: round4(flagged ? 0.5 + 0.5 * squareShare(worst) : vouched ? 0 : 0.5 * squareShare(worst)),
    evidence: {
      side: worst.side,
      // Per side: each corner's share read as background where a rounded corner leaves it uncovered
      // (TL, TR, BR, BL of the outline as photographed; null: not judged), and the ISO radius in pixels.
      sides: Object.fromEntries(
        sides.map(({ side, shape }) => [
          side,
          {
            corners: shape.corners.map((v) => (v === null ? null : round4(v))),
            rounded: shape.rounded,
            judged: shape.judged,
            square: shape.square,
            round: shape.round,
            radius_px: round4(shape.radius_px),
          },
        ]),
      ),
    },
  };
}

/**
 * An image editor named in a document photo's metadata (EXIF Software, XMP CreatorTool or history): the
 * photo was saved by Photoshop, GIMP or a retouching app rather than by a camera. Photos without metadata
 * (stripped by the app or the browser, as most are) are not assessed: absence proves nothing.
 */
function editingSoftware(photos: { front?: DecodedImage; back?: DecodedImage }): FraudSignalResult {
  const withMeta = (['front', 'back'] as const).flatMap((side) =>
    photos[side]?.metadata.present ? [{ side, software: photos[side].metadata.software }] : [],
  );
  if (!withMeta.length) return { assessed: false, reason: 'no_metadata' };
  const edited = withMeta
    .map((r) => ({ side: r.side, editor: editorIn(r.software) }))
    .find((r) => r.editor !== undefined);
  return {
    assessed: true,
    flagged: Boolean(edited),
    score: edited ? 0.9 : 0,
    evidence: {
      ...(edited ? { side: edited.side, editor: edited.editor } : {}),
      software: Object.fromEntries(withMeta.map((r) => [r.side, r.software])),
    },
  };
}

/**
 * At this screen-grid score (`screenGrid`) a side is taken for a picture on a display. Measured
 * (`bench/eval-screen-replay.ts`, 5 seeds per difficulty, half the photos at a phone camera's own size):
 * generated genuine cases at most 4.9 (30 cases, front and back); the real passport, ID and visa images
 * of ../shared/data/documents at most 5.5 but one, a blurred Latvian passport photo at 14.7 (41 images);
 * generated screen replays flagged 7 of 15 on the tune split and 7 of 15 held out (median 7.0 and 6.0;
 * the others, mostly blurred or downsized by the app, keep no grid).
 */
export const SCREEN_GRID_SCORE = 8;

/**
 * A screen replay: a display's subpixel grid left on the document as a colour pattern. Judged on each side
 * found in the photo (a photo where no card was found would be judged on its background); the score is
 * 0.5 at the threshold and 1 at twice it. The evidence names the side, the pattern's period and direction.
 */
async function screenReplay(
  deps: Pick<AppDeps, 'limits'>,
  ocr: OcrOutcome | undefined,
  photos: { front?: DecodedImage; back?: DecodedImage },
): Promise<FraudSignalResult> {
  const sides = (
    [
      ['front', ocr?.front, photos.front],
      ['back', ocr?.back, photos.back],
    ] as const
  ).filter(([, s]) => s?.quad);
  if (!sides.length) return { assessed: false, reason: 'document_not_located' };
  const measured = (
    await Promise.all(
      sides.map(async ([side, s, photo]) => ({ side, ...(await sideScreenGrid(deps, s!, photo)) })),
    )
  )
    .filter((m) => m.grid !== undefined)
    .sort((a, b) => b.grid!.score - a.grid!.score);
  const worst = measured[0];
  if (!worst) return { assessed: false, reason: 'document_too_small' };
  const g = worst.grid!;
  const t = SCREEN_GRID_SCORE;
  return {
    assessed: true,
    flagged: g.score >= t,
    score: round4(Math.min(1, (0.5 * g.score) / t)),
    evidence: {
      side: worst.side,
      resolution: worst.resolution,
      grid_score: round4(g.score),
      grid_score_threshold: t,
      phase_deg: Math.round(g.phaseDeg),
      period_px: round4(g.periodPx),
      angle_deg: Math.round(g.angleDeg),
    },
  };
}

/**
 * One located side's screen grid, from the original photo where it is larger than the working copy (a
 * phone camera resolves the subpixel stripes that the working copy averages away), else from the side as
 * rectified for reading.
 */
export function sideScreenGrid(
  deps: Pick<AppDeps, 'limits'>,
  side: PreparedSide,
  photo: DecodedImage | undefined,
): Promise<{ resolution: 'original' | 'working'; grid: ScreenGrid | undefined }> {
  // Once per side (a verification starts it as soon as the side is prepared).
  return oncePerImage(side.image, `screen grid ${photo ? 'photo' : 'side'}`, async () => {
    const detail =
      photo && side.quad
        ? await rectifyDetail(photo.bytes, side.quad.corners, photo.scale, deps.limits).catch(() => undefined)
        : undefined;
    return { resolution: detail ? 'original' : 'working', grid: screenGrid(detail ?? side.image) } as const;
  });
}
