import countries from 'i18n-iso-countries';
import { round4 } from '../domain/face-match-policy.ts';
import type { MrzExtracted } from '../domain/mrz/read-mrz.ts';
import type { CheckResult } from '../domain/verification.ts';
import type { DecodedImage } from '../pipeline/image/decode.ts';
import { readMrzFromImage, type MrzImageReading } from '../pipeline/mrz/read-mrz-image.ts';
import type { AppDeps } from './deps.ts';

/** `document_type` values a client may send, by the family an MRZ reports (API.md aliases). */
const FAMILY: Record<string, string> = {
  passport: 'passport',
  cin: 'national_id',
  cni: 'national_id',
  national_id: 'national_id',
  residence_card: 'residence_permit',
  residence_permit: 'residence_permit',
  permit: 'residence_permit',
  driving_license: 'driving_license',
  drivers_license: 'driving_license',
};

export interface OcrOutcome {
  check: CheckResult;
  extracted?: Record<string, unknown>;
}

/** Fields an MRZ check digit protects (the rest, names and codes, are only as good as the OCR). */
const CHECKED_FIELDS = new Set(['document_number', 'date_of_birth', 'expiry_date', 'personal_number']);

function toExtracted(r: MrzImageReading): Record<string, unknown> {
  const e: MrzExtracted = r.reading.extracted;
  const corrected = new Set(r.reading.corrections.map((c) => c.field));
  const fields: Record<string, unknown> = {};
  const confidences: Record<string, number> = {};
  const provenance: Record<string, string> = {};
  const put = (name: string, value: unknown, sourceField?: string) => {
    if (value === undefined || value === '') return;
    fields[name] = value;
    const base = CHECKED_FIELDS.has(name) && r.reading.checkDigitsValid ? 0.99 : 0.9 * r.ocrConfidence;
    confidences[name] = round4(sourceField && corrected.has(sourceField) ? base * 0.95 : base);
    provenance[name] = 'mrz';
  };
  put('document_number', e.document_number, 'documentNumber');
  put('first_name', e.first_name, 'firstName');
  put('last_name', e.last_name, 'lastName');
  put('full_name', e.full_name);
  put('date_of_birth', e.date_of_birth, 'birthDate');
  put('gender', e.gender, 'sex');
  put('nationality', e.nationality, 'nationality');
  put('expiry_date', e.expiry_date, 'expirationDate');
  put('issuing_country', e.issuing_country, 'issuingState');
  put('personal_number', e.personal_number);
  put('document_code', e.document_code);
  fields.mrz = r.reading.lines.join('\n');
  confidences.mrz = round4(r.reading.checkDigitsValid ? 0.99 : r.ocrConfidence * 0.8);
  provenance.mrz = 'mrz';
  return { ...fields, field_confidences: confidences, field_provenance: provenance };
}

/**
 * The `ocr` check, MRZ part: the zone is searched on the back (cards) then the front (passports),
 * read, corrected against its check digits, and compared with what the client declared. The visual-zone
 * reader (names in Arabic, address, place of birth) is still to come: without an MRZ the check is skipped.
 */
export async function ocrCheck(
  deps: AppDeps,
  images: { front: DecodedImage; back?: DecodedImage },
  declared: { documentType: string; country: string },
): Promise<OcrOutcome> {
  const today = deps.now();
  let found: MrzImageReading | undefined;
  let side: 'back' | 'front' = 'front';
  for (const [s, d] of [
    ['back', images.back],
    ['front', images.front],
  ] as const) {
    if (!d) continue;
    const r = await readMrzFromImage(d.image, deps, today);
    if (r && (!found || (r.reading.checkDigitsValid && !found.reading.checkDigitsValid))) {
      found = r;
      side = s;
    }
    if (found?.reading.checkDigitsValid) break;
  }
  if (!found) return { check: { status: 'skipped', confidence: 0, reason: 'no_mrz_found' } };
  const e = found.reading.extracted;
  const signals: string[] = [];
  const declaredAlpha3 = countries.alpha2ToAlpha3(declared.country.toUpperCase());
  if (e.issuing_country && declaredAlpha3 && e.issuing_country !== declaredAlpha3)
    signals.push('country_mismatch');
  const family = FAMILY[declared.documentType];
  if (family && e.document_type && e.document_type !== 'other' && family !== e.document_type)
    signals.push('document_type_mismatch');
  if (e.expiry_date && e.expiry_date < today.toISOString().slice(0, 10)) signals.push('document_expired');
  const valid = found.reading.checkDigitsValid;
  if (!valid) signals.push('mrz_check_digits_invalid');
  return {
    check: {
      status: valid ? 'passed' : 'failed',
      confidence: round4(valid ? Math.min(0.99, 0.5 + found.ocrConfidence / 2) : 0.6),
      reason: valid ? undefined : 'mrz_check_digits_invalid',
      signals,
      document_type_detected: e.document_type,
      country_detected: e.issuing_country,
      evidence: {
        source: 'mrz',
        side,
        format: found.reading.format,
        rotation: found.rotation,
        check_digits_valid: valid,
        corrections: found.reading.corrections.length,
        ambiguous: found.reading.ambiguous,
        ocr_confidence: round4(found.ocrConfidence),
      },
      model_version: deps.manifest.models.text_recognize.version,
    },
    extracted: toExtracted(found),
  };
}
