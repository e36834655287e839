/**
 * Describe, then run: a RunSpec becomes the engine's container create options here (pure); the runner sends them.
 * Also the small parsers a run needs: `--gpus` values, the project's .env file, and the shared-memory and ulimit
 * settings of the scaffold's devcontainer.json.
 */
import { ENV_GROUP } from '../scaffold/types';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { parse as parseDotenv } from 'dotenv';
import { parseDevcontainer, sharedMemory } from '../devcontainer/model';
import { CONTAINER_CA_FILE } from '../network/run';
import { shmSizeFor } from '../scaffold/generate';
import { parseByteSize } from '../util/size';
import { type GpuSelection, LABELS, type RunSpec, WORKSPACE_DIR } from './types';
import { imageRefProblem } from '../docker/reference';

export { imageRefProblem, parseByteSize };

/** Unlimited memlock and a 64 MB stack, as NVIDIA recommends for CUDA containers (the scaffold's runArgs too). */
export const DEFAULT_ULIMITS: Docker.HostConfig['Ulimits'] = [
  { Name: 'memlock', Soft: -1, Hard: -1 },
  { Name: 'stack', Soft: 67108864, Hard: 67108864 },
];

/** `all`, `none`, or a comma-separated list of GPU indices or UUIDs (`0,1`, `GPU-c422…`), as `docker run --gpus`. */
export function parseGpuSelection(value: string): GpuSelection {
  const v = value.trim();
  if (v === '' || v === 'all') return { kind: 'all' };
  if (v === 'none' || v === '0 gpus') return { kind: 'none' };
  // `--gpus '"device=0,1"'` (docker's documented form) reaches us with its double quotes
  const unquoted = v.replace(/^"(.*)"$/, '$1');
  const raw = unquoted.startsWith('device=') ? unquoted.slice('device='.length) : unquoted;
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s);
  const bad = ids.find((id) => !/^(\d+|GPU-[0-9a-fA-F-]+|MIG-[\w/-]+)$/.test(id));
  if (ids.length === 0 || bad !== undefined) {
    throw new Error(
      `"${value}" is not a GPU selection: use all, none, or GPU indices or UUIDs separated by commas (e.g. 0,1).`,
    );
  }
  return { kind: 'devices', ids };
}

export function formatGpuSelection(g: GpuSelection): string {
  return g.kind === 'devices' ? g.ids.join(',') : g.kind;
}

/** The engine's DeviceRequests for a GPU selection, exactly as `docker run --gpus` sends them. */
export function deviceRequests(g: GpuSelection): Docker.DeviceRequest[] {
  if (g.kind === 'none') return [];
  if (g.kind === 'all') return [{ Driver: '', Count: -1, Capabilities: [['gpu']], Options: {} }];
  return [{ Driver: '', Count: 0, DeviceIDs: g.ids, Capabilities: [['gpu']], Options: {} }];
}

