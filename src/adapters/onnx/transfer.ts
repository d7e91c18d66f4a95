import type { Tensor } from '../../ports/inference.ts';

/** A view that owns its whole buffer (handed over as is); a view into a larger one is copied first. */
export function owned<T extends Float32Array | Uint8Array>(a: T): T {
  return (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice()) as T;
}

/** The buffers of a tensor map, to hand over to another thread rather than copy. */
export function tensorBuffers(outputs: Record<string, Tensor>): ArrayBuffer[] {
  return Object.values(outputs).map((t) => t.data.buffer as ArrayBuffer);
}
