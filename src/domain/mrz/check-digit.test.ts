import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isValidCheckDigit, mrzCheckDigit } from './check-digit.ts';

const VECTORS = new URL('../../../../shared/data/mrz/check_digit_vectors.json', import.meta.url);
const skip = existsSync(VECTORS) ? false : 'skipped: ../shared/data is absent';

interface Vector {
  input: string;
  check: string;
  valid: boolean;
  note?: string;
}

test('every vector of check_digit_vectors.json', { skip }, () => {
  const { vectors } = JSON.parse(readFileSync(VECTORS, 'utf8')) as { vectors: Vector[] };
  assert.ok(vectors.length > 0);
  for (const v of vectors) {
    assert.equal(isValidCheckDigit(v.input, v.check), v.valid, `${v.input} / ${v.check}`);
    if (v.valid) assert.equal(mrzCheckDigit(v.input), v.check, v.input);
    else assert.notEqual(mrzCheckDigit(v.input), v.check, v.input);
  }
});

test('ICAO 9303 Part 3: 7-3-1 weights, < = 0, A = 10 … Z = 35', () => {
  assert.equal(mrzCheckDigit('L898902C3'), '6');
  assert.equal(mrzCheckDigit('740812'), '2');
  assert.equal(mrzCheckDigit(''), '0');
  assert.equal(mrzCheckDigit('<<<<<<'), '0');
  // Z = 35 with weight 7: 245 → 5.
  assert.equal(mrzCheckDigit('Z'), '5');
});

test('a character outside 0-9A-Z< makes the check fail instead of counting as something', () => {
  assert.equal(mrzCheckDigit('1710GV?12345'), '?');
  assert.equal(isValidCheckDigit('1710GV?12345', '1'), false);
  assert.equal(isValidCheckDigit('abc', '0'), false);
});

test('only a digit is a check digit', () => {
  assert.equal(isValidCheckDigit('<<<', '<'), false);
  assert.equal(isValidCheckDigit('<<<', '0'), true);
  assert.equal(isValidCheckDigit('L898902C3', '66'), false);
});
