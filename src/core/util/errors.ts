/**
 * The errors the core throws and the faces recognise. Two marks travel with them, because the extension is two bundles
 * (dist/extension.js and dist/lazy.js), each with its own copy of these classes, so `instanceof` across them fails:
 * a cancellation carries `Symbol.for('mlContainers.cancelled')` (and the name `CancellationError`), a problem
 * `Symbol.for('mlContainers.problem')`. Recognise them with `isCancellation` and `isProblem`, never with `instanceof`.
 */

/** The brand of a cancellation: `Symbol.for` gives every bundle (and every realm) the same symbol. */
const CANCELLED = Symbol.for('mlContainers.cancelled');
/** The brand of a Problem. */
const PROBLEM = Symbol.for('mlContainers.problem');

/** Raised when an operation stops because its caller cancelled it (an AbortSignal fired). */
export class CancellationError extends Error {
  readonly [CANCELLED] = true;
  constructor(message = 'The operation was cancelled.') {
    super(message);
    this.name = 'CancellationError';
  }

  /**
   * `err instanceof CancellationError` holds for a cancellation of any bundle (see isCancellation). Nothing derives
   * from this class: the check would hold for every cancellation, not only for the subclass.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isCancellation(value);
  }
}

/**
 * True when `err` says the caller cancelled: a CancellationError of this or any other bundle (its brand, or its name
 * where the brand was lost, as after structured cloning).
 */
export function isCancellation(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  return (
    (err as { [CANCELLED]?: unknown })[CANCELLED] === true || (err as { name?: unknown }).name === 'CancellationError'
  );
}

/** Throws a CancellationError when the signal has fired. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancellationError();
}

export interface ProblemOptions {
  /** What to do, without a final period (the message already says it in its sentence). */
  fix?: string;
  /** The HTTP status of the service that refused (the Docker engine, a registry), when it answered. */
  statusCode?: number;
  /** The words of the tool or service itself, for the logs. */
  detail?: string;
  /** The error this problem explains. */
  cause?: unknown;
}

/**
 * A failure the user can act on: `id` names the kind (e.g. `image-not-found`, `no-container-gpu-runtime`) so that a
 * face can offer the action that fixes it, `message` is one sentence (what happened and what to do), `fix` the
 * what-to-do part alone, `statusCode` the service's HTTP status, `cause` the original error.
 */
export class Problem<Id extends string = string> extends Error {
  readonly [PROBLEM] = true;
  readonly id: Id;
  readonly fix?: string;
  readonly statusCode?: number;
  readonly detail?: string;
  constructor(id: Id, message: string, options: ProblemOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Problem';
    this.id = id;
    if (options.fix !== undefined) this.fix = options.fix;
    if (options.statusCode !== undefined) this.statusCode = options.statusCode;
    if (options.detail !== undefined) this.detail = options.detail;
  }
}

/** True when `err` is a Problem of this or any other bundle (its brand). */
export function isProblem(err: unknown): err is Problem {
  return (
    err !== null &&
    typeof err === 'object' &&
    (err as { [PROBLEM]?: unknown })[PROBLEM] === true &&
    typeof (err as { id?: unknown }).id === 'string'
  );
}

/** The id of a Problem (of any bundle), or undefined for any other error. */
export function problemIdOf(err: unknown): string | undefined {
  return isProblem(err) ? err.id : undefined;
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
