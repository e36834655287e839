/**
 * Sweeps: a command template and a grid of parameters become runs, queued over the free GPUs (gpusPerRun each, never
 * two runs on one GPU unless runsPerGpu says so), started as GPUs free up. The queue is persisted in
 * `.ml-containers/sweeps/<id>/sweep.json` after every change, so a new window (or process) resumes it. Parameter
 * values are substituted into argv elements: they never pass through a shell.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseShell } from 'shell-quote';
import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type Scalar } from 'yaml';
import { writeFileAtomic } from '../util/atomic';
import { CancellationError, errorMessage } from '../util/errors';
import { TooDeeplyNestedError, yamlTooDeep } from '../util/json';
import { readRegularFile, UnsafePathError } from '../util/safeFs';
import { lastMetricLine } from './explain';
import { isFinished, type Runner, RunStartError } from './runner';
import { imageRefProblem, newRunId } from './spec';
import type { RunStore } from './store';
import type { RunRecord, RunSpec, RunState } from './types';

/** A sweep file as written by the user. */
export interface SweepFile {
  /** argv template, one element per entry, with `{name}` placeholders. */
  command: string[];
  /** Parameter name -> values (as written in the file). */
  grid: Record<string, string[]>;
  gpusPerRun: number;
  /** How many runs may share one GPU (default 1: never two on one GPU). */
  runsPerGpu: number;
  maxParallel?: number;
  env: Record<string, string>;
}

export class SweepFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepFileError';
  }
}

/** How many runs one sweep may have unless the user raises it (`--max-variants`, `mlContainers.sweep.maxVariants`). */
export const DEFAULT_MAX_VARIANTS = 1000;
/** The most bytes a sweep file may have: a real one is a few hundred. */
export const SWEEP_FILE_CAP = 1024 * 1024;
/** The most bytes of argv and values all the variants of one sweep may carry (sweep.json is rewritten often). */
const SWEEP_STATE_CAP = 64 * 1024 * 1024;

export interface ParseSweepOptions {
  /** Refuse a grid of more combinations than this (default DEFAULT_MAX_VARIANTS). */
  maxVariants?: number;
}

/**
 * The number of runs a grid makes (the product of its value counts), or null when it is more than `limit`: compared
 * while multiplying, so a grid of 100^200 combinations is refused without being expanded or overflowing.
 */
export function countVariants(grid: Record<string, readonly unknown[]>, limit: number): number | null {
  let n = 1;
  for (const values of Object.values(grid)) {
    n *= values.length;
    if (n > limit) return null;
  }
  return n;
}

/** Throws SweepFileError when the grid makes more than `limit` runs, saying how many and how to raise the limit. */
function checkGridSize(grid: Record<string, readonly unknown[]>, limit: number, where: string): void {
  if (countVariants(grid, limit) !== null) return;
  const counts = Object.entries(grid).map(([name, values]) => ({ name, n: values.length }));
  // the exact product while it is a safe integer, else a bound: never Infinity or 1e+200
  let total = 1;
  let exact = true;
  for (const { n } of counts) {
    if (total * n > Number.MAX_SAFE_INTEGER) {
      exact = false;
      break;
    }
    total *= n;
  }
  const factors = counts
    .slice(0, 6)
    .map((c) => `${c.n} ${c.name}`)
    .join(' × ');
  const more = counts.length > 6 ? ` × … (${counts.length} parameters)` : '';
  throw new SweepFileError(
    `${where}: the grid makes ${exact ? total : `more than ${Number.MAX_SAFE_INTEGER}`} runs (${factors}${more}), ` +
      `more than the ${limit} runs a sweep may start; use fewer values, or raise the limit with --max-variants N ` +
      '(the mlContainers.sweep.maxVariants setting in the editor).',
  );
}

/**
 * Reads a sweep file as text, or returns null when it does not exist. Only a regular file of at most SWEEP_FILE_CAP
 * bytes is read (a FIFO or a device is refused at once, never waited on); any other problem is a SweepFileError of
 * one sentence.
 */
