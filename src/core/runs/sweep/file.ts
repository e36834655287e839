/**
 * The sweep file: a command template and a grid of parameters (YAML), checked and bounded (variants, bytes), and
 * the grid's expansion into variants whose values are substituted into argv elements: they never pass through a shell.
 */
import { parse as parseShell } from 'shell-quote';
import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type Scalar } from 'yaml';
import { errorMessage } from '../../util/errors';
import { TooDeeplyNestedError, yamlTooDeep } from '../../util/json';
import { readRegularFile, UnsafePathError } from '../../util/safeFs';

/** A sweep file as written by the user. */
export interface SweepFile {
  /** argv template, one element per entry, with `{name}` placeholders. */
  command: string[];
  /** Parameter name -> values (as written in the file). */
  grid: Record<string, string[]>;
  gpusPerRun: number;
  /** How many runs may share one GPU (default 1: never two on one GPU). */
  runsPerGpu: number;
  maxParallel?: number;
  env: Record<string, string>;
}

export class SweepFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepFileError';
  }
}

/** How many runs one sweep may have unless the user raises it (`--max-variants`, `mlContainers.sweep.maxVariants`). */
export const DEFAULT_MAX_VARIANTS = 1000;
/** The most bytes a sweep file may have: a real one is a few hundred. */
export const SWEEP_FILE_CAP = 1024 * 1024;
/** The most bytes of argv and values all the variants of one sweep may carry (sweep.json is rewritten often). */
const SWEEP_STATE_CAP = 64 * 1024 * 1024;

export interface ParseSweepOptions {
  /** Refuse a grid of more combinations than this (default DEFAULT_MAX_VARIANTS). */
  maxVariants?: number;
}

/**
 * The number of runs a grid makes (the product of its value counts), or null when it is more than `limit`: compared
 * while multiplying, so a grid of 100^200 combinations is refused without being expanded or overflowing.
 */
export function countVariants(grid: Record<string, readonly unknown[]>, limit: number): number | null {
  let n = 1;
  for (const values of Object.values(grid)) {
    n *= values.length;
    if (n > limit) return null;
  }
  return n;
}

/** Throws SweepFileError when the grid makes more than `limit` runs, saying how many and how to raise the limit. */
function checkGridSize(grid: Record<string, readonly unknown[]>, limit: number, where: string): void {
  if (countVariants(grid, limit) !== null) return;
  const counts = Object.entries(grid).map(([name, values]) => ({ name, n: values.length }));
  // the exact product while it is a safe integer, else a bound: never Infinity or 1e+200
  let total = 1;
  let exact = true;
  for (const { n } of counts) {
    if (total * n > Number.MAX_SAFE_INTEGER) {
      exact = false;
      break;
    }
    total *= n;
  }
  const factors = counts
    .slice(0, 6)
    .map((c) => `${c.n} ${c.name}`)
    .join(' × ');
  const more = counts.length > 6 ? ` × … (${counts.length} parameters)` : '';
  throw new SweepFileError(
    `${where}: the grid makes ${exact ? total : `more than ${Number.MAX_SAFE_INTEGER}`} runs (${factors}${more}), ` +
      `more than the ${limit} runs a sweep may start; use fewer values, or raise the limit with --max-variants N ` +
      '(the mlContainers.sweep.maxVariants setting in the editor).',
  );
}

/**
 * Reads a sweep file as text, or returns null when it does not exist. Only a regular file of at most SWEEP_FILE_CAP
 * bytes is read (a FIFO or a device is refused at once, never waited on); any other problem is a SweepFileError of
 * one sentence.
 */
export async function readSweepFileText(file: string, root?: string): Promise<string | null> {
  try {
    return await readRegularFile(file, { cap: SWEEP_FILE_CAP, ...(root !== undefined ? { root } : {}) });
  } catch (err) {
    if (err instanceof UnsafePathError) throw new SweepFileError(err.message);
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied; fix its permissions'
        : code === 'ELOOP'
          ? 'it is a loop of symbolic links; replace it with a file'
          : code === 'ENOTDIR'
            ? 'a folder on its path is a file; check the path'
            : `${errorMessage(err)}; check the file`;
    throw new SweepFileError(`The sweep file ${file} cannot be read (${why}).`);
  }
}

