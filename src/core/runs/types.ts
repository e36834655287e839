/** Training runs: what a user asks to run, and the record we keep of it. Plain data, no I/O. */

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
