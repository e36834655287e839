/**
 * Decisions both faces (the command line and the editor) make, each with one home in the core: which image a run
 * uses, which GPUs a sweep hands out, how long a run ran, the `k=v` label of a sweep's run, and the fingerprint
 * comparison's report. Where the two faces used to disagree, the test pins the behaviour both now share.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectEngine } from '../../src/core/docker/engine';
import { diffFingerprints } from '../../src/core/fingerprint/diff';
import { fingerprintFromText, FingerprintFileError } from '../../src/core/fingerprint/parse';
import { diffReportMarkdown } from '../../src/core/fingerprint/report';
import type { Fingerprint } from '../../src/core/fingerprint/types';
import { runTraining } from '../../src/core/operations/runTraining';
import { formatDuration, paramsLabel, runLabel } from '../../src/core/runs/format';
import {
  defaultGpuSelection,
  defaultTarget,
  hasBuildSetup,
  imageSourceFor,
  RunRequestError,
  sweepGpuPool,
} from '../../src/core/runs/request';
import type { GpuSelection, RunRecord, RunSpec } from '../../src/core/runs/types';
import { ROOT } from './helpers';

const hostGpus = [{ index: 0 }, { index: 1 }];

describe('one home: the sweep GPU pool', () => {
  it('gpusPerRun 0 means CPU-only runs, whichever GPUs were offered', () => {
    for (const selection of [{ kind: 'all' }, { kind: 'devices', ids: ['1'] }] satisfies GpuSelection[]) {
      assert.deepEqual(sweepGpuPool(selection, 0, hostGpus), { gpus: [], gpusPerRun: 0 });
    }
  });

  it('"none" runs every variant on the CPU, whatever the file says', () => {
    assert.deepEqual(sweepGpuPool({ kind: 'none' }, 2, hostGpus), { gpus: [], gpusPerRun: 0 });
  });

  it('"all" is the GPUs nvidia-smi sees; chosen GPUs are kept in order, each once', () => {
    assert.deepEqual(sweepGpuPool({ kind: 'all' }, 1, hostGpus), { gpus: ['0', '1'], gpusPerRun: 1 });
    assert.deepEqual(sweepGpuPool({ kind: 'all' }, 1, undefined), { gpus: [], gpusPerRun: 1 });
    assert.deepEqual(sweepGpuPool({ kind: 'devices', ids: ['1', '0', '1'] }, 1, []), {
      gpus: ['1', '0'],
      gpusPerRun: 1,
    });
  });

  it('the default selection: all when nvidia-smi sees GPUs, else none', () => {
    assert.deepEqual(defaultGpuSelection({ gpus: hostGpus }), { kind: 'all' });
    assert.deepEqual(defaultGpuSelection({ gpus: [] }), { kind: 'none' });
    assert.deepEqual(defaultGpuSelection(undefined), { kind: 'none' });
  });
});

describe('one home: which image a run uses', () => {
  it('an image, a target, or the default target (dev with a command, train without)', () => {
    assert.deepEqual(imageSourceFor({ image: 'pytorch/pytorch:2.5.1', hasCommand: true }), {
      kind: 'image',
      ref: 'pytorch/pytorch:2.5.1',
    });
    assert.deepEqual(imageSourceFor({ target: 'train', hasCommand: true }), { kind: 'target', target: 'train' });
    assert.deepEqual(imageSourceFor({ hasCommand: true }), { kind: 'target', target: 'dev' });
    assert.deepEqual(imageSourceFor({ hasCommand: false }), { kind: 'target', target: 'train' });
    assert.equal(defaultTarget(true), 'dev');
    assert.equal(defaultTarget(false), 'train');
  });

  it('both an image and a target is refused in both faces (the editor used to take the image silently)', () => {
    assert.throws(
      () => imageSourceFor({ image: 'python:3.12', target: 'train', hasCommand: true }),
      (err: unknown) => err instanceof RunRequestError && err.message === 'give the image or the target, not both.',
    );
    assert.throws(
      () =>
        imageSourceFor(
          { image: 'python:3.12', target: 'train', hasCommand: true },
          { image: '--image', target: '--target' },
        ),
      /^RunRequestError: give --image or --target, not both\.$/,
    );
  });

  it('a bad target or image reference is refused before anything starts, named as the face calls it', () => {
    assert.throws(
      () => imageSourceFor({ target: 'prod', hasCommand: false }, { image: '--image', target: '--target' }),
      (err: unknown) =>
        err instanceof RunRequestError &&
        err.field === 'target' &&
        err.message === '--target must be train or dev, got "prod".',
    );
    assert.throws(
      () => imageSourceFor({ image: '../x', hasCommand: true }),
      (err: unknown) =>
        err instanceof RunRequestError &&
        err.field === 'image' &&
        /^the image "\.\.\/x" is not an image reference/.test(err.message),
    );
  });

  it('a project can build its targets when the build setup finds a Dockerfile (devcontainer.json build too)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-one-home-'));
    try {
      assert.equal(await hasBuildSetup(dir), false);
      fs.mkdirSync(path.join(dir, '.devcontainer'));
      fs.mkdirSync(path.join(dir, 'docker'));
      fs.writeFileSync(path.join(dir, 'docker', 'Dockerfile.gpu'), 'FROM python:3.12\n');
      fs.writeFileSync(
        path.join(dir, '.devcontainer', 'devcontainer.json'),
        '{ "build": { "dockerfile": "../docker/Dockerfile.gpu", "context": ".." } }',
      );
      assert.equal(await hasBuildSetup(dir), true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function record(over: Partial<RunRecord>): RunRecord {
  return {
    id: '20261126-153012-a1b2',
    project: '/p',
    projectName: 'p',
    state: 'succeeded',
    containerId: null,
    containerName: 'mlc-p-20261126-153012-a1b2',
    image: 'mlc/p:train',
    imageId: null,
    repoDigests: [],
    command: [],
    gpus: { kind: 'none' },
    mountWorkspace: false,
    requestedPorts: [],
    ports: {},
    sweepId: null,
    params: {},
    createdAt: '2026-11-26T15:30:12.000Z',
    startedAt: null,
    finishedAt: null,
    stopRequestedAt: null,
    exitCode: null,
    oomKilled: false,
    explanation: null,
    warnings: [],
    host: { dockerHost: 'unix:///var/run/docker.sock', engineVersion: null, driverVersion: null, gpus: [] },
    ...over,
  };
}

describe('one home: how long a run ran', () => {
  const start = '2026-11-26T15:30:12.000Z';
  const now = Date.parse(start) + 3725_000;

  it('42s, 3m05s, 1h02m', () => {
    const ran = (s: number): string | null =>
      formatDuration(record({ startedAt: start, finishedAt: new Date(Date.parse(start) + s * 1000).toISOString() }));
    assert.equal(ran(42), '42s');
    assert.equal(ran(185), '3m05s');
    assert.equal(ran(3725), '1h02m');
  });

  it('a running run counts up to now', () => {
    assert.equal(formatDuration(record({ state: 'running', startedAt: start }), now), '1h02m');
  });

  it('an unfinished record that is no longer running has no duration (it does not grow forever)', () => {
    // e.g. a run whose container went away while the engine was down: failed, with no finish time
    assert.equal(formatDuration(record({ state: 'failed', startedAt: start }), now), null);
    assert.equal(formatDuration(record({ state: 'stopped', startedAt: start }), now), null);
  });

  it("a run that never started, or the engine's zero time, has none either (the face shows its placeholder)", () => {
    assert.equal(formatDuration(record({ state: 'created' }), now), null);
    assert.equal(formatDuration(record({ state: 'running', startedAt: '0001-01-01T00:00:00Z' }), now), null);
    assert.equal(formatDuration(record({ startedAt: start, finishedAt: '0001-01-01T00:00:00Z' }), now), null);
    assert.equal(formatDuration(record({ startedAt: 'not a time', finishedAt: start }), now), null);
  });
});

describe('one home: the label of a run', () => {
  it('a sweep run by its parameters, k=v in the grid order', () => {
    assert.equal(paramsLabel({ lr: '1e-3', bs: '16' }), 'lr=1e-3 bs=16');
    assert.equal(runLabel(record({ params: { lr: '0.1' }, command: ['python', 't.py'] })), 'lr=0.1');
  });

  it('else its command, else the image and its own entry point', () => {
    assert.equal(runLabel(record({ command: ['python', 'train.py', '--lr', '0.1'] })), 'python train.py --lr 0.1');
    assert.equal(runLabel(record({ command: [] })), 'mlc/p:train (its entry point)');
  });
});

describe('one home: the fingerprint comparison report', () => {
  const fp = (driver: string, cuda: string): Fingerprint =>
    fingerprintFromText(
      JSON.stringify({
        schema: 'ml-containers-fingerprint/1',
        takenAt: '2026-11-26T15:30:12.000Z',
        host: {
          hostname: 'h',
          os: { platform: 'linux', distro: null, kernel: '6.8.0', arch: 'x64' },
          driverVersion: driver,
          cudaDriverVersion: cuda,
          gpus: [],
          engine: null,
        },
      }),
      'a.json',
    );

  it('a Markdown table of the ranked differences, with | in a value kept inside its cell', () => {
    const diffs = diffFingerprints(fp('580.159.04', '13.0'), fp('550.54.15', '12.4'));
    const md = diffReportMarkdown('a.json', 'b.json', [...diffs, { ...diffs[0]!, what: 'x', a: 'p|q' }]);
    assert.match(md, /^# Environment comparison\n\n\*\*A:\*\* a\.json {2}\n\*\*B:\*\* b\.json\n/);
    assert.match(md, /\| ⛔ breaking \| `host\.driverVersion` \| 580\.159\.04 \| 550\.54\.15 \| /);
    assert.match(md, /\| p\\\|q \|/);
    assert.equal(
      diffReportMarkdown('a', 'b', []),
      '# Environment comparison\n\n**A:** a  \n**B:** b\n\nNo differences that matter for GPU training.',
    );
  });

  it('a file that is not a fingerprint: one sentence naming it', () => {
    assert.throws(
      () => fingerprintFromText('{}', 'fp-b.json'),
      (err: unknown) =>
        err instanceof FingerprintFileError && /^fp-b\.json is not an ML Containers fingerprint/.test(err.message),
    );
  });
});

describe('one home: the faces ask and show, the core decides', () => {
  const faces = ['src/cli', 'src/extension'].flatMap((d) => tsFiles(path.join(ROOT, d)));

  it('no face joins parameters as k=v, times a run, sizes a sweep pool or writes the comparison report', () => {
    assert.ok(faces.length > 10, `found ${faces.length} face files`);
    const decisions: [RegExp, string][] = [
      [/\$\{\w+\}=\$\{\w+\}/, 'a k=v label (paramsLabel, runLabel)'],
      [/function formatDuration|Math\.floor\(s \/ 3600\)/, 'a run duration (formatDuration)'],
      [/gpusPerRun = 0|\.gpus\.map\(\(g\) => String\(g\.index\)\)/, "a sweep's GPU pool (sweepGpuPool)"],
      [/not both|must be train or dev/, 'the image source (imageSourceFor)'],
      [/\| Why it matters \|/, 'the comparison report (diffReportMarkdown)'],
    ];
    const found = faces.flatMap((file) => {
      const text = fs.readFileSync(file, 'utf8');
      return decisions.filter(([re]) => re.test(text)).map(([, what]) => `${path.basename(file)}: ${what}`);
    });
    assert.deepEqual(found, []);
  });
});

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('one operation: Run Training', () => {
  // an existing image is only checked, never asked for: the engine at this address is never reached
  const client = connectEngine({ dockerHost: 'unix:///nonexistent/docker.sock' });

  it('checks the image, makes the spec from the project (.env under the run env) and starts it through the port', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-run-op-'));
    try {
      fs.writeFileSync(path.join(dir, '.env'), 'A=from-env\nB=from-env\n');
      const steps: string[] = [];
      let started: RunSpec | undefined;
      const marker = record({ id: 'r1' });
      const out = await runTraining(
        client,
        {
          projectRoot: dir,
          command: ['python', 'train.py'],
          source: { kind: 'image', ref: 'python:3.12' },
          gpus: { kind: 'none' },
          env: { B: 'from-run' },
          ports: [6006],
        },
        undefined,
        {
          buildLine: (l) => steps.push(`line ${l}`),
          built: (i) => steps.push(`built ${i.image} ${i.mountWorkspace}`),
          start: (spec) => {
            steps.push('start');
            started = spec;
            return Promise.resolve({ record: marker, done: Promise.resolve(marker) });
          },
        },
      );
      assert.equal(out.record, marker);
      assert.deepEqual(steps, ['built python:3.12 true', 'start']);
      assert.ok(started);
      assert.deepEqual(
        [started.image, started.command, started.gpus, started.env, started.ports, started.mountWorkspace],
        ['python:3.12', ['python', 'train.py'], { kind: 'none' }, { A: 'from-env', B: 'from-run' }, [6006], true],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad image reference is thrown before any step is reported', async () => {
    const steps: string[] = [];
    await assert.rejects(
      runTraining(
        client,
        { projectRoot: os.tmpdir(), command: [], source: { kind: 'image', ref: '../x' }, gpus: { kind: 'none' } },
        undefined,
        {
          built: () => steps.push('built'),
          start: () => Promise.reject(new Error('not started')),
        },
      ),
      /is not an image reference/,
    );
    assert.deepEqual(steps, []);
  });
});
