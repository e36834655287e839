/** Errors of child processes run by `runProcess` and `streamLines`. Cancellation reuses `CancellationError`. */
export { CancellationError } from '../util/errors';

/** The command could not be started because no such program exists (spawn's ENOENT). */
export class CommandNotFoundError extends Error {
  readonly command: string;
  constructor(command: string) {
    super(`${command} was not found: install it or put it on the PATH.`);
    this.name = 'CommandNotFoundError';
    this.command = command;
  }
}

/** The command ran longer than its time limit; its whole process tree was killed. */
export class ProcessTimeoutError extends Error {
  readonly command: string;
  readonly timeoutMs: number;
  /** What it printed before it was killed (capped like the output of a finished run). */
  readonly stdout: string;
  readonly stderr: string;
  constructor(command: string, timeoutMs: number, stdout = '', stderr = '') {
    super(`${command} did not finish within ${formatMs(timeoutMs)} and was stopped.`);
    this.name = 'ProcessTimeoutError';
    this.command = command;
    this.timeoutMs = timeoutMs;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

/** The command ran and failed: a non-zero exit code, or killed by a signal that we did not send. */
export class ChildProcessError extends Error {
  readonly command: string;
  /** The exit code, or null when a signal ended it. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  constructor(command: string, exitCode: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string) {
    const how = exitCode !== null ? `exited with code ${exitCode}` : `was killed by ${signal ?? 'a signal'}`;
    super(stderr.trim() || `${command} ${how}.`);
    this.name = 'ChildProcessError';
    this.command = command;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

/** The command exists but could not be started (permission denied, not an executable, too many processes, ...). */
export class ProcessStartError extends Error {
  readonly command: string;
  readonly code: string | undefined;
  constructor(command: string, code: string | undefined, detail: string) {
    super(`${command} could not be started (${code ?? detail}): check that it is an executable you may run.`);
    this.name = 'ProcessStartError';
    this.command = command;
    this.code = code;
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
