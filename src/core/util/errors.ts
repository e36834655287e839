/** Raised when an operation stops because its caller cancelled it (an AbortSignal fired). */
export class CancellationError extends Error {
  constructor(message = 'The operation was cancelled.') {
    super(message);
    this.name = 'CancellationError';
  }
}

/** Throws a CancellationError when the signal has fired. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancellationError();
}

/** The message of an unknown thrown value, without a stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A short, user-readable description of a Node file-system error code. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'it disappeared while being read';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'EISDIR':
      return 'it is a folder';
    default:
      return code ? `could not be read (${code})` : `could not be read (${errorMessage(err)})`;
  }
}
