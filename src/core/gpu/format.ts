import type { GpuInfo, HostGpuState } from './types';

/** The keys of one GPU in `ml-containers gpus --json`, in their order. */
const GPU_JSON_KEYS = [
  'index',
  'uuid',
  'name',
  'computeCapability',
  'memoryTotalMiB',
  'memoryUsedMiB',
  'utilizationGpu',
  'temperatureC',
  'powerDrawW',
] as const satisfies readonly (keyof GpuInfo)[];

/** One GPU in `ml-containers gpus --json`: exactly these keys, null where unknown. */
export type GpuJson = Pick<GpuInfo, (typeof GPU_JSON_KEYS)[number]>;

/** `ml-containers gpus --json`: `reason` only when `gpus` is empty. */
export interface GpusJson {
  driverVersion: string | null;
  cudaDriverVersion: string | null;
  gpus: GpuJson[];
  reason?: string;
}

/** The command-line contract's view of a probe: these keys in this order, nothing else. */
export function toGpusJson(state: HostGpuState): GpusJson {
  const out: GpusJson = {
    driverVersion: state.driverVersion,
    cudaDriverVersion: state.cudaDriverVersion,
    gpus: state.gpus.map((g) => Object.fromEntries(GPU_JSON_KEYS.map((k) => [k, g[k]])) as GpuJson),
  };
  if (state.gpus.length === 0) {
    out.reason = state.reason ?? 'No NVIDIA GPU was found. Install the NVIDIA driver and run nvidia-smi to check.';
  }
  return out;
}

/** The human-readable form of `ml-containers gpus`: the driver line, then one table row per GPU. */
export function formatHostGpuState(state: HostGpuState): string {
  if (state.gpus.length === 0) return toGpusJson(state).reason ?? '';
  const driver = state.driverVersion ? `NVIDIA driver ${state.driverVersion}` : 'NVIDIA driver (version unknown)';
  const cuda = state.cudaDriverVersion ? `supports CUDA up to ${state.cudaDriverVersion}` : 'CUDA version unknown';
  const head = ['GPU', 'Name', 'Compute', 'Memory used / total', 'Util', 'Temp', 'Power', 'MIG', 'UUID'];
  const rows = state.gpus.map((g) => [
    String(g.index),
    g.name ?? '-',
    g.computeCapability ?? '-',
    memory(g),
    unit(g.utilizationGpu, '%'),
    unit(g.temperatureC, 'C'),
    power(g),
    g.migMode ?? '-',
    g.uuid ?? '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [`${driver}, ${cuda}`, '', line(head), ...rows.map(line)].join('\n');
}

function memory(g: GpuInfo): string {
  if (g.memoryTotalMiB === null && g.memoryUsedMiB === null) return '-';
  return `${g.memoryUsedMiB ?? '?'} / ${g.memoryTotalMiB ?? '?'} MiB`;
}

function power(g: GpuInfo): string {
  if (g.powerDrawW === null) return g.powerLimitW === null ? '-' : `- / ${round(g.powerLimitW)} W`;
  return g.powerLimitW === null ? `${round(g.powerDrawW)} W` : `${round(g.powerDrawW)} / ${round(g.powerLimitW)} W`;
}

function unit(v: number | null, u: string): string {
  return v === null ? '-' : `${v} ${u}`;
}

function round(v: number): string {
  return String(Math.round(v));
}
