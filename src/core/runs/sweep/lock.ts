/** One supervisor per sweep: the lock file next to sweep.json, and whether the process it names is alive. */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRegularFile } from '../../util/safeFs';
import type { RunStore } from '../store';
import type { SweepState } from './store';

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

/**
 * Takes the sweep's lock file (`sweep.lock`, created exclusively): one supervisor per sweep, even when two windows or
 * a window and `sweep --resume` try at once. A lock whose process is gone (on this machine) is taken over.
 * Not proper-lockfile: its lock names no owner (our refusal says which pid on which host holds it), and it goes stale
 * by mtime kept fresh by a timer in the holder, so a suspended or busy supervisor would lose its sweep to a second one.
 */
export async function lockSweep(store: RunStore, sweepId: string, takeOver: boolean): Promise<() => Promise<void>> {
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
