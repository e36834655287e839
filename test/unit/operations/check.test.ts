/**
 * Check GPU Compatibility, Save Fingerprint and Compare Environments, each with one home in the core
 * (src/core/operations/check.ts and fingerprint.ts): the probes' environment from plain options (the nvidia-smi to
 * run, the engine's address), the check and its reports, a fingerprint and the comparison of two, and whether the
 * host changed since a remembered snapshot. Host facts come from the fake nvidia-smi replaying the real H200 capture
 * (test/fixtures/gpu-hosts/h200-driver-580); the engine at the address used here is not there.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { realProbes } from '../../../src/core/compat/probes';
import type { CheckResult } from '../../../src/core/compat/types';
import { DetectRootError } from '../../../src/core/detect';
import {
  CheckUsageError,
  checkGpuCompatibility,
  checkNotice,
  checkReport,
  probeEnvironment,
} from '../../../src/core/operations/check';
import {
  compareEnvironments,
  FingerprintFileError,
  fingerprintEnvironment,
  fingerprintFileText,
  fingerprintSummary,
  hostChangeNotice,
  hostChangesSince,
} from '../../../src/core/operations/fingerprint';
import type { Fingerprint } from '../../../src/core/fingerprint/types';
import { isCancellation } from '../../../src/core/util/errors';
import { type FakeNvidiaSmi, installFakeNvidiaSmi } from '../../support/fakeNvidiaSmi';
import { FIXTURES, ROOT } from '../helpers';

const NO_ENGINE = 'unix:///nonexistent/mlc-operations-check.sock';
const CUDA_13_IMAGE = 'nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04';

describe('one operation: Check GPU Compatibility', () => {
  let fake: FakeNvidiaSmi;
  /** The probes reach the fake nvidia-smi through the option alone (as the editor's setting does). */
  let host: { nvidiaSmiPath: string; dockerHost: string };
  before(() => {
    fake = installFakeNvidiaSmi('h200-driver-580');
    host = { nvidiaSmiPath: fake.nvidiaSmi, dockerHost: NO_ENGINE };
  });
  after(() => fake.cleanup());

  it("the probes' environment: the chosen nvidia-smi's folder first on PATH, the engine's address", () => {
    const env = probeEnvironment(host, { PATH: '/usr/bin', HOME: '/home/u' });
    assert.deepEqual(env, { PATH: `${fake.binDir}${path.delimiter}/usr/bin`, HOME: '/home/u', DOCKER_HOST: NO_ENGINE });
    // unset settings ('' in the editor) leave the environment as it is
    const base = { PATH: '/usr/bin', DOCKER_HOST: 'tcp://elsewhere:2375' };
    assert.deepEqual(probeEnvironment({ nvidiaSmiPath: '', dockerHost: '' }, base), base);
  });

  it('checks an image against the probed H200: the CUDA 13.0 image runs', async () => {
    const result = await checkGpuCompatibility({ ...host, image: CUDA_13_IMAGE, noEngine: true });
    assert.equal(result.verdict, 'ok', JSON.stringify(result.findings));
    assert.equal(result.host.driverVersion, '580.159.04');
    assert.equal(result.host.cudaDriverVersion, '13.0');
    assert.deepEqual(result.host.gpus, [{ name: 'NVIDIA H200', computeCapability: '9.0', datacenter: true }]);
    assert.equal(result.image.cudaVersion, '13.0.2');
  });

  it('asks the engine at the configured address: not there, so engine-unreachable, still an answer', async () => {
    const result = await checkGpuCompatibility({ ...host, image: CUDA_13_IMAGE });
    assert.equal(result.host.engine?.reachable, false);
    assert.deepEqual(
      result.findings.map((f) => f.id),
      ['engine-unreachable'],
    );
    assert.equal(result.verdict, 'warning');
  });

  it('another machine described by its driver and GPUs is not probed (no nvidia-smi needed)', async () => {
    const result = await checkGpuCompatibility({
      nvidiaSmiPath: path.join(fake.binDir, 'missing', 'nvidia-smi'),
      driver: '535.104.05',
      gpus: ['NVIDIA GeForce RTX 4090'],
      torch: '2.7.1+cu128',
      noEngine: true,
    });
    assert.equal(result.host.driverVersion, '535.104.05');
    assert.deepEqual(
      result.findings.map((f) => f.id),
      ['driver-below-toolkit-minimum'],
    );
  });

  it('an H200 with a torch 1.13 build: gpu-arch-unsupported, an error with a concrete fix', async () => {
    const result = await checkGpuCompatibility({ ...host, torch: '1.13.1+cu117', noEngine: true });
    assert.equal(result.verdict, 'error');
    assert.match(result.findings.find((f) => f.id === 'gpu-arch-unsupported')?.fix ?? '', /whl\/cu\d+/);
  });

  it('a value in the wrong format, or a Dockerfile that cannot be read: refused naming its option', async () => {
    const cases: [Parameters<typeof checkGpuCompatibility>[0], RegExp][] = [
      [{ driver: 'abc' }, /^--driver needs a driver version like 580\.159\.04, got "abc"\.$/],
      [{ computeCapability: '9' }, /^--compute-capability needs a value like 8\.9, got "9"\.$/],
      [
        { torch: 'latest', driver: '580.1' },
        /^--torch needs a version like 2\.7\.1 or 2\.7\.1\+cu128, got "latest"\.$/,
      ],
      [{ dockerfile: path.join(fake.binDir, 'no-Dockerfile') }, /^cannot read the Dockerfile /],
    ];
    for (const [opts, message] of cases) {
      await assert.rejects(
        checkGpuCompatibility({ ...host, ...opts, noEngine: true }),
        (err: unknown) => err instanceof CheckUsageError && message.test(err.message),
        JSON.stringify(opts),
      );
    }
  });

  it('a project that is not a folder: DetectRootError', async () => {
    const file = path.join(fake.binDir, 'nvidia-smi');
    await assert.rejects(
      checkGpuCompatibility({ ...host, projectDir: file, noEngine: true }),
      (err: unknown) => err instanceof DetectRootError,
    );
  });

  it('reads a project: its Dockerfile base image and pins', async () => {
    const result = await checkGpuCompatibility({
      ...host,
      projectDir: path.join(FIXTURES, 'projects', 'deepspeed-setup'),
      noEngine: true,
    });
    assert.equal(result.image.cudaVersion, '12.1.1');
    assert.equal(result.host.driverVersion, '580.159.04');
  });

  it('a cancelled signal ends the check with a cancellation', async () => {
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(checkGpuCompatibility({ ...host, noEngine: true }, abort.signal), (err: unknown) =>
      isCancellation(err),
    );
  });

  describe('the report for each face', () => {
    let ok: CheckResult;
    let bad: CheckResult;
    before(async () => {
      ok = await checkGpuCompatibility({ ...host, image: CUDA_13_IMAGE, noEngine: true });
      bad = await checkGpuCompatibility({ ...host, torch: '1.13.1+cu117', noEngine: true });
    });

    it('the editor: a document titled after the project, Markdown headed by it', () => {
      const r = checkReport(ok, 'demo');
      assert.equal(r.title, 'GPU compatibility - demo');
      assert.match(r.markdown, /^# GPU compatibility of demo: ✅ Compatible$/m);
      assert.match(r.markdown, /^\| GPUs \| NVIDIA H200 \(compute capability 9\.0, data center\) \|$/m);
      assert.match(r.markdown, /No problems found\./);
    });

    it('the terminal: the same facts as plain text, no Markdown left', () => {
      const { text } = checkReport(bad);
      assert.match(text, /^GPU compatibility: ⛔ Will not work as is$/m);
      assert.match(text, /^ {2}Driver: 580\.159\.04 \(CUDA 13\.0\)$/m);
      assert.match(text, /^Fix: /m);
      assert.doesNotMatch(text, /\*\*|^\||^#/m);
    });

    it('the notification: none when compatible; how many problems otherwise, not the findings again', () => {
      assert.equal(checkNotice(ok), undefined);
      const errors = bad.findings.filter((f) => f.severity === 'error').length;
      assert.deepEqual(checkNotice(bad), {
        severity: 'error',
        message: `GPU check: ${errors} problem${errors === 1 ? '' : 's'} that will stop the container from using the GPU; the report says how to fix ${errors === 1 ? 'it' : 'them'}.`,
      });
      const warned: CheckResult = {
        ...ok,
        verdict: 'warning',
        findings: [{ ...bad.findings[0]!, severity: 'warning' }],
      };
      assert.deepEqual(checkNotice(warned), { severity: 'warning', message: 'GPU check: 1 warning; see the report.' });
    });
  });
});

