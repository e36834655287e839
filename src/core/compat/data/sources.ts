/**
 * Where each compatibility fact comes from. Copied from the reference compilation (cuda-facts/1, compiled
 * 2026-11-26); every table row cites one or more of these ids. Status words: confirmed (read from NVIDIA or the
 * project itself), secondary (a public copy or measurement), unconfirmed (kept out of the rules).
 */
export interface Source {
  ref: string;
  kind: string;
}

export const SOURCES = {
  cuda_rn_13_2: {
    ref: 'https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html (CUDA 13.2 edition, Tables 2 and 3; read from a verbatim public mirror of that page)',
    kind: 'primary (mirrored copy)',
  },
  cuda_rn_13_0: {
    ref: 'https://docs.nvidia.com/cuda/archive/13.0.0/cuda-toolkit-release-notes/index.html',
    kind: 'primary',
  },
  cuda_rn_13_4: {
    ref: 'https://docs.nvidia.com/cuda/archive/13.4.1/cuda-toolkit-release-notes/index.html',
    kind: 'primary (overview excerpt only)',
  },
  cuda_compat_minor: {
    ref: 'https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html',
    kind: 'primary',
  },
  cuda_compat_fwd: {
    ref: 'https://docs.nvidia.com/deploy/cuda-compatibility/forward-compatibility.html',
    kind: 'primary',
  },
  dc_drivers: {
    ref: 'https://docs.nvidia.com/datacenter/tesla/drivers/supported-drivers-and-cuda-toolkit-versions.html (+ /615/ and /620/ versioned copies)',
    kind: 'primary',
  },
  secondary_13x: { ref: 'Public repos quoting the CUDA 13.2.1/13.3 release notes ', kind: 'secondary' },
  cuda_gpus: { ref: 'https://developer.nvidia.com/cuda-gpus', kind: 'primary (excerpt truncated after the 8.6 row)' },
  cuda_legacy_gpus: {
    ref: 'https://developer.nvidia.com/cuda-legacy-gpus',
    kind: 'primary (excerpt truncated in the 5.0 row)',
  },
  cuda_gpus_old_copy: {
    ref: '2022 copies of developer.nvidia.com/cuda-gpus: https://cnblogs.com/nightnine/p/16591404.html , https://blog.csdn.net/HaoZiHuang/article/details/125834480',
    kind: 'secondary (verbatim copy of older NVIDIA page)',
  },
  cutlass_readme: {
    ref: "github.com/NVIDIA/cutlass README.md, 'Hardware' table (GPU / CUDA Compute Capability / Minimum CUDA Toolkit Required by CUTLASS-3)",
    kind: 'primary (NVIDIA repo)',
  },
  mig_guide: {
    ref: 'https://docs.nvidia.com/datacenter/tesla/mig-user-guide/610/supported-gpus.html',
    kind: 'primary',
  },
  cmake_arch: {
    ref: 'github.com/Kitware/CMake Modules/Internal/CMakeCUDAArchitecturesAll.cmake (commits 031593de..., 2dac61ce...)',
    kind: 'secondary (build-system encoding of nvcc arch support)',
  },
  llvm_kepler: {
    ref: "https://github.com/llvm/llvm-project/commit/0f49116e261cf5a156221b006acb677e3565fd1a ('sm_30 and sm_32 were removed in cuda-11.0 sm_35 and sm_37 were removed in cuda-12.0')",
    kind: 'secondary',
  },
  cufft_dep: {
    ref: 'https://docs.nvidia.com/cuda/archive/12.6.3/cufft/deprecated-functionality.html',
    kind: 'primary',
  },
  curanddx_rn: {
    ref: "https://docs.nvidia.com/cuda/curanddx/0.2.4/release_notes.html ('Thor SM renaming from sm_101 to sm_110 starting from CUDA 13.0')",
    kind: 'primary',
  },
  pt_release_md: {
    ref: "github.com/pytorch/pytorch RELEASE.md 'Release Compatibility Matrix' + 'PyTorch CUDA Support Matrix' (rows <=2.3 read from pytorch/pytorch commit aa6104e2; rows 2.4-2.14 read from a verbatim-table mirror; corroborated by PRs #164471, #175253, #182849)",
    kind: 'primary (partly mirrored)',
  },
  pt_builder: {
    ref: 'github.com/pytorch/builder manywheel/build_cuda.sh on branches release/1.13, release/2.0 ... release/2.5 (git)',
    kind: 'primary',
  },
  pt_build_cuda: {
    ref: 'github.com/pytorch/pytorch .ci/manywheel/build_cuda.sh (stored version at commit 799d09f2, 2.9/2.10 era)',
    kind: 'primary',
  },
  pt_pr_157558: {
    ref: 'https://github.com/pytorch/pytorch/pull/157558 (add sm_70 to 12.8/12.9 for 2.8)',
    kind: 'primary',
  },
  pt_pr_157516: {
    ref: 'https://github.com/pytorch/pytorch/pull/157516 (remove +PTX from CUDA 12.8 builds, cherry-picked to release/2.8)',
    kind: 'primary',
  },
  pt_pr_147607: {
    ref: 'https://github.com/pytorch/pytorch/pull/147607 (drop sm_70 from cu128, Mar 2025)',
    kind: 'primary',
  },
  pt_pr_145792: {
    ref: "https://github.com/pytorch/pytorch/pull/145792 (cu128 added with 12.0+PTX; 'Will keep the 12.0+PTX for nightlies. Will remove it for 2.7.0 stable release.')",
    kind: 'primary',
  },
  pt_issue_157517: { ref: 'https://github.com/pytorch/pytorch/issues/157517', kind: 'primary' },
  pt_issue_160269: {
    ref: 'https://github.com/pytorch/pytorch/issues/160269 (Volta still supported in 2.8 cu128/cu129)',
    kind: 'primary',
  },
  pt_issue_172352: {
    ref: 'https://github.com/pytorch/pytorch/issues/172352 + PR #172598 (Volta dropped from cu128 in 2.11)',
    kind: 'primary',
  },
  pt_issue_182250: {
    ref: 'https://github.com/pytorch/pytorch/issues/182250 (measured get_arch_list for 2.11.0+cu126, 2.11.0+cu128, 2.10.0+cu128)',
    kind: 'primary',
  },
  pt_pr_188914: {
    ref: 'https://github.com/pytorch/pytorch/pull/188914 (2.13.0 cu130 release wheels shipped 12.0+PTX; release/RC builds strip +PTX from 2.13.x on)',
    kind: 'primary',
  },
  pt_issue_190385: {
    ref: 'https://github.com/pytorch/pytorch/issues/190385 (RFC: drop CUDA 12.6 in 2.15; open)',
    kind: 'primary (proposal)',
  },
  pt_cuda_init: {
    ref: 'https://github.com/pytorch/pytorch/blob/main/torch/cuda/__init__.py (_check_cubins, _check_capability, DEVICE_REQUIREMENT, PYTORCH_RELEASES_CODE_CC); read from a recent copy',
    kind: 'primary code (copy)',
  },
  pt_pr_158700: {
    ref: 'https://github.com/pytorch/pytorch/pull/158700 (Maxwell/Pascal warning text for cu128+)',
    kind: 'primary',
  },
  moi90: {
    ref: 'github.com/moi90/pytorch_compute_capabilities table.md (cuobjdump of pytorch-channel CONDA packages, not pip wheels)',
    kind: 'secondary',
  },
  tf_source_md: {
    ref: 'github.com/tensorflow/docs site/en/install/source.md (HEAD 7c365021, 2026-03-11) = https://www.tensorflow.org/install/source#gpu',
    kind: 'primary',
  },
  tf_pip_md: {
    ref: 'github.com/tensorflow/docs site/en/install/pip.md = https://www.tensorflow.org/install/pip',
    kind: 'primary',
  },
  jax_install: {
    ref: 'github.com/jax-ml/jax docs/installation.md (HEAD cec06d11, 2026-08-08) = https://docs.jax.dev/en/latest/installation.html',
    kind: 'primary',
  },
  jax_changelog: { ref: 'github.com/jax-ml/jax CHANGELOG.md and setup.py at tags', kind: 'primary' },
  nv_cuda_images: {
    ref: "gitlab.com/nvidia/container-images/cuda (read via GitHub mirror pranavmishra90/nvidia-container-images-cuda, HEAD 60a1c892 2025-08-18; includes upstream commit 53a6a109 'CUDA 12.4.1 Update'): dist/<ver>/<os>/{base,runtime,devel}/Dockerfile, doc/README.md, doc/supported-tags.md, doc/support-policy.md",
    kind: 'primary (mirror)',
  },
  pt_docker: {
    ref: 'github.com/pytorch/pytorch Dockerfile, docker.Makefile, .github/workflows/docker-release.yml, .github/scripts/generate_docker_release_matrix.py',
    kind: 'primary',
  },
  ngc_rn: {
    ref: 'https://docs.nvidia.com/deeplearning/frameworks/pytorch-release-notes/ (rel_19-05, rel_20-02, rel_20-06, rel-25-12) and same-train 24.05 notes for MXNet/PaddlePaddle',
    kind: 'primary',
  },
  ctk_repo: {
    ref: 'github.com/NVIDIA/nvidia-container-toolkit (HEAD d34b3046, 2026-08-21): internal/config/image/{cuda_image.go,envvars.go}, cmd/nvidia-container-runtime-hook/main.go, cmd/nvidia-container-runtime/README.md, internal/modifier/csv.go, api/config/v1/config.go, CHANGELOG.md',
    kind: 'primary',
  },
  libnvc_repo: {
    ref: 'github.com/NVIDIA/libnvidia-container src/cli/configure.c (e27a4a75), src/cli/dsl.c (5823754b)',
    kind: 'primary',
  },
  cuda_errors: {
    ref: 'CUDA runtime cudaError enum descriptions (as reproduced from NVIDIA headers in docs.rs crseo-sys bindings)',
    kind: 'secondary (verbatim header text)',
  },
} as const satisfies Record<string, Source>;

export type SourceId = keyof typeof SOURCES;

/** A URL for a source id when its reference starts with one (for links in reports), else the reference text. */
export function sourceLink(id: SourceId): string {
  const ref: string = SOURCES[id].ref;
  const url = /https?:\/\/[^\s),]+/.exec(ref);
  if (url) return url[0];
  const repo = /\b((?:github|gitlab)\.com\/[\w.-]+\/[\w.-]+)/.exec(ref);
  return repo ? `https://${repo[1]}` : ref;
}
