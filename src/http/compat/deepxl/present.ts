import type { CheckResult } from '../../../domain/verification.ts';
import { POLICY_VERSION } from '../../../domain/risk-policy.ts';
import type { ImageField } from '../../../app/deps.ts';
import type { VerificationDoc } from '../../../app/verification-doc.ts';

/** DeepXL's file categories and the native image fields they hold. */
export const DEEPXL_FILES = [
  { category: 'id', field: 'document_front', part: 'idFile' },
  { category: 'face', field: 'selfie', part: 'selfieFile' },
] as const satisfies readonly { category: string; field: ImageField; part: string }[];

export type DeepxlCategory = (typeof DEEPXL_FILES)[number]['category'];

const CONTENT_TYPES: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };
const EXTENSIONS: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp' };

export function contentTypeOf(format: string): string {
  return CONTENT_TYPES[format] ?? 'application/octet-stream';
}

/**
 * The name a stored image is served under: DeepXL's `v_<category>_<id>_<original name>`, the original
 * name reduced to characters safe in a URL path (a name sent without one becomes `id.jpg`, `face.png`).
 */
export function servedFileName(category: DeepxlCategory, number: number, fileName: string): string {
  return `v_${category}_${number}_${fileName}`;
}

/** A file name reduced to `[A-Za-z0-9._-]`, at most 100 characters, never empty or dot-led. */
export function safeFileName(name: string | undefined, category: DeepxlCategory, format: string): string {
  const base = (name ?? '')
    .split(/[\\/]/)
    .pop()!
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(-100);
  return base || `${category}.${EXTENSIONS[format] ?? 'bin'}`;
}

/** DeepXL's timestampISO: microseconds, no zone ("2024-09-08T10:00:00.000000"). */
function isoMicros(iso: string): string {
  return new Date(iso).toISOString().replace('Z', '000');
}

function percent(v: number): string {
  return `${Math.round(100 * v)}%`;
}

type TechnicalCheck = {
  type: 'FACE_MATCH' | 'LIVENESS' | 'ID_QUALITY' | 'DOCUMENT_FRAUD';
  status: 'PASS' | 'FAIL';
  confidence: number;
  details: string;
};

function notRun(type: TechnicalCheck['type'], c: CheckResult): TechnicalCheck {
  return { type, status: 'FAIL', confidence: 0, details: `Check not run: ${c.reason ?? c.status}` };
}

/** One technical check from a native check: PASS or FAIL with its confidence, or a FAIL saying it did not run. */
function technical(
  type: TechnicalCheck['type'],
  c: CheckResult | undefined,
  details: (c: CheckResult) => string,
): TechnicalCheck[] {
  if (!c) return [];
  if (c.status !== 'passed' && c.status !== 'failed') return [notRun(type, c)];
  return [
    { type, status: c.status === 'passed' ? 'PASS' : 'FAIL', confidence: c.confidence, details: details(c) },
  ];
}

function faceMatchDetails(c: CheckResult): string {
  const { similarity, threshold = 0.7 } = c as { similarity?: number; threshold?: number };
  if (similarity === undefined) return `Face match failed: ${c.reason ?? 'no match'}`;
  return c.status === 'passed'
    ? `Face match confidence: ${percent(c.confidence)} (similarity ${percent(similarity)}, threshold ${percent(threshold)})`
    : `Faces do not match: similarity ${percent(similarity)}, below the ${percent(threshold)} threshold`;
}

function livenessDetails(c: CheckResult): string {
  const spoof = (c as { spoof_probability?: number }).spoof_probability;
  if (c.status === 'passed') return 'Liveness check passed';
  return spoof !== undefined
    ? `Liveness check failed: spoof probability ${percent(spoof)}`
    : `Liveness check failed: ${c.reason ?? 'not live'}`;
}

function documentDetails(c: CheckResult): string {
  if (c.status !== 'passed') return `ID document quality is not acceptable: ${c.reason ?? 'unreadable'}`;
  return `ID document quality is acceptable: ${
    (c.evidence as { mrz?: unknown } | undefined)?.mrz
      ? 'its machine-readable zone was read and its check digits hold'
      : 'its identity fields were read from the printed zone'
  }`;
}

/**
 * The technical checks DeepXL reports, from the native checks: FACE_MATCH (face_match), LIVENESS
 * (liveness), ID_QUALITY (the document read: ocr) and DOCUMENT_FRAUD when a fraud check ran. DeepXL
 * knows only PASS and FAIL: a check that errored or was skipped for a reason of this case is a FAIL
 * saying so.
 */
function technicalChecks(doc: VerificationDoc): TechnicalCheck[] {
  const fraud = doc.checks.fraud;
  return [
    ...technical('FACE_MATCH', doc.checks.face_match, faceMatchDetails),
    ...technical('LIVENESS', doc.checks.liveness, livenessDetails),
    ...technical('ID_QUALITY', doc.checks.ocr, documentDetails),
    ...technical('DOCUMENT_FRAUD', fraud?.status === 'skipped' ? undefined : fraud, (c) =>
      c.status === 'passed'
        ? 'No document fraud detected'
        : `Document fraud suspected: ${c.reason ?? 'see signals'}`,
    ),
  ];
}

/** The tags a verification was created with (DeepXL keeps them in `metadata.tags`). */
export function tagsOf(doc: VerificationDoc): { name: string; value: string }[] {
  const tags = doc.metadata.tags;
  if (!tags || typeof tags !== 'object' || Array.isArray(tags)) return [];
  return Object.entries(tags as Record<string, unknown>).map(([name, value]) => ({
    name,
    value: String(value),
  }));
}

/** A verification in DeepXL's `result` shape (`seeds/deepxl-verification.txt`), any dialect's alike. */
export function presentDeepxl(doc: VerificationDoc, filesUrl: string): Record<string, unknown> {
  const number = doc.number ?? 0;
  const timestamp = Math.floor(Date.parse(doc.created_at) / 1000);
  const timestampISO = isoMicros(doc.created_at);
  const files = DEEPXL_FILES.flatMap(({ category, field }) => {
    const f = doc.input_files?.[field];
    if (!f) return [];
    const fileName = safeFileName(f.file_name, category, f.format);
    return [
      {
        category,
        fileName,
        fileSize: f.size_bytes,
        contentType: contentTypeOf(f.format),
        timestamp,
        timestampISO,
        url: `${filesUrl}/${servedFileName(category, number, fileName)}`,
      },
    ];
  });
  const id = files.find((f) => f.category === 'id');
  const face = files.find((f) => f.category === 'face');
  return {
    verificationId: number,
    ...(id
      ? {
          idFileType: doc.input_files!.document_front!.format,
          idFileName: id.fileName,
          idFileSize: id.fileSize,
        }
      : {}),
    ...(face
      ? {
          selfieFileType: doc.input_files!.selfie!.format,
          selfieFileName: face.fileName,
          selfieFileSize: face.fileSize,
        }
      : {}),
    model: 'verification',
    modelVersion: doc.policy_version ?? POLICY_VERSION,
    verified: doc.status === 'verified',
    modelResults: { technicalChecks: technicalChecks(doc) },
    timestamp,
    timestampISO,
    tags: tagsOf(doc),
    files,
  };
}
