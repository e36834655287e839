/**
 * The compatibility rules against a table of cases derived from the reference data (CUDA release notes, NVIDIA's
 * compatibility guides, nvidia/cuda image requirements, PyTorch's arch lists and device rules). Each case names the
 * finding ids that must appear (and the ones that must not) and the verdict.
 */
import * as assert from 'node:assert/strict';
import { applyTorchPin, emptyImageFacts, factsFromImageRef } from '../../src/core/compat/image';
import { checkCompatibility, cudaForDriver, minDriverFor } from '../../src/core/compat/rules';
import type { EngineFacts, ImageFacts, ProjectFacts, Verdict } from '../../src/core/compat/types';

interface Case {
  name: string;
  driver?: string;
  gpus?: string[];
  cc?: string;
  image?: string;
  torch?: string;
  /** Overrides the framework build's arch list (as a local image's label would). */
  archList?: string;
  engine?: EngineFacts;
  project?: ProjectFacts;
  expect: string[];
  absent?: string[];
  verdict: Verdict;
}

const NO_RUNTIME: EngineFacts = {
  reachable: true,
  engineVersion: '20.10.24',
  apiVersion: '1.41',
  nvidiaRuntime: false,
  cdiGpuDevices: [],
  runtimes: ['io.containerd.runc.v2', 'runc'],
};
const NVIDIA_RUNTIME: EngineFacts = { ...NO_RUNTIME, nvidiaRuntime: true, runtimes: ['nvidia', 'runc'] };
const CDI_ONLY: EngineFacts = { ...NO_RUNTIME, cdiGpuDevices: ['nvidia.com/gpu=all', 'nvidia.com/gpu=0'] };
const DATALOADER = (devcontainer: ProjectFacts['devcontainer']): ProjectFacts => ({
  devcontainer,
  usesDataLoaderWorkers: true,
  needsGpu: 'optional',
});

