/** The MRZ's data in Huwiya's vocabulary: ISO dates, alpha-3 countries, a document type. */
import type { Details } from 'mrz';
import { cleanMrzText, type MrzParse } from './parse-mrz-lines.ts';

export type MrzDocumentType = 'passport' | 'national_id' | 'visa' | 'residence_permit' | 'other';

/** Every member is omitted when the MRZ lacks it or reads it invalid; never null. */
export interface MrzExtracted {
  document_code?: string;
  document_type?: MrzDocumentType;
  issuing_country?: string;
  document_number?: string;
  last_name?: string;
  first_name?: string;
  full_name?: string;
  date_of_birth?: string;
  expiry_date?: string;
  gender?: 'M' | 'F';
  nationality?: string;
  optional_data?: string;
  personal_number?: string;
}

/** A field counts only when it parses and the check digit protecting it holds. */
const CHECK_OF: Record<string, string> = {
  documentNumber: 'documentNumberCheckDigit',
  birthDate: 'birthDateCheckDigit',
  expirationDate: 'expirationDateCheckDigit',
  personalNumber: 'personalNumberCheckDigit',
  optional: 'compositeCheckDigit',
  optional1: 'compositeCheckDigit',
  optional2: 'compositeCheckDigit',
};

/** Expiry dates are read in this century unless that puts them further out than any document runs. */
const MAX_YEARS_TO_EXPIRY = 50;

function documentTypeOf(format: string, code: string): MrzDocumentType {
  if (format === 'FRENCH_NATIONAL_ID') return 'national_id';
  // ICAO leaves the second letter to the issuer; R is how issuers commonly mark a residence permit (IR,
  // AR). A convention, not a rule: unverified against a specimen here, and any other code stays national_id.
  if (/^[ACI]R$/.test(code)) return 'residence_permit';
  switch (code.charAt(0)) {
    case 'P':
      return 'passport';
    case 'V':
      return 'visa';
    case 'I':
    case 'A':
    case 'C':
      return 'national_id';
    default:
      return 'other';
  }
}

/** ICAO 9303 Part 3 lets Germany print `D<<` for its code; everything downstream expects alpha-3. */
const country = (code: string): string => (code === 'D' ? 'DEU' : code);

const pad = (n: number): string => String(n).padStart(2, '0');

/** YYMMDD → YYYY-MM-DD with the century chosen by `pickYear`; undefined for unknown or impossible dates. */
function isoDate(
  yymmdd: string,
  pickYear: (yy: number, month: number, day: number) => number,
): string | undefined {
  const m = /^(\d\d)(\d\d)(\d\d)$/.exec(yymmdd);
  if (!m) return undefined;
  const [yy, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const year = pickYear(yy, month, day);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return `${year}-${pad(month)}-${pad(day)}`;
}

export function birthDateIso(yymmdd: string, today: Date): string | undefined {
  const todayKey = today.toISOString().slice(0, 10);
  // A person is never born in the future: 20YY unless that date is still to come.
  return isoDate(yymmdd, (yy, month, day) =>
    `${2000 + yy}-${pad(month)}-${pad(day)}` > todayKey ? 1900 + yy : 2000 + yy,
  );
}

export function expiryDateIso(yymmdd: string, today: Date): string | undefined {
  const limit = today.getUTCFullYear() + MAX_YEARS_TO_EXPIRY;
  return isoDate(yymmdd, (yy) => (2000 + yy > limit ? 1900 + yy : 2000 + yy));
}

/** Optional data as printed, without the tail of a long document number (which is the number's). */
function optionalData(format: string, lines: readonly string[]): string[] {
  const [first = '', second = ''] = lines;
  const afterLongNumber = (text: string, slot: string): string => {
    if (slot !== '<') return text;
    const filler = text.indexOf('<');
    return filler === -1 ? '' : text.slice(filler);
  };
  const fields =
    format === 'TD1'
      ? [afterLongNumber(first.slice(15, 30), first.charAt(14)), second.slice(18, 29)]
      : format === 'TD2'
        ? [afterLongNumber(second.slice(28, 35), second.charAt(9))]
        : format === 'MRVA' || format === 'MRVB'
          ? [second.slice(28)]
          : [];
  return fields.map((text) => cleanMrzText(text).trim()).filter((t) => t.length > 0);
}

export function extractMrz(parsed: MrzParse, lines: readonly string[], today: Date): MrzExtracted {
  const byField = new Map<string, Details>();
  for (const d of parsed.details) if (d.field) byField.set(d.field, d);
  const value = (field: string): string | undefined => {
    const d = byField.get(field);
    if (!d?.valid || d.value === null) return undefined;
    const check = CHECK_OF[field];
    if (check && byField.has(check) && !byField.get(check)?.valid) return undefined;
    return d.value;
  };
  const nonEmpty = (s: string | undefined): string | undefined => (s ? s.trim() || undefined : undefined);
  const out: MrzExtracted = {};
  const format = parsed.format;

  const code = value('documentCode');
  if (code) out.document_code = code;
  if (code || format === 'FRENCH_NATIONAL_ID') out.document_type = documentTypeOf(format, code ?? '');
  const issuing = value('issuingState');
  if (issuing) out.issuing_country = country(issuing);

  const numberCheck = byField.get('documentNumberCheckDigit');
  if (parsed.documentNumber && (!numberCheck || numberCheck.valid)) {
    out.document_number = parsed.documentNumber;
  }

  const last = nonEmpty(value('lastName'));
  const first = nonEmpty(value('firstName'));
  if (last) out.last_name = last;
  if (first) out.first_name = first;
  if (last || first) out.full_name = [first, last].filter(Boolean).join(' ');

  const birth = value('birthDate');
  const birthIso = birth ? birthDateIso(birth, today) : undefined;
  if (birthIso) out.date_of_birth = birthIso;
  const expiry = value('expirationDate');
  const expiryIso = expiry ? expiryDateIso(expiry, today) : undefined;
  if (expiryIso) out.expiry_date = expiryIso;

  const sex = value('sex');
  if (sex === 'male') out.gender = 'M';
  if (sex === 'female') out.gender = 'F';
  const nationality = value('nationality');
  if (nationality) out.nationality = country(nationality);

  const optionalValid = ['optional', 'optional1', 'optional2'].every(
    (f) => !byField.has(f) || value(f) !== undefined,
  );
  const optional = optionalValid ? optionalData(format, lines) : [];
  if (optional.length > 0) out.optional_data = optional.join(' ');

  const personal = nonEmpty(value('personalNumber'));
  if (personal) out.personal_number = personal;
  // Moroccan CNIE: the card number is the document number; the national number (CIN) that identifies
  // the person is optional data 1 (DGSN specimens, ../shared/data/mrz/morocco_cnie_mrz.json).
  const longNumber = (lines[0] ?? '').charAt(14) === '<';
  if (format === 'TD1' && issuing === 'MAR' && !longNumber) {
    const cin = nonEmpty(value('optional1'));
    if (cin) out.personal_number = cin;
  }
  return out;
}