export async function readSweepFileText(file: string, root?: string): Promise<string | null> {
  try {
    return await readRegularFile(file, { cap: SWEEP_FILE_CAP, ...(root !== undefined ? { root } : {}) });
  } catch (err) {
    if (err instanceof UnsafePathError) throw new SweepFileError(err.message);
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied; fix its permissions'
        : code === 'ELOOP'
          ? 'it is a loop of symbolic links; replace it with a file'
          : code === 'ENOTDIR'
            ? 'a folder on its path is a file; check the path'
            : `${errorMessage(err)}; check the file`;
    throw new SweepFileError(`The sweep file ${file} cannot be read (${why}).`);
  }
}

const KEYS = new Set(['command', 'grid', 'gpusPerRun', 'maxParallel', 'runsPerGpu', 'env']);
/** Shell operators have no meaning without a shell: they are refused, not silently passed as arguments. */
const OPERATOR_HINT =
  'commands run without a shell; to use a pipeline or redirection, write the command as a list, e.g. ' +
  '["bash", "-c", "python train.py --lr \\"$0\\" | tee out.log", "{lr}"]';

/** Parses and checks a sweep file; errors name the file, the line and what to write instead. */
export function parseSweepFile(text: string, file = 'sweep.yaml', options: ParseSweepOptions = {}): SweepFile {
  if (yamlTooDeep(text)) throw new SweepFileError(new TooDeeplyNestedError(file).message);
  const doc = parseDocument(text, { prettyErrors: false });
  const where = (node: YamlNode | null | undefined): string => {
    const offset = node?.range?.[0];
    if (offset === undefined) return file;
    return `${file}:${text.slice(0, offset).split('\n').length}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new SweepFileError(`${file}${line ? `:${line}` : ''} is not valid YAML: ${e.message.split('\n')[0]}.`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw new SweepFileError(`${file} must be a mapping with "command" and "grid".`);
  for (const item of root.items) {
    const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
    if (!KEYS.has(key)) {
      throw new SweepFileError(
        `${where(item.key as YamlNode)}: unknown key "${key}"; a sweep file has ${[...KEYS].join(', ')}.`,
      );
    }
  }
  const commandNode = root.get('command', true) as YamlNode | undefined;
  let command: string[];
  if (isScalar(commandNode) && typeof commandNode.value === 'string') {
    command = tokenize(commandNode.value, where(commandNode));
  } else if (isSeq(commandNode) && commandNode.items.every((n) => isScalar(n))) {
    command = commandNode.items.map((n) => scalarText(n as Scalar));
  } else {
    throw new SweepFileError(`${where(commandNode ?? root)}: "command" must be a command line or a list of arguments.`);
  }
  if (command.length === 0) throw new SweepFileError(`${where(commandNode)}: "command" is empty.`);

  const gridNode = root.get('grid', true) as YamlNode | undefined;
  if (!isMap(gridNode) || gridNode.items.length === 0) {
    throw new SweepFileError(`${where(gridNode ?? root)}: "grid" must map each parameter to a list of values.`);
  }
  const grid: Record<string, string[]> = {};
  for (const item of gridNode.items) {
    const name = isScalar(item.key) ? String(item.key.value) : '';
    if (!/^[A-Za-z_][\w-]*$/.test(name)) {
      throw new SweepFileError(
        `${where(item.key as YamlNode)}: "${name}" is not a parameter name (letters, digits, _ and -).`,
      );
    }
    const values = item.value as YamlNode | null;
    const notValues = (found: string): SweepFileError =>
      new SweepFileError(
        `${where(values ?? (item.key as YamlNode))}: "${name}" must be a list of plain values (numbers or strings), ` +
          `but ${found}; write e.g. ${name}: [0.1, 0.01].`,
      );
    if (isSeq(values)) {
      if (values.items.length === 0) throw notValues('the list is empty');
      const i = values.items.findIndex((n) => !isScalar(n) || n.value === null);
      if (i >= 0) throw notValues(`its item ${i + 1} is ${kindOfNode(values.items[i] as YamlNode | null)}`);
      grid[name] = values.items.map((n) => scalarText(n as Scalar));
    } else if (isScalar(values) && values.value !== null) {
      grid[name] = [scalarText(values)];
    } else {
      throw notValues(`it ${values === null || isScalar(values) ? 'has no value' : `is ${kindOfNode(values)}`}`);
    }
  }
  const count = countVariants(grid, options.maxVariants ?? DEFAULT_MAX_VARIANTS);
  if (count === null) checkGridSize(grid, options.maxVariants ?? DEFAULT_MAX_VARIANTS, file);
  // each variant keeps its own argv in sweep.json, written after every change: bound what the grid makes of it
  const longest = (name: string): number => Math.max(0, ...(grid[name] ?? []).map((v) => v.length));
  let perVariant = 0;
  for (const token of command) {
    perVariant += token.length;
    for (const m of token.matchAll(/\{([^{}]*)\}/g)) perVariant += longest(m[1]!);
  }
  for (const name of Object.keys(grid)) perVariant += name.length + longest(name);
  if (perVariant * (count ?? 0) > SWEEP_STATE_CAP) {
    throw new SweepFileError(
      `${file}: the grid's ${count} runs would carry ${Math.ceil((perVariant * count!) / 1024 / 1024)} MiB of ` +
        `commands and values, more than the ${SWEEP_STATE_CAP / 1024 / 1024} MiB a sweep may record; shorten the ` +
        'command or the values, or use fewer of them.',
    );
  }
  const used = new Set<string>();
  for (const token of command) {
    for (const m of token.matchAll(/\{([^{}]*)\}/g)) {
      if (!(m[1]! in grid)) {
        throw new SweepFileError(
          `${where(commandNode)}: the command uses {${m[1]}}, which "grid" does not define (it has ${Object.keys(grid).join(', ')}).`,
        );
      }
      used.add(m[1]!);
    }
  }
  const int = (key: string, min: number): number | undefined => {
    const node = root.get(key, true) as YamlNode | undefined;
    if (node === undefined) return undefined;
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new SweepFileError(`${where(node)}: "${key}" must be a whole number of at least ${min}.`);
    }
    return v;
  };
  const envNode = root.get('env', true) as YamlNode | undefined;
  const env: Record<string, string> = {};
  if (envNode !== undefined) {
    if (!isMap(envNode)) throw new SweepFileError(`${where(envNode)}: "env" must map variable names to values.`);
    for (const item of envNode.items) {
      if (!isScalar(item.key) || !isScalar(item.value)) {
        throw new SweepFileError(`${where(item.key as YamlNode)}: "env" values must be plain values.`);
      }
      env[String(item.key.value)] = scalarText(item.value);
    }
  }
  return {
    command,
    grid,
    gpusPerRun: int('gpusPerRun', 0) ?? 1,
    runsPerGpu: int('runsPerGpu', 1) ?? 1,
    maxParallel: int('maxParallel', 1),
    env,
  };
}

