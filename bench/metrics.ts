/** Verification metrics over genuine/impostor (or bona fide/attack) scores; higher score = more genuine. */
export function auc(pos: number[], neg: number[]): number {
  // Mann-Whitney U with ties counted half.
  const all = [...pos.map((s) => ({ s, p: 1 })), ...neg.map((s) => ({ s, p: 0 }))].sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k]!.p === 1) rankSum += avgRank;
    i = j;
  }
  const n1 = pos.length;
  const n0 = neg.length;
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}

/** Smallest threshold whose false-accept rate on `neg` is ≤ far (score ≥ t accepts). */
export function thresholdAtFar(neg: number[], far: number): number {
  const sorted = [...neg].sort((a, b) => b - a);
  const allowed = Math.floor(far * sorted.length);
  // Accepting `allowed` impostors at most: threshold just above the (allowed)-th highest impostor.
  const t = sorted[allowed];
  return t === undefined ? -Infinity : t + 1e-6;
}

export function rateAtLeast(scores: number[], t: number): number {
  return scores.filter((s) => s >= t).length / scores.length;
}

export function pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)} %`;
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  return rows
    .map((r, i) => {
      const line = r.map((v, c) => String(v ?? '').padEnd(widths[c]!)).join(' | ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}` : line;
    })
    .join('\n');
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}
