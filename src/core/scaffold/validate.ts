/**
 * Pure checks of the GPU-related settings of a parsed devcontainer.json: how `runArgs` tokens group into Docker
 * flags, which of them hard-code GPUs, which mount targets and extensions are there, and what a file still lacks of
 * the settings a project wants. The merge uses them to decide what to add; callers and tests use
 * `missingGpuSettings` to confirm a result. No schema validation here (no runtime dependency for it): the tests check
 * files against the spec's JSON schema and the reference CLI (test/unit/devcontainer-cli.test.ts).
 */
import type { DevcontainerGpuSettings } from './types';

/** One Docker flag of `runArgs` with its value, and the token indices it occupies (`end` exclusive). */
export interface RunArgGroup {
  /** The flag as written, e.g. `--shm-size`, `-e`; '' for a value with no flag before it. */
  flag: string;
  /** The flag's value (`8g` for `--shm-size=8g` and for `--shm-size`, `8g`), or undefined for a bare flag. */
  value?: string;
  start: number;
  end: number;
  /** True for a flag and value written as one token with a space (`"--gpus all"`): Docker reads an unknown flag. */
  oneToken: boolean;
}

/** Flags of `docker run` that take no value, so the token after them is not theirs. */
const BOOLEAN_FLAGS = new Set([
  '--init',
  '--privileged',
  '--rm',
  '--read-only',
  '--oom-kill-disable',
  '--no-healthcheck',
  '--publish-all',
  '-P',
  '-d',
  '--detach',
  '-i',
  '--interactive',
  '-t',
  '--tty',
  '-it',
  '-ti',
]);

/** Flags that may appear several times with different values (a second one adds, not replaces). */
const REPEATABLE_FLAGS = new Set([
  '--ulimit',
  '--cap-add',
  '--cap-drop',
  '--security-opt',
  '--device',
  '--env',
  '--volume',
  '--mount',
  '--add-host',
  '--label',
  '--sysctl',
  '--tmpfs',
  '--group-add',
  '--publish',
  '--device-cgroup-rule',
  '--dns',
  '--expose',
  '--env-file',
]);

const SHORT_FLAGS: Record<string, string> = {
  '-e': '--env',
  '-v': '--volume',
  '-p': '--publish',
  '-l': '--label',
  '-u': '--user',
  '-w': '--workdir',
  '-m': '--memory',
  '-h': '--hostname',
};

/** The long name of a flag (`-e` -> `--env`), for comparing groups. */
export function canonicalFlag(flag: string): string {
  return SHORT_FLAGS[flag] ?? flag;
}

/** Splits `runArgs` into flag groups: `--ulimit`, `memlock=-1` is one group, `--shm-size=8g` another. */
export function runArgGroups(tokens: readonly unknown[]): RunArgGroup[] {
  const groups: RunArgGroup[] = [];
  for (let i = 0; i < tokens.length;) {
    const raw = tokens[i];
    const token = typeof raw === 'string' ? raw.trim() : String(raw);
    if (!token.startsWith('-')) {
      groups.push({ flag: '', value: token, start: i, end: i + 1, oneToken: false });
      i += 1;
      continue;
    }
    const spaced = /^(-{1,2}[^\s=]+)\s+(\S.*)$/.exec(token);
    if (spaced) {
      groups.push({ flag: spaced[1]!, value: spaced[2]!, start: i, end: i + 1, oneToken: true });
      i += 1;
      continue;
    }
    const eq = token.indexOf('=');
    if (eq > 0) {
      groups.push({ flag: token.slice(0, eq), value: token.slice(eq + 1), start: i, end: i + 1, oneToken: false });
      i += 1;
      continue;
    }
    const next = tokens[i + 1];
    const takesNext =
      !BOOLEAN_FLAGS.has(token) &&
      next !== undefined &&
      (typeof next !== 'string' || !next.trim().startsWith('-') || /^-\d/.test(next.trim()));
    if (takesNext) {
      groups.push({ flag: token, value: String(next).trim(), start: i, end: i + 2, oneToken: false });
      i += 2;
    } else {
      groups.push({ flag: token, start: i, end: i + 1, oneToken: false });
      i += 1;
    }
  }
  return groups;
}

/**
 * True for a flag that hard-codes GPUs: `--gpus` in any form (`--gpus all`, `--gpus=all`, `"--gpus all"` as one
 * token, `--gpus "device=0"`) and `--runtime=nvidia`. `docker run` fails with them on a machine without an NVIDIA GPU
 * or runtime, so a shared dev container asks for GPUs with `hostRequirements.gpu` instead.
 */