/** What a YAML node is, for messages: `a mapping`, `a list`, `empty`. */
function kindOfNode(node: YamlNode | null | undefined): string {
  if (node === null || node === undefined) return 'empty';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'empty' : 'a plain value';
  return 'not a plain value';
}

/** A scalar as the user wrote it (`1e-4` stays `1e-4`, `0.10` stays `0.10`). */
function scalarText(n: Scalar): string {
  if (n.type === 'PLAIN' && typeof n.source === 'string') return n.source;
  return String(n.value);
}

/**
 * Splits a command line into argv as a POSIX shell would (quotes, escapes), without running one: shell operators
 * (`;`, `|`, `>`, `&&`) are refused with a hint and `$VAR` stays literal. Throws an Error naming `where`.
 */
export function splitCommandLine(line: string, where = 'the command'): string[] {
  return tokenize(line, where);
}

function tokenize(line: string, where: string): string[] {
  const parts = parseShell(line, (name: string) => `$${name}`);
  const out: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') out.push(p);
    else if ('op' in p && p.op === 'glob') out.push((p as { pattern: string }).pattern);
    else if ('comment' in p) break;
    else throw new SweepFileError(`${where}: "${(p as { op: string }).op}" in "command": ${OPERATOR_HINT}.`);
  }
  return out;
}

