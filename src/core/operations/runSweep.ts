/**
 * Run Sweep, the one home of the action behind `ml-containers sweep` and the editor's Run Sweep: the sweep file read
 * and checked (its limits too), the GPU pool sized, the image built (or checked), the sweep recorded with every variant
 * queued, and its supervisor started. Plain options in, the recorded sweep and a promise of its end out; a face only
 * asks (flags, quick picks, a file pick) and shows (stderr lines, a notification, the Training Runs view) through the
 * port. `resumeSweep` continues a recorded sweep whose supervisor went away.
 */
import * as path from 'node:path';
import type { EngineClient } from '../docker/engine';
import { resolveImage, sweepSpecFor } from '../runs/prepare';
import { defaultGpuSelection, RunRequestError, sweepGpuPool } from '../runs/request';
import type { Runner } from '../runs/runner';
import {
  DEFAULT_MAX_VARIANTS,
  GpuPool,
  newSweep,
  ownerAlive,
  parseSweepFile,
  readSweep,
  readSweepFileText,
  type SweepFile,
  type SweepState,
} from '../runs/sweep';
import { runSweep, type SweepRunOptions } from '../runs/sweep/supervisor';
import type { RunStore } from '../runs/store';
import type { GpuSelection, ImageSource } from '../runs/types';
import { throwIfCancelled } from '../util/errors';

/** A sweep file, read and checked: what a sweep is made from. */
export interface SweepRequest {
  /** Where the file is (absolute). */
  path: string;
  /** The file as the sweep records it: relative to the project. */
  file: string;
  sweep: SweepFile;
  /** The most runs the sweep may have (its grid was checked against it). */
  maxVariants: number;
}

/** The most runs a sweep may have, from a flag or a setting: a whole number of at least 1, else the default. */
export function sweepLimit(value: number | undefined): number {
  return value !== undefined && Number.isSafeInteger(value) && value >= 1 ? value : DEFAULT_MAX_VARIANTS;
}

/**
 * Reads and checks a sweep file (a path relative to the project, or absolute) before anything starts. A file that is
 * not there is a RunRequestError (bad usage); one that cannot be read or is not a valid sweep (its grid over the limit
 * included) a SweepFileError naming `label` (default: the path relative to the project) and the line.
 */
export async function readSweepRequest(
  projectRoot: string,
  file: string,
  options: { maxVariants?: number; label?: string } = {},
): Promise<SweepRequest> {
  const where = path.resolve(projectRoot, file);
  const maxVariants = sweepLimit(options.maxVariants);
  // a regular file only, capped: a FIFO or /dev/zero is refused at once instead of read forever
  const text = await readSweepFileText(where);
  if (text === null) throw new RunRequestError('file', `the sweep file ${where} does not exist.`);
  const label = options.label ?? path.relative(projectRoot, where);
  return {
    path: where,
    file: path.relative(projectRoot, where),
    sweep: parseSweepFile(text, label, { maxVariants }),
    maxVariants,
  };
}

type HostGpus = readonly { index: number }[];

export interface StartSweepOptions {
  projectRoot: string;
  /** The sweep file: its path (relative to the project, or absolute), or what readSweepRequest made of it. */
  file: string | SweepRequest;
  /** How messages name the file, when `file` is a path (default: relative to the project). */
  fileLabel?: string;
  /** The most runs the sweep may have, when `file` is a path (default DEFAULT_MAX_VARIANTS). */
  maxVariants?: number;
  source: ImageSource;
  /** The GPUs the sweep hands out; default: all when nvidia-smi sees GPUs, else none. */
  gpus?: GpuSelection;
  /** The GPUs nvidia-smi sees on this machine (for `all` and the default), or the probe that finds them. */
  hostGpus?: HostGpus | Promise<HostGpus | undefined>;
  /** Overrides of the build arguments (e.g. BASE_IMAGE). */
  buildArgs?: Record<string, string>;
}

/** How a face has a recorded sweep supervised: in this process (superviseSweep), or by its own supervisor. */
export interface SweepSupervisorPort {
  /**
   * Supervises the sweep until every variant has ended; resolves with the final state (throws a CancellationError
   * when it was cancelled). `takeOver`: the sweep's lock may name a live supervisor that is known to be gone.
   */
  supervise(sweep: SweepState, takeOver: boolean): Promise<SweepState>;
}