export function isHardCodedGpuFlag(g: RunArgGroup): boolean {
  if (g.flag === '--gpus') return true;
  return g.flag === '--runtime' && g.value?.toLowerCase() === 'nvidia';
}

/** True for a group that sizes /dev/shm: any `--shm-size`, or `--ipc=host` (the host's /dev/shm). */
export function setsSharedMemory(g: RunArgGroup): boolean {
  if (g.flag === '--shm-size') return true;
  return g.flag === '--ipc' && g.value === 'host';
}

/** The part of a repeatable flag's value that identifies it: `memlock` of `memlock=-1`, `SYS_PTRACE`. */
function valueKey(value: string | undefined): string {
  return (value ?? '').split(/[=:]/, 1)[0]!.trim();
}

/**
 * True when `existing` already has what the wanted group asks for, whatever value the user chose: any shared-memory
 * setting satisfies another, a repeatable flag matches on its key (`--ulimit memlock=…`), any other flag on its name.
 */
export function runArgsSatisfy(existing: readonly RunArgGroup[], wanted: RunArgGroup): boolean {
  if (setsSharedMemory(wanted)) return existing.some(setsSharedMemory);
  const flag = canonicalFlag(wanted.flag);
  if (flag === '') return existing.some((g) => g.flag === '' && g.value === wanted.value);
  const same = existing.filter((g) => canonicalFlag(g.flag) === flag);
  if (!REPEATABLE_FLAGS.has(flag)) return same.length > 0;
  return same.some((g) => valueKey(g.value) === valueKey(wanted.value));
}

/** The tokens of a group as they appear in `tokens`. */
export function groupTokens(tokens: readonly unknown[], g: RunArgGroup): unknown[] {
  return tokens.slice(g.start, g.end);
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
 * True when an extensions list already has `id` (ids are case-insensitive), or excludes it on purpose (`-id`, which
 * Dev Containers reads as "do not install").
 */
export function hasExtension(list: readonly unknown[], id: string): boolean {
  const want = id.toLowerCase();
  return list.some((e) => typeof e === 'string' && (e.toLowerCase() === want || e.toLowerCase() === `-${want}`));
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

/**
 * What a parsed devcontainer.json still lacks of `wanted`, one line each (empty when everything is there), and the
 * hard-coded GPU flags it still has. With Docker Compose, runArgs are neither expected nor checked (Compose ignores
 * them).
 */
export function missingGpuSettings(config: unknown, wanted: DevcontainerGpuSettings): string[] {
  if (!isRecord(config)) return ['the file is not a JSON object'];
  const missing: string[] = [];
  const host = config.hostRequirements;
  if (!isRecord(host) || host.gpu === undefined) missing.push('hostRequirements.gpu');
  if (devcontainerKind(config) !== 'compose') {
    const runArgs = Array.isArray(config.runArgs) ? (config.runArgs as unknown[]) : [];
    const have = runArgGroups(runArgs);
    for (const g of runArgGroups(wanted.runArgs)) {
      if (!runArgsSatisfy(have, g)) missing.push(`runArgs: ${groupTokens(wanted.runArgs, g).join(' ')}`);
    }
    for (const g of have.filter(isHardCodedGpuFlag)) {
      missing.push(`runArgs without the hard-coded GPU flag ${groupTokens(runArgs, g).join(' ')}`);
    }
  }
  const mounts = Array.isArray(config.mounts) ? (config.mounts as unknown[]) : [];
  const targets = new Set(mounts.map(mountTarget));
  for (const m of wanted.mounts) {
    if (!targets.has(mountTarget(m))) missing.push(`mounts: ${mountTarget(m) ?? m}`);
  }
  const env = isRecord(config.containerEnv) ? config.containerEnv : {};
  for (const key of Object.keys(wanted.containerEnv)) {
    if (!(key in env)) missing.push(`containerEnv.${key}`);
  }
  const custom = isRecord(config.customizations) ? config.customizations : {};
  const vscode = isRecord(custom.vscode) ? custom.vscode : {};
  const extensions = Array.isArray(vscode.extensions) ? (vscode.extensions as unknown[]) : [];
  for (const id of wanted.extensions) {
    if (!hasExtension(extensions, id)) missing.push(`customizations.vscode.extensions: ${id}`);
  }
  return missing;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