/** One run of a sweep: its parameter values, in grid order. */
export interface Variant {
  index: number;
  params: Record<string, string>;
}

/**
 * The grid's cartesian product, the last parameter varying fastest. Throws SweepFileError, before expanding anything,
 * when it would make more than `maxVariants` runs.
 */
export function expandGrid(grid: Record<string, string[]>, maxVariants = DEFAULT_MAX_VARIANTS): Variant[] {
  checkGridSize(grid, maxVariants, 'The sweep');
  let combos: Record<string, string>[] = [{}];
  for (const [name, values] of Object.entries(grid)) {
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
  }
  return combos.map((params, index) => ({ index, params }));
}

/** The argv of one variant: each `{name}` replaced by its value inside its own element, literally. */
export function commandFor(template: readonly string[], params: Record<string, string>): string[] {
  return template.map((token) => token.replace(/\{([^{}]*)\}/g, (all, name: string) => params[name] ?? all));
}

/** Hands out GPUs to runs: `gpusPerRun` each, at most `runsPerGpu` runs per GPU, never more than `maxParallel` runs. */
export class GpuPool {
  private readonly load: Map<string, number>;
  private active = 0;
  readonly maxParallel: number;

  constructor(
    readonly gpus: readonly string[],
    readonly gpusPerRun: number,
    readonly runsPerGpu = 1,
    maxParallel?: number,
  ) {
    if (gpusPerRun > 0 && gpus.length === 0) {
      throw new Error(
        `The sweep gives each run ${gpusPerRun} GPU${gpusPerRun > 1 ? 's' : ''}, but no GPU is available: set ` +
          'gpusPerRun: 0 in the sweep file (or --gpus none) to run on the CPU, or run it on a machine with GPUs.',
      );
    }
    if (gpusPerRun > gpus.length) {
      throw new Error(
        `The sweep gives each run ${gpusPerRun} GPUs, but only ${gpus.length} are available (${gpus.join(', ')}): ` +
          'lower gpusPerRun.',
      );
    }
    this.load = new Map(gpus.map((g) => [g, 0]));
    const byGpus = gpusPerRun > 0 ? Math.floor((gpus.length * runsPerGpu) / gpusPerRun) : 2;
    this.maxParallel = Math.max(1, maxParallel ?? byGpus);
  }

  /** GPUs for one more run (least loaded first, lowest index on ties), or null when it must wait. */
  acquire(): string[] | null {
    if (this.active >= this.maxParallel) return null;
    if (this.gpusPerRun === 0) {
      this.active++;
      return [];
    }
    const free = [...this.load.entries()]
      .filter(([, n]) => n < this.runsPerGpu)
      .sort((a, b) => a[1] - b[1] || this.gpus.indexOf(a[0]) - this.gpus.indexOf(b[0]));
    if (free.length < this.gpusPerRun) return null;
    const picked = free.slice(0, this.gpusPerRun).map(([g]) => g);
    for (const g of picked) this.load.set(g, this.load.get(g)! + 1);
    this.active++;
    return picked.sort((a, b) => this.gpus.indexOf(a) - this.gpus.indexOf(b));
  }

  /** Marks GPUs as held by a run that is already running (a resumed sweep). */
  hold(ids: readonly string[]): void {
    for (const g of ids) this.load.set(g, (this.load.get(g) ?? 0) + 1);
    this.active++;
  }

  release(ids: readonly string[]): void {
    for (const g of ids) this.load.set(g, Math.max(0, (this.load.get(g) ?? 0) - 1));
    this.active = Math.max(0, this.active - 1);
  }
}

export type VariantState = 'queued' | 'running' | RunState | 'not-started';

export interface SweepVariantState extends Variant {
  command: string[];
  state: VariantState;
  runId: string | null;
  gpus: string[];
  exitCode: number | null;
  explanation: string | null;
}

