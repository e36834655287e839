/**
 * The host's GPUs as its NVIDIA driver reports them, through `nvidia-smi`:
 * `--query-gpu=<fields> --format=csv,noheader,nounits` for the GPUs and `-q -x` for the driver's CUDA version (the CSV
 * has no such field). Parsers are pure; `probeHost` runs nvidia-smi and never throws for a missing or broken driver:
 * it answers `gpus: []` with a `reason` that says what happened and what to do.
 */
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import {
  CancellationError,
  ChildProcessError,
  CommandNotFoundError,
  ProcessStartError,
  ProcessTimeoutError,
  runProcess,
} from '../proc';
import type { GpuInfo, GpuMode, HostGpuState } from './types';

/**
 * The `--query-gpu` fields the probe asks for: only fields in the header of a real capture (driver 580,
 * test/fixtures/gpu-hosts/h200-driver-580/query-gpu.csv), each mapped to a `GpuInfo` key or read on its own.
 */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'driver_version',
  'compute_cap',
  'memory.total',
  'memory.used',
  'utilization.gpu',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'pci.bus_id',
  'mig.mode.current',
  'ecc.mode.current',
] as const;

/** Which `GpuInfo` key a query field fills, and how its value reads. */
const FIELD_KEYS: Record<string, { key: keyof GpuInfo; kind: 'int' | 'number' | 'text' | 'cc' | 'mode' }> = {
  index: { key: 'index', kind: 'int' },
  uuid: { key: 'uuid', kind: 'text' },
  gpu_uuid: { key: 'uuid', kind: 'text' },
  name: { key: 'name', kind: 'text' },
  gpu_name: { key: 'name', kind: 'text' },
  compute_cap: { key: 'computeCapability', kind: 'cc' },
  'memory.total': { key: 'memoryTotalMiB', kind: 'number' },
  'memory.used': { key: 'memoryUsedMiB', kind: 'number' },
  'utilization.gpu': { key: 'utilizationGpu', kind: 'number' },
  'temperature.gpu': { key: 'temperatureC', kind: 'number' },
  'power.draw': { key: 'powerDrawW', kind: 'number' },
  'power.limit': { key: 'powerLimitW', kind: 'number' },
  'pci.bus_id': { key: 'pciBusId', kind: 'text' },
  gpu_bus_id: { key: 'pciBusId', kind: 'text' },
  'mig.mode.current': { key: 'migMode', kind: 'mode' },
  'ecc.mode.current': { key: 'eccMode', kind: 'mode' },
};

/** Names nvidia-smi accepts for a field and the name it prints in the header (from `nvidia-smi --help-query-gpu`). */
const HEADER_ALIASES: Record<string, string> = {
  gpu_name: 'name',
  gpu_uuid: 'uuid',
  gpu_bus_id: 'pci.bus_id',
  'clocks.sm': 'clocks.current.sm',
};

/** nvidia-smi printed something we cannot read (not one of its error messages: those exit non-zero). */
export class NvidiaSmiOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NvidiaSmiOutputError';
  }
}

