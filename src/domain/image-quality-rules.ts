/**
 * Image-quality rules shared by POST /v1/identity/validate and (later) the capture page's hints.
 * Thresholds are on the measures computed by pipeline/image/quality.ts.
 */
export interface QualityMeasures {
  width: number;
  height: number;
  /** Variance of the Laplacian of the luma at a 640-px working size. */
  sharpness: number;
  /** Mean luma 0..255. */
  brightness: number;
  /** Share of pixels at luma ≥ 250. */
  overexposedRatio: number;
  /** Share of pixels at luma ≤ 8. */
  underexposedRatio: number;
  /** Share of pixels in small saturated specular blobs (near-white, low saturation) */
  glareRatio: number;
  /** Faces found (selfies only). */
  faces?: number;
  /** Face box height / image height. */
  faceHeightRatio?: number;
}

export type ImageKind = 'document' | 'selfie';

export interface QualityIssue {
  code: string;
  message: string;
  severity: 'low' | 'medium' | 'high';
}

/**
 * Every threshold in one object: the server applies them here and the capture page receives the same
 * object (GET /capture/assets/quality-rules.json) to give the same hints before upload.
 */
export const QUALITY_THRESHOLDS = {
  // Minimum sides: a TD1 card needs ~600 px across for its 30-character MRZ lines (≈ 15 px per glyph).
  minLongSide: { document: 600, selfie: 320 },
  minShortSide: { document: 400, selfie: 240 },
  // Variance-of-Laplacian at 640 px: sharp phone photos measure 150-2000; below 40 text is unreadable.
  blurHigh: 25,
  blurMedium: 60,
  darkBrightness: 50,
  darkUnderexposedRatio: 0.35,
  brightBrightness: 220,
  brightOverexposedRatio: 0.3,
  glareMedium: 0.02,
  glareHigh: 0.06,
  minFaceHeightRatio: 0.15,
  /** Working size of the measures. */
  workSide: 640,
} as const;
const T = QUALITY_THRESHOLDS;
const MIN_LONG_SIDE = T.minLongSide;
const MIN_SHORT_SIDE = T.minShortSide;
const BLUR_HIGH = T.blurHigh;
const BLUR_MEDIUM = T.blurMedium;

export function assessQuality(
  m: QualityMeasures,
  kind: ImageKind,
): { issues: QualityIssue[]; score: number } {
  const issues: QualityIssue[] = [];
  const long = Math.max(m.width, m.height);
  const short = Math.min(m.width, m.height);
  if (long < MIN_LONG_SIDE[kind] || short < MIN_SHORT_SIDE[kind]) {
    issues.push({
      code: 'low_resolution',
      message: `The image is ${m.width}×${m.height}; at least ${MIN_LONG_SIDE[kind]}×${MIN_SHORT_SIDE[kind]} is needed.`,
      severity: 'high',
    });
  }
  if (m.sharpness < BLUR_HIGH)
    issues.push({ code: 'blurry', message: 'The image is blurry.', severity: 'high' });
  else if (m.sharpness < BLUR_MEDIUM)
    issues.push({ code: 'slightly_blurry', message: 'The image is slightly blurry.', severity: 'medium' });
  if (m.brightness < T.darkBrightness || m.underexposedRatio > T.darkUnderexposedRatio)
    issues.push({ code: 'too_dark', message: 'The image is too dark.', severity: 'high' });
  else if (m.brightness > T.brightBrightness || m.overexposedRatio > T.brightOverexposedRatio)
    issues.push({ code: 'overexposed', message: 'The image is overexposed.', severity: 'high' });
  if (m.glareRatio > T.glareMedium && kind === 'document')
    issues.push({
      code: 'glare',
      message: 'Glare or reflections cover part of the document.',
      severity: m.glareRatio > T.glareHigh ? 'high' : 'medium',
    });
  if (kind === 'selfie') {
    if ((m.faces ?? 0) === 0)
      issues.push({ code: 'no_face', message: 'No face was found.', severity: 'high' });
    else if ((m.faces ?? 0) > 1)
      issues.push({ code: 'multiple_faces', message: 'More than one face is visible.', severity: 'medium' });
    if ((m.faces ?? 0) > 0 && (m.faceHeightRatio ?? 1) < T.minFaceHeightRatio)
      issues.push({
        code: 'face_too_small',
        message: 'The face is too small in the frame.',
        severity: 'medium',
      });
  }
  const penalty = { low: 0.05, medium: 0.15, high: 0.35 } as const;
  const score = Math.max(0, 1 - issues.reduce((s, i) => s + penalty[i.severity], 0));
  return { issues, score: Math.round(score * 100) / 100 };
}

export const RECOMMENDATIONS: Record<string, string> = {
  low_resolution: 'Move closer or use a higher camera resolution so the document fills the frame.',
  blurry: 'Hold the phone steady and let the camera focus before taking the photo.',
  slightly_blurry: 'Hold the phone steady and let the camera focus before taking the photo.',
  too_dark: 'Take the photo in a brighter place.',
  overexposed: 'Avoid direct light on the document; move away from the window or lamp.',
  glare: 'Tilt the document slightly to remove reflections.',
  no_face: 'Make sure your face is fully visible and centred.',
  multiple_faces: 'Make sure only your face is in the frame.',
  face_too_small: 'Move the camera closer so your face fills the oval.',
};
