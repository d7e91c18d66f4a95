import { Type as T } from '@sinclair/typebox';

/**
 * deepidv's shapes, written from its published page (`seeds/deepidv-verify-identity.txt`) and API.md's
 * summary of the other endpoints. The contract tests validate every answer of this dialect against
 * them. The blocks of /identity/verify allow one field beyond the page, `error`, where a part failed
 * (the page says failures are reported in-band without naming the field).
 */
const Strict = { additionalProperties: false } as const;
const Percent = T.Number({ minimum: 0, maximum: 100 });
const Unit = T.Number({ minimum: 0, maximum: 1 });
const Iso = T.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

const DocumentFields = {
  documentType: T.String(),
  fullName: T.Optional(T.String()),
  firstName: T.Optional(T.String()),
  lastName: T.Optional(T.String()),
  dateOfBirth: T.Optional(Iso),
  gender: T.Optional(T.String()),
  nationality: T.Optional(T.String()),
  documentNumber: T.Optional(T.String()),
  expirationDate: T.Optional(Iso),
  issuingCountry: T.Optional(T.String()),
  address: T.Optional(T.String()),
};

export const DeepidvVerifyResult = T.Object(
  {
    verified: T.Boolean(),
    document: T.Object({ ...DocumentFields, confidence: Percent, error: T.Optional(T.String()) }, Strict),
    faceDetection: T.Object(
      { faceDetected: T.Boolean(), confidence: Percent, error: T.Optional(T.String()) },
      Strict,
    ),
    faceMatch: T.Object(
      { isMatch: T.Boolean(), confidence: Percent, threshold: Percent, error: T.Optional(T.String()) },
      Strict,
    ),
    overallConfidence: Percent,
  },
  Strict,
);

export const DeepidvScanResult = T.Object(
  {
    ...DocumentFields,
    confidence: Unit,
    mrzData: T.Union([
      T.Null(),
      T.Object(
        { raw: T.String(), lines: T.Array(T.String()), format: T.String(), checkDigitsValid: T.Boolean() },
        Strict,
      ),
    ]),
    rawFields: T.Record(T.String(), T.Unknown()),
    fieldConfidences: T.Record(T.String(), Unit),
    error: T.Optional(T.String()),
  },
  Strict,
);

export const DeepidvFaceDetectResult = T.Object(
  {
    faceDetected: T.Boolean(),
    confidence: Unit,
    boundingBox: T.Union([T.Null(), T.Object({ top: Unit, left: Unit, width: Unit, height: Unit }, Strict)]),
    landmarks: T.Array(T.Object({ type: T.String(), x: T.Number(), y: T.Number() }, Strict)),
    facesDetected: T.Optional(T.Integer({ minimum: 1 })),
  },
  Strict,
);

export const DeepidvFaceCompareResult = T.Object(
  {
    isMatch: T.Boolean(),
    confidence: Percent,
    threshold: Percent,
    sourceFaceDetected: T.Boolean(),
    targetFaceDetected: T.Boolean(),
  },
  Strict,
);

export const DeepidvPresignResult = T.Object(
  {
    uploads: T.Array(
      T.Object(
        {
          uploadUrl: T.String({ format: 'uri' }),
          fileKey: T.String(),
          expiresAt: T.String({ format: 'date-time' }),
        },
        Strict,
      ),
      { minItems: 1 },
    ),
  },
  Strict,
);

export const DeepidvError = T.Object({ error: T.String({ minLength: 1 }) }, Strict);