describe('one operation: Save Fingerprint and Compare Environments', () => {
  let fake: FakeNvidiaSmi;
  let host: { nvidiaSmiPath: string; dockerHost: string };
  let fp: Fingerprint;
  before(async () => {
    fake = installFakeNvidiaSmi('h200-driver-580');
    host = { nvidiaSmiPath: fake.nvidiaSmi, dockerHost: NO_ENGINE };
    fp = await fingerprintEnvironment(host);
  });
  after(() => fake.cleanup());

  it('fingerprints the probed host: driver, GPUs, and the engine that is not there', () => {
    assert.equal(fp.schema, 'ml-containers-fingerprint/1');
    assert.equal(fp.host.driverVersion, '580.159.04');
    assert.deepEqual(
      fp.host.gpus.map((g) => [g.name, g.computeCapability, g.memoryTotalMiB]),
      [['NVIDIA H200', '9.0', 143771]],
    );
    assert.equal(fp.host.engine?.reachable, false);
    assert.equal(fp.image, undefined);
  });

  it('an image the engine cannot be asked about: the fingerprint says why instead of failing', async () => {
    const withImage = await fingerprintEnvironment({ ...host, image: CUDA_13_IMAGE });
    assert.equal(withImage.image?.ref, CUDA_13_IMAGE);
    assert.ok(withImage.image?.container && 'error' in withImage.image.container);
  });

  it('the file text reads back as the same fingerprint; the summary names the host facts', () => {
    const text = fingerprintFileText(fp);
    assert.ok(text.endsWith('}\n'));
    const { differences } = compareEnvironments({ name: 'a.json', text }, { name: 'now', fingerprint: fp });
    assert.deepEqual(differences, []);
    const summary = fingerprintSummary(fp).split('\n');
    assert.equal(summary[1], 'Driver: 580.159.04 (CUDA 13.0)');
    assert.equal(summary[2], 'GPU 0: NVIDIA H200 (compute capability 9.0, 143771 MiB)');
    assert.match(summary[3] ?? '', /^Engine: unreachable: /);
  });

  it('compares a file with this machine now: a driver from another CUDA major breaks, first', () => {
    const older = structuredClone(fp);
    older.host.driverVersion = '550.54.15';
    older.host.cudaDriverVersion = '12.4';
    const c = compareEnvironments(
      { name: 'fp-a.json', text: fingerprintFileText(older) },
      { name: 'this machine, now', fingerprint: fp },
    );
    assert.deepEqual([c.differences[0]?.what, c.differences[0]?.impact], ['host.driverVersion', 'breaking']);
    assert.equal(c.breaking, true);
    assert.match(c.markdown, /^\*\*A:\*\* fp-a\.json {2}$/m);
    assert.match(c.markdown, /^\*\*B:\*\* this machine, now$/m);
    assert.match(c.text, /host\.driverVersion/);
  });

  it('nothing that matters differs: not breaking, and the reports say so', () => {
    const c = compareEnvironments({ name: 'a', fingerprint: fp }, { name: 'b', fingerprint: structuredClone(fp) });
    assert.equal(c.breaking, false);
    assert.match(c.markdown, /No differences that matter/);
    assert.match(c.text, /No differences/);
  });

  it('a file that is not a fingerprint: a Problem naming the file, and how to make one', () => {
    assert.throws(
      () => compareEnvironments({ name: 'fp-a.json', fingerprint: fp }, { name: 'bad.json', text: '{"hello": 1}' }),
      (err: unknown) =>
        err instanceof FingerprintFileError &&
        /^bad\.json is not an ML Containers fingerprint .*ml-containers fingerprint --out FILE/.test(err.message),
    );
  });

  describe('the host since the last session', () => {
    it('no snapshot yet, or one that is not a snapshot: no changes, and the host now to remember', async () => {
      for (const before of [undefined, null, 'x', { driverVersion: 1, gpus: [] }, { driverVersion: null, gpus: [1] }]) {
        assert.deepEqual(await hostChangesSince(before, host), {
          now: { driverVersion: '580.159.04', gpus: ['NVIDIA H200 (9.0)'] },
          changes: [],
        });
      }
    });

    it('the same host: no changes', async () => {
      const { now } = await hostChangesSince(undefined, host);
      assert.deepEqual((await hostChangesSince(now, host)).changes, []);
    });

    it('a driver update and a new GPU, each said once', async () => {
      const before = { driverVersion: '550.54.15', gpus: ['NVIDIA A100-SXM4-80GB (8.0)'] };
      const { changes } = await hostChangesSince(before, host);
      assert.deepEqual(changes, [
        'the NVIDIA driver changed from 550.54.15 to 580.159.04',
        'the GPUs changed from NVIDIA A100-SXM4-80GB (8.0) to NVIDIA H200 (9.0)',
      ]);
      assert.equal(
        hostChangeNotice(changes, 'warning'),
        "Since the last session the NVIDIA driver changed from 550.54.15 to 580.159.04 and the GPUs changed from NVIDIA A100-SXM4-80GB (8.0) to NVIDIA H200 (9.0). The project's GPU check now says: warning.",
      );
      assert.equal(hostChangeNotice(changes.slice(0, 1)), `Since the last session ${changes[0]}.`);
    });

    it('a host without a driver now (probed where there is no nvidia-smi)', async () => {
      const noSmi = realProbes({ env: { PATH: path.dirname(process.execPath) } });
      const before = { driverVersion: '580.159.04', gpus: ['NVIDIA H200 (9.0)'] };
      const { now, changes } = await hostChangesSince(before, {}, undefined, noSmi);
      assert.deepEqual(now, { driverVersion: null, gpus: [] });
      assert.deepEqual(changes, [
        'the NVIDIA driver changed from 580.159.04 to none',
        'the GPUs changed from NVIDIA H200 (9.0) to none',
      ]);
    });
  });
});

