/**
 * What the GPU status bar item says (text, tooltip table, warning) and when a run's GPUs sit idle. Pure: snapshots
 * and run descriptions in, text and decisions out.
 */
import type { GpuSnapshot } from './monitor';
import type { GpuInfo } from './types';

export type MultiGpuMode = 'busiest' | 'average';

/** A run that uses GPUs, as the status bar needs it. */
export interface RunOnGpus {
  id: string;
  label: string;
  /** `all`, or GPU indices / UUIDs. */
  gpus: 'all' | string[];
}

export interface StatusBarView {
  /** e.g. `$(pulse) GPU 87% · 61/140 GiB`. */
  text: string;
  /** Markdown: a table per GPU and the runs on it. */
  tooltip: string;
  /** Memory above 90% on some GPU. */
  memoryWarning: boolean;
}

export const MEMORY_WARNING_RATIO = 0.9;

/** MiB as GiB: one decimal below 10 GiB, whole above. */
export function gib(mib: number | null): string {
  if (mib === null) return '?';
  const g = mib / 1024;
  return g < 10 ? g.toFixed(1).replace(/\.0$/, '') : String(Math.round(g));
}

const pct = (v: number | null): string => (v === null ? '?' : `${Math.round(v)}%`);
/** Hover tables have almost no cell padding: a non-breaking space on each side keeps the columns apart. */
const pad = (cell: string | number): string => `&nbsp;${cell}&nbsp;`;

/** The runs that use a GPU (by index or UUID, or all GPUs). */
export function runsOn(gpu: GpuInfo, runs: readonly RunOnGpus[]): RunOnGpus[] {
  return runs.filter(
    (r) => r.gpus === 'all' || r.gpus.includes(String(gpu.index)) || (gpu.uuid !== null && r.gpus.includes(gpu.uuid)),
  );
}

function memRatio(g: GpuInfo): number {
  return g.memoryUsedMiB !== null && g.memoryTotalMiB ? g.memoryUsedMiB / g.memoryTotalMiB : 0;
}

/** The status bar item for a snapshot. */
export function statusBarView(snapshot: GpuSnapshot, runs: readonly RunOnGpus[], mode: MultiGpuMode): StatusBarView {
  const gpus = snapshot.gpus;
  let text: string;
  if (gpus.length === 0) text = '$(pulse) GPU ?';
  else if (gpus.length === 1) {
    const g = gpus[0]!;
    text = `$(pulse) GPU ${pct(g.utilizationGpu)} · ${gib(g.memoryUsedMiB)}/${gib(g.memoryTotalMiB)} GiB`;
  } else if (mode === 'average') {
    const utils = gpus.map((g) => g.utilizationGpu).filter((u): u is number => u !== null);
    const avg = utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : null;
    const used = gpus.reduce((a, g) => a + (g.memoryUsedMiB ?? 0), 0);
    const total = gpus.reduce((a, g) => a + (g.memoryTotalMiB ?? 0), 0);
    text = `$(pulse) ${gpus.length} GPUs ${pct(avg)} · ${gib(used)}/${gib(total)} GiB`;
  } else {
    const busiest = [...gpus].sort(
      (a, b) => (b.utilizationGpu ?? -1) - (a.utilizationGpu ?? -1) || memRatio(b) - memRatio(a),
    )[0]!;
    text =
      `$(pulse) GPU ${busiest.index}/${gpus.length} ${pct(busiest.utilizationGpu)} · ` +
      `${gib(busiest.memoryUsedMiB)}/${gib(busiest.memoryTotalMiB)} GiB`;
  }
  const rows = gpus.map((g) => {
    const on = runsOn(g, runs)
      .map((r) => r.label.replace(/\|/g, '\\|'))
      .join(', ');
    const power = g.powerDrawW === null ? '?' : `${Math.round(g.powerDrawW)} W`;
    const temp = g.temperatureC === null ? '?' : `${g.temperatureC} °C`;
    const mem = `${gib(g.memoryUsedMiB)} / ${gib(g.memoryTotalMiB)} GiB`;
    return `| ${[g.index, g.name ?? '?', pct(g.utilizationGpu), mem, temp, power, on || '—'].map(pad).join(' | ')} |`;
  });
  const tooltip = [
    `| ${['GPU', 'Name', 'Util', 'Memory', 'Temp', 'Power', 'Our runs'].map(pad).join(' | ')} |`,
    '|---|---|--:|--:|--:|--:|---|',
    ...rows,
  ].join('\n');
  return { text, tooltip, memoryWarning: gpus.some((g) => memRatio(g) > MEMORY_WARNING_RATIO) };
}

export interface IdleHint {
  runId: string;
  /** The GPUs that stayed idle. */
  gpus: GpuInfo[];
  /** How long they stayed below the threshold, in ms. */
  idleMs: number;
}

/**
 * Says once per run when all its GPUs have stayed below `thresholdPct` utilization for `windowMs` while it runs
 * (the GPUs are waiting for data, not computing).
 */
export class IdleGpuDetector {
  private readonly belowSince = new Map<string, number>();
  private readonly hinted = new Set<string>();

  constructor(
    readonly thresholdPct = 10,
    readonly windowMs = 120_000,
  ) {}

  /** Feeds one snapshot with the runs active now; returns the hints due now (each run at most once). */
  observe(snapshot: GpuSnapshot, runs: readonly RunOnGpus[]): IdleHint[] {
    const hints: IdleHint[] = [];
    const active = new Set(runs.map((r) => r.id));
    for (const id of [...this.belowSince.keys()]) if (!active.has(id)) this.belowSince.delete(id);
    for (const run of runs) {
      if (this.hinted.has(run.id)) continue;
      const gpus = snapshot.gpus.filter((g) => runsOn(g, [run]).length > 0);
      if (gpus.length === 0) continue;
      const idle = gpus.every((g) => g.utilizationGpu !== null && g.utilizationGpu < this.thresholdPct);
      if (!idle) {
        this.belowSince.delete(run.id);
        continue;
      }
      const since = this.belowSince.get(run.id) ?? snapshot.at;
      this.belowSince.set(run.id, since);
      if (snapshot.at - since >= this.windowMs) {
        this.hinted.add(run.id);
        hints.push({ runId: run.id, gpus, idleMs: snapshot.at - since });
      }
    }
    return hints;
  }
}

/** The hint's words: what we saw and the usual causes, one paragraph. */
export function idleHintMessage(label: string, hint: IdleHint, thresholdPct: number): string {
  const which = hint.gpus.map((g) => g.index).join(', ');
  const minutes = Math.round(hint.idleMs / 60_000);
  return (
    `Run ${label} has kept GPU ${which} below ${thresholdPct}% busy for ${minutes} minute${minutes === 1 ? '' : 's'}: ` +
    'the GPU is waiting for data. Usual causes: too few DataLoader workers (num_workers), pin_memory off, a small ' +
    '/dev/shm, or CPU-bound preprocessing; the run log shows where the time goes.'
  );
}
