/**
 * The groups of a devcontainer.json's `runArgs`: how its tokens make Docker flags and their values (`--shm-size=8g`,
 * `--shm-size`, `8g`, or `"--gpus all"` written as one token), with the few flag facts that takes (which flags take no
 * value, which repeat, the long names of short ones). The one parser of runArgs: the model's shared memory, the
 * scaffold's merge and its checks all read the groups from here.
 */

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
export const REPEATABLE_FLAGS = new Set([
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
