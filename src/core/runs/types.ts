/** Training runs: what a user asks to run, and the record we keep of it. Plain data, no I/O. */
import type { RunNetwork } from '../network/run';

/** Which GPUs a run gets: all of them, none, or a subset by nvidia-smi index or UUID. */
export type GpuSelection = { kind: 'all' } | { kind: 'none' } | { kind: 'devices'; ids: string[] };

/** Where a run's image comes from. */
export type ImageSource =
  /** Build the scaffold's Dockerfile at this target (`train` copies the code in, `dev` has dependencies only). */
  | { kind: 'target'; target: 'train' | 'dev' }
  /** An image that is already on the engine (or in its registry). */
  | { kind: 'image'; ref: string };

/** Everything needed to create one training container. Described here, run by the runner. */
export interface RunSpec {
  /** The project folder on the engine's machine (bind-mounted for dev and existing images). */
  projectRoot: string;
  /** The image reference to run (already built or pulled). */
  image: string;
  /** The command, one argv element per entry; empty: the image's own entry point and command. */
  command: string[];
  gpus: GpuSelection;
  /** Bind-mount the project at WORKSPACE_DIR and work there (dev images, existing images). */
  mountWorkspace: boolean;
  /** Environment variables (from the project's .env file, then the run's own). */
  env: Record<string, string>;
  /** /dev/shm size in bytes, or `host` to share the host's IPC namespace. */
  shm: number | 'host';
  /** Container memory limit in bytes (none when undefined). */
  memoryBytes?: number;
  /** Container ports to publish on the host's loopback (e.g. 6006 for TensorBoard). */
  ports: number[];
  /** The sweep this run belongs to and its parameter values. */
  sweepId?: string;
  params?: Record<string, string>;
  /** The host's CA bundle (mounted read-only) and package index variables, under `env` (src/core/network). */
  network?: RunNetwork;
  /**
   * Run as this host user (uid:gid) rather than the image's: set for the scaffold's dev image with the project
   * mounted when the host user is not the image's (uid 1000), so what the training writes into the project is the
   * user's and the mount is writable; the user joins the environment's group (mlc-env) to install into it.
   */
  user?: { uid: number; gid: number };
}

export type RunState = 'created' | 'running' | 'succeeded' | 'failed' | 'stopped';

/** The record of a run kept in `<project>/.ml-containers/runs/<id>/run.json`: it outlives the container. */
export interface RunRecord {
  /** e.g. `20261126-153012-a1b2`. */
  id: string;
  /** The project folder. */
  project: string;
  /** The project's folder name. */
  projectName: string;
  state: RunState;
  containerId: string | null;
  containerName: string;
  image: string;
  /** The image's ID (sha256:…) at start, and its registry digests when it has any. */
  imageId: string | null;
  repoDigests: string[];
  command: string[];
  gpus: GpuSelection;
  /** The project was bind-mounted at WORKSPACE_DIR (dev and existing images). */
  mountWorkspace: boolean;
  /** Container ports asked for with the run (published on 127.0.0.1). */
  requestedPorts: number[];
  /** The memory limit asked for, in bytes (absent: none). */
  memoryBytes?: number;
  /** Host ports the container's ports were published on: `{"6006": 49153}`. */
  ports: Record<string, number>;
  sweepId: string | null;
  params: Record<string, string>;
  /** ISO 8601 times. */
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Set by a stop request, so the exit code that follows (143 with Init) counts as stopped, not failed. */
  stopRequestedAt: string | null;
  exitCode: number | null;
  oomKilled: boolean;
  /** One sentence, what happened and what to do, when the run failed or could not start. */
  explanation: string | null;
  /** What was changed to make the run start (e.g. a ulimit the engine may not raise), one sentence each. */
  warnings: string[];
  /** What the run was made on: the engine and the host's GPUs. */
  host: RunHost;
}

export interface RunHost {
  dockerHost: string;
  engineVersion: string | null;
  driverVersion: string | null;
  gpus: { index: number; name: string | null; uuid: string | null }[];
}

