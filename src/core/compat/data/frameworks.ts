/**
 * Framework builds as data: which CUDA each PyTorch release ships wheels for, which GPU architectures those wheels
 * carry kernels for, PyTorch's own binary-compatibility rules, TensorFlow's tested CUDA per release, JAX's CUDA
 * extras and NGC container contents. Rows cite sources (ids in sources.ts); unconfirmed values are not here.
 */
import type { Status } from './cuda';
import type { SourceId } from './sources';

export interface TorchRelease {
  /** major.minor */
  torch: string;
  python: string;
  /** Wheel variants, oldest CUDA first. */
  variants: readonly string[];
  /** The variant RELEASE.md marks experimental for this release, if any. */
  experimental?: string;
}

/** pytorch/pytorch RELEASE.md "Release Compatibility Matrix". */
export const TORCH_RELEASES: readonly TorchRelease[] = [
  { torch: '1.13', python: '3.7-3.10', variants: ['cu116', 'cu117'], experimental: 'cu117' },
  { torch: '2.0', python: '3.8-3.11', variants: ['cu117', 'cu118'], experimental: 'cu118' },
  { torch: '2.1', python: '3.8-3.11', variants: ['cu118', 'cu121'], experimental: 'cu121' },
  { torch: '2.2', python: '3.8-3.11', variants: ['cu118', 'cu121'], experimental: 'cu121' },
  { torch: '2.3', python: '3.8-3.11', variants: ['cu118', 'cu121'], experimental: 'cu121' },
  { torch: '2.4', python: '3.8-3.12', variants: ['cu118', 'cu121', 'cu124'], experimental: 'cu124' },
  { torch: '2.5', python: '3.9-3.12', variants: ['cu118', 'cu121', 'cu124'] },
  { torch: '2.6', python: '3.9-3.13', variants: ['cu118', 'cu124', 'cu126'], experimental: 'cu126' },
  { torch: '2.7', python: '3.9-3.13', variants: ['cu118', 'cu126', 'cu128'], experimental: 'cu128' },
  { torch: '2.8', python: '3.9-3.13', variants: ['cu126', 'cu128', 'cu129'], experimental: 'cu129' },
  { torch: '2.9', python: '3.10-3.14', variants: ['cu126', 'cu128', 'cu130'], experimental: 'cu130' },
  { torch: '2.10', python: '3.10-3.14', variants: ['cu126', 'cu128', 'cu130'], experimental: 'cu130' },
  { torch: '2.11', python: '3.10-3.14', variants: ['cu126', 'cu128', 'cu130'] },
  { torch: '2.12', python: '3.10-3.14', variants: ['cu126', 'cu130', 'cu132'], experimental: 'cu132' },
  { torch: '2.13', python: '3.10-3.15', variants: ['cu126', 'cu130', 'cu132'], experimental: 'cu132' },
  { torch: '2.14', python: '3.10-3.15', variants: ['cu126', 'cu130', 'cu132'] },
];
export const TORCH_RELEASES_SOURCE: SourceId = 'pt_release_md';

export interface TorchArchRow {
  /** Releases (major.minor) the row covers. */
  torch: readonly string[];
  variant: string;
  /** TORCH_CUDA_ARCH_LIST of the Linux x86_64 pip wheels: SASS for each; `+PTX` marks PTX shipped too. */
  archList: string;
  status: Status;
  sources: readonly SourceId[];
}

const range = (...v: string[]): string[] => v;
const ARCH_SM50_90 = '5.0;6.0;7.0;7.5;8.0;8.6;9.0';

