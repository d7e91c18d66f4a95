import { assessQuality, RECOMMENDATIONS, type ImageKind } from '../domain/image-quality-rules.ts';
import { HuwiyaError } from '../domain/errors.ts';
import { round4 } from '../domain/face-match-policy.ts';
import { detectFaces } from '../pipeline/face/detect.ts';
import { detectLandmarks, fivePoints } from '../pipeline/face/landmarks.ts';
import { decodeImage, type DecodedImage } from '../pipeline/image/decode.ts';
import { measureQuality } from '../pipeline/image/quality.ts';
import type { AppDeps } from './deps.ts';
import { faceMatchCheck, faceModelVersions, livenessCheck } from './face-checks.ts';
import { newId } from './ids.ts';
import { runAdmitted } from './admission.ts';

/** POST /identity/face-match: two images, stateless (nothing is stored). */
export async function matchFaces(deps: AppDeps, image1: Uint8Array, image2: Uint8Array) {
  return runAdmitted(deps, () => matchFacesUnbounded(deps, image1, image2));
}

/**
 * Two images, their best faces (each tried in four rotations) and the match decision when both have
 * one: a face not found is data here (`undefined`), for the callers that report it in-band.
 */
export async function compareFaceImages(
  deps: AppDeps,
  images: [{ bytes: Uint8Array; param: string }, { bytes: Uint8Array; param: string }],
) {
  return runAdmitted(deps, async () => {
    const [a, b] = await Promise.all(images.map((i) => decodeImage(i.bytes, i.param, deps.limits)));
    const [fa, fb] = (
      await Promise.all([a!, b!].map((d) => deps.analyser.face({ tryRotations: true }, d)))
    ).map((r) => r.face);
    return { first: fa, second: fb, check: fa && fb ? faceMatchCheck(deps, fa, fb, 'photos') : undefined };
  });
}

async function matchFacesUnbounded(deps: AppDeps, image1: Uint8Array, image2: Uint8Array) {
  const [a, b] = [
    await decodeImage(image1, 'image_1', deps.limits),
    await decodeImage(image2, 'image_2', deps.limits),
  ];
  const { face: fa } = await deps.analyser.face({ tryRotations: true }, a);
  if (!fa) throw new HuwiyaError('face_not_found', 'No face was found in image_1.', { param: 'image_1' });
  const { face: fb } = await deps.analyser.face({ tryRotations: true }, b);
  if (!fb) throw new HuwiyaError('face_not_found', 'No face was found in image_2.', { param: 'image_2' });
  const check = faceMatchCheck(deps, fa, fb, 'photos');
  return {
    id: newId('fm'),
    object: 'identity.face_match',
    match: check.match as boolean,
    similarity_score: check.similarity_score as number,
    similarity: check.similarity as number,
    threshold: check.threshold as number,
    confidence: check.confidence,
    evidence: check.evidence,
    model_versions: faceModelVersions(deps),
  };
}

/**
 * The most confident face of an upright photo: its box and five landmarks as shares of the image's
 * width and height, and the detector's score; undefined when there is none.
 */
export async function locateFace(deps: AppDeps, image: Uint8Array, param: string) {
  return runAdmitted(deps, async () => {
    const d = await decodeImage(image, param, deps.limits);
    const faces = await detectFaces(d.image, deps);
    const best = faces[0];
    if (!best) return undefined;
    const five = fivePoints(await detectLandmarks(d.image, best, deps));
    const { width, height } = d.image;
    return {
      score: best.score,
      facesFound: faces.length,
      box: {
        left: best.x / width,
        top: best.y / height,
        width: best.width / width,
        height: best.height / height,
      },
      landmarks: five.map((p) => ({ x: p.x / width, y: p.y / height })),
    };
  });
}

/** POST /identity/liveness (passive, one image). */
export async function checkLiveness(deps: AppDeps, image: Uint8Array) {
  return runAdmitted(deps, () => checkLivenessUnbounded(deps, image));
}

