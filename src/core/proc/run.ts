/**
 * Child processes for the core: always an argv array (never a shell string), a time limit and cancellation that kill
 * the whole process tree, capped output, and named errors (`CommandNotFoundError`, `ProcessTimeoutError`,
 * `ChildProcessError`, `CancellationError`, `ProcessStartError`).
 *
 * On POSIX each child is spawned detached, so it leads its own process group, and killing sends the signal to the
 * group: `sh -c 'sleep 60 & sleep 60'` leaves nothing behind. On Windows, `taskkill /T /F` ends the tree.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import {
  CancellationError,
  ChildProcessError,
  CommandNotFoundError,
  ProcessStartError,
  ProcessTimeoutError,
} from './errors';

/** Default cap on what `runProcess` keeps of each of stdout and stderr. */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface RunOptions {
  /** Aborting kills the process tree and rejects with `CancellationError`. */
  signal?: AbortSignal;
  /** Kill the process tree and reject with `ProcessTimeoutError` after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** The child's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep at most this many bytes of each of stdout and stderr; the rest is read and dropped (default 16 MiB). */
  maxOutputBytes?: number;
  /** Exit codes that count as success (default `[0]`). */
  okExitCodes?: readonly number[];
  /** Written to the child's stdin, which is then closed (default: no stdin). */
  input?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** True when stdout or stderr went over `maxOutputBytes` and was cut. */
  truncated: boolean;
}

/**
 * Runs `cmd argv...` to completion and returns what it printed. Rejects with `CommandNotFoundError` (no such
 * program), `ProcessStartError` (it could not be started), `ChildProcessError` (non-zero exit or killed by a signal;
 * its message is the child's stderr), `ProcessTimeoutError` or `CancellationError` (after killing the whole tree).
 */