/** TORCH_CUDA_ARCH_LIST used for the official Linux x86_64 pip wheels. */
export const TORCH_ARCH_LISTS: readonly TorchArchRow[] = [
  {
    torch: range('1.13'),
    variant: 'cu116',
    archList: '3.7;5.0;6.0;7.0;7.5;8.0;8.6',
    status: 'confirmed',
    sources: ['pt_builder'],
  },
  {
    torch: range('1.13'),
    variant: 'cu117',
    archList: '3.7;5.0;6.0;7.0;7.5;8.0;8.6',
    status: 'confirmed',
    sources: ['pt_builder'],
  },
  {
    torch: range('2.0'),
    variant: 'cu117',
    archList: '3.7;5.0;6.0;7.0;7.5;8.0;8.6',
    status: 'confirmed',
    sources: ['pt_builder'],
  },
  {
    torch: range('2.0'),
    variant: 'cu118',
    archList: '3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0',
    status: 'confirmed',
    sources: ['pt_builder'],
  },
  {
    torch: range('2.1', '2.2', '2.3', '2.4', '2.5'),
    variant: 'cu118',
    archList: '3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0',
    status: 'confirmed',
    sources: ['pt_builder'],
  },
  {
    torch: range('2.1', '2.2', '2.3', '2.4', '2.5'),
    variant: 'cu121',
    archList: ARCH_SM50_90,
    status: 'confirmed',
    sources: ['pt_builder'],
  },
  {
    torch: range('2.4', '2.5'),
    variant: 'cu124',
    archList: ARCH_SM50_90,
    status: 'confirmed',
    sources: ['pt_builder'],
  },
  {
    torch: range('2.6', '2.7'),
    variant: 'cu118',
    archList: '3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0',
    status: 'secondary',
    sources: ['pt_build_cuda'],
  },
  { torch: range('2.6'), variant: 'cu124', archList: ARCH_SM50_90, status: 'secondary', sources: ['pt_build_cuda'] },
  {
    torch: range('2.6', '2.7'),
    variant: 'cu126',
    archList: ARCH_SM50_90,
    status: 'secondary',
    sources: ['pt_build_cuda'],
  },
  {
    torch: range('2.7'),
    variant: 'cu128',
    archList: '7.5;8.0;8.6;9.0;10.0;12.0',
    status: 'confirmed',
    sources: ['pt_pr_145792', 'pt_pr_147607'],
  },
  {
    torch: range('2.8', '2.9', '2.10', '2.11', '2.12', '2.13', '2.14'),
    variant: 'cu126',
    archList: ARCH_SM50_90,
    status: 'confirmed',
    sources: ['pt_build_cuda', 'pt_issue_182250'],
  },
  {
    torch: range('2.8', '2.9', '2.10'),
    variant: 'cu128',
    archList: '7.0;7.5;8.0;8.6;9.0;10.0;12.0',
    status: 'confirmed',
    sources: ['pt_pr_157516', 'pt_pr_157558', 'pt_issue_182250'],
  },
  {
    torch: range('2.8'),
    variant: 'cu129',
    archList: '7.0;7.5;8.0;8.6;9.0;10.0;12.0',
    status: 'secondary',
    sources: ['pt_build_cuda'],
  },
  {
    torch: range('2.9', '2.10', '2.11'),
    variant: 'cu130',
    archList: '7.5;8.0;8.6;9.0;10.0;12.0',
    status: 'confirmed',
    sources: ['pt_release_md', 'pt_pr_188914'],
  },
  {
    torch: range('2.11'),
    variant: 'cu128',
    archList: '7.5;8.0;8.6;9.0;10.0;12.0',
    status: 'confirmed',
    sources: ['pt_issue_182250'],
  },
  {
    torch: range('2.12', '2.13', '2.14'),
    variant: 'cu130',
    archList: '7.5;8.0;8.6;9.0;10.0;12.0',
    status: 'confirmed',
    sources: ['pt_release_md', 'pt_pr_188914'],
  },
  {
    torch: range('2.12', '2.13', '2.14'),
    variant: 'cu132',
    archList: '7.5;8.0;8.6;9.0;10.0;12.0',
    status: 'confirmed',
    sources: ['pt_release_md', 'pt_pr_188914'],
  },
];

/**
 * PyTorch's DEVICE_REQUIREMENT (torch/cuda/__init__.py): kernels built for SM `key` run on devices with compute
 * capability in [min, max) except those listed. Architecture-specific SASS runs on later minor versions of the same
 * major only; a new major needs its own kernels or PTX.
 */
export const TORCH_DEVICE_REQUIREMENT: Readonly<
  Record<string, { min: string; max: string; except?: readonly string[]; only?: readonly string[] }>
> = {
  '50': { min: '5.0', max: '6.0', except: ['5.3'] },
  '52': { min: '5.2', max: '6.0', except: ['5.3'] },
  '53': { min: '5.3', max: '5.3', only: ['5.3'] },
  '60': { min: '6.0', max: '7.0', except: ['6.2'] },
  '61': { min: '6.1', max: '7.0', except: ['6.2'] },
  '62': { min: '6.2', max: '6.2', only: ['6.2'] },
  '70': { min: '7.0', max: '8.0', except: ['7.2'] },
  '72': { min: '7.2', max: '7.2', only: ['7.2'] },
  '75': { min: '7.5', max: '8.0' },
  '80': { min: '8.0', max: '9.0', except: ['8.7'] },
  '86': { min: '8.6', max: '9.0', except: ['8.7'] },
  '87': { min: '8.7', max: '8.7', only: ['8.7'] },
  '89': { min: '8.9', max: '9.0' },
  '90': { min: '9.0', max: '10.0' },
  '100': { min: '10.0', max: '11.0', except: ['10.1'] },
  '101': { min: '10.1', max: '10.1', only: ['10.1', '11.0'] },
  '103': { min: '10.3', max: '11.0' },
  '110': { min: '11.0', max: '12.0' },
  '120': { min: '12.0', max: '13.0' },
  '121': { min: '12.1', max: '13.0' },
};
export const TORCH_DEVICE_REQUIREMENT_SOURCE: SourceId = 'pt_cuda_init';

