import { Type as T, type TSchema } from '@sinclair/typebox';
import { CHECK_NAMES, DOCUMENT_TYPES, VERIFICATION_STATUSES } from '../../domain/verification.ts';

/** Route schemas: the single source of validation and of the OpenAPI document. */
const b64 = (description: string) =>
  T.String({ description: `${description}. Base64, base64url or data URL; JPEG, PNG or WebP.` });
/** A multipart file part: validated by the image decoder, documented as binary. */
const file = (description: string) => T.Unsafe<Buffer>({ 'x-file': true, description });

const Checks = T.Array(T.Union(CHECK_NAMES.map((c) => T.Literal(c))), {
  uniqueItems: true,
  description: 'Checks to run; default ocr, face_match, liveness, fraud.',
});
const Metadata = T.Record(T.String({ maxLength: 64 }), T.Unknown(), {
  description: 'Your own key-values, stored encrypted and echoed back (at most 50 keys, 16 KB).',
  maxProperties: 50,
});
const DocumentTypeField = T.Union(
  DOCUMENT_TYPES.map((d) => T.Literal(d)),
  { description: 'Echoed as sent.' },
);
const Country = T.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2, e.g. MA.' });

export const VerifyJsonBody = T.Object(
  {
    document_front: b64('Front of the document'),
    document_back: T.Optional(b64('Back of the document')),
    selfie: T.Optional(b64('Selfie of the holder')),
    document_type: DocumentTypeField,
    country: Country,
    checks: T.Optional(Checks),
    mode: T.Optional(T.Union([T.Literal('sync'), T.Literal('async')], { default: 'sync' })),
    webhook_url: T.Optional(T.String({ format: 'uri', maxLength: 2048 })),
    metadata: T.Optional(Metadata),
  },
  { additionalProperties: false },
);

export const VerifyMultipartBody = T.Object(
  {
    document_front: file('Front of the document'),
    document_back: T.Optional(file('Back of the document')),
    selfie: T.Optional(file('Selfie of the holder')),
    document_type: DocumentTypeField,
    country: Country,
    checks: T.Optional(T.String({ description: 'Comma-separated names or a JSON array.' })),
    mode: T.Optional(T.Union([T.Literal('sync'), T.Literal('async')])),
    webhook_url: T.Optional(T.String({ format: 'uri', maxLength: 2048 })),
    metadata: T.Optional(T.String({ description: 'A JSON object.', maxLength: 16384 })),
  },
  { additionalProperties: false },
);

export const ExtractJsonBody = T.Object(
  {
    document_front: b64('Front of the document'),
    document_back: T.Optional(b64('Back of the document')),
    document_type: DocumentTypeField,
    country: Country,
  },
  { additionalProperties: false },
);
export const ExtractMultipartBody = T.Object(
  {
    document_front: file('Front of the document'),
    document_back: T.Optional(file('Back of the document')),
    document_type: DocumentTypeField,
    country: Country,
  },
  { additionalProperties: false },
);
export const ExtractResponse = T.Object(
  {
    id: T.String(),
    object: T.Literal('identity.extraction'),
    extracted_data: T.Record(T.String(), T.Unknown()),
    field_confidences: T.Record(T.String(), T.Number()),
    quality_score: T.Number(),
  },
  { additionalProperties: true },
);

export const FaceMatchBody = T.Object(
  { image_1: b64('First face image'), image_2: b64('Second face image') },
  { additionalProperties: false },
);
export const FaceMatchMultipartBody = T.Object(
  { image_1: file('First face image'), image_2: file('Second face image') },
  { additionalProperties: false },
);

export const LivenessBody = T.Object(
  {
    image: b64('Selfie'),
    mode: T.Optional(T.Literal('passive', { description: 'Only passive liveness is offered.' })),
  },
  { additionalProperties: false },
);
export const LivenessMultipartBody = T.Object(
  { image: file('Selfie'), mode: T.Optional(T.Literal('passive')) },
  { additionalProperties: false },
);

