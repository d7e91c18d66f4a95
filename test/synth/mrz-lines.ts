/**
 * Machine-readable zones for synthetic identities, with every check digit computed by the domain's own
 * `mrzCheckDigit` (ICAO 9303 part 3): TD1 for the Moroccan CNIE back, TD3 for passport data pages.
 */
import { mrzCheckDigit } from '../../src/domain/mrz/check-digit.ts';
import type { Identity } from './identities.ts';

export type Td1Layout =
  /**
   * As on the DGSN specimens (`shared/data/mrz/morocco_cnie_mrz.json`): code `I<`, the card's own number in
   * the document-number field and the CIN in optional data 1. The domain reader returns the CIN as
   * `personal_number` for this layout.
   */
  | 'cnie'
  /** Code `ID` and the CIN itself as the document number (optional data empty). */
  | 'cin_as_number';

export interface Td1Options {
  layout?: Td1Layout;
}

/** Upper case, accents removed, anything but A-Z 0-9 becomes a filler. */
export function mrzText(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/'/g, '')
    .replace(/[^A-Z0-9]+/g, '<')
    .replace(/^<+|<+$/g, '');
}

const field = (s: string, width: number): string => {
  if (s.length > width) throw new Error(`MRZ field too long for ${width}: ${s}`);
  return s.padEnd(width, '<');
};

/** `YYYY-MM-DD` → `YYMMDD`. */
export const yymmdd = (isoDate: string): string => isoDate.slice(2).replaceAll('-', '');

/** `LAST<<FIRST` cut to `width`, the given names first (ICAO 9303 part 3, 4.6 truncation). */
export function mrzName(lastName: string, firstName: string, width: number): string {
  const last = mrzText(lastName);
  let first = mrzText(firstName);
  const room = width - last.length - 2;
  if (room < first.length) first = room > 0 ? first.slice(0, room).replace(/<+$/, '') : '';
  const name = first ? `${last}<<${first}` : last;
  return field(name.slice(0, width), width);
}

/** Three lines of 30 characters for the CNIE back. */
export function td1Lines(identity: Identity, options: Td1Options = {}): [string, string, string] {
  const layout = options.layout ?? 'cnie';
  const code = layout === 'cnie' ? 'I<' : 'ID';
  const number = layout === 'cnie' ? identity.cardNumber : identity.cin;
  const optional1 = layout === 'cnie' ? identity.cin : '';
  const numberField = field(number, 9);
  const line1 = `${code}MAR${numberField}${mrzCheckDigit(numberField)}${field(optional1, 15)}`;

  const birth = yymmdd(identity.dateOfBirth);
  const expiry = yymmdd(identity.expiryDate);
  const head = `${birth}${mrzCheckDigit(birth)}${identity.sex}${expiry}${mrzCheckDigit(expiry)}MAR${field('', 11)}`;
  const composite = mrzCheckDigit(
    line1.slice(5, 30) + head.slice(0, 7) + head.slice(8, 15) + head.slice(18, 29),
  );
  const line2 = head + composite;

  const line3 = mrzName(identity.lastName, identity.firstName, 30);
  return [line1, line2, line3];
}

export interface Td3Options {
  /** Personal number (line 2, 14 characters); the CIN by default for Moroccan passports, none otherwise. */
  personalNumber?: string;
  /** The holder's nationality; the issuing state by default. */
  nationality?: string;
}

/** Two lines of 44 characters for a passport data page. */
export function td3Lines(
  identity: Identity,
  issuingState: string,
  options: Td3Options = {},
): [string, string] {
  const state = field(issuingState, 3);
  const line1 = `P<${state}${mrzName(identity.lastName, identity.firstName, 39)}`;

  const numberField = field(identity.documentNumber, 9);
  const birth = yymmdd(identity.dateOfBirth);
  const expiry = yymmdd(identity.expiryDate);
  const personal = field(mrzText(options.personalNumber ?? (issuingState === 'MAR' ? identity.cin : '')), 14);
  const personalCheck = /^<+$/.test(personal) ? '<' : mrzCheckDigit(personal);
  const nationality = field(options.nationality ?? issuingState, 3);
  const head =
    `${numberField}${mrzCheckDigit(numberField)}${nationality}${birth}${mrzCheckDigit(birth)}` +
    `${identity.sex}${expiry}${mrzCheckDigit(expiry)}${personal}${personalCheck}`;
  const composite = mrzCheckDigit(head.slice(0, 10) + head.slice(13, 20) + head.slice(21, 43));
  return [line1, head + composite];
}