describe('the faces only ask and show: Check GPU Compatibility, Save Fingerprint, Compare Environments', () => {
  const faces = [
    'src/cli/commands/check.ts',
    'src/cli/commands/fingerprint.ts',
    'src/cli/commands/diff.ts',
    'src/extension/commands/doctor',
    'src/extension/doctor',
  ].flatMap((p) => {
    const abs = path.join(ROOT, p);
    return fs.statSync(abs).isDirectory() ? fs.readdirSync(abs).map((f) => path.join(abs, f)) : [abs];
  });

  it('no face gathers, probes, fingerprints, parses or diffs by itself', () => {
    assert.equal(faces.length, 9, faces.join('\n'));
    const pieces =
      /\b(gatherAndCheck|realProbes|takeFingerprint|diffFingerprints|fingerprintFromText|parseFingerprint|diffText|diffReportMarkdown|checkReportMarkdown|checkReportText)\b/;
    const found = faces.filter((f) => pieces.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));
    assert.deepEqual(found, []);
    const text = faces.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    for (const op of [
      'checkGpuCompatibility(',
      'fingerprintEnvironment(',
      'compareEnvironments(',
      'hostChangesSince(',
    ]) {
      assert.ok(text.includes(op), `no face calls ${op}`);
    }
  });
});