/** The argv for `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits [-lms N]`. */
export function queryGpuArgs(fields: readonly string[], options: { loopMs?: number } = {}): string[] {
  if (fields.length === 0) throw new RangeError('queryGpuArgs needs at least one field.');
  const args = [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'];
  if (options.loopMs !== undefined) {
    if (!Number.isInteger(options.loopMs) || options.loopMs < 1) {
      throw new RangeError(`loopMs must be a positive whole number of milliseconds, got ${options.loopMs}.`);
    }
    args.push('-lms', String(options.loopMs));
  }
  return args;
}

/**
 * The rows of `--query-gpu` CSV output as field -> raw text (null for `[N/A]`, `[Not Supported]`, `[Unknown Error]`
 * and any other bracketed placeholder). Reads output with or without the header line and with or without units.
 * Throws `NvidiaSmiOutputError` for a line that does not have one value per field.
 */
export function parseQueryGpuRows(text: string, fields: readonly string[]): Record<string, string | null>[] {
  const rows: Record<string, string | null>[] = [];
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  for (const line of lines) {
    if (line.trim() === '') continue;
    let cells = line.split(',').map((c) => c.trim());
    if (rows.length === 0 && isHeader(cells, fields)) continue;
    if (cells.length > fields.length) cells = mergeNameCommas(cells, fields);
    if (cells.length !== fields.length) {
      throw new NvidiaSmiOutputError(
        `nvidia-smi printed ${cells.length} values for ${fields.length} fields: "${clip(line)}".`,
      );
    }
    const row: Record<string, string | null> = {};
    fields.forEach((f, j) => (row[f] = placeholderToNull(cells[j] ?? '')));
    rows.push(row);
  }
  return rows;
}

/**
 * The GPUs in `--query-gpu` CSV output for `fields` (any subset of the known fields; others are ignored, and
 * `GpuInfo` keys that no field fills are null). Numbers may carry units (`143771 MiB`, `126.10 W`, `0 %`).
 */
export function parseQueryGpuCsv(text: string, fields: readonly string[]): GpuInfo[] {
  return rowsToGpus(parseQueryGpuRows(text, fields), fields);
}

function rowsToGpus(rows: Record<string, string | null>[], fields: readonly string[]): GpuInfo[] {
  return rows.map((row, position) => {
    const gpu = emptyGpu(position);
    for (const f of fields) {
      const spec = FIELD_KEYS[f];
      if (!spec) continue;
      const raw = row[f] ?? null;
      switch (spec.kind) {
        case 'int': {
          const n = parseNumber(raw);
          gpu.index = n !== null && Number.isInteger(n) && n >= 0 ? n : position;
          break;
        }
        case 'number':
          setGpu(gpu, spec.key, parseNumber(raw));
          break;
        case 'text':
          setGpu(gpu, spec.key, raw);
          break;
        case 'cc':
          gpu.computeCapability = parseComputeCapability(raw);
          break;
        case 'mode':
          setGpu(gpu, spec.key, parseMode(raw));
          break;
      }
    }
    return gpu;
  });
}

/** What `nvidia-smi -q -x` says about the driver and each GPU. */
export interface SmiXmlInfo {
  driverVersion: string | null;
  /** `<cuda_version>`: the newest CUDA version the driver supports. */
  cudaDriverVersion: string | null;
  gpus: SmiXmlGpu[];
}

export interface SmiXmlGpu extends GpuInfo {
  /** `<product_architecture>`, e.g. `Hopper`. */
  architecture: string | null;
  /** MIG devices (GPU instance slices) listed under `<mig_devices>`. */
  migDeviceCount: number;
}

/**
 * Reads `nvidia-smi -q -x` output (driver 580 writes DTD v13). The XML has no compute capability (the CSV's
 * `compute_cap` has it): `computeCapability` is read only where a `<compute_cap>` element exists.
 * Throws `NvidiaSmiOutputError` when the text is not an nvidia-smi log.
 */
export function parseSmiXml(xml: string): SmiXmlInfo {
  let doc: unknown;
  try {
    doc = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@_',
      parseTagValue: false,
      parseAttributeValue: false,
      processEntities: false,
    }).parse(xml);
  } catch (err) {
    throw new NvidiaSmiOutputError(`nvidia-smi -q -x printed XML that cannot be read: ${(err as Error).message}`);
  }
  const log = obj(obj(doc)?.nvidia_smi_log);
  if (!log) {
    const first = xml.split('\n').find((l) => l.trim() !== '') ?? '';
    throw new NvidiaSmiOutputError(`nvidia-smi -q -x did not print an nvidia_smi_log: "${clip(first.trim())}".`);
  }
  const gpus = toArray(log.gpu).map((g, position): SmiXmlGpu => {
    const gpu = obj(g) ?? {};
    const power = obj(gpu.gpu_power_readings) ?? obj(gpu.power_readings) ?? {};
    const migDevices = obj(gpu.mig_devices);
    return {
      ...emptyGpu(position),
      uuid: text(gpu.uuid),
      name: text(gpu.product_name),
      computeCapability: parseComputeCapability(text(gpu.compute_cap)),
      memoryTotalMiB: parseNumber(text(obj(gpu.fb_memory_usage)?.total)),
      memoryUsedMiB: parseNumber(text(obj(gpu.fb_memory_usage)?.used)),
      utilizationGpu: parseNumber(text(obj(gpu.utilization)?.gpu_util)),
      temperatureC: parseNumber(text(obj(gpu.temperature)?.gpu_temp)),
      powerDrawW: parseNumber(text(power.average_power_draw) ?? text(power.power_draw)),
      powerLimitW: parseNumber(text(power.current_power_limit) ?? text(power.power_limit)),
      pciBusId: text(obj(gpu.pci)?.pci_bus_id) ?? text(gpu['@_id']),
      migMode: parseMode(text(obj(gpu.mig_mode)?.current_mig)),
      eccMode: parseMode(text(obj(gpu.ecc_mode)?.current_ecc)),
      architecture: text(gpu.product_architecture),
      migDeviceCount: migDevices ? toArray(migDevices.mig_device).length : 0,
    };
  });
  return { driverVersion: text(log.driver_version), cudaDriverVersion: text(log.cuda_version), gpus };
}

