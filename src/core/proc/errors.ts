/** Errors of child processes run by `runProcess` and `streamLines`. Cancellation reuses `CancellationError`. */
export { CancellationError } from '../util/errors';

/** The command could not be started because no such program exists (spawn's ENOENT). */
export class CommandNotFoundError extends Error {
  override readonly name = 'CommandNotFoundError';
  constructor(readonly command: string) {
    super(`${command} was not found: install it or put it on the PATH.`);
  }
}

/** The command ran longer than its time limit; its whole process tree was killed. */
export class ProcessTimeoutError extends Error {
  override readonly name = 'ProcessTimeoutError';
  /** `stdout` and `stderr`: what it printed before it was killed (capped like the output of a finished run). */
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
    readonly stdout = '',
    readonly stderr = '',
  ) {
    super(`${command} did not finish within ${formatMs(timeoutMs)} and was stopped.`);
  }
}

/** The command ran and failed: a non-zero exit code (null when a signal ended it), or killed by a signal we did not send. */
export class ChildProcessError extends Error {
  override readonly name = 'ChildProcessError';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const how = exitCode !== null ? `exited with code ${exitCode}` : `was killed by ${signal ?? 'a signal'}`;
    super(stderr.trim() || `${command} ${how}.`);
  }
}

/** The command exists but could not be started (permission denied, not an executable, too many processes, ...). */
export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
  constructor(
    readonly command: string,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`${command} could not be started (${code ?? detail}): check that it is an executable you may run.`);
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