/** A new run id: sortable by time, unique enough to share a folder (`20261126-153012-a1b2`). */
export function newRunId(now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp =
    `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-` +
    `${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/** The project folder's name as lowercase letters, digits and `_.-`, starting and ending with a letter or digit. */
function projectSlug(projectRoot: string, max: number): string {
  const slug = path
    .basename(projectRoot)
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    // an image name's separators are one `.` or `_`, `__`, or dashes: `a..b` or `a._b` would not be a valid tag
    .replace(/[._-]{2,}/g, (run) => (/^(?:-+|__)$/.test(run) ? run : '-'))
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, max)
    .replace(/[^a-z0-9]+$/, '');
  return slug || 'project';
}

/** A container name from the project folder's name and the run id (the engine allows [a-zA-Z0-9][a-zA-Z0-9_.-]). */
export function containerNameFor(projectRoot: string, runId: string): string {
  return `mlc-${projectSlug(projectRoot, 40)}-${runId}`;
}

/** An image name for a project's scaffold target: `mlc/<project>:train`. */
export function imageNameFor(projectRoot: string, target: string): string {
  return `mlc/${projectSlug(projectRoot, 60)}:${target}`;
}

/** The run's bind mounts: the project (dev and existing images), the host's CA bundle read-only. */
function runMounts(spec: RunSpec): Docker.MountSettings[] {
  // a Mount, not a Binds string: a project path with ':' in it stays one path
  const mounts: Docker.MountSettings[] = spec.mountWorkspace
    ? [{ Type: 'bind', Source: spec.projectRoot, Target: WORKSPACE_DIR }]
    : [];
  if (spec.network?.caFile) {
    mounts.push({ Type: 'bind', Source: spec.network.caFile, Target: CONTAINER_CA_FILE, ReadOnly: true });
  }
  return mounts;
}

/**
 * The container create options for a run: the command as argv (never through a shell), GPUs, shm, labels, the
 * host's network settings (the run's own env wins over them).
 */
export function containerCreateOptions(
  spec: RunSpec,
  runId: string,
  name: string,
): Docker.ContainerCreateOptions & { HostConfig: Docker.HostConfig } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of spec.ports) {
    exposed[`${port}/tcp`] = {};
    bindings[`${port}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: '' }];
  }
  const labels: Record<string, string> = {
    [LABELS.run]: runId,
    [LABELS.project]: spec.projectRoot,
  };
  if (spec.sweepId) labels[LABELS.sweep] = spec.sweepId;
  if (spec.params && Object.keys(spec.params).length > 0) labels[LABELS.params] = JSON.stringify(spec.params);
  const hostConfig: Docker.HostConfig = {
    Init: true,
    DeviceRequests: deviceRequests(spec.gpus),
    Ulimits: DEFAULT_ULIMITS,
    PortBindings: bindings,
    Mounts: runMounts(spec),
    AutoRemove: false,
  };
  if (spec.shm === 'host') hostConfig.IpcMode = 'host';
  else hostConfig.ShmSize = spec.shm;
  if (spec.memoryBytes !== undefined) {
    hostConfig.Memory = spec.memoryBytes;
    hostConfig.MemorySwap = spec.memoryBytes; // no swap on top: a limit means a limit
  }
  // a host user the image has no account for gets a writable home (caches, configs)
  const home = spec.user ? { HOME: '/tmp' } : {};
  const env = { PYTHONUNBUFFERED: '1', ...home, ...spec.network?.env, ...spec.env };
  if (spec.user) hostConfig.GroupAdd = [ENV_GROUP];
  return {
    name,
    Image: spec.image,
    // the command replaces the image's entry point: it is what the user asked to run, argv as given
    ...(spec.command.length > 0 ? { Entrypoint: [], Cmd: spec.command } : {}),
    ...(spec.mountWorkspace ? { WorkingDir: WORKSPACE_DIR } : {}),
    ...(spec.user ? { User: `${spec.user.uid}:${spec.user.gid}` } : {}),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    // a terminal, so progress bars and colours come out as they would in a shell; stdout and stderr are one stream
    Tty: true,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    ExposedPorts: exposed,
    HostConfig: hostConfig,
  };
}

/** The variables of a .env file (dotenv's syntax: `KEY=value`, quotes, `export`, comments). */
export function parseEnvFile(text: string): Record<string, string> {
  return parseDotenv(text);
}

/** Shared memory and ulimits as the project's devcontainer.json runArgs set them. */
export interface DevcontainerRuntime {
  shm?: number | 'host';
  /** Where they came from, for the log. */
  source: string;
}

/**
 * Reads `--shm-size`/`--ipc=host` from a devcontainer.json's runArgs (the devcontainer model's reading, which the
 * doctor shares); throws with line and column when malformed.
 */
export function runtimeFromDevcontainer(text: string, file: string): DevcontainerRuntime {
  const { shm } = sharedMemory(parseDevcontainer(text, file));
  return shm === undefined ? { source: file } : { shm, source: file };
}

/** The default /dev/shm size when the project has no devcontainer.json saying otherwise (as the scaffold sizes it). */
export function defaultShmBytes(hostMemBytes: number | undefined): number {
  return parseByteSize(shmSizeFor(hostMemBytes)) ?? 1024 ** 3;
}
