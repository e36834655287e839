/**
 * A sweep as recorded in `.ml-containers/sweeps/<id>/sweep.json`: its state, a new one from a sweep file, and reading
 * recorded ones back (a repository may carry a crafted one, so what is read is checked).
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { readRegularFile } from '../../util/safeFs';
import { newRunId } from '../spec';
import type { RunStore } from '../store';
import type { RunState } from '../types';
import { commandFor, expandGrid, type SweepFile, type Variant } from './file';
import { GpuPool } from './pool';

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
