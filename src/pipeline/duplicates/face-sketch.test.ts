import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faceSketcher, packEmbedding, unpackEmbedding } from './face-sketch.ts';

/** A seeded unit vector (mulberry32 + Box-Muller), like an L2-normalised face embedding. */
function unitVector(seed: number, dims = 512): Float32Array {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const v = Float32Array.from({ length: dims }, () => {
    const u = Math.max(next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  });
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
/** `b` mixed into `a` so that the unit result has cosine `c` with `a` (b near-orthogonal to a). */
function atCosine(a: Float32Array, b: Float32Array, c: number): Float32Array {
  const proj = dot(a, b);
  const o = b.map((x, i) => x - proj * a[i]!);
  const on = Math.hypot(...o);
  return a.map((x, i) => c * x + Math.sqrt(1 - c * c) * (o[i]! / on));
}
function hamming(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) for (let v = a[i]! ^ b[i]!; v; v &= v - 1) d++;
  return d;
}

const key = new Uint8Array(32).fill(7);

test('the keyed rotation keeps norms and cosines, and depends on the key', () => {
  const s = faceSketcher(key);
  const a = unitVector(1);
  const b = atCosine(a, unitVector(2), 0.6);
  const ra = s.rotate(a);
  const rb = s.rotate(b);
  assert.ok(Math.abs(Math.hypot(...ra) - 1) < 1e-5);
  assert.ok(Math.abs(dot(ra, rb) - 0.6) < 1e-5);
  // The rotated vector is not the embedding (it looks like another face to anyone without the key).
  assert.ok(Math.abs(dot(ra, a)) < 0.2, `rotated vs original ${dot(ra, a)}`);
  const other = faceSketcher(new Uint8Array(32).fill(8));
  assert.ok(Math.abs(dot(other.rotate(a), ra)) < 0.2, 'another key gives another rotation');
  assert.deepEqual(faceSketcher(key).rotate(a), ra, 'the same key gives the same rotation');
});

test('sketch distance follows the angle between faces (SimHash)', () => {
  const s = faceSketcher(key);
  for (const c of [0.9, 0.6, 0.3, 0]) {
    let total = 0;
    const n = 40;
    for (let i = 0; i < n; i++) {
      const a = unitVector(100 + i);
      const b = atCosine(a, unitVector(500 + i), c);
      total += hamming(s.sketch(s.rotate(a)), s.sketch(s.rotate(b)));
    }
    const expected = (512 * Math.acos(c)) / Math.PI;
    // Mean over 40 pairs: the binomial spread of one pair (at most 11.3 bits) shrinks to under 2.
    assert.ok(Math.abs(total / n - expected) < 8, `cosine ${c}: ${total / n} bits, expected ${expected}`);
  }
});

test('a sketch is 64 bytes with the first coordinate in the high bit', () => {
  const s = faceSketcher(key);
  const v = new Float32Array(512).fill(-1);
  v[0] = 1;
  v[9] = 1;
  const sk = s.sketch(v);
  assert.equal(sk.length, 64);
  assert.equal(sk[0], 0x80);
  assert.equal(sk[1], 0x40);
  assert.throws(() => s.rotate(new Float32Array(128)), /512-d/);
});

test('a rotated embedding packed in 8 bits keeps its cosines within 0.005', () => {
  const s = faceSketcher(key);
  let worst = 0;
  for (let i = 0; i < 50; i++) {
    const a = s.rotate(unitVector(900 + i));
    const b = s.rotate(atCosine(unitVector(900 + i), unitVector(1900 + i), (i % 10) / 10));
    const packed = packEmbedding(b);
    assert.equal(packed.length, 516);
    const back = unpackEmbedding(packed);
    const c = dot(a, back) / Math.hypot(...back);
    worst = Math.max(worst, Math.abs(c - dot(a, b)));
  }
  assert.ok(worst < 0.005, `worst cosine error ${worst}`);
});
