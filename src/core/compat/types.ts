import type { SourceId } from './data/sources';

export type Severity = 'error' | 'warning' | 'info';
export type Verdict = 'ok' | 'warning' | 'error';

/** One problem (or notable fact), explained: what happened, and what to do. */
export interface Finding {
  id: string;
  severity: Severity;
  message: string;
  fix: string;
  /** Where the rule's facts come from: a URL or a reference. */
  source: string;
  /** Internal: the source ids behind `source`. */
  sourceIds?: readonly SourceId[];
}

export interface HostGpu {
  name: string;
  computeCapability: string | null;
  datacenter: boolean | null;
}

export interface HostFacts {
  driverVersion: string | null;
  cudaDriverVersion: string | null;
  gpus: HostGpu[];
  /** Why there are no GPUs, when probing found no working driver. */
  reason?: string;
}

export interface EngineFacts {
  reachable: boolean;
  reason?: string;
  engineVersion?: string | null;
  apiVersion?: string | null;
  nvidiaRuntime: boolean;
  cdiGpuDevices: string[];
  runtimes?: string[];
}

export type ImageKind = 'nvidia-cuda' | 'pytorch' | 'ngc' | 'tensorflow' | 'dockerfile' | 'local' | 'project' | 'other';

export interface ImageFacts {
  ref: string | null;
  /** The CUDA toolkit/runtime in the image (x.y or x.y.z). */
  cudaVersion: string | null;
  framework: 'pytorch' | 'tensorflow' | 'jax' | null;
  frameworkVersion: string | null;
  /** The CUDA version the framework build targets (e.g. 12.8 for a cu128 wheel). */
  frameworkCuda: string | null;
  /** GPU architectures the framework build has kernels for, e.g. `7.5;8.0;8.6;9.0;10.0;12.0` (`+PTX` marks PTX). */
  archList: string | null;
  /** The image's NVIDIA_REQUIRE_CUDA, enforced by the NVIDIA Container Toolkit at container start. */
  requireCuda: string | null;
  /** Whether the image carries the cuda-compat package (forward compatibility on data-center GPUs). */
  cudaCompat: boolean | null;
  kind: ImageKind | null;
  /** Where each fact came from, for the report. */
  notes: string[];
}

export interface ProjectFacts {
  /** The project's dev container runs with a shared-memory setting (`--shm-size`, `--ipc=host`), if it has one. */
  devcontainer: { file: string; shmBytes: number | null; ipcHost: boolean; runArgsLine: number | null } | null;
  usesDataLoaderWorkers: boolean;
  needsGpu: 'yes' | 'optional' | 'no' | null;
}

export interface CheckInput {
  host: HostFacts;
  image: ImageFacts;
  /** null when the engine was not asked (`--no-engine`). */
  engine: EngineFacts | null;
  project: ProjectFacts | null;
  /** What cannot be passed of this host's network settings to builds and runs (src/core/network); none: absent. */
  network?: Finding[];
}

export interface CheckResult {
  verdict: Verdict;
  host: HostFacts & { engine: EngineFacts | null };
  image: Pick<ImageFacts, 'ref' | 'cudaVersion' | 'framework' | 'frameworkVersion' | 'frameworkCuda' | 'archList'>;
  findings: Finding[];
}
