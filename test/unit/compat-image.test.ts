import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  factsFromDockerfile,
  factsFromImageConfig,
  factsFromImageRef,
  nvidiaCudaRequirement,
} from '../../src/core/compat/image';
import { devcontainerShm } from '../../src/core/compat/project';
import { parseByteSize } from '../../src/core/util/size';
import { archListRuns, requirementSatisfied } from '../../src/core/compat/rules';

// the real NVIDIA_REQUIRE_CUDA of nvidia/cuda:12.4.1 (ubuntu22.04 base image)
const REAL_12_4_1 =
  'cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 brand=nvidia,driver>=470,driver<471 brand=nvidiartx,driver>=470,driver<471 brand=geforce,driver>=470,driver<471 brand=geforcertx,driver>=470,driver<471 brand=quadro,driver>=470,driver<471 brand=quadrortx,driver>=470,driver<471 brand=titan,driver>=470,driver<471 brand=titanrtx,driver>=470,driver<471 brand=tesla,driver>=525,driver<526 brand=unknown,driver>=525,driver<526 brand=nvidia,driver>=525,driver<526 brand=nvidiartx,driver>=525,driver<526 brand=geforce,driver>=525,driver<526 brand=geforcertx,driver>=525,driver<526 brand=quadro,driver>=525,driver<526 brand=quadrortx,driver>=525,driver<526 brand=titan,driver>=525,driver<526 brand=titanrtx,driver>=525,driver<526 brand=tesla,driver>=535,driver<536 brand=unknown,driver>=535,driver<536 brand=nvidia,driver>=535,driver<536 brand=nvidiartx,driver>=535,driver<536 brand=geforce,driver>=535,driver<536 brand=geforcertx,driver>=535,driver<536 brand=quadro,driver>=535,driver<536 brand=quadrortx,driver>=535,driver<536 brand=titan,driver>=535,driver<536 brand=titanrtx,driver>=535,driver<536';

describe('image facts', () => {
  it('reads nvidia/cuda tags, with the NVIDIA_REQUIRE_CUDA the image sets', () => {
    const f = factsFromImageRef('nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04');
    assert.equal(f.cudaVersion, '12.4.1');
    assert.equal(f.cudaCompat, true);
    assert.equal(f.requireCuda, REAL_12_4_1, 'the synthesized requirement equals the real image string');
    assert.equal(
      factsFromImageRef('docker.io/nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04@sha256:abc').cudaVersion,
      '13.0.2',
    );
    assert.equal(nvidiaCudaRequirement('11.4.3'), 'cuda>=11.4');
  });

  it('reads pytorch/pytorch, NGC and TensorFlow tags', () => {
    const pt = factsFromImageRef('pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime');
    assert.deepEqual(
      [pt.framework, pt.frameworkVersion, pt.frameworkCuda, pt.archList, pt.requireCuda],
      ['pytorch', '2.5.1', '12.4', '5.0;6.0;7.0;7.5;8.0;8.6;9.0', null],
    );
    const ngc = factsFromImageRef('nvcr.io/nvidia/pytorch:24.05-py3');
    assert.deepEqual(
      [ngc.kind, ngc.cudaVersion, ngc.frameworkVersion, ngc.cudaCompat],
      ['ngc', '12.4.1', '2.4.0', true],
    );
    const tf = factsFromImageRef('tensorflow/tensorflow:2.15.0-gpu');
    assert.deepEqual([tf.framework, tf.frameworkVersion, tf.frameworkCuda], ['tensorflow', '2.15.0', '12.2']);
    assert.equal(factsFromImageRef('python:3.12-slim').cudaVersion, null);
  });

  it("reads a local image's environment and our labels; NVIDIA_DISABLE_REQUIRE turns the gate off", () => {
    const f = factsFromImageConfig(
      'my/train:1',
      [
        'PATH=/usr/bin',
        'CUDA_VERSION=12.8.1',
        'NVIDIA_REQUIRE_CUDA=cuda>=12.8',
        'NV_CUDA_COMPAT_PACKAGE=cuda-compat-12-8',
      ],
      {
        'org.ml-containers.framework': 'pytorch',
        'org.ml-containers.framework-version': '2.7.1',
        'org.ml-containers.cuda': '12.8',
      },
    );
    assert.deepEqual(
      [f.cudaVersion, f.requireCuda, f.cudaCompat, f.framework, f.frameworkVersion, f.frameworkCuda],
      ['12.8.1', 'cuda>=12.8', true, 'pytorch', '2.7.1', '12.8'],
    );
    assert.equal(
      factsFromImageConfig('x:1', ['CUDA_VERSION=11.8.0']).requireCuda,
      'cuda>=11.8',
      'legacy images get cuda>=major.minor',
    );
    assert.equal(factsFromImageConfig('x:1', ['CUDA_VERSION=11.8.0', 'NVIDIA_DISABLE_REQUIRE=1']).requireCuda, null);
  });

  it("names a scaffold's image by its base, not by the stage its train stage starts from", () => {
    const text = fs.readFileSync(
      path.join(
        __dirname,
        '..',
        '..',
        '..',
        'test',
        'fixtures',
        'scaffold',
        'pytorch-ddp',
        '.devcontainer',
        'Dockerfile',
      ),
      'utf8',
    );
    const facts = factsFromDockerfile(text, null);
    assert.equal(facts.ref, 'nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04');
    assert.equal(facts.cudaVersion, '12.1.1');
  });

  it('reads a Dockerfile: ARG defaults, stage chains, and a torch wheel installed over the base', () => {
    const f = factsFromDockerfile(
      [
        'ARG CUDA=12.1.1',
        'FROM nvidia/cuda:${CUDA}-cudnn8-devel-ubuntu22.04 AS base',
        'RUN pip install torch==2.7.1 --index-url https://download.pytorch.org/whl/cu128',
        'FROM base AS train',
        'COPY . /app',
      ].join('\n'),
      null,
    );
    assert.deepEqual(
      [f.cudaVersion, f.framework, f.frameworkVersion, f.frameworkCuda],
      ['12.1.1', 'pytorch', '2.7.1', '12.8'],
    );
    assert.equal(f.archList, '7.5;8.0;8.6;9.0;10.0;12.0');
    const overridden = factsFromDockerfile(
      'ARG BASE_IMAGE=nvidia/cuda:12.4.1-runtime-ubuntu22.04\nFROM ${BASE_IMAGE}\n',
      null,
      { BASE_IMAGE: 'nvidia/cuda:13.0.2-runtime-ubuntu24.04' },
    );
    assert.equal(overridden.cudaVersion, '13.0.2');
  });
});

