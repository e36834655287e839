/** Argument helpers shared by the commands that take a project folder, KEY=VALUE lists and a command after `--`. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeFsError } from '../core/util/errors';
import { UsageError } from './usage';

/** `[options…] -- command…` -> the options and the command (undefined when there is no `--`). */
export function splitCommand(argv: string[]): { options: string[]; command: string[] | undefined } {
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
