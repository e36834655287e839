/** A sweep's summary: each variant's parameters, state, exit code and last metric line, and the text table. */
import { lastMetricLine } from '../explain';
import type { Runner } from '../runner';
import type { SweepState, VariantState } from './store';

export interface SweepSummaryRow {
  index: number;
  params: Record<string, string>;
  state: VariantState;
  exitCode: number | null;
  runId: string | null;
  /** The last metric-looking line of the run's log. */
  metric: string | null;
  explanation: string | null;
}

/** Each variant's parameters, state, exit code and last metric line. */
export async function summarizeSweep(sweep: SweepState, runner: Runner): Promise<SweepSummaryRow[]> {
  return Promise.all(
    sweep.variants.map(async (v) => ({
      index: v.index,
      params: v.params,
      state: v.state,
      exitCode: v.exitCode,
      runId: v.runId,
      metric: v.runId ? lastMetricLine(await runner.logTail(v.runId)) : null,
      explanation: v.explanation,
    })),
  );
}

/** The summary as a text table. */
export function formatSweepSummary(sweep: SweepState, rows: SweepSummaryRow[]): string {
  const names = Object.keys(rows[0]?.params ?? {});
  const header = ['#', ...names, 'state', 'exit', 'last metric'];
  const body = rows.map((r) => [
    String(r.index),
    ...names.map((n) => r.params[n] ?? ''),
    r.state,
    r.exitCode === null ? '-' : String(r.exitCode),
    r.metric ?? (r.state === 'succeeded' ? '' : (r.explanation ?? '')),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => Math.min(row[i]!.length, 60))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const ok = rows.filter((r) => r.state === 'succeeded').length;
  return [
    `Sweep ${sweep.id}: ${ok} of ${rows.length} runs succeeded (${sweep.state}).`,
    ...(sweep.explanation ? [sweep.explanation] : []),
    '',
    line(header),
    ...body.map(line),
  ].join('\n');
}
