import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { NATIVE_STATUS } from '../http/error-status.ts';
import { errorCatalogue, HuwiyaError } from './errors.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\|\s*`([a-z0-9_]+)`\s*\|\s*(\d{3})\s*\|\s*([a-z_]+)\s*\|/gm)].map((m) => [
    m[1]!,
    { status: Number(m[2]), type: m[3]! },
  ]),
);

test('every error code is documented in docs/errors.md with its status and type', () => {
  for (const [code, spec] of Object.entries(errorCatalogue)) {
    const d = documented.get(code);
    assert.ok(d, `${code} is missing from docs/errors.md`);
    assert.equal(d.type, spec.type, `${code}: documented type`);
    assert.equal(d.status, NATIVE_STATUS[code as keyof typeof NATIVE_STATUS], `${code}: documented status`);
  }
});

test('docs/errors.md documents no code that does not exist', () => {
  for (const code of documented.keys())
    assert.ok(code in errorCatalogue, `${code} is documented but not in the catalogue`);
});

test('a coded error carries its type and parameter', () => {
  const e = new HuwiyaError('invalid_base64', undefined, { param: 'selfie' });
  assert.equal(e.type, 'validation_error');
  assert.equal(e.param, 'selfie');
  assert.equal(e.message, errorCatalogue.invalid_base64.message);
});
