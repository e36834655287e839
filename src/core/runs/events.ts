/**
 * Follows the engine's event stream for our containers (those labelled as runs), so views change when a run starts,
 * dies or is removed, without polling. Reconnects with backoff when the engine goes away.
 */
import type { EngineClient } from '../docker/engine';
import { LABELS } from './types';

export interface RunEvent {
  /** `start`, `die`, `stop`, `kill`, `oom`, `destroy`, … */
  action: string;
  runId: string;
  containerId: string;
  project: string | null;
  /** The exit code of a `die` event. */
  exitCode: number | null;
}

const ACTIONS = ['create', 'start', 'die', 'oom', 'destroy', 'pause', 'unpause'];

/** Calls `onEvent` for each event of a run container until `signal` fires. Errors go to `onError`, then it retries. */
export function watchRunEvents(
  client: EngineClient,
  onEvent: (e: RunEvent) => void,
  signal: AbortSignal,
  onError?: (err: unknown) => void,
): void {
  let delay = 1000;
  const connect = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const docker = await client.docker({ signal });
        const stream = (await docker.getEvents({
          filters: JSON.stringify({ type: ['container'], label: [LABELS.run], event: ACTIONS }),
          abortSignal: signal,
        } as object)) as NodeJS.ReadableStream;
        delay = 1000;
        await new Promise<void>((resolve, reject) => {
          let partial = '';
          stream.on('data', (chunk: Buffer) => {
            const parts = (partial + chunk.toString('utf8')).split('\n');
            partial = parts.pop() ?? '';
            for (const line of parts) {
              const e = parseEvent(line);
              if (e) onEvent(e);
            }
          });
          stream.on('end', resolve);
          stream.on('close', resolve);
          stream.on('error', reject);
        });
      } catch (err) {
        if (signal.aborted) return;
        onError?.(err);
      }
      if (signal.aborted) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  };
  void connect();
}

/** One line of the engine's /events stream, when it is about one of our runs. */
export function parseEvent(line: string): RunEvent | undefined {
  if (!line.trim()) return undefined;
  let e: {
    Action?: string;
    status?: string;
    id?: string;
    Actor?: { ID?: string; Attributes?: Record<string, string> };
  };
  try {
    e = JSON.parse(line) as typeof e;
  } catch {
    return undefined;
  }
  const attrs = e.Actor?.Attributes ?? {};
  const runId = attrs[LABELS.run];
  // a run id names a folder of the project's records: a label that could not be one is not one of our runs
  if (!runId || !/^(?!\.{1,2}$)[\w.-]+$/.test(runId)) return undefined;
  const exit = attrs.exitCode === undefined ? null : Number(attrs.exitCode);
  return {
    action: e.Action ?? e.status ?? '',
    runId,
    containerId: e.Actor?.ID ?? e.id ?? '',
    project: attrs[LABELS.project] ?? null,
    exitCode: Number.isFinite(exit) ? exit : null,
  };
}