export interface TfBuild {
  tf: string;
  python: string;
  cuda: string;
  cudnn: string;
}
/** TensorFlow tested build configurations, Linux GPU (tensorflow/docs site/en/install/source.md). */
export const TF_BUILDS: readonly TfBuild[] = [
  { tf: '2.21', python: '3.10-3.13', cuda: '12.5', cudnn: '9.3' },
  { tf: '2.20', python: '3.9-3.13', cuda: '12.5', cudnn: '9.3' },
  { tf: '2.19', python: '3.9-3.12', cuda: '12.5', cudnn: '9.3' },
  { tf: '2.18', python: '3.9-3.12', cuda: '12.5', cudnn: '9.3' },
  { tf: '2.17', python: '3.9-3.12', cuda: '12.3', cudnn: '8.9' },
  { tf: '2.16', python: '3.9-3.12', cuda: '12.3', cudnn: '8.9' },
  { tf: '2.15', python: '3.9-3.11', cuda: '12.2', cudnn: '8.9' },
  { tf: '2.14', python: '3.9-3.11', cuda: '11.8', cudnn: '8.7' },
  { tf: '2.13', python: '3.8-3.11', cuda: '11.8', cudnn: '8.6' },
  { tf: '2.12', python: '3.8-3.11', cuda: '11.8', cudnn: '8.6' },
  { tf: '2.11', python: '3.7-3.10', cuda: '11.2', cudnn: '8.1' },
  { tf: '2.10', python: '3.7-3.10', cuda: '11.2', cudnn: '8.1' },
  { tf: '2.9', python: '3.7-3.10', cuda: '11.2', cudnn: '8.1' },
  { tf: '2.8', python: '3.7-3.10', cuda: '11.2', cudnn: '8.1' },
  { tf: '2.7', python: '3.7-3.9', cuda: '11.2', cudnn: '8.1' },
  { tf: '2.6', python: '3.6-3.9', cuda: '11.2', cudnn: '8.1' },
  { tf: '2.5', python: '3.6-3.9', cuda: '11.2', cudnn: '8.1' },
  { tf: '2.4', python: '3.6-3.8', cuda: '11.0', cudnn: '8.0' },
];
export const TF_BUILDS_SOURCE: SourceId = 'tf_source_md';
/** TensorFlow pip packages: SASS for 3.5, 5.0, 6.0, 7.0, 7.5, 8.0 and higher; PTX only for the newest architecture. */
export const TF_MIN_CC = '3.5';
export const TF_PIP_SOURCE: SourceId = 'tf_pip_md';

export interface JaxExtra {
  extra: string;
  cudaMajor: number;
  minDriver: string;
  minCc: string;
}
/** JAX CUDA wheels (jax-ml/jax docs/installation.md). */
export const JAX_EXTRAS: readonly JaxExtra[] = [
  { extra: 'cuda13', cudaMajor: 13, minDriver: '580', minCc: '7.5' },
  { extra: 'cuda12', cudaMajor: 12, minDriver: '525.60.13', minCc: '5.2' },
];
export const JAX_SOURCE: SourceId = 'jax_install';

export interface NgcRelease {
  tag: string;
  cuda: string;
  torch: string | null;
  archList: string | null;
  status: Status;
}
/** NGC nvcr.io/nvidia/pytorch:YY.MM-py3 releases with known contents (others are unknown, not guessed). */
export const NGC_PYTORCH: readonly NgcRelease[] = [
  { tag: '20.02', cuda: '10.2.89', torch: '1.4.0', archList: null, status: 'confirmed' },
  { tag: '20.06', cuda: '11.0.167', torch: null, archList: null, status: 'confirmed' },
  { tag: '21.12', cuda: '11.5.0', torch: '1.11.0', archList: null, status: 'secondary' },
  { tag: '24.05', cuda: '12.4.1', torch: '2.4.0', archList: null, status: 'confirmed' },
  { tag: '25.01', cuda: '12.8.0', torch: null, archList: null, status: 'secondary' },
  { tag: '25.04', cuda: '12.9', torch: '2.7.0', archList: '7.5;8.0;8.6;9.0;10.0;12.0+PTX', status: 'secondary' },
  { tag: '25.12', cuda: '13.1.0', torch: '2.10.0', archList: null, status: 'confirmed' },
  { tag: '26.04', cuda: '13.2.1', torch: null, archList: null, status: 'secondary' },
];
export const NGC_SOURCE: SourceId = 'ngc_rn';
