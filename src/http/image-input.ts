import { HuwiyaError } from '../domain/errors.ts';

const DATA_URL = /^data:([a-zA-Z0-9.+/-]+)?(;[a-zA-Z0-9=.-]+)*;base64,/;
const B64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/**
 * Decode an image field sent as base64, base64url or a data URL (API.md "Inputs"); whitespace and line
 * breaks are tolerated. Anything else is a 400 naming the field.
 */
export function decodeBase64Image(value: unknown, param: string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value !== 'string')
    throw new HuwiyaError('invalid_parameter', `${param} must be a base64 string.`, { param });
  let s = value.trim();
  const m = DATA_URL.exec(s);
  if (m) s = s.slice(m[0].length);
  else if (s.startsWith('data:'))
    throw new HuwiyaError('invalid_base64', `${param} is a data URL without ;base64.`, { param });
  s = s.replace(/\s+/g, '');
  if (s.length === 0) throw new HuwiyaError('missing_parameter', `${param} is empty.`, { param });
  const mixed = /[+/]/.test(s) && /[-_]/.test(s);
  if (!B64.test(s) || mixed || s.length % 4 === 1) {
    throw new HuwiyaError('invalid_base64', `${param} is not valid base64 or base64url.`, { param });
  }
  return Buffer.from(s, 'base64');
}