const KEYS = new Set(['command', 'grid', 'gpusPerRun', 'maxParallel', 'runsPerGpu', 'env']);
/** Shell operators have no meaning without a shell: they are refused, not silently passed as arguments. */
const OPERATOR_HINT =
  'commands run without a shell; to use a pipeline or redirection, write the command as a list, e.g. ' +
  '["bash", "-c", "python train.py --lr \\"$0\\" | tee out.log", "{lr}"]';

/** Parses and checks a sweep file; errors name the file, the line and what to write instead. */
export function parseSweepFile(text: string, file = 'sweep.yaml', options: ParseSweepOptions = {}): SweepFile {
  if (yamlTooDeep(text)) throw new SweepFileError(new TooDeeplyNestedError(file).message);
  const doc = parseDocument(text, { prettyErrors: false });
  const where = (node: YamlNode | null | undefined): string => {
    const offset = node?.range?.[0];
    if (offset === undefined) return file;
    return `${file}:${text.slice(0, offset).split('\n').length}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new SweepFileError(`${file}${line ? `:${line}` : ''} is not valid YAML: ${e.message.split('\n')[0]}.`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw new SweepFileError(`${file} must be a mapping with "command" and "grid".`);
  for (const item of root.items) {
    const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
    if (!KEYS.has(key)) {
      throw new SweepFileError(
        `${where(item.key as YamlNode)}: unknown key "${key}"; a sweep file has ${[...KEYS].join(', ')}.`,
      );
    }
  }
  const commandNode = root.get('command', true) as YamlNode | undefined;
  let command: string[];
  if (isScalar(commandNode) && typeof commandNode.value === 'string') {
    command = tokenize(commandNode.value, where(commandNode));
  } else if (isSeq(commandNode) && commandNode.items.every((n) => isScalar(n))) {
    command = commandNode.items.map((n) => scalarText(n as Scalar));
  } else {
    throw new SweepFileError(`${where(commandNode ?? root)}: "command" must be a command line or a list of arguments.`);
  }
  if (command.length === 0) throw new SweepFileError(`${where(commandNode)}: "command" is empty.`);

  const gridNode = root.get('grid', true) as YamlNode | undefined;
  if (!isMap(gridNode) || gridNode.items.length === 0) {
    throw new SweepFileError(`${where(gridNode ?? root)}: "grid" must map each parameter to a list of values.`);
  }
  const grid: Record<string, string[]> = {};
  for (const item of gridNode.items) {
    const name = isScalar(item.key) ? String(item.key.value) : '';
    if (!/^[A-Za-z_][\w-]*$/.test(name)) {
      throw new SweepFileError(
        `${where(item.key as YamlNode)}: "${name}" is not a parameter name (letters, digits, _ and -).`,
      );
    }
    const values = item.value as YamlNode | null;
    const notValues = (found: string): SweepFileError =>
      new SweepFileError(
        `${where(values ?? (item.key as YamlNode))}: "${name}" must be a list of plain values (numbers or strings), ` +
          `but ${found}; write e.g. ${name}: [0.1, 0.01].`,
      );
    if (isSeq(values)) {
      if (values.items.length === 0) throw notValues('the list is empty');
      const i = values.items.findIndex((n) => !isScalar(n) || n.value === null);
      if (i >= 0) throw notValues(`its item ${i + 1} is ${kindOfNode(values.items[i] as YamlNode | null)}`);
      grid[name] = values.items.map((n) => scalarText(n as Scalar));
    } else if (isScalar(values) && values.value !== null) {
      grid[name] = [scalarText(values)];
    } else {
      throw notValues(`it ${values === null || isScalar(values) ? 'has no value' : `is ${kindOfNode(values)}`}`);
    }
  }
  const count = countVariants(grid, options.maxVariants ?? DEFAULT_MAX_VARIANTS);
  if (count === null) checkGridSize(grid, options.maxVariants ?? DEFAULT_MAX_VARIANTS, file);
  // each variant keeps its own argv in sweep.json, written after every change: bound what the grid makes of it
  const longest = (name: string): number => Math.max(0, ...(grid[name] ?? []).map((v) => v.length));
  let perVariant = 0;
  for (const token of command) {
    perVariant += token.length;
    for (const m of token.matchAll(/\{([^{}]*)\}/g)) perVariant += longest(m[1]!);
  }
  for (const name of Object.keys(grid)) perVariant += name.length + longest(name);
  if (perVariant * (count ?? 0) > SWEEP_STATE_CAP) {
    throw new SweepFileError(
      `${file}: the grid's ${count} runs would carry ${Math.ceil((perVariant * count!) / 1024 / 1024)} MiB of ` +
        `commands and values, more than the ${SWEEP_STATE_CAP / 1024 / 1024} MiB a sweep may record; shorten the ` +
        'command or the values, or use fewer of them.',
    );
  }
  const used = new Set<string>();
  for (const token of command) {
    for (const m of token.matchAll(/\{([^{}]*)\}/g)) {
      if (!(m[1]! in grid)) {
        throw new SweepFileError(
          `${where(commandNode)}: the command uses {${m[1]}}, which "grid" does not define (it has ${Object.keys(grid).join(', ')}).`,
        );
      }
      used.add(m[1]!);
    }
  }
  const int = (key: string, min: number): number | undefined => {
    const node = root.get(key, true) as YamlNode | undefined;
    if (node === undefined) return undefined;
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new SweepFileError(`${where(node)}: "${key}" must be a whole number of at least ${min}.`);
    }
    return v;
  };
  const envNode = root.get('env', true) as YamlNode | undefined;
  const env: Record<string, string> = {};
  if (envNode !== undefined) {
    if (!isMap(envNode)) throw new SweepFileError(`${where(envNode)}: "env" must map variable names to values.`);
    for (const item of envNode.items) {
      if (!isScalar(item.key) || !isScalar(item.value)) {
        throw new SweepFileError(`${where(item.key as YamlNode)}: "env" values must be plain values.`);
      }
      env[String(item.key.value)] = scalarText(item.value);
    }
  }
  return {
    command,
    grid,
    gpusPerRun: int('gpusPerRun', 0) ?? 1,
    runsPerGpu: int('runsPerGpu', 1) ?? 1,
    maxParallel: int('maxParallel', 1),
    env,
  };
}