/** Where nvidia-smi lives when it is not on the PATH: WSL2 maps the Windows driver's tools here. */
export const NVIDIA_SMI_FALLBACKS: Readonly<Record<string, readonly string[]>> = {
  linux: ['/usr/lib/wsl/lib/nvidia-smi'],
  win32: ['C:\\Windows\\System32\\nvidia-smi.exe', 'C:\\Program Files\\NVIDIA Corporation\\NVSMI\\nvidia-smi.exe'],
};

/**
 * The path of the nvidia-smi to run: the first executable `nvidia-smi` on `env.PATH`, then the platform's fallbacks
 * (on Linux `/usr/lib/wsl/lib/nvidia-smi`, for WSL2). Null when there is none.
 */
export async function locateNvidiaSmi(
  env: NodeJS.ProcessEnv = process.env,
  fallbacks: readonly string[] = NVIDIA_SMI_FALLBACKS[process.platform] ?? [],
): Promise<string | null> {
  const win = process.platform === 'win32';
  const names = win
    ? [...(env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').map((e) => `nvidia-smi${e.toLowerCase()}`)]
    : ['nvidia-smi'];
  const pathValue = env.PATH ?? env.Path ?? '';
  for (const dir of pathValue.split(path.delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (await isExecutable(candidate)) return candidate;
    }
  }
  for (const candidate of fallbacks) {
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

export interface ProbeOptions {
  /** Aborting stops nvidia-smi and rejects with `CancellationError` (the only thing `probeHost` rejects with). */
  signal?: AbortSignal;
  /** The whole probe's time limit (default 15 s); a hung driver gives a `reason`, not a hang. */
  timeoutMs?: number;
  /** The environment nvidia-smi is looked up in (`PATH`) and run with (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Where to look when nvidia-smi is not on the PATH (default `NVIDIA_SMI_FALLBACKS` for this platform). */
  fallbacks?: readonly string[];
}

export const DEFAULT_PROBE_TIMEOUT_MS = 15_000;

/** The reason given when there is no nvidia-smi at all. */
export const NO_NVIDIA_SMI_REASON =
  'No NVIDIA driver: nvidia-smi was not found. Install the NVIDIA driver (it provides nvidia-smi), or put nvidia-smi on the PATH, and try again.';

const MAX_SMI_OUTPUT_BYTES = 8 * 1024 * 1024;

/**
 * Asks the host's NVIDIA driver about its GPUs: `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` and
 * `nvidia-smi -q -x`, in parallel. Never throws for a missing, failing, hung or garbled nvidia-smi: the answer then
 * has `gpus: []` and a `reason`. Rejects only with `CancellationError` when `signal` aborts.
 */
export async function probeHost(options: ProbeOptions = {}): Promise<HostGpuState> {
  const { signal, env = process.env } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const smi = await locateNvidiaSmi(env, options.fallbacks);
  if (signal?.aborted) throw new CancellationError();
  if (!smi) return { driverVersion: null, cudaDriverVersion: null, gpus: [], reason: NO_NVIDIA_SMI_REASON };

  const run = (argv: string[]) =>
    runProcess(smi, argv, {
      signal,
      env,
      timeoutMs: Math.max(1, deadline - Date.now()),
      maxOutputBytes: MAX_SMI_OUTPUT_BYTES,
    });

  const [csv, xml] = await Promise.allSettled([queryWithFallback(run), run(['-q', '-x'])]);
  for (const r of [csv, xml]) {
    if (r.status === 'rejected' && r.reason instanceof CancellationError) throw r.reason;
  }

  let xmlInfo: SmiXmlInfo | undefined;
  let xmlError: unknown;
  if (xml.status === 'fulfilled') {
    try {
      xmlInfo = parseSmiXml(xml.value.stdout);
    } catch (err) {
      xmlError = err;
    }
  } else {
    xmlError = xml.reason;
  }

  let gpus: GpuInfo[] | undefined;
  let driverVersion: string | null = null;
  let csvError: unknown;
  if (csv.status === 'fulfilled') {
    try {
      const rows = parseQueryGpuRows(csv.value.stdout, csv.value.fields);
      gpus = rowsToGpus(rows, csv.value.fields);
      driverVersion = rows.map((r) => r.driver_version ?? null).find((v) => v !== null) ?? null;
    } catch (err) {
      csvError = err;
    }
  } else {
    csvError = csv.reason;
  }

  const base = {
    driverVersion: driverVersion ?? xmlInfo?.driverVersion ?? null,
    cudaDriverVersion: xmlInfo?.cudaDriverVersion ?? null,
    nvidiaSmiPath: smi,
  };
  if (gpus && gpus.length > 0) {
    return { ...base, gpus: xmlInfo ? fillFromXml(gpus, xmlInfo.gpus) : gpus };
  }
  // The CSV query failed in a way the XML did not (or printed nothing readable): the XML alone still names the GPUs.
  if (!gpus && xmlInfo && xmlInfo.gpus.length > 0 && !(csvError instanceof ProcessTimeoutError)) {
    return { ...base, gpus: xmlInfo.gpus.map(stripXmlExtras) };
  }
  const reason = gpus ? noGpusReason(smi) : failureReason(smi, csvError ?? xmlError);
  return { ...base, gpus: [], reason };
}

/** Runs the CSV query; a driver that rejects a field (older drivers lack `compute_cap`) is asked again without it. */
async function queryWithFallback(
  run: (argv: string[]) => Promise<{ stdout: string }>,
): Promise<{ stdout: string; fields: string[] }> {
  let fields: string[] = [...GPU_QUERY_FIELDS];
  for (;;) {
    try {
      const { stdout } = await run(queryGpuArgs(fields));
      return { stdout, fields };
    } catch (err) {
      const bad = err instanceof ChildProcessError ? invalidField(err) : undefined;
      if (bad === undefined || !fields.includes(bad) || bad === 'index') throw err;
      fields = fields.filter((f) => f !== bad);
    }
  }
}

/** `Field "compute_cap" is not a valid field to query.` -> `compute_cap`. */
function invalidField(err: ChildProcessError): string | undefined {
  return /Field "([^"]+)" is not a valid field to query/.exec(`${err.stdout}\n${err.stderr}`)?.[1];
}

/** Fills values the CSV left null from the XML's entry for the same GPU (matched by UUID, then PCI bus id). */
function fillFromXml(gpus: GpuInfo[], xmlGpus: SmiXmlGpu[]): GpuInfo[] {
  return gpus.map((gpu) => {
    const x =
      xmlGpus.find((g) => gpu.uuid !== null && g.uuid === gpu.uuid) ??
      xmlGpus.find((g) => gpu.pciBusId !== null && g.pciBusId === gpu.pciBusId);
    if (!x) return gpu;
    const filled: GpuInfo = { ...gpu };
    for (const key of Object.keys(gpu) as (keyof GpuInfo)[]) {
      if (filled[key] === null) setGpu(filled, key, x[key]);
    }
    return filled;
  });
}

function stripXmlExtras(g: SmiXmlGpu): GpuInfo {
  const { architecture: _a, migDeviceCount: _m, ...gpu } = g;
  return gpu;
}

function noGpusReason(smi: string): string {
  return `No NVIDIA GPU: ${smi} answered but listed no GPUs. Check that the GPU is installed and visible to this machine (lspci), and that no CUDA_VISIBLE_DEVICES or container setting hides it.`;
}

/** One or two sentences for a failed nvidia-smi: what it said (its first line) and what to do. */
function failureReason(smi: string, err: unknown): string {
  if (err instanceof CommandNotFoundError) return NO_NVIDIA_SMI_REASON;
  if (err instanceof ProcessTimeoutError) {
    return `No working NVIDIA driver: ${smi} did not answer within ${Math.round(err.timeoutMs / 100) / 10} s. Run nvidia-smi in a terminal; if it hangs there too, the driver is stuck: reboot or reload the nvidia kernel module.`;
  }
  if (err instanceof ProcessStartError) {
    return `No working NVIDIA driver: ${err.message.replace(/\.$/, '')}, then try again.`;
  }
  if (err instanceof ChildProcessError) {
    const said = firstLine(err.stderr) ?? firstLine(err.stdout);
    const how = err.exitCode !== null ? `exit code ${err.exitCode}` : `killed by ${err.signal ?? 'a signal'}`;
    const quoted = said ? ` saying "${clip(said)}"` : '';
    const stop = said && /[.!?]$/.test(said) ? ' ' : '. ';
    return `No working NVIDIA driver: nvidia-smi failed (${how})${quoted}${stop}${adviceFor(said ?? '')}`;
  }
  if (err instanceof NvidiaSmiOutputError) {
    return `No readable answer from the NVIDIA driver: ${err.message} Run nvidia-smi in a terminal to see what it prints, and update the NVIDIA driver if its output looks broken.`;
  }
  return `No working NVIDIA driver: running ${smi} failed (${err instanceof Error ? err.message : String(err)}). Run nvidia-smi in a terminal to see the full error.`;
}

function adviceFor(said: string): string {
  if (
    /couldn't communicate with the NVIDIA driver|Failed to initialize NVML: Unknown Error|NVML: Driver Not Loaded/i.test(
      said,
    )
  ) {
    return 'Make sure the NVIDIA driver is installed and its kernel module is loaded (reboot after a driver or kernel update), then run nvidia-smi to check.';
  }
  if (/Driver\/library version mismatch/i.test(said)) {
    return 'The loaded driver is older than its installed libraries: reboot (or reload the nvidia kernel module) to finish the driver update.';
  }
  if (/No devices were found/i.test(said)) {
    return 'The driver sees no GPU: check that it is installed and visible (lspci), and not excluded or passed to a VM.';
  }
  if (/Insufficient Permissions|permission/i.test(said)) {
    return 'Check that this user may open /dev/nvidia* (e.g. is in the video group), or run where it has access.';
  }
  return 'Run nvidia-smi in a terminal to see the full error, and reinstall or update the NVIDIA driver if it persists.';
}

// ---------------------------------------------------------------------------------------------------------------

function emptyGpu(index: number): GpuInfo {
  return {
    index,
    uuid: null,
    name: null,
    computeCapability: null,
    memoryTotalMiB: null,
    memoryUsedMiB: null,
    utilizationGpu: null,
    temperatureC: null,
    powerDrawW: null,
    powerLimitW: null,
    pciBusId: null,
    migMode: null,
    eccMode: null,
  };
}

function setGpu(gpu: GpuInfo, key: keyof GpuInfo, value: unknown): void {
  (gpu as unknown as Record<string, unknown>)[key] = value;
}

/** `[N/A]`, `[Not Supported]`, `[Unknown Error]`, `[Insufficient Permissions]`, `N/A`, empty -> null. */
function placeholderToNull(value: string): string | null {
  const v = value.trim();
  if (v === '' || /^\[.*\]$/.test(v) || /^N\/A$/i.test(v) || /^Not Supported$/i.test(v)) return null;
  return v;
}

/** `143771`, `143771 MiB`, `126.10 W`, `0 %`, `40 C` -> the number; anything else -> null. */
function parseNumber(raw: string | null): number | null {
  if (raw === null) return null;
  const m = /^(-?\d+(?:\.\d+)?)\s*(?:[A-Za-z%/]+)?$/.exec(raw.trim());
  return m ? Number(m[1]) : null;
}

function parseComputeCapability(raw: string | null): string | null {
  const m = raw === null ? null : /^(\d+)\.(\d+)$/.exec(raw.trim());
  return m ? `${Number(m[1])}.${Number(m[2])}` : null;
}

function parseMode(raw: string | null): GpuMode | null {
  const v = raw?.trim().toLowerCase();
  return v === 'enabled' ? 'enabled' : v === 'disabled' ? 'disabled' : null;
}

function isHeader(cells: string[], fields: readonly string[]): boolean {
  const first = cells[0]?.replace(/\s*\[[^\]]*\]$/, '');
  const want = fields[0];
  if (first === undefined || want === undefined) return false;
  return first === want || first === HEADER_ALIASES[want] || HEADER_ALIASES[first] === want;
}

/** A product name with a comma in it splits into too many cells: join the surplus back into the name. */
function mergeNameCommas(cells: string[], fields: readonly string[]): string[] {
  const at = fields.findIndex((f) => f === 'name' || f === 'gpu_name');
  if (at === -1) return cells;
  const extra = cells.length - fields.length;
  return [...cells.slice(0, at), cells.slice(at, at + extra + 1).join(', '), ...cells.slice(at + extra + 1)];
}

function firstLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
}

function clip(s: string, max = 200): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

type XmlObject = Record<string, unknown>;

function obj(v: unknown): XmlObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as XmlObject) : undefined;
}

function toArray(v: unknown): unknown[] {
  if (v === undefined || v === null || v === '') return [];
  return Array.isArray(v) ? v : [v];
}

/** The text of a leaf element; null for a missing element, `N/A`, `[N/A]`, `Not Supported` and the like. */
function text(v: unknown): string | null {
  if (typeof v === 'string') return placeholderToNull(v);
  if (typeof v === 'number') return String(v);
  const o = obj(v);
  if (o && typeof o['#text'] === 'string') return placeholderToNull(o['#text']);
  return null;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return false;
    if (process.platform !== 'win32') await fs.access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}
