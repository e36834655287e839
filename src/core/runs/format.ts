/**
 * How a run is named and timed wherever it is shown (`ml-containers ps` and sweep progress, the Training Runs view,
 * the GPU status bar): one answer for both faces. Pure, with type-only imports, so the extension's small bundle can
 * use it.
 */
import type { RunRecord } from './types';

/** A sweep run's parameters as `k=v` pairs, in the grid's order: `lr=1e-3 bs=16` ('' for none). */
export function paramsLabel(params: Readonly<Record<string, string>>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** What a run runs: its parameters (a sweep's run), else its command, else its image's own entry point. */
export function runLabel(r: Pick<RunRecord, 'params' | 'command' | 'image'>): string {
  return paramsLabel(r.params) || (r.command.length > 0 ? r.command.join(' ') : `${r.image} (its entry point)`);
}

/** A time of the record, in ms; null when absent, unreadable, or the engine's zero time (`0001-01-01T00:00:00Z`). */
function timeOf(iso: string | null): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) && t > 0 ? t : null;
}

/**
 * How long a run ran, or has been running: `42s`, `3m05s`, `1h02m`. Null when it has no duration to show: it never
 * started, or it is no longer running but has no finish time (counting on to now would grow forever). Each face shows
 * its own placeholder for null (`-` in a table, nothing in the view).
 */
export function formatDuration(
  r: Pick<RunRecord, 'state' | 'startedAt' | 'finishedAt'>,
  now = Date.now(),
): string | null {
  const start = timeOf(r.startedAt);
  if (start === null) return null;
  const end = timeOf(r.finishedAt) ?? (r.state === 'running' ? now : null);
  if (end === null) return null;
  const s = Math.max(0, Math.round((end - start) / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
