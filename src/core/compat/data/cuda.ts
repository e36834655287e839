/**
 * CUDA toolkit <-> driver facts, as data. Each row cites its sources (ids in sources.ts) and a status; only
 * confirmed and secondary rows are used by the rules, unconfirmed values are left out.
 */
import type { SourceId } from './sources';

export type Status = 'confirmed' | 'secondary';

export interface ToolkitDriverRow {
  /** CUDA major.minor */
  cuda: string;
  /** Minimum Linux x86_64 driver of the GA release, then of each update (index = update number). */
  minDriver: readonly string[];
  status: Status;
  source: SourceId;
}

/** A row the CUDA 13.2 release notes confirm: the minimum driver of the GA release, then of each update. */
const confirmed = (cuda: string, ...minDriver: string[]): ToolkitDriverRow => ({
  cuda,
  minDriver,
  status: 'confirmed',
  source: 'cuda_rn_13_2',
});

/** CUDA Toolkit and Corresponding (minimum) Driver Versions: Table 3 of the CUDA release notes. */
export const TOOLKIT_DRIVERS: readonly ToolkitDriverRow[] = [
  { cuda: '13.3', minDriver: ['610.43.02', '610.43.02'], status: 'secondary', source: 'secondary_13x' },
  confirmed('13.2', '595.45.04', '595.58.03'),
  confirmed('13.1', '590.44.01', '590.48.01'),
  confirmed('13.0', '580.65.06', '580.82.07', '580.95.05'),
  confirmed('12.9', '575.51.03', '575.57.08'),
  confirmed('12.8', '570.26', '570.124.06'),
  confirmed('12.6', '560.28.03', '560.35.03', '560.35.03', '560.35.05'),
  confirmed('12.5', '555.42.02', '555.42.06'),
  confirmed('12.4', '550.54.14', '550.54.15'),
  confirmed('12.3', '545.23.06', '545.23.08'),
  confirmed('12.2', '535.54.03', '535.86.09', '535.104.05'),
  confirmed('12.1', '530.30.02', '530.30.02'),
  confirmed('12.0', '525.60.13', '525.85.12'),
  confirmed('11.8', '520.61.05'),
  confirmed('11.7', '515.43.04', '515.48.07'),
  confirmed('11.6', '510.39.01', '510.47.03', '510.47.03'),
  confirmed('11.5', '495.29.05', '495.29.05', '495.29.05'),
  confirmed('11.4', '470.42.01', '470.57.02', '470.57.02', '470.82.01', '470.82.01'),
  confirmed('11.3', '465.19.01', '465.19.01'),
  confirmed('11.2', '460.27.03', '460.32.03', '460.32.03'),
  confirmed('11.1', '455.23', '455.32'),
  confirmed('11.0', '450.51.05', '450.51.06'),
  confirmed('10.2', '440.33'),
  confirmed('10.1', '418.39'),
  confirmed('10.0', '410.48'),
];

/** Minor-version compatibility: the minimum driver that runs every minor release of a CUDA major (limited features). */
export const MINOR_VERSION_FLOOR: Readonly<Record<number, { driver: string; source: SourceId }>> = {
  13: { driver: '580.65.06', source: 'cuda_compat_minor' },
  12: { driver: '525.60.13', source: 'cuda_compat_minor' },
  11: { driver: '450.80.02', source: 'cuda_compat_minor' },
};

/**
 * Driver branches that NVIDIA's `nvidia/cuda` images accept through `NVIDIA_REQUIRE_CUDA` exceptions (the
 * `brand=...,driver>=N,driver<N+1` terms): on data-center GPUs these are the forward-compatible branches the image's
 * cuda-compat package supports. Rows by image CUDA version range (inclusive, major.minor.patch).
 */
