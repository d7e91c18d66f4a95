import type { VerificationDoc } from '../../../app/verification-doc.ts';
import type { CheckResult } from '../../../domain/verification.ts';

/**
 * deepidv's shapes (API.md "deepidv dialect", `seeds/deepidv-verify-identity.txt`). Its own scales:
 * 0-100 on /identity/verify and /face/compare, 0..1 on /document/scan and /face/detect.
 */

/** The weights of deepidv's published blend: document 0.4, selfie face detection 0.2, face match 0.4. */
export const OVERALL_WEIGHTS = { document: 0.4, faceDetection: 0.2, faceMatch: 0.4 } as const;

const round2 = (v: number) => Math.round(v * 100) / 100;
const pct = (v: number) => round2(100 * v);

/** deepidv's document types, from the detected family (or what was declared when nothing was read). */
const DOCUMENT_TYPES: Record<string, string> = {
  passport: 'passport',
  national_id: 'national_id',
  driving_license: 'drivers_license',
  residence_permit: 'residence_permit',
};

type Extracted = Record<string, unknown>;

function str(e: Extracted, k: string): string | undefined {
  const v = e[k];
  return typeof v === 'string' && v ? v : undefined;
}

/** The identity fields deepidv names, from the native extracted data (absent fields omitted). */
export function documentFields(extracted: Extracted, ocr: CheckResult | undefined, declared: string) {
  const detected = (ocr as { document_type_detected?: string } | undefined)?.document_type_detected;
  const first = str(extracted, 'first_name');
  const last = str(extracted, 'last_name');
  const fields = {
    documentType: (detected && DOCUMENT_TYPES[detected]) || declared,
    fullName: str(extracted, 'full_name') ?? ([first, last].filter(Boolean).join(' ') || undefined),
    firstName: first,
    lastName: last,
    dateOfBirth: str(extracted, 'date_of_birth'),
    gender: str(extracted, 'gender'),
    nationality: str(extracted, 'nationality'),
    documentNumber: str(extracted, 'document_number'),
    expirationDate: str(extracted, 'expiry_date'),
    issuingCountry: str(extracted, 'issuing_country'),
    address: str(extracted, 'address'),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}

/** Mean confidence (0..1) of the identity fields reported; 0 when none was read. */
export function documentConfidence(extracted: Extracted): number {
  const confidences = (extracted.field_confidences ?? {}) as Record<string, number>;
  const keys = [
    'first_name',
    'last_name',
    'date_of_birth',
    'gender',
    'nationality',
    'document_number',
    'expiry_date',
    'issuing_country',
    'address',
  ].filter((k) => extracted[k] !== undefined && typeof confidences[k] === 'number');
  return keys.length ? keys.reduce((s, k) => s + confidences[k]!, 0) / keys.length : 0;
}

/** The MRZ as read: its lines, format and whether every check digit holds; null without one. */
export function mrzData(extracted: Extracted, ocr: CheckResult | undefined) {
  const raw = str(extracted, 'mrz');
  const evidence = (ocr?.evidence as { mrz?: { format?: string; check_digits_valid?: boolean } } | undefined)
    ?.mrz;
  if (!raw || !evidence) return null;
  return {
    raw,
    lines: raw.split('\n'),
    format: evidence.format,
    checkDigitsValid: Boolean(evidence.check_digits_valid),
  };
}

function failure(c: CheckResult | undefined): string | undefined {
  if (!c) return 'not_run';
  if (c.status === 'error' || c.status === 'skipped') return c.reason ?? c.status;
  return undefined;
}

/** POST /identity/verify's answer from a native verification (every confidence 0-100). */
export function presentDeepidvVerify(doc: VerificationDoc): Record<string, unknown> {
  const extracted = (doc.extracted_data ?? {}) as Extracted;
  const ocr = doc.checks.ocr;
  const fm = doc.checks.face_match as
    | (CheckResult & {
        match?: boolean;
        similarity?: number;
        evidence?: { selfie_face?: { score?: number } };
      })
    | undefined;
  const docFailure = failure(ocr);
  const document = {
    ...documentFields(extracted, ocr, doc.document_type),
    confidence: docFailure ? 0 : pct(documentConfidence(extracted)),
    ...(docFailure ? { error: docFailure } : ocr?.status === 'failed' ? { error: ocr.reason } : {}),
  };
  const selfieScore = fm?.evidence?.selfie_face?.score;
  const faceDetected = selfieScore !== undefined;
  const faceDetection = {
    faceDetected,
    confidence: faceDetected ? pct(selfieScore) : 0,
    ...(faceDetected
      ? {}
      : { error: fm?.reason === 'no_face_in_selfie' || !fm ? 'no_face_detected' : fm.reason }),
  };
  const matched = fm?.similarity !== undefined;
  const faceMatch = {
    isMatch: Boolean(fm?.match),
    confidence: matched ? pct(fm.similarity!) : 0,
    threshold: pct((fm as { threshold?: number } | undefined)?.threshold ?? 0.7),
    ...(matched ? {} : { error: fm?.reason ?? failure(fm) }),
  };
  return {
    verified: doc.status === 'verified',
    document,
    faceDetection,
    faceMatch,
    overallConfidence: round2(
      OVERALL_WEIGHTS.document * document.confidence +
        OVERALL_WEIGHTS.faceDetection * faceDetection.confidence +
        OVERALL_WEIGHTS.faceMatch * faceMatch.confidence,
    ),
  };
}

/** A native session as the presentSession use case answers it (the fields read here). */
interface NativeSession {
  id: string;
  status: string;
  document_type: string;
  country: string;
  required: string[];
  missing: string[];
  metadata: Record<string, unknown>;
  verification_id?: string;
  expires_at: string;
  created_at: string;
  updated_at: string;
}

/**
 * A session in deepidv's words: `pending` until the user starts, `in_progress` while parts are missing
 * or ready, then the verification's state (`processing`, `verified`, `rejected`, `review`, `error`), or
 * `expired`. Once decided, `result` is the /identity/verify answer of its verification.
 */
export function presentDeepidvSession(
  s: NativeSession,
  verification: VerificationDoc | undefined,
  url?: string,
) {
  const { dialect: _d, ...metadata } = s.metadata;
  let status: string;
  if (s.status === 'expired') status = 'expired';
  else if (!verification) status = s.missing.length < s.required.length ? 'in_progress' : 'pending';
  else if (verification.status === 'pending') status = 'processing';
  else status = verification.status;
  return {
    id: s.id,
    status,
    ...(url ? { sessionUrl: url } : {}),
    documentType: s.document_type,
    ...(s.country ? { country: s.country } : {}),
    missing: s.missing,
    metadata,
    ...(verification
      ? {
          verificationId: verification.id,
          ...(verification.status !== 'pending' ? { result: presentDeepidvVerify(verification) } : {}),
          ...(verification.review
            ? {
                decision: {
                  decision: verification.review.decision === 'verified' ? 'approved' : 'rejected',
                  decidedAt: verification.review.decided_at,
                },
              }
            : {}),
        }
      : {}),
    createdAt: s.created_at,
    updatedAt: s.updated_at,
    expiresAt: s.expires_at,
  };
}