async function checkLivenessUnbounded(deps: AppDeps, image: Uint8Array) {
  const d = await decodeImage(image, 'image', deps.limits);
  // Found and scored on an analysis thread, with the display grid around it (an FFT the main thread,
  // which answers HTTP, should not run).
  const { face, screenGrid } = await deps.analyser.face({ liveness: true, screenGrid: true }, d);
  if (!face) throw new HuwiyaError('face_not_found', 'No face was found in image.', { param: 'image' });
  const c = livenessCheck(deps, face, screenGrid);
  // Uncertain is not live, and not an attack either: its own signal (the selfie's model score sits in the
  // manifest's review band).
  const signals: string[] = c.is_live
    ? []
    : [c.reason === 'uncertain' ? 'liveness_uncertain' : 'presentation_attack_suspected'];
  if (face.facesFound > 1) signals.push('multiple_faces');
  return {
    id: newId('lv'),
    object: 'identity.liveness',
    mode: 'passive',
    is_live: c.is_live as boolean,
    confidence: c.confidence,
    spoof_probability: c.spoof_probability as number,
    spoof_type: c.spoof_type as string,
    quality_score: c.quality_score as number,
    signals,
    evidence: c.evidence,
    model_versions: faceModelVersions(deps),
  };
}

/** POST /identity/validate: resolution, blur, exposure, glare; face presence for selfies. */
export async function validateImage(deps: AppDeps, image: Uint8Array, kind: ImageKind, side?: string) {
  return runAdmitted(deps, () => validateImageUnbounded(deps, image, kind, side));
}

/**
 * Quality measures and issues of one decoded image by the rules of domain/image-quality-rules.ts: the
 * one grading behind POST /validate, session uploads and extraction.
 */
export async function gradeImage(deps: Pick<AppDeps, 'inference'>, d: DecodedImage, kind: ImageKind) {
  const measures = await measureQuality(d.image, { width: d.originalWidth, height: d.originalHeight });
  let faces: number | undefined;
  let faceHeightRatio: number | undefined;
  if (kind === 'selfie') {
    const boxes = await detectFaces(d.image, deps);
    faces = boxes.length;
    faceHeightRatio = boxes[0] ? round4(boxes[0].height / d.image.height) : undefined;
  }
  const { issues, score } = assessQuality({ ...measures, faces, faceHeightRatio }, kind);
  return { measures: { ...measures, faces, faceHeightRatio }, issues, score };
}

async function validateImageUnbounded(deps: AppDeps, image: Uint8Array, kind: ImageKind, side?: string) {
  const d = await decodeImage(image, 'image', deps.limits);
  const { measures, issues, score } = await gradeImage(deps, d, kind);
  return {
    id: newId('val'),
    object: 'identity.validation',
    type: kind,
    side,
    valid: !issues.some((i) => i.severity === 'high'),
    quality_score: score,
    issues,
    recommendations: [...new Set(issues.map((i) => RECOMMENDATIONS[i.code]).filter((r): r is string => !!r))],
    measures: {
      ...measures,
      overexposedRatio: round4(measures.overexposedRatio),
      underexposedRatio: round4(measures.underexposedRatio),
      glareRatio: round4(measures.glareRatio),
    },
  };
}

/** POST /identity/extract: the document's data without face checks; nothing is stored. */
export async function extractDocument(
  deps: AppDeps,
  input: { front: Uint8Array; back?: Uint8Array; documentType: string; country: string },
) {
  return runAdmitted(deps, async () => {
    const [front, back] = await Promise.all([
      decodeImage(input.front, 'document_front', deps.limits),
      input.back ? decodeImage(input.back, 'document_back', deps.limits) : Promise.resolve(undefined),
    ]);
    const { score } = await gradeImage(deps, front, 'document');
    // Read on an analysis thread, as a verification's ocr check is.
    const ocr = await deps.analyser.analyse(
      {
        checks: ['ocr'],
        documentType: input.documentType,
        country: input.country,
        nowIso: deps.now().toISOString(),
      },
      { document_front: front, ...(back ? { document_back: back } : {}) },
    );
    const check = ocr.checks.ocr;
    // Asked with a front, the analysis always answers the ocr check.
    if (!check) throw new Error('the ocr check was not answered');
    const extracted = ocr.extracted ?? {};
    return {
      id: newId('ext'),
      object: 'identity.extraction',
      document_type: input.documentType,
      country: input.country,
      extracted_data: extracted,
      field_confidences: (extracted.field_confidences as Record<string, number> | undefined) ?? {},
      quality_score: score,
      checks: { ocr: check },
      model_versions: faceModelVersions(deps),
    };
  });
}