const SearchFields = {
  document_number: T.Optional(T.String({ minLength: 4, maxLength: 40, description: 'A document number' })),
  country: T.Optional(
    T.String({
      minLength: 2,
      maxLength: 3,
      description: 'Issuing country of document_number (alpha-2 or alpha-3)',
    }),
  ),
};
export const DuplicateSearchBody = T.Object(
  { ...SearchFields, image: T.Optional(b64('A photo of the face to look for (a selfie)')) },
  { additionalProperties: false },
);
export const DuplicateSearchMultipartBody = T.Object(
  { ...SearchFields, image: T.Optional(file('A photo of the face to look for (a selfie)')) },
  { additionalProperties: false },
);

export const ValidateBody = T.Object(
  {
    image: b64('Image to assess'),
    side: T.Optional(T.Union([T.Literal('front'), T.Literal('back'), T.Literal('selfie')])),
    type: T.Optional(
      T.Union([T.Literal('document'), T.Literal('selfie')], {
        description: 'Default document; selfie adds the face checks.',
      }),
    ),
  },
  { additionalProperties: false },
);
export const ValidateMultipartBody = T.Object(
  {
    image: file('Image to assess'),
    side: T.Optional(T.Union([T.Literal('front'), T.Literal('back'), T.Literal('selfie')])),
    type: T.Optional(T.Union([T.Literal('document'), T.Literal('selfie')])),
  },
  { additionalProperties: false },
);