export function runProcess(cmd: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { signal, timeoutMs, maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES, okExitCodes = [0] } = options;
  if (signal?.aborted) return Promise.reject(new CancellationError());
  return new Promise<RunResult>((resolve, reject) => {
    const stdout = new CappedBuffer(maxOutputBytes);
    const stderr = new CappedBuffer(maxOutputBytes);
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let closeGrace: NodeJS.Timeout | undefined;

    const child = spawnChild(cmd, argv, options.env, options.cwd, options.input !== undefined);
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // a child that exits without reading: its exit code tells
      child.stdin.end(options.input);
    }

    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (closeGrace) clearTimeout(closeGrace);
      signal?.removeEventListener('abort', onAbort);
      untrack(child);
      settle();
    };
    /** Kills the tree and lets go of the child at once: one stuck in the kernel (a wedged driver) cannot hold us. */
    const abandon = (err: Error): void => {
      finish(() => reject(err));
      killTree(child, 'SIGKILL');
      release(child);
    };
    const onAbort = (): void => abandon(new CancellationError());

    child.stdout?.on('data', (b: Buffer) => stdout.push(b));
    child.stderr?.on('data', (b: Buffer) => stderr.push(b));
    child.once('error', (err: NodeJS.ErrnoException) => {
      finish(() => reject(startError(cmd, err)));
      release(child);
    });
    const onEnd = (code: number | null, sig: NodeJS.Signals | null): void => {
      finish(() => {
        const out = stdout.text();
        const errText = stderr.text();
        if (code !== null && okExitCodes.includes(code)) {
          resolve({ stdout: out, stderr: errText, exitCode: code, truncated: stdout.truncated || stderr.truncated });
        } else {
          reject(new ChildProcessError(cmd, code, sig, out, errText));
        }
      });
    };
    child.once('close', onEnd);
    // A grandchild that inherited stdout can keep the pipes open after the child exits: do not wait on it for long.
    child.once('exit', (code, sig) => {
      closeGrace = setTimeout(() => {
        onEnd(code, sig);
        release(child);
      }, 250);
    });

    if (timeoutMs !== undefined) {
      timer = setTimeout(
        () => abandon(new ProcessTimeoutError(cmd, timeoutMs, stdout.text(), stderr.text())),
        Math.max(0, timeoutMs),
      );
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface StreamLinesOptions {
  /** Called with each line of stdout, without its line ending. */
  onLine: (line: string) => void;
  /** Aborting stops the stream like `stop()`. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A longer line is cut to this many characters (default 64 Ki). */
  maxLineLength?: number;
  /** After SIGTERM, wait this long before SIGKILL (default 2000 ms). */
  stopGraceMs?: number;
}

export interface StreamEnd {
  /** The exit code, or null when a signal ended it (or it never started). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when `stop()` or the abort signal ended it. */
  stopped: boolean;
  /** The last 64 KiB of its stderr. */
  stderr: string;
  /** Why it could not start (`CommandNotFoundError`, `ProcessStartError`) or why it was stopped (onLine threw). */
  error?: Error;
}

export interface LineStream {
  readonly pid: number | undefined;
  /** Settles once the process has ended; never rejects. */
  readonly done: Promise<StreamEnd>;
  /** Ends the process tree (SIGTERM, then SIGKILL after the grace period) and waits for it. Idempotent. */
  stop(): Promise<StreamEnd>;
}

/**
 * Starts a long-lived `cmd argv...` (e.g. `nvidia-smi --query-gpu=... -lms 1000`) and calls `onLine` for each line it
 * prints. If this process dies first, the child's next write fails on the closed pipe and it exits too; when this
 * process exits normally, the streams still running are killed.
 */
export function streamLines(cmd: string, argv: readonly string[], options: StreamLinesOptions): LineStream {
  const { onLine, signal, maxLineLength = 64 * 1024, stopGraceMs = 2000 } = options;
  const stderr = new TailBuffer(64 * 1024);
  let stopped = false;
  let error: Error | undefined;
  let ended = false;
  let resolveDone!: (end: StreamEnd) => void;
  const done = new Promise<StreamEnd>((r) => (resolveDone = r));

  if (signal?.aborted) {
    ended = true;
    resolveDone({ exitCode: null, signal: null, stopped: true, stderr: '' });
    return { pid: undefined, done, stop: () => done };
  }

  const child = spawnChild(cmd, argv, options.env, options.cwd);
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let skipping = false;

  const emit = (line: string): void => {
    if (stopped) return;
    try {
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
      void stop();
    }
  };
  const feed = (text: string): void => {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (skipping) skipping = false;
      else emit(line.length > maxLineLength ? line.slice(0, maxLineLength) : line);
    }
    if (pending.length > maxLineLength) {
      if (!skipping) emit(pending.slice(0, maxLineLength));
      skipping = true;
      pending = '';
    }
  };

  const end = (code: number | null, sig: NodeJS.Signals | null): void => {
    if (ended) return;
    ended = true;
    if (killTimer) clearTimeout(killTimer);
    signal?.removeEventListener('abort', onAbort);
    untrack(child);
    const rest = pending + decoder.end();
    pending = '';
    if (rest && !skipping) emit(rest);
    resolveDone({ exitCode: code, signal: sig, stopped, stderr: stderr.text(), ...(error ? { error } : {}) });
  };

  let killTimer: NodeJS.Timeout | undefined;
  const stop = (): Promise<StreamEnd> => {
    if (!ended && !stopped) {
      stopped = true;
      killTree(child, 'SIGTERM');
      killTimer = setTimeout(() => {
        killTree(child, 'SIGKILL');
        // Still not gone (stuck in the kernel): stop waiting for it.
        killTimer = setTimeout(() => {
          release(child);
          end(null, 'SIGKILL');
        }, stopGraceMs);
      }, stopGraceMs);
    }
    return done;
  };
  const onAbort = (): void => void stop();

  child.stdout?.on('data', (b: Buffer) => feed(decoder.write(b)));
  child.stderr?.on('data', (b: Buffer) => stderr.push(b));
  child.once('error', (err: NodeJS.ErrnoException) => {
    error = startError(cmd, err);
    release(child);
    end(null, null);
  });
  child.once('close', (code, sig) => end(code, sig));
  child.once('exit', (code, sig) => {
    setTimeout(() => {
      if (ended) return;
      release(child);
      end(code, sig);
    }, 250);
  });
  signal?.addEventListener('abort', onAbort, { once: true });
  return { pid: child.pid, done, stop };
}

// ---------------------------------------------------------------------------------------------------------------

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function spawnChild(
  cmd: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv | undefined,
  cwd?: string,
  withStdin = false,
) {
  const child = spawn(cmd, [...argv], {
    env: env ?? process.env,
    cwd,
    stdio: [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    // Its own process group on POSIX, so that the whole tree can be killed; on Windows detached means a new console.
    detached: process.platform !== 'win32',
    windowsHide: true,
    shell: false,
  });
  if (child.pid !== undefined) {
    live.add(child);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const c of live) killTree(c, 'SIGKILL');
      });
    }
  }
  return child;
}

function untrack(child: ChildProcess): void {
  live.delete(child);
}

/** Sends a signal to the child's whole process tree; never throws. */
function killTree(child: ChildProcess, sig: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined) return;
  if (process.platform === 'win32') {
    try {
      const k = spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
      k.once('error', () => child.kill(sig));
      k.unref();
    } catch {
      child.kill(sig);
    }
    return;
  }
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  }
}

/** Lets go of a child: stop reading its pipes and stop it from keeping this process alive. */
function release(child: ChildProcess): void {
  untrack(child);
  child.stdout?.destroy();
  child.stderr?.destroy();
  child.unref();
}

function startError(cmd: string, err: NodeJS.ErrnoException): Error {
  if (err.code === 'ENOENT') return new CommandNotFoundError(cmd);
  return new ProcessStartError(cmd, err.code, err.message);
}

/** Keeps the first `max` bytes. */
class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly max: number) {}
  push(b: Buffer): void {
    const room = this.max - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = b.length > room ? b.subarray(0, room) : b;
    if (part.length < b.length) this.truncated = true;
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Keeps the last `max` bytes. */
class TailBuffer {
  private buf = Buffer.alloc(0);
  constructor(private readonly max: number) {}
  push(b: Buffer): void {
    const joined = Buffer.concat([this.buf, b]);
    this.buf = joined.length > this.max ? joined.subarray(joined.length - this.max) : joined;
  }
  text(): string {
    return this.buf.toString('utf8');
  }
}