/** A sweep as persisted: enough to resume it after a reload and to summarize it. */
export interface SweepState {
  id: string;
  project: string;
  /** The sweep file, relative to the project when inside it. */
  file: string;
  image: string;
  gpus: string[];
  gpusPerRun: number;
  runsPerGpu: number;
  maxParallel: number;
  state: 'running' | 'succeeded' | 'failed' | 'cancelled';
  createdAt: string;
  finishedAt: string | null;
  /** The process supervising the sweep; another one resumes it only when this one is gone. */
  owner: { pid: number; hostname: string } | null;
  explanation: string | null;
  /** The sweep file's environment, so that the runs a resumed sweep starts get it too (absent in older files). */
  env?: Record<string, string>;
  /** The project is mounted at /workspace in each run (dev and existing images); absent in older files. */
  mountWorkspace?: boolean;
  variants: SweepVariantState[];
}

/** Whether a sweep's runs mount the project: as recorded, else guessed from the image (train images carry the code). */
export function sweepMountsWorkspace(sweep: SweepState): boolean {
  return sweep.mountWorkspace ?? !sweep.image.endsWith(':train');
}

/** A new sweep's state: every variant queued. */
export function newSweep(opts: {
  project: string;
  file: string;
  sweep: SweepFile;
  image: string;
  gpus: string[];
  mountWorkspace?: boolean;
  /** Refuse a grid of more runs than this (default DEFAULT_MAX_VARIANTS). */
  maxVariants?: number;
}): SweepState {
  const pool = new GpuPool(opts.gpus, opts.sweep.gpusPerRun, opts.sweep.runsPerGpu, opts.sweep.maxParallel);
  return {
    id: `sweep-${newRunId()}`,
    project: opts.project,
    file: opts.file,
    image: opts.image,
    gpus: opts.gpus,
    gpusPerRun: opts.sweep.gpusPerRun,
    runsPerGpu: opts.sweep.runsPerGpu,
    maxParallel: pool.maxParallel,
    state: 'running',
    createdAt: new Date().toISOString(),
    finishedAt: null,
    owner: null,
    explanation: null,
    env: opts.sweep.env,
    ...(opts.mountWorkspace !== undefined ? { mountWorkspace: opts.mountWorkspace } : {}),
    variants: expandGrid(opts.sweep.grid, opts.maxVariants).map((v) => ({
      ...v,
      command: commandFor(opts.sweep.command, v.params),
      state: 'queued',
      runId: null,
      gpus: [],
      exitCode: null,
      explanation: null,
    })),
  };
}

/**
 * A recorded sweep, or undefined when there is none, or when sweep.json is not a regular file inside the project or
 * does not look like a sweep (a repository may carry a crafted one).
 */
export async function readSweep(store: RunStore, sweepId: string): Promise<SweepState | undefined> {
  try {
    const text = await readRegularFile(store.sweepFile(sweepId), { root: store.root });
    if (text === null) return undefined;
    const s = JSON.parse(text) as unknown;
    return looksLikeSweep(s) ? s : undefined;
  } catch {
    return undefined;
  }
}

const SWEEP_STATES = new Set(['running', 'succeeded', 'failed', 'cancelled']);

