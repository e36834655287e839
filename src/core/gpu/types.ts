/** `enabled`/`disabled` as nvidia-smi reports a mode (`Enabled`/`Disabled`); null when it reports none. */
export type GpuMode = 'enabled' | 'disabled';

/** One GPU as the host's NVIDIA driver reports it. Every value nvidia-smi cannot give (`[N/A]`, ...) is null. */
export interface GpuInfo {
  /** nvidia-smi's index (the order of `nvidia-smi -L`, not necessarily CUDA's order). */
  index: number;
  /** `GPU-c422a366-...`. */
  uuid: string | null;
  /** The product name exactly as nvidia-smi prints it, e.g. `NVIDIA H200`. */
  name: string | null;
  /** `major.minor`, e.g. `9.0` (sm_90). */
  computeCapability: string | null;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  /** Percent of time a kernel ran over the last sample period (null on MIG-enabled GPUs). */
  utilizationGpu: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  /** `00000000:00:06.0`. */
  pciBusId: string | null;
  migMode: GpuMode | null;
  eccMode: GpuMode | null;
}

/** What the host's NVIDIA driver says; `gpus` is empty with a `reason` when there is no working driver. */
export interface HostGpuState {
  /** e.g. `580.159.04`. */
  driverVersion: string | null;
  /** The newest CUDA version this driver supports, e.g. `13.0` (nvidia-smi's "CUDA Version"). */
  cudaDriverVersion: string | null;
  gpus: GpuInfo[];
  /** One or two sentences: what went wrong and what to do; set when the driver could not be asked or answered badly. */
  reason?: string;
  /** The nvidia-smi that answered (or failed). */
  nvidiaSmiPath?: string;
}
