/**
 * Restart Run, the one home of "the same run again": the run's command, image, GPUs, ports and memory limit as its
 * record keeps them, the project's .env read afresh, and a sweep run's parameters and its sweep's env. A face only
 * picks the run and shows the new one (a terminal) through the port.
 */
import { runSpecFor } from '../runs/prepare';
import type { Runner } from '../runs/runner';
import type { RunStore } from '../runs/store';
import { readSweep } from '../runs/sweep';
import type { RunRecord, RunSpec } from '../runs/types';

/**
 * The spec of a run made again from its record, in the project the record lives in (the store's). A sweep run gets its
 * sweep's env again when the sweep is still recorded.
 */
export async function restartSpec(store: RunStore, record: RunRecord): Promise<RunSpec> {
  const sweep = record.sweepId ? await readSweep(store, record.sweepId) : undefined;
  return runSpecFor(
    {
      projectRoot: store.root,
      command: record.command,
      gpus: record.gpus,
      ports: record.requestedPorts,
      memoryBytes: record.memoryBytes,
      env: sweep?.env,
      sweepId: record.sweepId ?? undefined,
      params: record.params,
    },
    { image: record.image, mountWorkspace: record.mountWorkspace },
  );
}

/** What the face does to start the run again (its runner: the output to a terminal). */
export interface RestartRunPort {
  start(spec: RunSpec): Promise<{ record: RunRecord; done: Promise<RunRecord> }>;
}

/**
 * Stops the run when it is running (a run that cannot be stopped is not started a second time: the error is thrown
 * unchanged), then starts the same run again through the port.
 */
export async function restartRun(
  runner: Runner,
  record: RunRecord,
  port: RestartRunPort,
): Promise<{ record: RunRecord; done: Promise<RunRecord> }> {
  if (record.state === 'running') await runner.stop(record.id);
  return port.start(await restartSpec(runner.store, record));
}