const CASES: Case[] = [
  // --- the real H200 host (driver 580.159.04, CUDA 13.0)
  {
    name: 'H200 + nvidia/cuda 13.0.2: the capture host runs it',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    image: 'nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'H200 + nvidia/cuda 13.1.0 on R580: forward compatibility on a data-center GPU? R580 is not an exception branch of 13.x tags, same major -> minor-version compat',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    image: 'nvidia/cuda:13.1.0-runtime-ubuntu24.04',
    expect: ['driver-below-toolkit-minimum', 'require-cuda-unsatisfied'],
    verdict: 'error',
  },
  {
    name: 'H200 + PyTorch 2.7.1 cu128 image: backward compatible driver, sm_90 kernels',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    image: 'pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'H200 + torch 2.3.1+cu121: old torch still has sm_90',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    torch: '2.3.1+cu121',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'H200 + torch 1.13 cu117: no sm_90 kernels, no PTX',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    torch: '1.13.1+cu117',
    expect: ['gpu-arch-unsupported'],
    verdict: 'error',
  },
  // --- driver vs toolkit
  {
    name: 'CUDA 12.8 image on driver 550 (CUDA 12.4), GeForce: minor-version compat, toolkit gate refuses (no R550 exception for geforce in 12.8)',
    driver: '550.54.14',
    gpus: ['NVIDIA GeForce RTX 4090'],
    image: 'nvidia/cuda:12.8.0-runtime-ubuntu22.04',
    expect: ['driver-below-toolkit-minimum', 'require-cuda-unsatisfied'],
    verdict: 'error',
  },
  {
    name: 'CUDA 12.8 image on driver 550 (CUDA 12.4), data center: R550 is an exception branch -> starts, minor compat warning',
    driver: '550.54.14',
    gpus: ['NVIDIA A100-SXM4-80GB'],
    image: 'nvidia/cuda:12.8.0-runtime-ubuntu22.04',
    expect: ['driver-below-toolkit-minimum'],
    absent: ['require-cuda-unsatisfied', 'driver-too-old'],
    verdict: 'warning',
  },
  {
    name: 'PyTorch cu128 wheel (no NVIDIA_REQUIRE_CUDA) on driver 535: minor-version compat only',
    driver: '535.104.05',
    gpus: ['NVIDIA GeForce RTX 4090'],
    torch: '2.7.1+cu128',
    expect: ['driver-below-toolkit-minimum'],
    absent: ['require-cuda-unsatisfied'],
    verdict: 'warning',
  },
  {
    name: 'CUDA 12.4.1 image on driver 545 GeForce: cuda>=12.4 unmet, 545 is not an exception branch',
    driver: '545.23.08',
    gpus: ['NVIDIA GeForce RTX 3090'],
    image: 'nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04',
    expect: ['driver-below-toolkit-minimum', 'require-cuda-unsatisfied'],
    verdict: 'error',
  },
  {
    name: 'CUDA 12.4.1 image on driver 535 GeForce: R535 exception term lets it start; minor compat',
    driver: '535.183.01',
    gpus: ['NVIDIA GeForce RTX 3090'],
    image: 'nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04',
    expect: ['driver-below-toolkit-minimum'],
    absent: ['require-cuda-unsatisfied'],
    verdict: 'warning',
  },
  {
    name: 'CUDA 12.4.1 image on driver 550.54.15: exactly the 12.4 Update 1 minimum',
    driver: '550.54.15',
    gpus: ['NVIDIA L4'],
    image: 'nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'CUDA 12.4.1 image on driver 550.54.14: GA minimum but below Update 1 -> minor compat',
    driver: '550.54.14',
    gpus: ['NVIDIA L4'],
    image: 'nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04',
    expect: ['driver-below-toolkit-minimum'],
    absent: ['require-cuda-unsatisfied'],
    verdict: 'warning',
  },
  {
    name: 'CUDA 13.0 image on driver 570 data center: forward compat via R570 exception + cuda-compat',
    driver: '570.172.08',
    gpus: ['NVIDIA H100 80GB HBM3'],
    image: 'nvidia/cuda:13.0.0-base-ubuntu24.04',
    expect: ['forward-compatibility'],
    absent: ['driver-too-old'],
    verdict: 'ok',
  },
  {
    name: 'CUDA 13.0 image on driver 570 GeForce: forward compat is data-center only',
    driver: '570.172.08',
    gpus: ['NVIDIA GeForce RTX 4090'],
    image: 'nvidia/cuda:13.0.0-base-ubuntu24.04',
    expect: ['driver-too-old'],
    absent: ['forward-compatibility'],
    verdict: 'error',
  },
  {
    name: 'CUDA 13.0 image on driver 560 data center: R560 is not an exception branch of 13.0',
    driver: '560.35.05',
    gpus: ['NVIDIA H100 80GB HBM3'],
    image: 'nvidia/cuda:13.0.0-base-ubuntu24.04',
    expect: ['driver-too-old'],
    verdict: 'error',
  },
  {
    name: 'CUDA 12.4.1 image on driver 470 data center: R470 forward compat',
    driver: '470.256.02',
    gpus: ['Tesla T4'],
    image: 'nvidia/cuda:12.4.1-runtime-ubuntu22.04',
    expect: ['forward-compatibility'],
    verdict: 'ok',
  },
  {
    name: 'CUDA 12.4.1 image on driver 470 GeForce: starts (R470 listed for geforce up to 12.4) but fails at run time',
    driver: '470.256.02',
    gpus: ['NVIDIA GeForce RTX 3080'],
    image: 'nvidia/cuda:12.4.1-runtime-ubuntu22.04',
    expect: ['driver-too-old'],
    verdict: 'error',
  },
  {
    name: 'CUDA 12.1 pytorch/pytorch image on driver 470 data center: no cuda-compat in pytorch images',
    driver: '470.256.02',
    gpus: ['NVIDIA A100-SXM4-40GB'],
    image: 'pytorch/pytorch:2.1.2-cuda12.1-cudnn8-runtime',
    expect: ['driver-too-old'],
    verdict: 'error',
  },
  {
    name: 'CUDA 11.8 image on driver 450.80.02: 11.x minor-version floor',
    driver: '450.80.02',
    gpus: ['Tesla V100-SXM2-16GB'],
    image: 'nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04',
    expect: ['driver-below-toolkit-minimum'],
    verdict: 'error',
  },
  {
    name: 'CUDA 11.8 image on driver 450.51: below the 11.x floor, different branch than R470 exception -> too old',
    driver: '450.51.06',
    gpus: ['NVIDIA GeForce RTX 3080'],
    image: 'nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04',
    expect: ['driver-too-old'],
    verdict: 'error',
  },
  {
    name: 'CUDA 12.0 wheel on driver 525.60.13: the 12.x floor, exactly the 12.0 GA minimum',
    driver: '525.60.13',
    gpus: ['NVIDIA A10'],
    torch: '2.1.2+cu121',
    expect: ['driver-below-toolkit-minimum'],
    verdict: 'warning',
  },
  {
    name: 'torch cu121 on driver 520 (CUDA 11.8): different major, no compat -> too old',
    driver: '520.61.05',
    gpus: ['NVIDIA GeForce RTX 3090'],
    torch: '2.1.2+cu121',
    expect: ['driver-too-old'],
    verdict: 'error',
  },
  {
    name: 'torch cu118 on driver 520.61.05: exact 11.8 minimum',
    driver: '520.61.05',
    gpus: ['NVIDIA GeForce RTX 3090'],
    torch: '2.1.2+cu118',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'new driver runs old CUDA (backward compatibility): 580 with CUDA 11.8',
    driver: '580.159.04',
    gpus: ['NVIDIA A100-SXM4-80GB'],
    image: 'nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04',
    expect: [],
    verdict: 'ok',
  },
  // --- architecture: binary compatibility and PTX
  {
    name: 'RTX 4090 (8.9) with torch cu121 (no 8.9 in list): sm_86 kernels run on 8.9 (same major, newer minor)',
    driver: '550.54.15',
    gpus: ['NVIDIA GeForce RTX 4090'],
    torch: '2.3.1+cu121',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'RTX 3090 (8.6) with torch 1.13 cu116: sm_86 in list',
    driver: '525.60.13',
    gpus: ['NVIDIA GeForce RTX 3090'],
    torch: '1.13.1+cu116',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'Jetson Orin (8.7): sm_80/86 kernels do not run on 8.7 (except rule)',
    driver: '540.4.0',
    cc: '8.7',
    torch: '2.3.1+cu121',
    expect: ['gpu-arch-unsupported'],
    verdict: 'error',
  },
  {
    name: 'H100 (9.0) with torch 1.13 cu117: sm_86 does not run on 9.0 (new major), no PTX',
    driver: '535.104.05',
    gpus: ['NVIDIA H100 80GB HBM3'],
    torch: '1.13.1+cu117',
    expect: ['gpu-arch-unsupported'],
    verdict: 'error',
  },
  {
    name: 'Blackwell RTX 5090 (12.0) with old torch 2.5.1 cu124: the classic sm_120 failure',
    driver: '575.57.08',
    gpus: ['NVIDIA GeForce RTX 5090'],
    torch: '2.5.1+cu124',
    expect: ['gpu-arch-unsupported'],
    verdict: 'error',
  },
  {
    name: 'Blackwell RTX 5090 with torch 2.7.1 cu128: has sm_120',
    driver: '575.57.08',
    gpus: ['NVIDIA GeForce RTX 5090'],
    torch: '2.7.1+cu128',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'Blackwell RTX 5090 with pytorch/pytorch:2.5.1-cuda12.4 image',
    driver: '575.57.08',
    gpus: ['NVIDIA GeForce RTX 5090'],
    image: 'pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime',
    expect: ['gpu-arch-unsupported'],
    verdict: 'error',
  },
  {
    name: 'B200 (10.0) with torch 2.8 cu128: sm_100 in list',
    driver: '575.57.08',
    gpus: ['NVIDIA B200'],
    torch: '2.8.0+cu128',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'B300 (10.3) with torch 2.8 cu128: sm_100 does not cover 10.3 under DEVICE_REQUIREMENT? it does (>=10.0,<11 except 10.1)',
    driver: '575.57.08',
    gpus: ['NVIDIA B300'],
    torch: '2.8.0+cu128',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'GTX 1080 Ti (6.1) with torch 2.7 cu128: Pascal dropped from cu128 wheels',
    driver: '575.57.08',
    gpus: ['NVIDIA GeForce GTX 1080 Ti'],
    torch: '2.7.1+cu128',
    expect: ['gpu-arch-unsupported'],
    verdict: 'error',
  },
  {
    name: 'GTX 1080 Ti (6.1) with torch 2.7 cu126: sm_60 runs on 6.1',
    driver: '575.57.08',
    gpus: ['NVIDIA GeForce GTX 1080 Ti'],
    torch: '2.7.1+cu126',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'V100 (7.0) with torch 2.11 cu128: Volta dropped again in 2.11 cu128',
    driver: '575.57.08',
    gpus: ['Tesla V100-SXM2-32GB'],
    torch: '2.11.0+cu128',
    expect: ['gpu-arch-unsupported'],
    verdict: 'error',
  },
  {
    name: 'V100 (7.0) with torch 2.8 cu128: Volta re-added',
    driver: '575.57.08',
    gpus: ['Tesla V100-SXM2-32GB'],
    torch: '2.8.0+cu128',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'K80 (3.7) with torch 2.3 cu118 on R470: sm_37 in the cu118 list; 11.8 on 470 is minor-version compat',
    driver: '470.256.02',
    gpus: ['Tesla K80'],
    torch: '2.3.1+cu118',
    expect: ['driver-below-toolkit-minimum'],
    absent: ['gpu-arch-unsupported'],
    verdict: 'warning',
  },
  {
    name: 'NGC 25.04 (12.0+PTX) on an 12.1 GB10: PTX JIT',
    driver: '580.95.05',
    cc: '12.1',
    image: 'nvcr.io/nvidia/pytorch:25.04-py3',
    expect: [],
    absent: ['gpu-arch-unsupported'],
    verdict: 'ok',
  },
  {
    name: 'PyTorch 2.4.1 cu124 image on compute capability 12.0: no sm_120 and no PTX',
    driver: '580.95.05',
    cc: '12.0',
    image: 'pytorch/pytorch:2.4.1-cuda12.4-cudnn9-runtime',
    expect: ['gpu-arch-unsupported'],
    verdict: 'error',
  },
  {
    name: 'a build with 9.0+PTX on a B200 (10.0): runs by JIT-compiling PTX',
    driver: '580.95.05',
    gpus: ['NVIDIA B200'],
    torch: '2.7.1+cu128',
    archList: '8.0;9.0+PTX',
    expect: ['gpu-arch-ptx-jit'],
    verdict: 'warning',
  },
  {
    name: 'a build with 9.0+PTX on an A100 (8.0): PTX never runs on an older architecture',
    driver: '580.95.05',
    gpus: ['NVIDIA A100-SXM4-80GB'],
    torch: '2.7.1+cu128',
    archList: '9.0+PTX',
    expect: ['gpu-arch-unsupported'],
    verdict: 'error',
  },
  // --- architectures removed by CUDA releases
  {
    name: 'Volta V100 with CUDA 13.0 image: Volta removed in 13.0',
    driver: '580.159.04',
    gpus: ['Tesla V100-SXM2-16GB'],
    image: 'nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04',
    expect: ['gpu-arch-removed'],
    verdict: 'error',
  },
  {
    name: 'Pascal P100 with torch cu130: Pascal removed in 13.0',
    driver: '580.159.04',
    gpus: ['Tesla P100-PCIE-16GB'],
    torch: '2.9.1+cu130',
    expect: ['gpu-arch-removed'],
    verdict: 'error',
  },
  {
    name: 'Maxwell GTX 980 with CUDA 12.9: still supported',
    driver: '575.57.08',
    gpus: ['NVIDIA GeForce GTX 980'],
    image: 'nvidia/cuda:12.9.1-cudnn-runtime-ubuntu22.04',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'Kepler K80 with CUDA 12.1 image: Kepler sm_37 removed in 12.0',
    driver: '530.30.02',
    gpus: ['Tesla K80'],
    image: 'nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04',
    expect: ['gpu-arch-removed'],
    verdict: 'error',
  },
  {
    name: 'Kepler K80 with CUDA 11.8 image: last CUDA for sm_37',
    driver: '520.61.05',
    gpus: ['Tesla K80'],
    image: 'nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04',
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'RTX 5090 with CUDA 12.4 image (no framework): GPU newer than the toolkit',
    driver: '575.57.08',
    gpus: ['NVIDIA GeForce RTX 5090'],
    image: 'nvidia/cuda:12.4.1-runtime-ubuntu22.04',
    expect: ['gpu-newer-than-cuda'],
    verdict: 'warning',
  },
  // --- engine
  {
    name: 'engine without NVIDIA runtime or CDI on a GPU host',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    image: 'nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04',
    engine: NO_RUNTIME,
    expect: ['no-container-gpu-runtime'],
    verdict: 'error',
  },
  {
    name: 'engine with the NVIDIA runtime',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    image: 'nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04',
    engine: NVIDIA_RUNTIME,
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'engine with CDI specs only',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    image: 'nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04',
    engine: CDI_ONLY,
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'engine unreachable',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    image: 'nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04',
    engine: { reachable: false, reason: 'The Docker engine is not running.', nvidiaRuntime: false, cdiGpuDevices: [] },
    expect: ['engine-unreachable'],
    verdict: 'warning',
  },
  // --- driver presence and shm
  {
    name: 'no driver at all',
    image: 'nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04',
    expect: ['no-nvidia-driver'],
    verdict: 'error',
  },
  {
    name: 'no driver, project runs on CPU too',
    image: 'pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime',
    project: { devcontainer: null, usesDataLoaderWorkers: false, needsGpu: 'optional' },
    expect: ['no-nvidia-driver'],
    verdict: 'warning',
  },
  {
    name: 'DataLoader workers with Docker default shm',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    torch: '2.7.1+cu128',
    project: DATALOADER({ file: '.devcontainer/devcontainer.json', shmBytes: null, ipcHost: false, runArgsLine: null }),
    expect: ['shm-too-small'],
    verdict: 'warning',
  },
  {
    name: 'DataLoader workers with --shm-size=16g',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    torch: '2.7.1+cu128',
    project: DATALOADER({
      file: '.devcontainer/devcontainer.json',
      shmBytes: 16 * 1024 ** 3,
      ipcHost: false,
      runArgsLine: 3,
    }),
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'DataLoader workers with --ipc=host',
    driver: '580.159.04',
    gpus: ['NVIDIA H200'],
    torch: '2.7.1+cu128',
    project: DATALOADER({ file: '.devcontainer/devcontainer.json', shmBytes: null, ipcHost: true, runArgsLine: 3 }),
    expect: [],
    verdict: 'ok',
  },
  {
    name: 'several GPUs: one unsupported architecture is enough for an error',
    driver: '575.57.08',
    gpus: ['NVIDIA GeForce RTX 4090', 'NVIDIA GeForce RTX 5090'],
    torch: '2.5.1+cu124',
    expect: ['gpu-arch-unsupported'],
    verdict: 'error',
  },
];