export const ListQuery = T.Object(
  {
    status: T.Optional(
      T.Union([...VERIFICATION_STATUSES, 'failed', 'manual_review'].map((s) => T.Literal(s))),
    ),
    document_type: T.Optional(T.String({ maxLength: 64 })),
    created_after: T.Optional(T.String({ format: 'date-time' })),
    created_before: T.Optional(T.String({ format: 'date-time' })),
    limit: T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 20 })),
    starting_after: T.Optional(T.String({ maxLength: 64 })),
    ending_before: T.Optional(T.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const IdParams = T.Object({ id: T.String({ maxLength: 64 }) });

// --- Responses (documentation; serialisation is plain JSON) ---
const CheckResult = T.Object(
  {
    status: T.Union(['passed', 'failed', 'skipped', 'error'].map((s) => T.Literal(s))),
    confidence: T.Number({ minimum: 0, maximum: 1 }),
    reason: T.Optional(T.String()),
  },
  { additionalProperties: true },
);
const RiskFactor = T.Object({
  code: T.String(),
  weight: T.Integer(),
  contribution: T.Integer(),
  message: T.Optional(T.String({ description: 'What was seen, in one sentence.' })),
});
const FraudSignal = T.Object({
  code: T.String(),
  severity: T.Union(['low', 'medium', 'high', 'critical'].map((s) => T.Literal(s))),
  message: T.String(),
});
export const Verification = T.Object(
  {
    id: T.String({ examples: ['ver_0a1b2c3d4e5f6g7h8i9j'] }),
    object: T.Literal('identity.verification'),
    created_at: T.String({ format: 'date-time' }),
    updated_at: T.String({ format: 'date-time' }),
    status: T.Union(VERIFICATION_STATUSES.map((s) => T.Literal(s))),
    mode: T.Union([T.Literal('sync'), T.Literal('async')]),
    document_type: T.String(),
    country: T.String(),
    checks_requested: T.Array(T.String()),
    extracted_data: T.Optional(T.Record(T.String(), T.Unknown())),
    checks: T.Record(T.String(), CheckResult),
    risk_score: T.Optional(T.Integer({ minimum: 0, maximum: 1000 })),
    risk_level: T.Optional(T.Union(['low', 'medium', 'high', 'critical'].map((s) => T.Literal(s)))),
    fraud_signals: T.Array(FraudSignal),
    risk_factors: T.Array(RiskFactor),
    metadata: T.Record(T.String(), T.Unknown()),
    model_versions: T.Record(T.String(), T.String()),
    policy_version: T.Optional(T.String()),
  },
  { additionalProperties: true },
);
export const VerificationList = T.Object({
  object: T.Literal('list'),
  data: T.Array(Verification),
  has_more: T.Boolean(),
  total_count: T.Integer(),
});
export const Deleted = T.Object({
  id: T.String(),
  object: T.Literal('verification'),
  deleted: T.Literal(true),
  deleted_at: T.String({ format: 'date-time' }),
  data_key_destroyed: T.Boolean(),
});
export const AuditTrail = T.Object({
  object: T.Literal('identity.audit_trail'),
  verification_id: T.String(),
  deleted: T.Boolean(),
  events: T.Array(
    T.Object({
      id: T.String(),
      timestamp: T.String({ format: 'date-time' }),
      event: T.String(),
      actor: T.String(),
      details: T.Record(T.String(), T.Unknown()),
    }),
  ),
});
export const FaceMatchResponse = T.Object(
  {
    id: T.String(),
    object: T.Literal('identity.face_match'),
    match: T.Boolean(),
    similarity_score: T.Number({ minimum: 0, maximum: 1 }),
    similarity: T.Number({ minimum: 0, maximum: 1 }),
    threshold: T.Number(),
    confidence: T.Number(),
  },
  { additionalProperties: true },
);
export const LivenessResponse = T.Object(
  {
    id: T.String(),
    object: T.Literal('identity.liveness'),
    is_live: T.Boolean(),
    confidence: T.Number(),
    spoof_probability: T.Number(),
    spoof_type: T.Union(['none', 'photo', 'screen', 'mask', 'deepfake'].map((s) => T.Literal(s))),
    signals: T.Array(T.String()),
  },
  { additionalProperties: true },
);
export const ValidateResponse = T.Object(
  {
    id: T.String(),
    object: T.Literal('identity.validation'),
    valid: T.Boolean(),
    quality_score: T.Number(),
    issues: T.Array(T.Object({ code: T.String(), message: T.String(), severity: T.String() })),
    recommendations: T.Array(T.String()),
  },
  { additionalProperties: true },
);
export const ErrorEnvelope = T.Object({
  error: T.Object({
    type: T.String(),
    code: T.String(),
    message: T.String(),
    param: T.Optional(T.String()),
    request_id: T.String(),
    retry_after: T.Optional(T.Integer()),
  }),
});

export function errorResponses(...statuses: number[]): Record<string, TSchema> {
  return Object.fromEntries(
    statuses.map((s) => [String(s), { ...ErrorEnvelope, description: 'Error (see /docs#errors)' }]),
  );
}

export const SupportedDocumentsQuery = T.Object(
  { country: T.Optional(T.String({ minLength: 2, maxLength: 3, pattern: '^[A-Za-z]{2,3}$' })) },
  { additionalProperties: false },
);

export const SupportedDocuments = T.Object({
  object: T.Literal('list'),
  data: T.Array(
    T.Object({
      type: T.String(),
      name: T.String(),
      countries: T.Array(T.String(), { description: 'ISO 3166 alpha-2; "*" for any ICAO issuing state' }),
      sides_required: T.Array(T.String()),
      template_id: T.String(),
      size: T.String({ description: 'ICAO 9303 size: ID1 (cards), ID2, ID3 (passport page)' }),
      mrz_formats: T.Array(T.String()),
      visual_zone_fields: T.Array(T.String()),
      scripts: T.Array(T.String()),
      layout_source: T.String(),
    }),
  ),
});

export const SupportedCountries = T.Object({
  object: T.Literal('list'),
  data: T.Array(
    T.Object({
      code: T.String({ description: 'ISO 3166 alpha-2' }),
      alpha3: T.String(),
      name: T.String(),
      status: T.Union([T.Literal('full_support'), T.Literal('beta'), T.Literal('coming_soon')], {
        description: 'full_support: a template reads the visual zone; beta: ICAO documents read from the MRZ',
      }),
      document_types: T.Array(T.String()),
      templates: T.Array(T.String()),
    }),
  ),
});
