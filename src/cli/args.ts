/**
 * Argument helpers shared by the commands: parsing a command's argv with its option table, the options several
 * commands take, project folders, KEY=VALUE lists and a command after `--`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeFsError } from '../core/util/errors';
import { type CliCommand, type CliOptions, type Io, type OptionValues, UsageError, parseCommandArgs } from './usage';

/** `--json`: print the result as JSON (each command's help says what it prints). */
export const JSON_OPTION = { json: { type: 'boolean', default: false } } satisfies CliOptions;

/** `--dir DIR`: the project folder of a command whose operand is something else (a run id). */
export const DIR_OPTION = { dir: { type: 'string' } } satisfies CliOptions;

/** How many operands (arguments that are not options) a command takes, and the sentence for any other count. */
export interface Operands {
  min?: number;
  max: number;
  wrong(count: number, command: string): string;
}

/** `[DIR]`, for a command that says only that there is at most one. */
export const AT_MOST_ONE_FOLDER: Operands = { max: 1, wrong: () => 'at most one project folder.' };

/** `[DIR]`, for a command that says how many it got. */
export const ONE_FOLDER: Operands = { max: 1, wrong: (n, command) => `${command} takes one folder, got ${n}.` };

/** `RUN_ID`: exactly one. */
export const ONE_RUN_ID: Operands = { min: 1, max: 1, wrong: () => 'give one run id.' };

/** What a command's `run` gets from its argv. */
export interface CommandArgs<O extends CliOptions> {
  values: OptionValues<O>;
  positionals: string[];
  /** For a command that takes one: what follows `--` (undefined when there is no `--`). */
  command: string[] | undefined;
}

export interface CommandSpec<O extends CliOptions> extends Omit<CliCommand, 'options' | 'run'> {
  options: O;
  /** The operands it takes; without them any operand is bad usage. */
  operands?: Operands;
  /** What follows `--` is a command to run in the container, not operands. */
  takesCommand?: boolean;
  run(args: CommandArgs<O>, io: Io): Promise<number>;
}

/**
 * A command whose argv is parsed with its option table (unknown flags, missing values and a wrong number of operands
 * are bad usage, exit 2) before its `run` gets the values.
 */
export function defineCommand<O extends CliOptions>(spec: CommandSpec<O>): CliCommand {
  const { operands, takesCommand, run, ...about } = spec;
  return {
    ...about,
    async run(argv, io) {
      const { options, command } = takesCommand ? splitCommand(argv) : { options: argv, command: undefined };
      const parsed = parseCommandArgs({
        args: options,
        strict: true,
        allowPositionals: operands !== undefined,
        options: spec.options,
      });
      const positionals: string[] = parsed.positionals;
      if (operands && (positionals.length < (operands.min ?? 0) || positionals.length > operands.max)) {
        throw new UsageError(operands.wrong(positionals.length, spec.name));
      }
      return run({ values: parsed.values as OptionValues<O>, positionals, command }, io);
    },
  };
}

/** `[options…] -- command…` -> the options and the command (undefined when there is no `--`). */
function splitCommand(argv: string[]): { options: string[]; command: string[] | undefined } {
  const dash = argv.indexOf('--');
  return dash >= 0
    ? { options: argv.slice(0, dash), command: argv.slice(dash + 1) }
    : { options: argv, command: undefined };
}

/** The project folder (default: the current one), which must exist and be a folder. */
export function projectDir(dir: string | undefined): string {
  const root = path.resolve(dir ?? '.');
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`the project folder ${root} does not exist.`);
    throw new UsageError(`the project folder ${root} cannot be opened: ${describeFsError(err)}.`);
  }
  if (!st.isDirectory()) throw new UsageError(`${root} is not a folder.`);
  return root;
}

/** Repeated `KEY=VALUE` options as a record. */
export function keyValues(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw new UsageError(`${flag} needs KEY=VALUE, got "${item}".`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** A whole-number option of at least `min`, or undefined when absent. */
export function wholeNumber(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`${flag} needs a whole number of at least ${min}, got "${value}".`);
  }
  return n;
}
