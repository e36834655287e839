/**
 * Pure checks of the GPU-related settings of a parsed devcontainer.json: whether its `runArgs` groups (read by the
 * devcontainer model, ../devcontainer/) already give what a project wants, which extensions are there, and what a
 * file still lacks of the settings a project wants. The merge uses them to decide what to add; callers and tests use
 * `missingGpuSettings` to confirm a result. No schema validation here (no runtime dependency for it): the tests check
 * files against the spec's JSON schema and the reference CLI (test/engine/devcontainer-cli.test.ts).
 */
import {
  canonicalFlag,
  isHardCodedGpuFlag,
  REPEATABLE_FLAGS,
  type RunArgGroup,
  runArgGroups,
  setsSharedMemory,
} from '../devcontainer/runArgs';
import { devcontainerKind, isRecord, mountTarget } from '../devcontainer/model';
import type { DevcontainerGpuSettings } from './types';

export { canonicalFlag, isHardCodedGpuFlag, type RunArgGroup, runArgGroups, setsSharedMemory };
export { type DevcontainerKind, devcontainerKind, isRecord, mountTarget } from '../devcontainer/model';

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

/**
 * True when an extensions list already has `id` (ids are case-insensitive), or excludes it on purpose (`-id`, which
 * Dev Containers reads as "do not install").
 */
export function hasExtension(list: readonly unknown[], id: string): boolean {
  const want = id.toLowerCase();
  return list.some((e) => typeof e === 'string' && (e.toLowerCase() === want || e.toLowerCase() === `-${want}`));
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
