import { type ParseArgsConfig, parseArgs } from 'node:util';
import { neutralizeControls } from '../core/util/text';

/** Exit codes shared by every command: 0 success, 1 the command ran and found/failed something, 2 bad usage. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Thrown for bad command-line usage; main prints the message and the command's help, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Raw bytes to stdout (a container's terminal output); defaults to `out` without the newline handling. */
  write?: (chunk: Uint8Array | string) => void;
  /**
   * From now on Ctrl-C (SIGINT) and SIGTERM fire the returned signal instead of ending the process, so a command that
   * started something (a container, a build) stops it first. A second Ctrl-C ends the process at once.
   */
  trapInterrupt?: () => AbortSignal;
}

/**
 * The terminal-facing Io every command gets: `out` and `err` neutralise control characters from data (file names, GPU
 * names, commands, engine messages) so they cannot drive the terminal; `write` stays raw, for a container's own
 * terminal output (colours, `\r` progress bars) as `docker run` and `docker logs` pass it through.
 */
export function terminalIo(io: Io): Io {
  const out = io.out;
  return {
    ...io,
    out: (text) => out(neutralizeControls(text)),
    err: (text) => io.err(neutralizeControls(text)),
    write:
      io.write ??
      ((chunk) =>
        out(
          Buffer.from(chunk)
            .toString('utf8')
            .replace(/\r?\n$/, ''),
        )),
  };
}

/** A command's option table, as node:util parseArgs takes it. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** The values parseArgs gives for an option table, in strict mode (an option with a default is always set). */
export type OptionValues<O extends CliOptions> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'];

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  /** Every option `run` accepts (the table defineCommand parses its argv with), so its help can be checked against it. */
  options: CliOptions;
  run(argv: string[], io: Io): Promise<number>;
}

/** node:util parseArgs, with its errors (unknown flag, missing value) turned into UsageError (exit 2). */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
