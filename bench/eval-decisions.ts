/**
 * Decision accuracy: what `status` a customer gets, on generated labelled cases (test/synth/cases.ts),
 * through `POST /v1/identity/verify` as a client calls it (JSON, every default check and `duplicate`).
 * Each case runs in an account of its own (a tenant's customers are different people; the generator's
 * few faces recur across cases); a `duplicate_identity` case sends its earlier verification first.
 *
 *   node --import tsx bench/eval-decisions.ts [perCell] [--split tune|heldout|both] [--kinds k1,k2]
 *                                             [--levels clean,medium,hard] [--out file.json]
 *                                             [--heldout-seed-offset 100000·k] (a fresh held-out draw)
 *
 * `perCell` cases per (kind, level, split). Prints, per split, the confusion matrix of `status` by case
 * kind and the share of each attack wrongly `verified`; `--out` keeps every case's answer for diagnosis.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildCase, CASE_KINDS, type CaseKind, type Split } from '../test/synth/cases.ts';
import type { PhotoLevel } from '../test/synth/photograph.ts';
import { postCase, SHARED_DATA, startTestServer } from '../test/helpers.ts';
import { DEFAULT_CHECKS } from '../src/domain/verification.ts';
import { pct, table } from './metrics.ts';

export interface DecisionRow {
  kind: CaseKind;
  level: PhotoLevel;
  split: Split;
  seed: number;
  status: string;
  risk_score?: number;
  factors: string[];
  ms: number;
  notes: Record<string, unknown>;
  /** Each check's status and reason, and the fraud check's signals (for calibration and diagnosis). */
  checks: Record<string, unknown>;
}

const STATUSES = ['verified', 'review', 'rejected', 'error', 'pending'] as const;

/** Seeds never shared between the splits: held-out cases start at a million. */
export function seedOf(split: Split, kind: CaseKind, level: PhotoLevel, i: number, offset = 0): number {
  const base = (split === 'tune' ? 1 : 1_000_000) + offset;
  return base + CASE_KINDS.indexOf(kind) * 10_000 + ['clean', 'medium', 'hard'].indexOf(level) * 1_000 + i;
}

export async function evaluateDecisions(opts: {
  perCell: number;
  splits: Split[];
  kinds: readonly CaseKind[];
  levels: readonly PhotoLevel[];
  /** Added to the held-out seeds: a fresh draw of held-out cases (multiple of 100 000, below 1 000 000). */
  heldoutSeedOffset?: number;
  onRow?: (r: DecisionRow) => void;
}): Promise<DecisionRow[]> {
  const s = await startTestServer({ HUWIYA_RATE_LIMIT_PER_MINUTE: '100000' });
  const rows: DecisionRow[] = [];
  let accounts = 0;
  try {
    const today = s.runtime.deps.now();
    for (const split of opts.splits)
      for (let i = 0; i < opts.perCell; i++)
        for (const level of opts.levels)
          for (const kind of opts.kinds) {
            const seed = seedOf(
              split,
              kind,
              level,
              i,
              split === 'heldout' ? (opts.heldoutSeedOffset ?? 0) : 0,
            );
            const c = await buildCase(kind, level, split, seed, today);
            const key = await s.key(undefined, `eval_${++accounts}`);
            const checks = [...DEFAULT_CHECKS, 'duplicate'];
            if (c.earlier) await postCase(s, key, c.earlier, { checks });
            const t0 = performance.now();
            const r = await postCase(s, key, c, { checks });
            const ms = performance.now() - t0;
            const body = r.json() as {
              status?: string;
              risk_score?: number;
              risk_factors?: { code: string; contribution: number }[];
              error?: { code: string };
              extracted_data?: { field_provenance?: Record<string, string> };
              checks?: Record<
                string,
                {
                  status: string;
                  reason?: string;
                  assessments?: unknown;
                  similarity_score?: number;
                  evidence?: { disagreements?: unknown };
                }
              >;
            };
            const row: DecisionRow = {
              kind,
              level,
              split,
              seed,
              status: r.statusCode === 200 ? (body.status ?? 'error') : `http_${r.statusCode}`,
              risk_score: body.risk_score,
              factors: (body.risk_factors ?? [])
                .filter((f) => f.contribution > 0)
                .map((f) => `${f.code}:${f.contribution}`),
              ms: Math.round(ms),
              notes: c.notes,
              checks: Object.fromEntries(
                Object.entries(body.checks ?? {}).map(([k, v]) => [
                  k,
                  {
                    status: v.status,
                    reason: v.reason,
                    ...(v.similarity_score !== undefined ? { similarity: v.similarity_score } : {}),
                    ...(k === 'fraud' || k === 'duplicate' ? { assessments: v.assessments } : {}),
                    ...(k === 'ocr' && v.evidence?.disagreements
                      ? { disagreements: v.evidence.disagreements }
                      : {}),
                    ...(k === 'ocr' && body.extracted_data?.field_provenance
                      ? { provenance: body.extracted_data.field_provenance }
                      : {}),
                  },
                ]),
              ),
            };
            rows.push(row);
            opts.onRow?.(row);
          }
  } finally {
    await s.close();
  }
  return rows;
}