function imageFor(c: Case): ImageFacts {
  const f = c.image ? factsFromImageRef(c.image) : emptyImageFacts(null);
  if (c.torch) applyTorchPin(f, c.torch, null, `--torch ${c.torch}`);
  if (c.archList) f.archList = c.archList;
  return f;
}

describe('compatibility rules: the case table', () => {
  it('has at least 40 cases', () => assert.ok(CASES.length >= 40, `${CASES.length} cases`));

  for (const c of CASES) {
    it(c.name, () => {
      const result = checkCompatibility({
        host: {
          driverVersion: c.driver ?? null,
          cudaDriverVersion: null,
          gpus: c.gpus
            ? c.gpus.map((name) => ({ name, computeCapability: null, datacenter: null }))
            : c.cc
              ? [{ name: `GPU (compute capability ${c.cc})`, computeCapability: c.cc, datacenter: null }]
              : [],
        },
        image: imageFor(c),
        engine: c.engine ?? null,
        project: c.project ?? null,
      });
      const ids = result.findings.map((f) => f.id);
      for (const id of c.expect) {
        assert.ok(
          ids.includes(id),
          `expected ${id}, got ${JSON.stringify(ids)}: ${JSON.stringify(result.findings, null, 1)}`,
        );
      }
      for (const id of c.absent ?? []) {
        assert.ok(!ids.includes(id), `did not expect ${id}: ${JSON.stringify(result.findings, null, 1)}`);
      }
      if (c.expect.length === 0) {
        assert.deepEqual(
          ids.filter((i) => i !== 'forward-compatibility'),
          [],
          JSON.stringify(result.findings, null, 1),
        );
      }
      assert.equal(result.verdict, c.verdict, JSON.stringify(result.findings, null, 1));
      for (const f of result.findings) {
        assert.ok(f.message.length > 20 && f.fix.length > 10 && f.source.length > 5, `finding ${f.id} lacks text`);
      }
    });
  }
});

describe('compatibility data', () => {
  it('maps drivers to the newest CUDA they support natively', () => {
    assert.equal(cudaForDriver('580.159.04'), '13.0');
    assert.equal(cudaForDriver('570.26'), '12.8');
    assert.equal(cudaForDriver('535.104.05'), '12.2');
    assert.equal(cudaForDriver('525.60.13'), '12.0');
    assert.equal(cudaForDriver('400.1'), null);
  });
  it('knows the minimum driver of GA releases and updates', () => {
    assert.equal(minDriverFor('12.8')?.driver, '570.26');
    assert.equal(minDriverFor('12.8.1')?.driver, '570.124.06');
    assert.equal(minDriverFor('13.0.2')?.driver, '580.95.05');
    assert.equal(minDriverFor('9.2'), null);
  });
});
