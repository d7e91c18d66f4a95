import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HuwiyaError } from '../domain/errors.ts';
import { decodeBase64Image } from './image-input.ts';

const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0xfb, 0xff, 0xfe]);

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof HuwiyaError ? `${e.code}:${e.param}` : 'other';
  }
  return undefined;
}

test('base64, base64url, unpadded, data URL and line-wrapped forms all decode', () => {
  const b64 = bytes.toString('base64');
  for (const form of [
    b64,
    bytes.toString('base64url'),
    b64.replace(/=+$/, ''),
    `data:image/jpeg;base64,${b64}`,
    `data:application/octet-stream;base64,${bytes.toString('base64url')}`,
    b64.replace(/(.{4})/g, '$1\n'),
    `  ${b64}\r\n`,
  ]) {
    assert.deepEqual(decodeBase64Image(form, 'selfie'), bytes, form);
  }
});

test('broken base64 is a 400 naming the field', () => {
  assert.equal(
    code(() => decodeBase64Image('!!!notbase64!!!', 'document_front')),
    'invalid_base64:document_front',
  );
  assert.equal(
    code(() => decodeBase64Image('abcd=efgh', 'selfie')),
    'invalid_base64:selfie',
  );
  assert.equal(
    code(() => decodeBase64Image('abcde', 'selfie')),
    'invalid_base64:selfie',
  );
  assert.equal(
    code(() => decodeBase64Image('data:image/png,rawbytes', 'selfie')),
    'invalid_base64:selfie',
  );
  assert.equal(
    code(() => decodeBase64Image('   ', 'selfie')),
    'missing_parameter:selfie',
  );
  assert.equal(
    code(() => decodeBase64Image(42, 'selfie')),
    'invalid_parameter:selfie',
  );
  const b64 = bytes.toString('base64');
  assert.equal(
    code(() => decodeBase64Image(b64.slice(0, 4) + 'é' + b64.slice(4), 'selfie')),
    'invalid_base64:selfie',
  );
});