/** Labels that mark a container as ours; their values let a later session adopt it. */
export const LABELS = {
  run: 'org.ml-containers.run',
  project: 'org.ml-containers.project',
  sweep: 'org.ml-containers.sweep',
  params: 'org.ml-containers.params',
} as const;

/** Where the project is mounted in dev containers (the scaffold's WORKDIR). */
export const WORKSPACE_DIR = '/workspace';

const RUN_STATES: readonly RunState[] = ['created', 'running', 'succeeded', 'failed', 'stopped'];

type Check = (v: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isBool: Check = (v) => typeof v === 'boolean';
const isInt: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v);
const orNull =
  (c: Check): Check =>
  (v) =>
    v === null || c(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayOf =
  (c: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(c);
const recordOf =
  (c: Check): Check =>
  (v) =>
    isObject(v) && Object.values(v).every(c);
const isGpuSelection: Check = (v) =>
  isObject(v) &&
  (v.kind === 'all' ||
    v.kind === 'none' ||
    (v.kind === 'devices' && arrayOf((id) => typeof id === 'string' && /^[\w./:-]{1,128}$/.test(id))(v.ids)));
const isHost: Check = (v) =>
  isObject(v) &&
  isString(v.dockerHost) &&
  orNull(isString)(v.engineVersion) &&
  orNull(isString)(v.driverVersion) &&
  arrayOf((g) => isObject(g) && isInt(g.index) && orNull(isString)(g.name) && orNull(isString)(g.uuid))(v.gpus);

/** Each field of a record and its check; `fallback` when a record of an older version lacks the field. */
const RECORD_FIELDS: Record<keyof RunRecord, { check: Check; fallback?: () => unknown }> = {
  id: { check: isString },
  project: { check: isString },
  projectName: { check: isString },
  state: { check: (v) => RUN_STATES.includes(v as RunState) },
  containerId: { check: orNull(isString) },
  containerName: { check: isString },
  image: { check: isString },
  imageId: { check: orNull(isString) },
  repoDigests: { check: arrayOf(isString), fallback: () => [] },
  command: { check: arrayOf(isString) },
  gpus: { check: isGpuSelection },
  mountWorkspace: { check: isBool, fallback: () => false },
  requestedPorts: { check: arrayOf(isInt), fallback: () => [] },
  memoryBytes: { check: (v) => v === undefined || (isInt(v) && (v as number) > 0) },
  ports: { check: recordOf(isInt), fallback: () => ({}) },
  sweepId: { check: orNull(isString), fallback: () => null },
  params: { check: recordOf(isString), fallback: () => ({}) },
  createdAt: { check: isString },
  startedAt: { check: orNull(isString), fallback: () => null },
  finishedAt: { check: orNull(isString), fallback: () => null },
  stopRequestedAt: { check: orNull(isString), fallback: () => null },
  exitCode: { check: orNull(isInt), fallback: () => null },
  oomKilled: { check: isBool, fallback: () => false },
  explanation: { check: orNull(isString), fallback: () => null },
  warnings: { check: arrayOf(isString), fallback: () => [] },
  host: {
    check: isHost,
    fallback: () => ({ dockerHost: '', engineVersion: null, driverVersion: null, gpus: [] }),
  },
};

/**
 * Checks that a parsed run.json has the shape of a RunRecord (records are files a cloned repository may have forged or
 * broken): each field of its type; fields that older versions did not write get their defaults. Returns the record
 * (only the known fields), or what is wrong with it, as a phrase (`its gpus is not …`).
 */
export function validateRunRecord(value: unknown): { ok: true; record: RunRecord } | { ok: false; problem: string } {
  if (!isObject(value)) {
    return {
      ok: false,
      problem: `it is not an object (${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value})`,
    };
  }
  const out: Record<string, unknown> = {};
  for (const [key, { check, fallback }] of Object.entries(RECORD_FIELDS)) {
    let v = value[key];
    if (v === undefined && fallback) v = fallback();
    if (!check(v)) {
      return {
        ok: false,
        problem: v === undefined ? `it has no ${key}` : `its ${key} is not what a run record has there`,
      };
    }
    if (v !== undefined) out[key] = v;
  }
  return { ok: true, record: out as unknown as RunRecord };
}