describe('NVIDIA_REQUIRE_CUDA as the toolkit evaluates it', () => {
  it('passes when the driver CUDA is new enough, or a brand and branch term matches', () => {
    assert.equal(
      requirementSatisfied(REAL_12_4_1, { cuda: '12.4', driver: '550.54.15', brand: 'geforce', cc: '8.9' }).ok,
      true,
    );
    assert.equal(
      requirementSatisfied(REAL_12_4_1, { cuda: '12.2', driver: '535.104.05', brand: 'geforce', cc: '8.9' }).ok,
      true,
    );
    assert.equal(
      requirementSatisfied(REAL_12_4_1, { cuda: '12.3', driver: '545.23.08', brand: 'tesla', cc: '9.0' }).ok,
      false,
    );
    assert.equal(
      requirementSatisfied(REAL_12_4_1, { cuda: '12.3', driver: '545.23.08', brand: 'tesla', cc: '9.0' }).firstTerm,
      'cuda>=12.4',
    );
    assert.equal(
      requirementSatisfied('cuda>=12.8 arch>=7.5', { cuda: '12.4', driver: '550.1', brand: null, cc: '8.0' }).ok,
      true,
    );
    assert.equal(
      requirementSatisfied('cuda>=12.8', { cuda: null, driver: null, brand: null, cc: null }).ok,
      true,
      'unknown passes',
    );
  });
});

describe('GPU architecture and framework kernels', () => {
  it("follows PyTorch's own binary-compatibility rules", () => {
    assert.deepEqual(archListRuns('8.6', '8.9'), { runs: true, viaPtx: false });
    assert.deepEqual(archListRuns('8.6', '8.7'), { runs: false, viaPtx: false });
    assert.deepEqual(archListRuns('8.0;8.6', '9.0'), { runs: false, viaPtx: false });
    assert.deepEqual(archListRuns('8.0;9.0+PTX', '10.0'), { runs: true, viaPtx: true });
    assert.deepEqual(archListRuns('10.0', '10.1'), { runs: false, viaPtx: false });
    assert.deepEqual(archListRuns('10.0', '10.3'), { runs: true, viaPtx: false });
    assert.deepEqual(archListRuns('12.0', '12.1'), { runs: true, viaPtx: false });
  });
});

describe('dev container shared memory', () => {
  it('reads --shm-size and --ipc from runArgs, in one token or two', () => {
    assert.equal(parseByteSize('16g'), 16 * 1024 ** 3);
    assert.equal(parseByteSize('512m'), 512 * 1024 ** 2);
    assert.equal(parseByteSize('nonsense'), undefined);
    assert.equal(devcontainerShm('d.json', '{ // c\n "runArgs": ["--shm-size=8g"] }')?.shmBytes, 8 * 1024 ** 3);
    assert.equal(devcontainerShm('d.json', '{ "runArgs": ["--shm-size", "1g",] }')?.shmBytes, 1024 ** 3);
    assert.equal(devcontainerShm('d.json', '{ "runArgs": ["--ipc=host"] }')?.ipcHost, true);
    assert.deepEqual(devcontainerShm('d.json', '{\n  "image": "x",\n  "runArgs": []\n}'), {
      file: 'd.json',
      shmBytes: null,
      ipcHost: false,
      runArgsLine: 3,
    });
  });
});
