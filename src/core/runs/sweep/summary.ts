/**
 * How a sweep is said wherever it is shown (`ml-containers sweep`, the editor's Run Sweep and its summary): what it
 * will run, each variant's progress, how it ended, and the summary table with each run's last metric line.
 */
import { lastMetricLine } from '../explain';
import { paramsLabel } from '../format';
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

/** A state with its exit code when there is one: `failed (exit 4)`, `running`. */
export function stateWithExit(state: string, exitCode: number | null): string {
  return exitCode === null ? state : `${state} (exit ${exitCode})`;
}

/** What a new sweep will run: `Sweep <id>: 4 runs of <image>, at most 2 at a time, 1 GPU(s) each over 0,1.` */
export function describeSweep(sweep: SweepState): string {
  const gpus = sweep.gpusPerRun ? `, ${sweep.gpusPerRun} GPU(s) each over ${sweep.gpus.join(',')}` : ', no GPUs';
  return `Sweep ${sweep.id}: ${sweep.variants.length} runs of ${sweep.image}, at most ${sweep.maxParallel} at a time${gpus}.`;
}

/** How a sweep ended (or stands): `Sweep <id>: 3 of 4 runs succeeded (failed).` */
export function sweepOutcome(sweep: SweepState): string {
  const ok = sweep.variants.filter((v) => v.state === 'succeeded').length;
  return `Sweep ${sweep.id}: ${ok} of ${sweep.variants.length} runs succeeded (${sweep.state}).`;
}

/**
 * A follower of a sweep's progress: given the sweep after each change, the lines of the variants that started or ended
 * since the last call (`[1] lr=0.1: failed (exit 4) <run id>`); queued variants are not reported.
 */
export function variantProgress(): (sweep: SweepState) => string[] {
  const shown = new Map<number, string>();
  return (sweep) =>
    sweep.variants.flatMap((v) => {
      const label = stateWithExit(v.state, v.exitCode);
      if (v.state === 'queued' || shown.get(v.index) === label) return [];
      shown.set(v.index, label);
      return [`[${v.index}] ${paramsLabel(v.params)}: ${label}${v.runId ? ` ${v.runId}` : ''}`];
    });
}

/** The summary table of a sweep as it stands, with each run's last metric line read from its log. */
export async function sweepSummaryText(sweep: SweepState, runner: Runner): Promise<string> {
  return formatSweepSummary(sweep, await summarizeSweep(sweep, runner));
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
  return [
    sweepOutcome(sweep),
    ...(sweep.explanation ? [sweep.explanation] : []),
    '',
    line(header),
    ...body.map(line),
  ].join('\n');
}
