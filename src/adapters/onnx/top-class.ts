import type { Tensor, TopClassReduction } from '../../ports/inference.ts';

/**
 * The reduction of `TopClassReduction` over a classifier output: per position along all but the last
 * axis, [best allowed class, its score, ...scores of `also`]. The first of equal scores wins, as a scan
 * that replaces its best only on a strictly higher score would keep it.
 */
export function reduceTopClass(out: Tensor, r: TopClassReduction): Tensor {
  const classes = out.dims[out.dims.length - 1]!;
  const { allowed, also = [] } = r;
  if (allowed && allowed.length !== classes)
    throw new Error(`top-class mask has ${allowed.length} classes, the output ${classes}`);
  for (const k of also)
    if (!Number.isInteger(k) || k < 0 || k >= classes) throw new Error(`top-class: no class ${k}`);
  const positions = out.data.length / classes;
  const stride = 2 + also.length;
  const data = new Float32Array(positions * stride);
  const d = out.data;
  for (let t = 0; t < positions; t++) {
    const row = t * classes;
    let best = -1;
    let bestP = -Infinity;
    for (let k = 0; k < classes; k++) {
      const p = d[row + k]!;
      if (p <= bestP || (allowed && !allowed[k])) continue;
      best = k;
      bestP = p;
    }
    const o = t * stride;
    data[o] = best;
    data[o + 1] = best < 0 ? 0 : bestP;
    for (let j = 0; j < also.length; j++) data[o + 2 + j] = d[row + also[j]!]!;
  }
  return { data, dims: [...out.dims.slice(0, -1), stride] };
}
