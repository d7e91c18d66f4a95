/** Verification states, check results and the transitions between them (pure, no I/O). */
export const CHECK_NAMES = ['ocr', 'face_match', 'liveness', 'fraud', 'duplicate'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];
export const DEFAULT_CHECKS: CheckName[] = ['ocr', 'face_match', 'liveness', 'fraud'];

export type CheckStatus = 'passed' | 'failed' | 'skipped' | 'error';

/** A check outcome is data, never an exception (STYLE.md §1). */
export interface CheckResult {
  status: CheckStatus;
  confidence: number;
  /** Machine-readable reason when skipped, failed for a non-decision cause, or errored. */
  reason?: string;
  [field: string]: unknown;
}

/** Public statuses: the published enum plus `cancelled` (API.md). */
export const VERIFICATION_STATUSES = [
  'pending',
  'verified',
  'rejected',
  'review',
  'expired',
  'error',
  'cancelled',
] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

/** List-filter aliases accepted by the native API (API.md). */
export const STATUS_ALIASES: Record<string, VerificationStatus> = {
  failed: 'rejected',
  manual_review: 'review',
};

const TRANSITIONS: Record<VerificationStatus, readonly VerificationStatus[]> = {
  pending: ['verified', 'rejected', 'review', 'error', 'cancelled', 'expired'],
  review: ['verified', 'rejected'],
  error: ['pending'],
  rejected: ['pending'],
  verified: [],
  expired: [],
  cancelled: [],
};

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: VerificationStatus,
    readonly to: VerificationStatus,
  ) {
    super(`a verification cannot go from ${from} to ${to}`);
    this.name = 'InvalidTransitionError';
  }
}

export function assertTransition(from: VerificationStatus, to: VerificationStatus): void {
  if (!TRANSITIONS[from].includes(to)) throw new InvalidTransitionError(from, to);
}

/** `document_type` values accepted and echoed as sent (API.md). */
export const DOCUMENT_TYPES = [
  'cin',
  'cni',
  'national_id',
  'passport',
  'permit',
  'driving_license',
  'drivers_license',
  'residence_card',
  'residence_permit',
] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export function skipped(reason: string): CheckResult {
  return { status: 'skipped', confidence: 0, reason };
}
