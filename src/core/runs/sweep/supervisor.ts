/**
 * The supervisor of a sweep: queues its variants over the GPU pool, starts them as GPUs free up, follows them, and
 * persists the state after every change, so that a new window (or process) resumes it.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../../util/atomic';
import { CancellationError, errorMessage } from '../../util/errors';
import { isFinished, type Runner, RunStartError } from '../runner';
import { imageRefProblem, newRunId } from '../spec';
import type { RunRecord, RunSpec } from '../types';
import { lockSweep } from './lock';
import { GpuPool } from './pool';
import type { SweepState, SweepVariantState } from './store';

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
