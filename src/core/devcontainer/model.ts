/**
 * One model of a devcontainer.json: parsed once as JSON with comments (depth-guarded, errors with line and column),
 * then read by small accessors: its `runArgs` groups, the shared memory they give /dev/shm, its mounts, its GPU
 * requirement and how its container is defined. Pure: reading the file (find.ts, read.ts) and resolving build paths
 * on disk (build.ts) live beside it.
 */
import { findNodeAtLocation, getNodeValue, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { assertJsoncDepth } from '../util/json';
import { parseByteSize } from '../util/size';
import { LineIndex } from '../util/text';
import { type RunArgGroup, runArgGroups } from './runArgs';

/** A parsed devcontainer.json. */
export interface Devcontainer {
  /** The file as messages name it: relative to the project with `/` when read from one (read.ts), else as given. */
  file: string;
  /** The absolute folder that holds the file: relative build paths start here. */
  dir: string;
  text: string;
  /** The top-level object ({} when the file holds another JSON value). */
  json: Record<string, unknown>;
  /** 1-based line of the `runArgs` key, or null when there is none. */
  runArgsLine: number | null;
}

/** A devcontainer.json that is not valid JSON with comments; the message names the file, the error and line:column. */
export class DevcontainerSyntaxError extends Error {
  override readonly name = 'DevcontainerSyntaxError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    /** jsonc-parser's name for the error, e.g. `ValueExpected`. */
    readonly code: string,
  ) {
    super(`${file} is not valid JSON with comments (${code} at ${line}:${column}).`);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses a devcontainer.json's text (comments and trailing commas allowed, as the spec's tools read it). Throws
 * TooDeeplyNestedError for a file nested too deeply to parse safely and DevcontainerSyntaxError for invalid text.
 */
export function parseDevcontainer(text: string, file: string, dir = '.'): Devcontainer {
  const { dc, error } = parseDevcontainerLeniently(text, file, dir);
  if (error) throw error;
  return dc;
}

/**
 * Parses like parseDevcontainer, but a file with syntax errors still gives what jsonc-parser recovers of it, with the
 * first error beside it: for a reader that reports the error and goes on (detection). Throws TooDeeplyNestedError.
 */
export function parseDevcontainerLeniently(
  text: string,
  file: string,
  dir = '.',
): { dc: Devcontainer; error?: DevcontainerSyntaxError } {
  assertJsoncDepth(text, file);
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true });
  const value: unknown = tree ? getNodeValue(tree) : undefined;
  const key = tree ? findNodeAtLocation(tree, ['runArgs'])?.parent : undefined;
  const dc: Devcontainer = {
    file,
    dir,
    text,
    json: isRecord(value) ? value : {},
    runArgsLine: key ? new LineIndex(text).lineAt(key.offset) : null,
  };
  const e = errors[0];
  if (!e) return { dc };
  const before = text.slice(0, e.offset);
  const line = before.split('\n').length;
  const column = e.offset - before.lastIndexOf('\n');
  return { dc, error: new DevcontainerSyntaxError(file, line, column, printParseErrorCode(e.error)) };
}

/** The flag groups of `runArgs` (none when it is missing or not a list). */
export function runArgsOf(dc: Devcontainer): RunArgGroup[] {
  const runArgs = dc.json.runArgs;
  return Array.isArray(runArgs) ? runArgGroups(runArgs) : [];
}

/** What `runArgs` give /dev/shm. */
export interface SharedMemory {
  /** 'host' for `--ipc=host` (Docker then ignores --shm-size), the bytes of the last `--shm-size`, else undefined. */
  shm?: number | 'host';
  /** The last `--shm-size` value as written, also when it is no size (a caller that refuses it can say so). */
  shmSize?: string;
}

/** The shared memory `runArgs` ask for: the one reading the doctor, the runner and the cluster job share. */
export function sharedMemory(dc: Devcontainer): SharedMemory {
  let shmSize: string | undefined;
  let ipcHost = false;
  for (const g of runArgsOf(dc)) {
    if (g.flag === '--shm-size' && g.value !== undefined) shmSize = g.value;
    if (g.flag === '--ipc') ipcHost = g.value === 'host';
  }
  const out: SharedMemory = {};
  if (shmSize !== undefined) out.shmSize = shmSize;
  if (ipcHost) out.shm = 'host';
  else if (shmSize !== undefined) {
    const bytes = parseByteSize(shmSize);
    if (bytes !== undefined) out.shm = bytes;
  }
  return out;
}

/** The entries of `mounts` (strings or objects, as written; none when it is missing or not a list). */
export function mountsOf(dc: Devcontainer): unknown[] {
  return Array.isArray(dc.json.mounts) ? (dc.json.mounts as unknown[]) : [];
}

/** The container path of a mount (`target=`, `dst=` or `destination=` of a mount string, or `target` of an object). */
export function mountTarget(mount: unknown): string | undefined {
  let target: string | undefined;
  if (typeof mount === 'string') {
    for (const part of mount.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const key = part.slice(0, eq).trim().toLowerCase();
      if (key === 'target' || key === 'dst' || key === 'destination') target = part.slice(eq + 1).trim();
    }
  } else if (isRecord(mount) && typeof mount.target === 'string') {
    target = mount.target.trim();
  }
  if (!target) return undefined;
  return target.length > 1 ? target.replace(/\/+$/, '') : target;
}

/**
 * `hostRequirements.gpu`: true (a GPU is required), 'optional' (used when there is one), false or undefined (not
 * asked for); an object (`{ "cores": 2 }`) counts as required, as in the spec.
 */
export function gpuRequirement(dc: Devcontainer): boolean | 'optional' | undefined {
  const host = dc.json.hostRequirements;
  const gpu = isRecord(host) ? host.gpu : undefined;
  if (gpu === 'optional') return 'optional';
  if (typeof gpu === 'boolean') return gpu;
  return isRecord(gpu) ? true : undefined;
}

export type DevcontainerKind = 'compose' | 'dockerfile' | 'image' | 'none';

/** How the container is defined: Docker Compose wins, as in the reference CLI, then a Dockerfile, then an image. */
export function devcontainerKind(config: unknown): DevcontainerKind {
  if (!isRecord(config)) return 'none';
  if ('dockerComposeFile' in config) return 'compose';
  const build = config.build;
  if ((isRecord(build) && typeof build.dockerfile === 'string') || typeof config.dockerFile === 'string') {
    return 'dockerfile';
  }
  return typeof config.image === 'string' ? 'image' : 'none';
}
