import type { ChallengeOutcome } from '../domain/liveness-challenge.ts';
import type { FraudSignal, RiskFactor, RiskLevel } from '../domain/risk-policy.ts';
import type { CheckName, CheckResult, VerificationStatus } from '../domain/verification.ts';
import type { DataKey } from '../ports/keyring.ts';
import type { VerificationRow } from '../ports/stores.ts';
import type { ImageField } from './deps.ts';
import type { SandboxPlan } from './sandbox.ts';

/**
 * The public `identity.verification` object (TXCloud shape plus the API.md superset). It is what gets
 * sealed at rest: every field that could hold personal data lives only inside the encrypted copy.
 */
export interface VerificationDoc {
  id: string;
  /** Integer number, unique in the installation (the DeepXL dialect's `verificationId`). */
  number?: number;
  object: 'identity.verification';
  created_at: string;
  updated_at: string;
  status: VerificationStatus;
  mode: 'sync' | 'async';
  document_type: string;
  country: string;
  checks_requested: CheckName[];
  extracted_data?: Record<string, unknown>;
  checks: Partial<Record<CheckName, CheckResult>>;
  risk_score?: number;
  risk_level?: RiskLevel;
  fraud_signals: FraudSignal[];
  risk_factors: RiskFactor[];
  metadata: Record<string, unknown>;
  /** Each image received: its sniffed format, size, and the name it was uploaded under (multipart). */
  input_files?: Partial<Record<ImageField, InputFile>>;
  webhook_url?: string;
  model_versions: Record<string, string>;
  policy_version?: string;
  error?: { code: string; message: string };
  /** False for a test key's verification (records made before the sandbox have no field). */
  livemode?: boolean;
  /** A sandbox verification's simulated scenario (app/sandbox.ts); its checks ran no model. */
  sandbox?: SandboxPlan;
  /** The capture page's head-turn challenge, when the verification came from a session that ran it. */
  liveness_challenge?: ChallengeOutcome;
  /** A person's decision on a verification in review (app/review.ts). */
  review?: { decision: 'verified' | 'rejected'; decided_at: string; decided_by: string; note?: string };
}

export interface InputFile {
  format: string;
  size_bytes: number;
  file_name?: string;
}

export function docAad(tenantId: string, id: string): string {
  return `verification:${tenantId}:${id}`;
}

/**
 * A stored verification's record, decrypted. Its number comes from the row when the record predates
 * numbers (they were added with the DeepXL dialect).
 */
export function openVerificationDoc(
  row: Pick<VerificationRow, 'id' | 'number'>,
  sealed: Buffer,
  key: DataKey,
  tenantId: string,
): VerificationDoc {
  const doc = JSON.parse(key.open(sealed, docAad(tenantId, row.id)).toString('utf8')) as VerificationDoc;
  return doc.number === undefined ? { ...doc, number: row.number } : doc;
}

/** What the API answers: the doc without internal-only fields. */
export function presentVerification(doc: VerificationDoc): Record<string, unknown> {
  const { webhook_url: _w, ...rest } = doc;
  return rest;
}