export function decisionTables(rows: readonly DecisionRow[], split: Split): string {
  const mine = rows.filter((r) => r.split === split);
  const out: string[] = [];
  const matrix: (string | number)[][] = [['case', 'n', ...STATUSES, 'wrong']];
  for (const kind of CASE_KINDS) {
    const rs = mine.filter((r) => r.kind === kind);
    if (!rs.length) continue;
    const count = (st: string) => rs.filter((r) => r.status === st).length;
    // Genuine customers are wrong when not verified; every other case is wrong when verified.
    const wrong = kind === 'genuine' ? rs.length - count('verified') : count('verified');
    matrix.push([kind, rs.length, ...STATUSES.map(count), pct(wrong / rs.length)]);
  }
  out.push(table(matrix));
  const levels: (string | number)[][] = [
    ['level', 'genuine verified', 'genuine rejected', 'attacks verified'],
  ];
  for (const level of ['clean', 'medium', 'hard'] as const) {
    const g = mine.filter((r) => r.level === level && r.kind === 'genuine');
    const a = mine.filter((r) => r.level === level && r.kind !== 'genuine');
    if (!g.length && !a.length) continue;
    levels.push([
      level,
      g.length ? `${g.filter((r) => r.status === 'verified').length}/${g.length}` : '-',
      g.length ? `${g.filter((r) => r.status === 'rejected').length}/${g.length}` : '-',
      a.length ? `${a.filter((r) => r.status === 'verified').length}/${a.length}` : '-',
    ]);
  }
  out.push(table(levels));
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!SHARED_DATA) {
    console.log('skipped: ../shared/data is absent (the cases take their people from it)');
    process.exit(0);
  }
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const perCell = Number(args.find((a) => /^\d+$/.test(a)) ?? 4);
  const split = opt('split') ?? 'both';
  const splits: Split[] = split === 'both' ? ['tune', 'heldout'] : [split as Split];
  const kinds = (opt('kinds')?.split(',') as CaseKind[] | undefined) ?? CASE_KINDS;
  const levels = (opt('levels')?.split(',') as PhotoLevel[] | undefined) ?? ['clean', 'medium', 'hard'];
  const heldoutSeedOffset = Number(opt('heldout-seed-offset') ?? 0);
  const t0 = performance.now();
  const rows = await evaluateDecisions({
    perCell,
    splits,
    kinds,
    levels,
    heldoutSeedOffset,
    onRow: (r) =>
      process.stderr.write(
        `${r.split} ${r.kind} ${r.level} ${r.seed}: ${r.status} ${r.risk_score ?? ''} ${r.factors.join(' ')} (${r.ms} ms)\n`,
      ),
  });
  const file = opt('out') ?? path.join('bench/out', `decisions-${Date.now()}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(rows, null, 1));
  for (const s of splits) {
    console.log(
      `\nDecisions on generated CNIE cases, ${s} split (${rows.filter((r) => r.split === s).length} cases)`,
    );
    console.log(decisionTables(rows, s));
  }
  console.log(
    `\n${rows.length} cases in ${Math.round((performance.now() - t0) / 1000)} s; every answer in ${file}`,
  );
}