/** The shape of a SweepState, as far as the code that reads one relies on it. */
function looksLikeSweep(s: unknown): s is SweepState {
  if (typeof s !== 'object' || s === null) return false;
  const o = s as Record<string, unknown>;
  const strings = (a: unknown): boolean => Array.isArray(a) && a.every((x) => typeof x === 'string');
  const record = (r: unknown): boolean =>
    typeof r === 'object' && r !== null && !Array.isArray(r) && Object.values(r).every((x) => typeof x === 'string');
  return (
    typeof o.id === 'string' &&
    typeof o.project === 'string' &&
    typeof o.file === 'string' &&
    typeof o.image === 'string' &&
    strings(o.gpus) &&
    typeof o.gpusPerRun === 'number' &&
    typeof o.runsPerGpu === 'number' &&
    typeof o.maxParallel === 'number' &&
    typeof o.state === 'string' &&
    SWEEP_STATES.has(o.state) &&
    (o.env === undefined || record(o.env)) &&
    (o.owner === null ||
      (typeof o.owner === 'object' &&
        Number.isSafeInteger((o.owner as { pid?: unknown }).pid) &&
        (o.owner as { pid: number }).pid > 0 &&
        typeof (o.owner as { hostname?: unknown }).hostname === 'string')) &&
    Array.isArray(o.variants) &&
    o.variants.every((v: unknown) => {
      if (typeof v !== 'object' || v === null) return false;
      const x = v as Record<string, unknown>;
      return (
        typeof x.index === 'number' &&
        record(x.params) &&
        strings(x.command) &&
        typeof x.state === 'string' &&
        (x.runId === null || typeof x.runId === 'string') &&
        strings(x.gpus)
      );
    })
  );
}

/** Every sweep recorded for the project, newest first. */
export async function listSweeps(store: RunStore): Promise<SweepState[]> {
  let names: string[];
  try {
    names = await fsp.readdir(path.join(store.dir, 'sweeps'));
  } catch {
    return [];
  }
  const all = await Promise.all(names.map((n) => readSweep(store, n)));
  return all.filter((s): s is SweepState => !!s).sort((a, b) => (a.id < b.id ? 1 : -1));
}

