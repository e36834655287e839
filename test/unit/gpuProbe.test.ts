/**
 * The host probe end to end: a real nvidia-smi process (test/support/fake-nvidia-smi.js replaying a capture folder)
 * on a temporary PATH, no nvidia-smi at all, a failing driver, the real error outputs, a hung driver, cancellation;
 * and `ml-containers gpus` through its command object.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gpusCommand } from '../../src/cli/commands/gpus';
import { type HostGpuState, locateNvidiaSmi, NO_NVIDIA_SMI_REASON, probeHost } from '../../src/core/gpu';
import { CancellationError } from '../../src/core/util/errors';
import { type FakeNvidiaSmi, installFakeNvidiaSmi } from '../support/fakeNvidiaSmi';
import { tempDir } from './helpers';

const H200 = 'h200-driver-580';
const UUID = 'GPU-c422a366-d6ee-b87d-50f4-1882b1497d37';
const DRIVER_FAILURE =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";

describe('gpu: probeHost', () => {
  const fakes: FakeNvidiaSmi[] = [];
  const fake = (host: string, env: NodeJS.ProcessEnv = {}, name?: string): FakeNvidiaSmi => {
    const f = installFakeNvidiaSmi(host, env, name);
    fakes.push(f);
    return f;
  };
  const probe = (f: FakeNvidiaSmi, timeoutMs = 10_000): Promise<HostGpuState> =>
    probeHost({ env: f.env, fallbacks: [], timeoutMs });
  afterEach(() => fakes.splice(0).forEach((f) => f.cleanup()));

  it('reads the real H200 capture exactly through nvidia-smi on the PATH', async () => {
    const f = fake(H200);
    assert.deepEqual(await probe(f), {
      driverVersion: '580.159.04',
      cudaDriverVersion: '13.0',
      nvidiaSmiPath: f.nvidiaSmi,
      gpus: [
        {
          index: 0,
          uuid: UUID,
          name: 'NVIDIA H200',
          computeCapability: '9.0',
          memoryTotalMiB: 143771,
          memoryUsedMiB: 0,
          utilizationGpu: 0,
          temperatureC: 40,
          powerDrawW: 126.1,
          powerLimitW: 700,
          pciBusId: '00000000:00:06.0',
          migMode: 'disabled',
          eccMode: 'enabled',
        },
      ],
    });
  });

  it('reads two GPUs, and MIG with values nvidia-smi cannot read as null (derived captures)', async () => {
    const two = await probe(fake('h200x2-derived'));
    assert.equal(two.reason, undefined);
    assert.deepEqual(
      two.gpus.map((g) => [g.index, g.uuid, g.pciBusId, g.memoryUsedMiB, g.utilizationGpu, g.powerDrawW]),
      [
        [0, UUID, '00000000:00:06.0', 0, 0, 126.1],
        [1, 'GPU-c422a366-d6ee-b87d-50f4-1882b1497d38', '00000000:00:07.0', 1139, 100, 688.95],
      ],
    );
    const mig = await probe(fake('h200-mig-na-derived'));
    assert.equal(mig.cudaDriverVersion, '13.0');
    const [g] = mig.gpus;
    assert.deepEqual(
      [g?.migMode, g?.utilizationGpu, g?.temperatureC, g?.powerDrawW, g?.computeCapability, g?.memoryTotalMiB],
      ['enabled', null, null, null, '9.0', 143771],
    );
  });

  it('with no nvidia-smi on the PATH (nor at the WSL path): no GPUs and a reason, no error', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const state = await probeHost({ env: { PATH: dir }, fallbacks: [path.join(dir, 'wsl', 'nvidia-smi')] });
      assert.deepEqual(state, { driverVersion: null, cudaDriverVersion: null, gpus: [], reason: NO_NVIDIA_SMI_REASON });
      assert.match(state.reason ?? '', /^No NVIDIA driver: nvidia-smi was not found\. Install the NVIDIA driver/);
    } finally {
      cleanup();
    }
  });

  it('finds nvidia-smi at the WSL2 path when it is not on the PATH', async () => {
    const f = fake(H200, {}, 'usr/lib/wsl/lib/nvidia-smi');
    assert.equal(await locateNvidiaSmi(f.env, []), null);
    assert.equal(await locateNvidiaSmi(f.env, [f.nvidiaSmi]), f.nvidiaSmi);
    const state = await probeHost({ env: f.env, fallbacks: [f.nvidiaSmi] });
    assert.equal(state.gpus[0]?.name, 'NVIDIA H200');
    assert.equal(state.nvidiaSmiPath, f.nvidiaSmi);
  });

  it('skips PATH entries named nvidia-smi that are not executable files', async () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.mkdirSync(path.join(dir, 'a', 'nvidia-smi'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'b'));
      fs.writeFileSync(path.join(dir, 'b', 'nvidia-smi'), '#!/bin/sh\n', { mode: 0o644 });
      const f = fake(H200);
      const env = { PATH: [path.join(dir, 'a'), path.join(dir, 'b'), '', f.binDir].join(path.delimiter) };
      assert.equal(await locateNvidiaSmi(env, []), f.nvidiaSmi);
    } finally {
      cleanup();
    }
  });

  for (const stream of ['stdout', 'stderr']) {
    it(`a driver that fails (message on ${stream}): no GPUs and a reason quoting nvidia-smi, no error`, async () => {
      const f = fake(H200, { FAKE_NVIDIA_SMI_MODE: 'driver-failure', FAKE_NVIDIA_SMI_ERROR_STREAM: stream });
      const state = await probe(f);
      assert.deepEqual(state.gpus, []);
      assert.equal(state.driverVersion, null);
      assert.equal(state.cudaDriverVersion, null);
      assert.equal(state.nvidiaSmiPath, f.nvidiaSmi);
      assert.equal(
        state.reason,
        `No working NVIDIA driver: nvidia-smi failed (exit code 9) saying "${DRIVER_FAILURE}" Make sure the NVIDIA driver is installed and its kernel module is loaded (reboot after a driver or kernel update), then run nvidia-smi to check.`,
      );
    });
  }

  it('the real error outputs become reasons that quote them', async () => {
    const cases: [string, RegExp][] = [
      [
        'bad-field',
        /failed \(exit code 2\) saying "Field "not\.a\.field" is not a valid field to query\." Run nvidia-smi/,
      ],
      ['bad-format', /failed \(exit code 2\) saying "Format modifier is not recognized\." Run nvidia-smi/],
      ['bad-index', /failed \(exit code 6\) saying "No devices were found"\. The driver sees no GPU/],
    ];
    for (const [mode, want] of cases) {
      const state = await probe(fake(H200, { FAKE_NVIDIA_SMI_MODE: mode }));
      assert.deepEqual(state.gpus, [], mode);
      assert.match(state.reason ?? '', want, mode);
    }
  });

  it('an older driver that rejects a field is asked again without it; the XML fills what it can', async () => {
    const f = fake(H200, { FAKE_NVIDIA_SMI_INVALID_FIELDS: 'compute_cap,ecc.mode.current' });
    const state = await probe(f);
    assert.equal(state.reason, undefined);
    const [g] = state.gpus;
    assert.equal(g?.computeCapability, null); // nowhere else to read it from
    assert.equal(g?.eccMode, 'enabled'); // from nvidia-smi -q -x
    assert.equal(g?.memoryTotalMiB, 143771);
    assert.equal(state.driverVersion, '580.159.04');
  });

  it('a hung nvidia-smi: a reason after the time limit, not a hang', async () => {
    const f = fake(H200, { FAKE_NVIDIA_SMI_MODE: 'hang' });
    const t0 = Date.now();
    const state = await probe(f, 700);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.deepEqual(state.gpus, []);
    assert.match(state.reason ?? '', /did not answer within 0\.7 s\. Run nvidia-smi in a terminal/);
  });

  it('cancellation rejects with CancellationError', async () => {
    const f = fake(H200, { FAKE_NVIDIA_SMI_MODE: 'hang' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(probeHost({ env: f.env, fallbacks: [], signal: ac.signal }), CancellationError);
    await assert.rejects(probeHost({ env: f.env, fallbacks: [], signal: AbortSignal.abort() }), CancellationError);
  });
});

describe('ml-containers gpus (command object)', () => {
  let savedPath: string | undefined;
  let f: FakeNvidiaSmi | undefined;
  beforeEach(() => (savedPath = process.env.PATH));
  afterEach(() => {
    process.env.PATH = savedPath;
    f?.cleanup();
    f = undefined;
    delete process.env.FAKE_NVIDIA_SMI_MODE;
  });

  const run = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await gpusCommand.run(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  };

  it('--json prints exactly the contract keys for the real H200 capture', async () => {
    f = installFakeNvidiaSmi(H200);
    process.env.PATH = f.binDir;
    const r = await run(['--json']);
    assert.equal(r.code, 0);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(o, {
      driverVersion: '580.159.04',
      cudaDriverVersion: '13.0',
      gpus: [
        {
          index: 0,
          uuid: UUID,
          name: 'NVIDIA H200',
          computeCapability: '9.0',
          memoryTotalMiB: 143771,
          memoryUsedMiB: 0,
          utilizationGpu: 0,
          temperatureC: 40,
          powerDrawW: 126.1,
        },
      ],
    });
    assert.deepEqual(Object.keys(o), ['driverVersion', 'cudaDriverVersion', 'gpus']);
  });

  it('--json with a failing driver: gpus [] and a reason, exit 0', async () => {
    f = installFakeNvidiaSmi(H200);
    process.env.PATH = f.binDir;
    process.env.FAKE_NVIDIA_SMI_MODE = 'driver-failure';
    const r = await run(['--json']);
    assert.equal(r.code, 0);
    const o = JSON.parse(r.stdout) as { gpus: unknown[]; reason: string };
    assert.deepEqual(Object.keys(o), ['driverVersion', 'cudaDriverVersion', 'gpus', 'reason']);
    assert.deepEqual(o.gpus, []);
    assert.match(o.reason, /couldn't communicate with the NVIDIA driver/);
  });

  it('--json without nvidia-smi: gpus [] and the no-driver reason, exit 0', async function () {
    if (fs.existsSync('/usr/lib/wsl/lib/nvidia-smi')) this.skip(); // a WSL2 host has the fallback
    const { dir, cleanup } = tempDir();
    try {
      process.env.PATH = dir;
      const r = await run(['--json']);
      assert.equal(r.code, 0);
      assert.deepEqual(JSON.parse(r.stdout), {
        driverVersion: null,
        cudaDriverVersion: null,
        gpus: [],
        reason: NO_NVIDIA_SMI_REASON,
      });
    } finally {
      cleanup();
    }
  });

  it('prints a readable table without --json', async () => {
    f = installFakeNvidiaSmi('h200x2-derived');
    process.env.PATH = f.binDir;
    const r = await run([]);
    assert.equal(r.code, 0);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'NVIDIA driver 580.159.04, supports CUDA up to 13.0');
    assert.match(lines[2] ?? '', /^GPU\s+Name\s+Compute\s+Memory used \/ total\s+Util\s+Temp\s+Power\s+MIG\s+UUID$/);
    assert.match(
      lines[3] ?? '',
      /^0\s+NVIDIA H200\s+9\.0\s+0 \/ 143771 MiB\s+0 %\s+40 C\s+126 \/ 700 W\s+disabled\s+GPU-/,
    );
    assert.match(lines[4] ?? '', /^1\s+NVIDIA H200\s+9\.0\s+1139 \/ 143771 MiB\s+100 %\s+62 C\s+689 \/ 700 W/);
  });

  it('bad usage throws UsageError (main exits 2)', async () => {
    await assert.rejects(run(['--bogus']), { name: 'UsageError' });
    await assert.rejects(run(['extra']), { name: 'UsageError' });
    await assert.rejects(run(['--timeout', '0']), { name: 'UsageError' });
  });
});
