import { HuwiyaError } from '../domain/errors.ts';

const DATA_URL = /^data:([a-zA-Z0-9.+/-]+)?(;[a-zA-Z0-9=.-]+)*;base64,/;

/** Bytes a strict decoder yields for `s` (no whitespace): 3 per 4 characters, less the padding. */
function expectedBytes(s: string): number {
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const n = s.length - pad;
  return Math.floor((n * 3) / 4);
}

function strictDecode(s: string): Buffer | undefined {
  if (s.length % 4 === 1) return undefined;
  // Node's decoder skips characters outside both alphabets and stops at '='; a strict input decodes to
  // exactly the expected length, so any stray character, misplaced padding or garbage shows as a shortfall.
  // This is ~10× faster than a regular expression over a multi-megabyte string.
  const buf = Buffer.from(s, 'base64');
  return buf.length === expectedBytes(s) && !s.slice(0, -2).includes('=') ? buf : undefined;
}

/**
 * Decode an image field sent as base64, base64url or a data URL (API.md "Inputs"); whitespace and line
 * breaks are tolerated. Anything else is a 400 naming the field.
 */
export function decodeBase64Image(value: unknown, param: string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value !== 'string')
    throw new HuwiyaError('invalid_parameter', `${param} must be a base64 string.`, { param });
  let s = value;
  const head = s.slice(0, 256).trimStart();
  const m = DATA_URL.exec(head);
  if (m) s = head.slice(m[0].length) + s.slice(256);
  else if (head.startsWith('data:'))
    throw new HuwiyaError('invalid_base64', `${param} is a data URL without ;base64.`, { param });
  s = s.trim();
  if (s.length === 0) throw new HuwiyaError('missing_parameter', `${param} is empty.`, { param });
  let buf = strictDecode(s);
  if (!buf && /\s/.test(s)) buf = strictDecode(s.replace(/\s+/g, ''));
  if (!buf) throw new HuwiyaError('invalid_base64', `${param} is not valid base64 or base64url.`, { param });
  return buf;
}