export interface RequireCudaRow {
  from: string;
  to: string;
  branches: readonly number[];
  /** Brands in the exception terms; from 12.5 GeForce and TITAN are no longer listed. */
  consumerBrands: boolean;
}
export const NVIDIA_CUDA_REQUIRE_EXCEPTIONS: readonly RequireCudaRow[] = [
  { from: '11.4.3', to: '11.4.3', branches: [], consumerBrands: true },
  { from: '11.5.0', to: '12.0.1', branches: [470], consumerBrands: true },
  { from: '12.1.0', to: '12.2.2', branches: [470, 525], consumerBrands: true },
  { from: '12.3.0', to: '12.4.1', branches: [470, 525, 535], consumerBrands: true },
  { from: '12.5.0', to: '12.6.3', branches: [470, 535, 550], consumerBrands: false },
  { from: '12.8.0', to: '12.8.9', branches: [470, 535, 550, 560, 565], consumerBrands: false },
  { from: '12.9.0', to: '12.9.9', branches: [535, 550, 560, 565, 570], consumerBrands: false },
  { from: '13.0.0', to: '13.0.9', branches: [535, 550, 565, 570, 575], consumerBrands: false },
];
export const REQUIRE_CUDA_SOURCE: SourceId = 'nv_cuda_images';
export const TOOLKIT_ENFORCEMENT_SOURCE: SourceId = 'ctk_repo';

/** CUDA releases that removed offline compilation and library support for GPU architectures. */
export interface ArchRemoval {
  /** Compute capabilities (major.minor) affected. */
  ccs: readonly string[];
  family: string;
  /** The CUDA version that removed them. */
  removedIn: string;
  /** The last CUDA that supports them. */
  lastCuda: string;
  sources: readonly SourceId[];
}
export const ARCH_REMOVALS: readonly ArchRemoval[] = [
  {
    ccs: ['3.0', '3.2'],
    family: 'Kepler',
    removedIn: '11.0',
    lastCuda: '10.2',
    sources: ['llvm_kepler', 'cmake_arch', 'cufft_dep'],
  },
  {
    ccs: ['3.5', '3.7'],
    family: 'Kepler',
    removedIn: '12.0',
    lastCuda: '11.8',
    sources: ['llvm_kepler', 'cmake_arch', 'cufft_dep'],
  },
  {
    ccs: ['5.0', '5.2', '5.3'],
    family: 'Maxwell',
    removedIn: '13.0',
    lastCuda: '12.9',
    sources: ['cuda_rn_13_2', 'cmake_arch'],
  },
  {
    ccs: ['6.0', '6.1', '6.2'],
    family: 'Pascal',
    removedIn: '13.0',
    lastCuda: '12.9',
    sources: ['cuda_rn_13_2', 'cmake_arch'],
  },
  {
    ccs: ['7.0', '7.2'],
    family: 'Volta',
    removedIn: '13.0',
    lastCuda: '12.9',
    sources: ['cuda_rn_13_2', 'cmake_arch'],
  },
];

/** The first CUDA version that can build for an architecture (nvcc offline compilation). */
export const ARCH_FIRST_CUDA: Readonly<Record<string, string>> = {
  '7.5': '10.0',
  '8.0': '11.0',
  '8.6': '11.1',
  '8.7': '11.4',
  '8.9': '11.8',
  '9.0': '11.8',
  '10.0': '12.8',
  '10.3': '12.9',
  '11.0': '13.0',
  '12.0': '12.8',
  '12.1': '12.9',
};
export const ARCH_FIRST_CUDA_SOURCE: SourceId = 'cmake_arch';

/** nvidia/cuda tags the fixes suggest, one per CUDA minor (tags that exist in the image repository's history). */
export const NVIDIA_CUDA_SUGGESTED_TAGS: Readonly<Record<string, string>> = {
  '11.8': '11.8.0-cudnn8-runtime-ubuntu22.04',
  '12.1': '12.1.1-cudnn8-runtime-ubuntu22.04',
  '12.2': '12.2.2-cudnn8-runtime-ubuntu22.04',
  '12.4': '12.4.1-cudnn-runtime-ubuntu22.04',
  '12.6': '12.6.3-cudnn-runtime-ubuntu22.04',
  '12.8': '12.8.1-cudnn-runtime-ubuntu22.04',
  '12.9': '12.9.1-cudnn-runtime-ubuntu22.04',
  '13.0': '13.0.2-cudnn-runtime-ubuntu24.04',
};
