import { createHash } from 'node:crypto';

/** Bits of a face sketch: one per embedding dimension (the embedding is 512-d; ADR 0010). */
export const SKETCH_BITS = 512;

/**
 * A keyed random rotation of face embeddings and their sign sketches, for the duplicate index (ADR 0010).
 *
 * The rotation is three rounds of keyed random signs, a fast Walsh-Hadamard transform and a keyed
 * permutation (the structured rotation of Andoni et al., "Practical and optimal LSH for angular
 * distance", 2015): orthogonal, so cosines are unchanged, and secret, so what the index stores cannot be
 * compared with an embedding someone computes from a photo with the public model unless they hold the
 * key. The sketch keeps the sign of each rotated coordinate: the share of differing bits between two
 * sketches estimates the angle between the faces (Charikar's SimHash: P(bit differs) = angle / π), so
 * the nearest sketches by Hamming distance are the candidates whose exact cosine is then computed.
 */
export interface FaceSketcher {
  /** The embedding rotated (same length, same norm). */
  rotate(embedding: Float32Array): Float32Array;
  /** Sign bits of a rotated embedding, packed 8 per byte, first coordinate in the high bit. */
  sketch(rotated: Float32Array): Uint8Array;
}

export function faceSketcher(key: Uint8Array, dims = SKETCH_BITS): FaceSketcher {
  if (dims <= 0 || (dims & (dims - 1)) !== 0) throw new Error(`dims must be a power of two, got ${dims}`);
  const stream = keyStream(key, dims * 3 + dims * 4);
  const signs = Array.from({ length: 3 }, (_, r) =>
    Float32Array.from({ length: dims }, (_, i) => (stream[r * dims + i]! & 1 ? -1 : 1)),
  );
  // Fisher-Yates with keyed 32-bit draws.
  const perm = Uint32Array.from({ length: dims }, (_, i) => i);
  const words = new DataView(stream.buffer, stream.byteOffset + dims * 3, dims * 4);
  for (let i = dims - 1; i > 0; i--) {
    const j = words.getUint32(i * 4) % (i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const scale = 1 / Math.sqrt(dims);
  return {
    rotate(embedding) {
      if (embedding.length !== dims)
        throw new Error(`expected a ${dims}-d embedding, got ${embedding.length}`);
      const x = new Float64Array(embedding);
      for (const s of signs) {
        for (let i = 0; i < dims; i++) x[i] = x[i]! * s[i]!;
        walshHadamard(x);
        for (let i = 0; i < dims; i++) x[i] = x[i]! * scale;
      }
      return Float32Array.from(perm, (p) => x[p]!);
    },
    sketch(rotated) {
      const out = new Uint8Array(Math.ceil(rotated.length / 8));
      for (let i = 0; i < rotated.length; i++) if (rotated[i]! >= 0) out[i >> 3]! |= 0x80 >> (i & 7);
      return out;
    },
  };
}

/** In-place unnormalised fast Walsh-Hadamard transform (length a power of two). */
function walshHadamard(x: Float64Array): void {
  for (let h = 1; h < x.length; h *= 2)
    for (let i = 0; i < x.length; i += h * 2)
      for (let j = i; j < i + h; j++) {
        const a = x[j]!;
        const b = x[j + h]!;
        x[j] = a + b;
        x[j + h] = a - b;
      }
}

/** `n` pseudo-random bytes from the key: SHA-256 in counter mode. */
function keyStream(key: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let block = 0, off = 0; off < n; block++) {
    const h = createHash('sha256').update(key).update(`face-sketch:${block}`).digest();
    out.set(h.subarray(0, Math.min(h.length, n - off)), off);
    off += h.length;
  }
  return out;
}

/**
 * The rotated embedding as 8-bit integers and one scale (516 bytes instead of 2 048): a rotated unit
 * vector spreads its energy evenly, so the rounding moves a cosine by less than 0.005 (face-sketch.test.ts).
 */
export function packEmbedding(rotated: Float32Array): Buffer {
  let max = 0;
  for (const v of rotated) max = Math.max(max, Math.abs(v));
  const scale = max / 127 || 1;
  const out = Buffer.alloc(4 + rotated.length);
  out.writeFloatLE(scale, 0);
  for (let i = 0; i < rotated.length; i++) out.writeInt8(Math.round(rotated[i]! / scale), 4 + i);
  return out;
}

export function unpackEmbedding(packed: Buffer): Float32Array {
  const scale = packed.readFloatLE(0);
  return Float32Array.from({ length: packed.length - 4 }, (_, i) => packed.readInt8(4 + i) * scale);
}