/** True when the sweep's supervising process is still alive (on this machine). */
export function ownerAlive(sweep: SweepState): boolean {
  if (!sweep.owner) return false;
  if (sweep.owner.hostname !== os.hostname()) return true; // cannot tell: assume another machine still owns it
  if (sweep.owner.pid === process.pid) return true;
  try {
    process.kill(sweep.owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Engine problems that would fail every run the same way: the sweep stops instead of failing each run. */
const FATAL_PROBLEMS = new Set([
  'engine-unreachable',
  'unsupported-docker-host',
  'api-version-too-new',
  'api-version-too-old',
  'registry-unreachable',
  'engine-permission-denied',
  'engine-timeout',
  'no-container-gpu-runtime',
  'no-nvidia-runtime',
  'unknown-runtime',
  'image-not-found',
  'cdi-not-enabled',
  'cdi-device-unresolvable',
]);

export interface SweepRunOptions {
  runner: Runner;
  /** The run spec of one variant, given its command and GPUs. */
  specFor: (variant: SweepVariantState, gpus: string[]) => RunSpec;
  /** Called after every change (a run started or ended). */
  onChange?: (sweep: SweepState) => void;
  /** Each run's output, tagged with its variant. */
  onOutput?: (variant: SweepVariantState, chunk: Buffer) => void;
  /** Cancels the sweep: stops its runs and leaves the rest unstarted. */
  signal?: AbortSignal;
  /** Stops supervising without touching the runs (a window closing): the sweep resumes later. */
  detach?: AbortSignal;
  /** Take the sweep over even when its lock names a live supervisor (e.g. on another machine that is gone). */
  takeOver?: boolean;
}

/**
 * Runs (or resumes) a sweep until every variant has ended; resolves with the final state. Persists the state after
 * every change.
 */
export async function runSweep(sweep: SweepState, options: SweepRunOptions): Promise<SweepState> {
  // a sweep.json may come with the repository: its image reaches the engine's API as a URL path
  const problem = imageRefProblem(sweep.image);
  if (problem) throw new Error(`Sweep ${sweep.id} records an image that is not valid: ${problem}`);
  const release = await lockSweep(options.runner.store, sweep.id, options.takeOver === true);
  try {
    return await superviseSweep(sweep, options);
  } finally {
    await release();
  }
}

/**
 * Takes the sweep's lock file (`sweep.lock`, created exclusively): one supervisor per sweep, even when two windows or
 * a window and `sweep --resume` try at once. A lock whose process is gone (on this machine) is taken over.
 */
async function lockSweep(store: RunStore, sweepId: string, takeOver: boolean): Promise<() => Promise<void>> {
  const file = path.join(path.dirname(store.sweepFile(sweepId)), 'sweep.lock');
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const me = JSON.stringify({ pid: process.pid, hostname: os.hostname() });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fsp.writeFile(file, me, { flag: 'wx' });
      return () => fsp.rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner: { pid: number; hostname: string } | null = null;
    try {
      const o = JSON.parse((await readRegularFile(file, { root: store.root, cap: 64 * 1024 })) ?? 'null') as unknown;
      const valid = typeof o === 'object' && o !== null;
      const { pid, hostname } = (valid ? o : {}) as { pid?: unknown; hostname?: unknown };
      owner =
        Number.isSafeInteger(pid) && (pid as number) > 0 && typeof hostname === 'string'
          ? { pid: pid as number, hostname }
          : null;
    } catch {
      owner = null; // half-written, unreadable or not a file: treat as stale
    }
    if (owner && !takeOver && ownerAlive({ owner } as SweepState)) {
      throw new Error(
        `Sweep ${sweepId} is already supervised by process ${owner.pid} on ${owner.hostname}: stop that one first ` +
          '(or take it over with `ml-containers sweep --resume ID --force` when that machine is gone).',
      );
    }
    await fsp.rm(file, { force: true });
  }
  throw new Error(`Sweep ${sweepId}: its lock file ${file} could not be taken; remove it if no sweep is running.`);
}

async function superviseSweep(sweep: SweepState, options: SweepRunOptions): Promise<SweepState> {
  const { runner } = options;
  const store = runner.store;
  let writing = Promise.resolve();
  const persist = (): Promise<void> => {
    const snapshot = JSON.stringify(sweep, null, 2);
    // one write after the other; a failed write does not stop the ones after it (the last state still lands)
    writing = writing
      .catch(() => undefined)
      .then(async () => {
        await fsp.mkdir(path.dirname(store.sweepFile(sweep.id)), { recursive: true });
        await writeFileAtomic(store.sweepFile(sweep.id), `${snapshot}\n`);
      });
    options.onChange?.(sweep);
    return writing;
  };
  const active = new Map<number, Promise<void>>();
  try {
    return await supervise();
  } catch (err) {
    if (err instanceof CancellationError && sweep.state === 'cancelled') throw err; // finalised already
    // whatever failed, the sweep ends recorded: its runs stopped, the queued ones not started, no owner
    const why = errorMessage(err);
    for (const v of sweep.variants) {
      if (v.state === 'running' && v.runId) {
        void runner.stop(v.runId).catch(() => undefined);
        v.state = 'stopped';
        v.explanation = `Stopped: the sweep failed (${why})`;
      } else if (v.state === 'queued' || v.state === 'running') {
        v.state = 'not-started';
        v.explanation = 'Not started: the sweep failed.';
      }
    }
    sweep.state = 'failed';
    sweep.explanation = why;
    sweep.finishedAt = new Date().toISOString();
    sweep.owner = null;
    await persist().catch(() => undefined);
    throw err;
  }

  async function supervise(): Promise<SweepState> {
    await store.ensure();
    sweep.owner = { pid: process.pid, hostname: os.hostname() };
    sweep.state = 'running';
    const pool = new GpuPool(sweep.gpus, sweep.gpusPerRun, sweep.runsPerGpu, sweep.maxParallel);
    let fatal: string | null = null;
    let fatalAt = -1;
    const cancelled = (): boolean => options.signal?.aborted === true;
    const detached = (): boolean => options.detach?.aborted === true;

    const settle = (v: SweepVariantState, record: RunRecord): void => {
      if (!isFinished(record)) return; // still running (we only stopped following)
      v.state = record.state;
      v.exitCode = record.exitCode;
      v.explanation = record.explanation;
    };
    const watch = (v: SweepVariantState, done: Promise<RunRecord>): void => {
      const p = done
        .then(
          (record) => settle(v, record),
          (err: unknown) => {
            v.state = 'failed';
            v.explanation = errorMessage(err);
          },
        )
        .then(async () => {
          if (v.state !== 'running') pool.release(v.gpus);
          active.delete(v.index);
          await persist();
        });
      active.set(v.index, p);
    };
    const follow = { signal: options.detach };

    // resume: variants that were running when the last supervisor went away
    for (const v of sweep.variants) {
      if (v.state !== 'running' || !v.runId) continue;
      if (!(await store.readRecord(v.runId))) {
        v.state = 'queued'; // never really started: run it again
        v.runId = null;
        continue;
      }
      // an engine error here is thrown: re-queueing would start a second container beside one that may still run
      const record = await runner.refresh(v.runId);
      pool.hold(v.gpus);
      if (isFinished(record)) {
        settle(v, record);
        pool.release(v.gpus);
        continue;
      }
      watch(
        v,
        runner.follow(record.id, {
          ...follow,
          onOutput: options.onOutput ? (c) => options.onOutput!(v, c) : undefined,
        }),
      );
    }
    await persist();

    const onCancel = (): void => {
      for (const v of sweep.variants) {
        if (v.state === 'running' && v.runId) void runner.stop(v.runId).catch(() => undefined);
      }
    };
    options.signal?.addEventListener('abort', onCancel, { once: true });
    // one listener per signal for the whole sweep (not one per wait)
    const aborted = abortPromise(options.signal, options.detach);
    try {
      for (;;) {
        if (cancelled() || detached()) break;
        let startedOne = false;
        for (const v of sweep.variants) {
          if (v.state !== 'queued' || fatal) continue;
          const gpus = pool.acquire();
          if (gpus === null) break;
          v.gpus = gpus;
          v.state = 'running';
          v.runId = newRunId();
          await persist();
          try {
            const started = await runner.start(options.specFor(v, gpus), {
              runId: v.runId,
              ...follow,
              onOutput: options.onOutput ? (c) => options.onOutput!(v, c) : undefined,
            });
            watch(v, started.done);
            // cancelled while it was starting: its container did not exist yet when the others were stopped
            if (cancelled()) void runner.stop(started.record.id).catch(() => undefined);
            startedOne = true;
          } catch (err) {
            pool.release(gpus);
            v.state = 'failed';
            v.explanation = errorMessage(err);
            // an engine problem fails every run the same way, and so does an error that is not the engine refusing
            // this run (the engine not reachable or not answering, the records not writable): stop the sweep here
            if (!(err instanceof RunStartError) || FATAL_PROBLEMS.has(err.problemId)) {
              fatal = v.explanation;
              fatalAt = v.index;
            }
            await persist();
          }
          if (cancelled() || detached()) break;
        }
        if (active.size === 0 && (fatal || !sweep.variants.some((v) => v.state === 'queued'))) break;
        if (active.size === 0 && !startedOne) break; // nothing can start (cannot happen with a valid pool)
        if (active.size > 0) await Promise.race([...active.values(), aborted]);
      }
      if (detached() && !cancelled()) {
        // the follows end at once (they share the detach signal): let them settle before the last write of sweep.json
        await Promise.all(active.values());
        sweep.owner = null;
        await persist();
        return sweep;
      }
      await Promise.all(active.values());
    } finally {
      options.signal?.removeEventListener('abort', onCancel);
    }
    for (const v of sweep.variants) {
      if (v.state === 'queued') {
        v.state = 'not-started';
        v.explanation = fatal
          ? `Not started: the sweep stopped when run ${fatalAt} could not start.`
          : 'Not started: the sweep was cancelled.';
      }
    }
    sweep.state = cancelled()
      ? 'cancelled'
      : sweep.variants.every((v) => v.state === 'succeeded')
        ? 'succeeded'
        : 'failed';
    sweep.explanation = fatal;
    sweep.finishedAt = new Date().toISOString();
    sweep.owner = null;
    await persist();
    if (cancelled()) throw new CancellationError('The sweep was cancelled; its started runs were stopped.');
    return sweep;
  }
}

function abortPromise(...signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    for (const s of signals) {
      if (!s) continue;
      if (s.aborted) resolve();
      s.addEventListener('abort', () => resolve(), { once: true });
    }
  });
}

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
