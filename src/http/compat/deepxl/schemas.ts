import { Type as T } from '@sinclair/typebox';

/**
 * DeepXL's shapes, written from its published page (`seeds/deepxl-verification.txt`): the contract tests
 * validate every answer of this dialect against them, extra fields refused, so the shape stays the
 * seed's exactly.
 */
const Strict = { additionalProperties: false } as const;

const TechnicalCheck = T.Object(
  {
    type: T.Union(['FACE_MATCH', 'LIVENESS', 'ID_QUALITY', 'DOCUMENT_FRAUD'].map((v) => T.Literal(v))),
    status: T.Union([T.Literal('PASS'), T.Literal('FAIL')]),
    confidence: T.Number({ minimum: 0, maximum: 1 }),
    details: T.String(),
  },
  Strict,
);

const FileRef = T.Object(
  {
    category: T.Union([T.Literal('id'), T.Literal('face')]),
    fileName: T.String({ minLength: 1 }),
    fileSize: T.Integer({ minimum: 0 }),
    contentType: T.String(),
    timestamp: T.Integer(),
    timestampISO: T.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}$' }),
    url: T.String({ format: 'uri' }),
  },
  Strict,
);

export const DeepxlVerification = T.Object(
  {
    verificationId: T.Integer({ minimum: 1 }),
    idFileType: T.String(),
    idFileName: T.String(),
    idFileSize: T.Integer({ minimum: 0 }),
    selfieFileType: T.Optional(T.String()),
    selfieFileName: T.Optional(T.String()),
    selfieFileSize: T.Optional(T.Integer({ minimum: 0 })),
    model: T.Literal('verification'),
    modelVersion: T.String(),
    verified: T.Boolean(),
    modelResults: T.Object({ technicalChecks: T.Array(TechnicalCheck) }, Strict),
    timestamp: T.Integer({ description: 'Unix seconds' }),
    timestampISO: T.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}$' }),
    tags: T.Array(T.Object({ name: T.String(), value: T.String() }, Strict)),
    files: T.Array(FileRef),
  },
  Strict,
);

export const DeepxlResult = T.Object({ result: DeepxlVerification }, Strict);

export const DeepxlList = T.Object(
  {
    totalCount: T.Integer({ minimum: 0 }),
    count: T.Integer({ minimum: 0 }),
    data: T.Array(DeepxlVerification),
  },
  Strict,
);

export const DeepxlError = T.Object(
  { statusCode: T.Integer(), error: T.String(), message: T.String() },
  Strict,
);

export const DeepxlVerifyBody = T.Object(
  {
    idFile: T.Unsafe<Buffer>({
      'x-file': true,
      description: 'The ID document: JPEG, PNG or WebP (PDF: 415).',
    }),
    selfieFile: T.Unsafe<Buffer>({ 'x-file': true, description: 'A selfie of the holder.' }),
    tags: T.Optional(
      T.String({
        description:
          'A JSON object of key-value pairs (strings, numbers or booleans), e.g. {"customerId":"9999"}; filter lists by them with tagFilter=key=value.',
      }),
    ),
  },
  Strict,
);

export const DeepxlListQuery = T.Object(
  {
    limit: T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 25 })),
    offset: T.Optional(T.Integer({ minimum: 0, default: 0 })),
    sortBy: T.Optional(T.String({ description: 'timestamp (default; also createdAt) or verificationId.' })),
    direction: T.Optional(T.String({ description: 'desc (default) or asc.' })),
    tagFilter: T.Optional(
      T.Union([T.String(), T.Array(T.String())], {
        description: 'key=value; repeat it to require several tags.',
      }),
    ),
  },
  Strict,
);
