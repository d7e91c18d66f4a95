import assert from 'node:assert/strict';
import { test } from 'node:test';
import { orderStatistics } from './order-statistics.ts';

test('orderStatistics gives what a full sort holds at each rank, on random, constant and sorted data', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 255;
  const sets = [
    Float32Array.from({ length: 10_007 }, rand),
    new Float32Array(500).fill(42),
    Float32Array.from({ length: 999 }, (_, i) => i / 3),
    Float32Array.from({ length: 999 }, (_, i) => 999 - i),
    Float32Array.from({ length: 4096 }, () => Math.round(rand() / 32)),
    Float32Array.of(5),
  ];
  for (const values of sets) {
    const copy = Float32Array.from(values);
    const sorted = Float32Array.from(values).sort();
    const ranks = [0.5, 0.03, 0, 0.999, 0.02].map((q) => Math.floor(values.length * q));
    assert.deepEqual(
      orderStatistics(values, ranks),
      ranks.map((r) => sorted[r]),
    );
    assert.deepEqual(values, copy, 'the input is left untouched');
  }
  assert.throws(() => orderStatistics(Float32Array.of(1, 2), [2]), RangeError);
});
