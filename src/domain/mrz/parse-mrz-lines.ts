/**
 * The `mrz` package's parser, extended to the visa formats it lacks (MRV-A and MRV-B, ICAO 9303 Part 7).
 * A visa's second line matches TD3/TD2 up to the expiry check digit, so we let the package parse those
 * fields and replace what differs: the document code (`V`), and the optional data that takes the place of
 * the personal number and the composite check digit.
 */
import { parse, type Details } from 'mrz';
import type { MrzLayoutFormat } from './mrz-layout.ts';

export interface MrzParse {
  format: string;
  valid: boolean;
  details: Details[];
  documentNumber: string | null;
}

/** Fields a visa shares with the passport (MRV-A) or TD2 (MRV-B) layout. */
const VISA_SHARED_FIELDS = new Set([
  'issuingState',
  'lastName',
  'firstName',
  'documentNumber',
  'documentNumberCheckDigit',
  'nationality',
  'birthDate',
  'birthDateCheckDigit',
  'sex',
  'expirationDate',
  'expirationDateCheckDigit',
]);

/** The `mrz` package's `cleanText`: trailing fillers dropped, inner fillers as spaces. */
export function cleanMrzText(s: string): string {
  return s.replace(/<+$/, '').replaceAll('<', ' ');
}

/** Parses lines already cut to a known shape; undefined when the package does not recognise the shape. */
export function parseMrzLines(
  lines: readonly string[],
  format: MrzLayoutFormat | undefined,
  autocorrect: boolean,
): MrzParse | undefined {
  let result;
  try {
    result = parse(lines, { autocorrect });
  } catch {
    return undefined;
  }
  if (format !== 'MRVA' && format !== 'MRVB') return result;

  const first = lines[0] ?? '';
  const second = lines[1] ?? '';
  const codeDetail = result.details.find((d) => d.field === 'documentCode');
  const code = first.slice(0, 2);
  const codeValid = /^V[A-Z<]$/.test(code);
  const documentCode: Details = {
    label: 'Document code',
    field: 'documentCode',
    value: code.replace(/<$/, ''),
    valid: codeValid,
    ranges: [{ line: 0, start: 0, end: 2 }],
    line: 0,
    start: 0,
    end: code.endsWith('<') ? 1 : 2,
    autocorrect: codeDetail?.autocorrect ?? [],
    ...(codeValid ? {} : { error: `invalid document code: ${code}. First character must be V` }),
  };
  const optionalText = second.slice(28);
  const optionalValid = /^[A-Z0-9<]*$/.test(optionalText);
  const optional: Details = {
    label: 'Optional data',
    field: 'optional',
    value: cleanMrzText(optionalText),
    valid: optionalValid,
    ranges: [{ line: 1, start: 28, end: second.length }],
    line: 1,
    start: 28,
    end: second.length,
    autocorrect: [],
    ...(optionalValid ? {} : { error: `invalid text: ${optionalText}` }),
  };
  const details = [
    documentCode,
    ...result.details.filter((d) => d.field !== null && VISA_SHARED_FIELDS.has(d.field)),
    optional,
  ];
  return {
    format,
    valid: details.every((d) => d.valid),
    details,
    documentNumber: result.fields.documentNumber ?? null,
  };
}
