/** An environment fingerprint: what a machine (and optionally an image on it) is, to compare two environments. */
export const FINGERPRINT_SCHEMA = 'ml-containers-fingerprint/1';

export interface FingerprintGpu {
  index: number;
  name: string | null;
  uuid: string | null;
  computeCapability: string | null;
  memoryTotalMiB: number | null;
  migMode: string | null;
  eccMode: string | null;
}

export interface FingerprintEngine {
  reachable: boolean;
  reason?: string;
  engineVersion: string | null;
  apiVersion: string | null;
  runtimes: string[];
  nvidiaRuntime: boolean;
  cdiGpuDevices: string[];
}

/** What the container itself reports (a short Python script run inside the image). */
export interface ContainerReport {
  python: string | null;
  cudaRuntime: string | null;
  cudnn: string | null;
  frameworks: Record<string, { version: string; cuda?: string | null; archList?: string[] | null }>;
  pipFreezeSha256: string | null;
  pipPackages: number | null;
}

export interface FingerprintImage {
  ref: string;
  id: string | null;
  repoDigests: string[];
  /** The image environment variables that matter for GPUs (CUDA_VERSION, NVIDIA_REQUIRE_CUDA, ...). */
  env: Record<string, string>;
  labels: Record<string, string>;
  container: ContainerReport | { error: string } | null;
}

export interface Fingerprint {
  schema: typeof FINGERPRINT_SCHEMA;
  takenAt: string;
  host: {
    hostname: string;
    os: { platform: string; distro: string | null; kernel: string; arch: string };
    driverVersion: string | null;
    cudaDriverVersion: string | null;
    gpus: FingerprintGpu[];
    reason?: string;
    engine: FingerprintEngine | null;
  };
  image?: FingerprintImage;
}

export type DiffImpact = 'breaking' | 'significant' | 'minor';

export interface FingerprintDifference {
  /** Dotted path of what differs, e.g. `host.driverVersion`. */
  what: string;
  a: string;
  b: string;
  impact: DiffImpact;
  /** Why this difference matters, in one sentence. */
  why: string;
}