/** What a YAML node is, for messages: `a mapping`, `a list`, `empty`. */
function kindOfNode(node: YamlNode | null | undefined): string {
  if (node === null || node === undefined) return 'empty';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'empty' : 'a plain value';
  return 'not a plain value';
}

/** A scalar as the user wrote it (`1e-4` stays `1e-4`, `0.10` stays `0.10`). */
function scalarText(n: Scalar): string {
  if (n.type === 'PLAIN' && typeof n.source === 'string') return n.source;
  return String(n.value);
}

/**
 * Splits a command line into argv as a POSIX shell would (quotes, escapes), without running one: shell operators
 * (`;`, `|`, `>`, `&&`) are refused with a hint and `$VAR` stays literal. Throws an Error naming `where`.
 */
export function splitCommandLine(line: string, where = 'the command'): string[] {
  return tokenize(line, where);
}

function tokenize(line: string, where: string): string[] {
  const parts = parseShell(line, (name: string) => `$${name}`);
  const out: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') out.push(p);
    else if ('op' in p && p.op === 'glob') out.push((p as { pattern: string }).pattern);
    else if ('comment' in p) break;
    else throw new SweepFileError(`${where}: "${(p as { op: string }).op}" in "command": ${OPERATOR_HINT}.`);
  }
  return out;
}

/** One run of a sweep: its parameter values, in grid order. */
export interface Variant {
  index: number;
  params: Record<string, string>;
}

/**
 * The grid's cartesian product, the last parameter varying fastest. Throws SweepFileError, before expanding anything,
 * when it would make more than `maxVariants` runs.
 */
export function expandGrid(grid: Record<string, string[]>, maxVariants = DEFAULT_MAX_VARIANTS): Variant[] {
  checkGridSize(grid, maxVariants, 'The sweep');
  let combos: Record<string, string>[] = [{}];
  for (const [name, values] of Object.entries(grid)) {
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
  }
  return combos.map((params, index) => ({ index, params }));
}

/** The argv of one variant: each `{name}` replaced by its value inside its own element, literally. */
export function commandFor(template: readonly string[], params: Record<string, string>): string[] {
  return template.map((token) => token.replace(/\{([^{}]*)\}/g, (all, name: string) => params[name] ?? all));
}
