/**
 * The doctor's command-line contracts through the built CLI, with host facts from the fake nvidia-smi replaying the
 * real H200 capture (or no nvidia-smi at all). The engine is not asked here (--no-engine, or no DOCKER_HOST engine);
 * the engine tier checks the real engine.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type FakeNvidiaSmi, installFakeNvidiaSmi } from '../support/fakeNvidiaSmi';
import { FIXTURES, runCli, tempDir } from './helpers';

// an engine address that cannot answer: `check`/`fingerprint` must say so, quickly, and still answer
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/mlc-test.sock' };

describe('doctor CLI: gpus, check, fingerprint, diff', () => {
  let fake: FakeNvidiaSmi;
  let noSmiEnv: NodeJS.ProcessEnv;
  before(() => {
    fake = installFakeNvidiaSmi('h200-driver-580', NO_ENGINE);
    noSmiEnv = { ...process.env, ...NO_ENGINE, PATH: path.dirname(process.execPath) };
  });
  after(() => fake.cleanup());

  it('gpus --json reads the real H200 capture exactly', () => {
    const r = runCli(['gpus', '--json'], { env: fake.env });
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout) as {
      driverVersion: string;
      cudaDriverVersion: string;
      gpus: Record<string, unknown>[];
    };
    assert.equal(o.driverVersion, '580.159.04');
    assert.equal(o.cudaDriverVersion, '13.0');
    assert.deepEqual(o.gpus[0], {
      index: 0,
      uuid: 'GPU-c422a366-d6ee-b87d-50f4-1882b1497d37',
      name: 'NVIDIA H200',
      computeCapability: '9.0',
      memoryTotalMiB: 143771,
      memoryUsedMiB: 0,
      utilizationGpu: 0,
      temperatureC: 40,
      powerDrawW: 126.1,
    });
  });

  it('gpus --json without nvidia-smi: no GPUs and a reason, exit 0', () => {
    const r = runCli(['gpus', '--json'], { env: noSmiEnv });
    assert.equal(r.status, 0);
    const o = JSON.parse(r.stdout) as { gpus: unknown[]; reason: string; driverVersion: null };
    assert.deepEqual(o.gpus, []);
    assert.equal(o.driverVersion, null);
    assert.match(o.reason, /No NVIDIA driver/);
  });

  it('check probes the host: the H200 runs the CUDA 13.0 image', () => {
    const r = runCli(['check', '--json', '--no-engine', '--image', 'nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04'], {
      env: fake.env,
    });
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout) as {
      verdict: string;
      host: {
        driverVersion: string;
        gpus: { name: string; computeCapability: string; datacenter: boolean }[];
        engine: null;
      };
      image: Record<string, unknown>;
      findings: unknown[];
    };
    assert.equal(o.verdict, 'ok');
    assert.equal(o.host.driverVersion, '580.159.04');
    assert.deepEqual(o.host.gpus, [{ name: 'NVIDIA H200', computeCapability: '9.0', datacenter: true }]);
    assert.equal(o.host.engine, null);
    assert.deepEqual(Object.keys(o.image), [
      'ref',
      'cudaVersion',
      'framework',
      'frameworkVersion',
      'frameworkCuda',
      'archList',
    ]);
    assert.equal(o.image.cudaVersion, '13.0.2');
  });

  it('check on the H200 with a 1.13 build: gpu-arch-unsupported, exit 1, a concrete fix', () => {
    const r = runCli(['check', '--json', '--no-engine', '--torch', '1.13.1+cu117'], { env: fake.env });
    assert.equal(r.status, 1);
    const o = JSON.parse(r.stdout) as { verdict: string; findings: { id: string; fix: string; source: string }[] };
    assert.equal(o.verdict, 'error');
    const f = o.findings.find((x) => x.id === 'gpu-arch-unsupported');
    assert.ok(f);
    assert.match(f.fix, /download\.pytorch\.org\/whl\/cu\d+/);
    assert.match(f.source, /^https:\/\//);
  });

  it('check for another machine: --driver/--gpu describe it, no probing', () => {
    const r = runCli(
      [
        'check',
        '--json',
        '--no-engine',
        '--driver',
        '535.104.05',
        '--gpu',
        'NVIDIA GeForce RTX 4090',
        '--torch',
        '2.7.1+cu128',
      ],
      { env: noSmiEnv },
    );
    const o = JSON.parse(r.stdout) as { verdict: string; findings: { id: string }[] };
    assert.equal(r.status, 0);
    assert.equal(o.verdict, 'warning');
    assert.deepEqual(
      o.findings.map((f) => f.id),
      ['driver-below-toolkit-minimum'],
    );
  });

  it('check without a driver: no-nvidia-driver, exit 1', () => {
    const r = runCli(['check', '--json', '--no-engine', '--image', 'nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04'], {
      env: noSmiEnv,
    });
    assert.equal(r.status, 1);
    const o = JSON.parse(r.stdout) as { findings: { id: string; message: string }[] };
    assert.equal(o.findings[0]?.id, 'no-nvidia-driver');
  });

  it('check with an engine that is not there: engine-unreachable, still an answer, fast', () => {
    const t0 = Date.now();
    const r = runCli(['check', '--json', '--image', 'nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04'], { env: fake.env });
    const o = JSON.parse(r.stdout) as {
      verdict: string;
      host: { engine: { reachable: boolean; reason: string } };
      findings: { id: string }[];
    };
    assert.equal(o.host.engine.reachable, false);
    assert.ok(o.findings.some((f) => f.id === 'engine-unreachable'));
    assert.equal(o.verdict, 'warning');
    assert.ok(Date.now() - t0 < 15_000);
  });

  it('check --project reads the project: its Dockerfile base image, pins and DataLoader workers', () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.cpSync(path.join(FIXTURES, 'projects', 'deepspeed-setup'), dir, { recursive: true });
      fs.appendFileSync(path.join(dir, 'ds', 'pretrain.py'), '\nloader = DataLoader(ds, num_workers=8)\n');
      const r = runCli(
        ['check', '--json', '--no-engine', '--project', dir, '--driver', '580.159.04', '--gpu', 'Tesla V100-SXM2-16GB'],
        { env: noSmiEnv },
      );
      const o = JSON.parse(r.stdout) as { image: { cudaVersion: string }; findings: { id: string }[] };
      assert.equal(o.image.cudaVersion, '12.1.1');
      assert.ok(
        o.findings.some((f) => f.id === 'shm-too-small'),
        JSON.stringify(o.findings),
      );
    } finally {
      cleanup();
    }
  });

  it('bad usage exits 2', () => {
    for (const args of [
      ['check', '--no-such-flag'],
      ['check', '--driver', 'abc'],
      ['check', '--torch', 'latest', '--no-engine', '--driver', '580.1'],
      ['check', '--compute-capability', '9'],
    ]) {
      assert.equal(runCli(args, { env: noSmiEnv }).status, 2, args.join(' '));
    }
  });

  it('fingerprint --json records the host; diff explains a driver update and a new GPU', () => {
    const { dir, cleanup } = tempDir();
    try {
      const r = runCli(['fingerprint', '--json'], { env: fake.env });
      assert.equal(r.status, 0, r.stderr);
      const a = JSON.parse(r.stdout) as {
        schema: string;
        host: { driverVersion: string; gpus: { name: string }[]; engine: { reachable: boolean } };
      };
      assert.equal(a.schema, 'ml-containers-fingerprint/1');
      assert.equal(a.host.driverVersion, '580.159.04');
      assert.equal(a.host.gpus[0]?.name, 'NVIDIA H200');
      assert.equal(a.host.engine.reachable, false);
      const b = JSON.parse(r.stdout) as {
        host: { driverVersion: string; cudaDriverVersion: string; gpus: { name: string; computeCapability: string }[] };
      };
      b.host.driverVersion = '570.172.08';
      b.host.cudaDriverVersion = '12.8';
      b.host.gpus[0]!.name = 'NVIDIA A100-SXM4-80GB';
      b.host.gpus[0]!.computeCapability = '8.0';
      fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify(a));
      fs.writeFileSync(path.join(dir, 'b.json'), JSON.stringify(b));
      const d = runCli(['diff', path.join(dir, 'a.json'), path.join(dir, 'b.json'), '--json']);
      assert.equal(d.status, 1, 'breaking differences exit 1');
      const diffs = (JSON.parse(d.stdout) as { differences: { what: string; impact: string }[] }).differences;
      assert.deepEqual(
        diffs.slice(0, 2).map((x) => [x.what, x.impact]),
        [
          ['host.driverVersion', 'breaking'],
          ['host.gpus.computeCapability', 'breaking'],
        ],
      );
      const same = runCli(['diff', path.join(dir, 'a.json'), path.join(dir, 'a.json')]);
      assert.equal(same.status, 0);
      assert.match(same.stdout, /No differences/);
      fs.writeFileSync(path.join(dir, 'bad.json'), '{"hello": 1}');
      const bad = runCli(['diff', path.join(dir, 'a.json'), path.join(dir, 'bad.json')]);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /not an ML Containers fingerprint/);
    } finally {
      cleanup();
    }
  });
});