/** What the face does while a new sweep is prepared: each step is reported before the next begins. */
export interface StartSweepPort extends SweepSupervisorPort {
  /** Each line the image build prints. */
  buildLine?(line: string): void;
  /** The image is ready (built, or the reference checked); the sweep is recorded next. */
  built?(image: { image: string; mountWorkspace: boolean }): void;
  /** The sweep is recorded, every variant queued; its supervisor starts next. */
  created?(sweep: SweepState): void;
}

export interface StartedSweep {
  /** The sweep as recorded; the supervisor keeps this object current until the sweep ends. */
  sweep: SweepState;
  /** The sweep's end: its final state, or a CancellationError when it was cancelled. */
  done: Promise<SweepState>;
}

/**
 * Reads and checks the sweep file, sizes the GPU pool (refused when it cannot run a variant, before any build), builds
 * or checks the image, records the sweep and starts its supervisor through the port. Throws what each step throws,
 * unchanged (RunRequestError, SweepFileError, the pool's sentence, a BuildError, a CancellationError when `signal`
 * fires before the sweep is recorded), so that a face can say which step failed; nothing is recorded then.
 */
export async function startSweep(
  client: EngineClient,
  opts: StartSweepOptions,
  signal: AbortSignal | undefined,
  port: StartSweepPort,
): Promise<StartedSweep> {
  // the probe is caught at once: a probe that fails while the file is read is not an unhandled rejection
  const probed = Promise.resolve(opts.hostGpus).catch(() => undefined);
  const request =
    typeof opts.file === 'string'
      ? await readSweepRequest(opts.projectRoot, opts.file, { maxVariants: opts.maxVariants, label: opts.fileLabel })
      : opts.file;
  const hostGpus = await probed;
  const selection = opts.gpus ?? defaultGpuSelection(hostGpus && { gpus: hostGpus });
  const pool = sweepGpuPool(selection, request.sweep.gpusPerRun, hostGpus);
  // a pool that cannot run one variant (no GPU, fewer GPUs than each run needs) is refused before anything is built
  new GpuPool(pool.gpus, pool.gpusPerRun, request.sweep.runsPerGpu, request.sweep.maxParallel);
  throwIfCancelled(signal);
  const image = await resolveImage(client, opts.projectRoot, opts.source, {
    buildArgs: opts.buildArgs,
    signal,
    onProgress: port.buildLine && ((line) => port.buildLine!(line)),
  });
  throwIfCancelled(signal);
  port.built?.({ image: image.image, mountWorkspace: image.mountWorkspace });
  const sweep = newSweep({
    project: opts.projectRoot,
    file: request.file,
    sweep: { ...request.sweep, gpusPerRun: pool.gpusPerRun },
    image: image.image,
    gpus: pool.gpus,
    mountWorkspace: image.mountWorkspace,
    maxVariants: request.maxVariants,
  });
  port.created?.(sweep);
  return { sweep, done: port.supervise(sweep, false) };
}

/**
 * Continues a recorded sweep whose supervisor went away. Refused (RunRequestError) when no such sweep is recorded, when
 * it has ended, or when its supervisor looks alive and `force` is not given (that machine may be gone).
 */
export async function resumeSweep(
  store: RunStore,
  opts: { sweepId: string; force?: boolean },
  port: SweepSupervisorPort,
): Promise<StartedSweep> {
  const sweep = await readSweep(store, opts.sweepId);
  if (!sweep) throw new RunRequestError('sweep', `no sweep "${opts.sweepId}" is recorded in ${store.dir}.`);
  if (sweep.state !== 'running') {
    throw new RunRequestError(
      'sweep',
      `sweep ${sweep.id} has ended (${sweep.state}); start a new one from its sweep file.`,
    );
  }
  if (ownerAlive(sweep) && !opts.force) {
    throw new RunRequestError(
      'sweep',
      `sweep ${sweep.id} is still supervised by process ${sweep.owner!.pid} on ${sweep.owner!.hostname}: stop that ` +
        'one first, or take it over (--force) when that machine is gone.',
    );
  }
  return { sweep, done: port.supervise(sweep, opts.force === true) };
}

/**
 * Supervises a recorded sweep in this process, its runs made from what the sweep recorded (image, env, whether the
 * project is mounted) in the runner's project. `signal` cancels it (its runs stopped); `detach` stops supervising
 * and leaves the runs going, for a later resume.
 */
export async function superviseSweep(
  runner: Runner,
  sweep: SweepState,
  options: Omit<SweepRunOptions, 'runner' | 'specFor'> = {},
): Promise<SweepState> {
  return runSweep(sweep, { ...options, runner, specFor: await sweepSpecFor(sweep, runner.store.root) });
}
