/**
 * Run Sweep, the one operation behind `ml-containers sweep` and the editor's Run Sweep, without an engine: the sweep
 * file read and checked, the GPU pool sized, the image reference checked, the sweep made and handed to the port's
 * supervisor, in that order; every refusal thrown before any step is reported and before anything is recorded;
 * resuming a recorded sweep; supervising in this process against an engine that is not there; and the sentences both
 * faces show. The engine at the address used here is never reached unless a test says so.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectEngine } from '../../../src/core/docker/engine';
import {
  readSweepRequest,
  resumeSweep,
  startSweep,
  type StartSweepOptions,
  type StartSweepPort,
  superviseSweep,
  sweepLimit,
} from '../../../src/core/operations/runSweep';
import { RunRequestError } from '../../../src/core/runs/request';
import { Runner } from '../../../src/core/runs/runner';
import { RunStore } from '../../../src/core/runs/store';
import {
  DEFAULT_MAX_VARIANTS,
  describeSweep,
  newSweep,
  parseSweepFile,
  readSweep,
  stateWithExit,
  SweepFileError,
  sweepOutcome,
  type SweepState,
  variantProgress,
} from '../../../src/core/runs/sweep';
import { CancellationError } from '../../../src/core/util/errors';
import { ROOT, tempDir } from '../helpers';

const NOWHERE = 'unix:///nonexistent-mlc-sweep-test.sock';
const client = connectEngine({ dockerHost: NOWHERE });
const SWEEP_YAML = 'command: python t.py --lr {lr}\ngrid:\n  lr: [0.1, 0.01]\ngpusPerRun: 1\nenv:\n  A: from-sweep\n';

/** A port that records each step it hears of, and a supervisor that hands the sweep back as it got it. */
function recordingPort(): { steps: string[]; port: StartSweepPort } {
  const steps: string[] = [];
  return {
    steps,
    port: {
      buildLine: (line) => steps.push(`line ${line}`),
      built: (i) => steps.push(`built ${i.image} ${i.mountWorkspace}`),
      created: (s) => steps.push(`created ${s.variants.length}`),
      supervise: (s, takeOver) => {
        steps.push(`supervise ${takeOver}`);
        return Promise.resolve(s);
      },
    },
  };
}

describe('one operation: Run Sweep', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('mlc-sweep-op-'));
    fs.writeFileSync(path.join(dir, 'sweep.yaml'), SWEEP_YAML);
  });
  afterEach(() => cleanup());

  const options = (over: Partial<StartSweepOptions> = {}): StartSweepOptions => ({
    projectRoot: dir,
    file: 'sweep.yaml',
    source: { kind: 'image', ref: 'python:3.12' },
    gpus: { kind: 'all' },
    hostGpus: Promise.resolve([{ index: 0 }, { index: 1 }]),
    ...over,
  });
  const recorded = (): boolean => fs.existsSync(path.join(dir, '.ml-containers'));

  it('checks the file, the pool and the image, makes the sweep and hands it to the supervisor, in that order', async () => {
    const { steps, port } = recordingPort();
    const started = await startSweep(client, options(), undefined, port);
    assert.deepEqual(steps, ['built python:3.12 true', 'created 2', 'supervise false']);
    const s = started.sweep;
    assert.equal(await started.done, s, 'done is what the supervisor resolves with');
    assert.deepEqual(
      [s.project, s.file, s.image, s.gpus, s.gpusPerRun, s.maxParallel, s.env, s.mountWorkspace, s.state],
      [dir, 'sweep.yaml', 'python:3.12', ['0', '1'], 1, 2, { A: 'from-sweep' }, true, 'running'],
    );
    assert.deepEqual(
      s.variants.map((v) => [v.command, v.state, v.runId]),
      [
        [['python', 't.py', '--lr', '0.1'], 'queued', null],
        [['python', 't.py', '--lr', '0.01'], 'queued', null],
      ],
    );
    assert.ok(!recorded(), 'the supervisor records the sweep, not the operation');
  });

  it('the GPUs: all the host has by default, none when it has none (or cannot say), chosen ones as given', async () => {
    const pool = async (over: Partial<StartSweepOptions>): Promise<[string[], number]> => {
      const { sweep } = await startSweep(client, options(over), undefined, recordingPort().port);
      return [sweep.gpus, sweep.gpusPerRun];
    };
    assert.deepEqual(await pool({ gpus: undefined, hostGpus: [{ index: 3 }] }), [['3'], 1]);
    assert.deepEqual(await pool({ gpus: undefined, hostGpus: [] }), [[], 0]);
    assert.deepEqual(await pool({ gpus: undefined, hostGpus: Promise.reject(new Error('nvidia-smi hung')) }), [[], 0]);
    assert.deepEqual(await pool({ gpus: { kind: 'none' } }), [[], 0]);
    assert.deepEqual(await pool({ gpus: { kind: 'devices', ids: ['1', '1'] } }), [['1'], 1]);
  });

  it('takes a file read beforehand as it is (the editor checks it before asking anything)', async () => {
    const request = await readSweepRequest(dir, path.join(dir, 'sweep.yaml'), { maxVariants: 2 });
    assert.deepEqual(
      [request.path, request.file, request.maxVariants],
      [path.join(dir, 'sweep.yaml'), 'sweep.yaml', 2],
    );
    fs.rmSync(path.join(dir, 'sweep.yaml'));
    const { sweep } = await startSweep(client, options({ file: request }), undefined, recordingPort().port);
    assert.equal(sweep.variants.length, 2);
  });

  /** Runs the operation expecting a refusal: nothing reported to the port, nothing recorded. */
  async function refused(over: Partial<StartSweepOptions>, want: (err: unknown) => boolean, signal?: AbortSignal) {
    const { steps, port } = recordingPort();
    await assert.rejects(startSweep(client, options(over), signal, port), want);
    assert.deepEqual(steps, []);
    assert.ok(!recorded());
  }

  it('a file that is not there is bad usage; one that is not a sweep names the file and the line', async () => {
    await refused(
      { file: 'nope.yaml' },
      (e) =>
        e instanceof RunRequestError &&
        e.field === 'file' &&
        e.message === `the sweep file ${path.join(dir, 'nope.yaml')} does not exist.`,
    );
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'command: t {x}\ngrid:\n  x: [1]\nmaxparallel: 2\n');
    await refused(
      { file: 'bad.yaml' },
      (e) => e instanceof SweepFileError && /^bad\.yaml:4: unknown key/.test(e.message),
    );
    await refused(
      { file: 'bad.yaml', fileLabel: 'sweeps/bad.yaml' },
      (e) => e instanceof SweepFileError && /^sweeps\/bad\.yaml:4: /.test(e.message),
    );
  });

  it('a grid over the limit is refused before anything starts; a limit that is not a whole number >= 1 is the default', async () => {
    await refused({ maxVariants: 1 }, (e) => e instanceof SweepFileError && /more than the 1 runs/.test(e.message));
    for (const bad of [0, -1, 1.5, Number.NaN, undefined]) assert.equal(sweepLimit(bad), DEFAULT_MAX_VARIANTS);
    assert.equal(sweepLimit(2), 2);
    const { sweep } = await startSweep(client, options({ maxVariants: 0 }), undefined, recordingPort().port);
    assert.equal(sweep.variants.length, 2);
  });

  it('a pool that cannot run one variant is refused before the image is built or checked', async () => {
    await refused({ hostGpus: [] }, (e) => /each run 1 GPU, but no GPU is available/.test((e as Error).message));
    fs.writeFileSync(path.join(dir, 'two.yaml'), SWEEP_YAML.replace('gpusPerRun: 1', 'gpusPerRun: 2'));
    await refused({ file: 'two.yaml', gpus: { kind: 'devices', ids: ['0'] } }, (e) =>
      /each run 2 GPUs, but only 1 are available \(0\)/.test((e as Error).message),
    );
  });

  it('a bad image reference and a cancellation are thrown before any step is reported', async () => {
    await refused({ source: { kind: 'image', ref: '../x' } }, (e) =>
      /is not an image reference/.test((e as Error).message),
    );
    await refused({}, (e) => e instanceof CancellationError, AbortSignal.abort());
  });
});

describe('one operation: resuming a sweep', () => {
  let dir: string;
  let cleanup: () => void;
  let store: RunStore;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('mlc-sweep-resume-'));
    store = new RunStore(dir);
  });
  afterEach(() => cleanup());

  const record = (over: Partial<SweepState>): SweepState => {
    const sweep = {
      ...newSweep({ project: dir, file: 's.yaml', sweep: parseSweepFile(SWEEP_YAML), image: 'i', gpus: ['0'] }),
      ...over,
    };
    fs.mkdirSync(path.dirname(store.sweepFile(sweep.id)), { recursive: true });
    fs.writeFileSync(store.sweepFile(sweep.id), JSON.stringify(sweep));
    return sweep;
  };
  const supervised: [string, boolean][] = [];
  const port = {
    supervise: (s: SweepState, takeOver: boolean) => {
      supervised.push([s.id, takeOver]);
      return Promise.resolve(s);
    },
  };
  beforeEach(() => (supervised.length = 0));

  it('continues a sweep whose supervisor went away', async () => {
    const sweep = record({ owner: null });
    const started = await resumeSweep(store, { sweepId: sweep.id }, port);
    assert.equal(started.sweep.id, sweep.id);
    assert.deepEqual(supervised, [[sweep.id, false]]);
  });

  it('refuses a sweep that is not recorded, one that has ended, and one still supervised unless forced', async () => {
    const bad = (field: string, re: RegExp) => (e: unknown) =>
      e instanceof RunRequestError && e.field === field && re.test(e.message);
    await assert.rejects(
      resumeSweep(store, { sweepId: 'sweep-none' }, port),
      bad('sweep', /^no sweep "sweep-none" is recorded in /),
    );
    const ended = record({ state: 'succeeded' });
    await assert.rejects(
      resumeSweep(store, { sweepId: ended.id }, port),
      bad('sweep', /has ended \(succeeded\); start a new one/),
    );
    const alive = record({ owner: { pid: process.pid, hostname: os.hostname() } });
    await assert.rejects(
      resumeSweep(store, { sweepId: alive.id }, port),
      bad('sweep', new RegExp(`is still supervised by process ${process.pid} on .*--force`)),
    );
    assert.deepEqual(supervised, []);
    await resumeSweep(store, { sweepId: alive.id, force: true }, port);
    assert.deepEqual(supervised, [[alive.id, true]]);
  });
});

describe('one operation: supervising a sweep in this process', () => {
  it('against an engine that is not there: the sweep ends failed, saying so, its queue not started, its lock gone', async () => {
    const { dir, cleanup } = tempDir('mlc-sweep-supervise-');
    try {
      const store = new RunStore(dir);
      const runner = new Runner({ client, store });
      const sweep = newSweep({
        project: dir,
        file: 's.yaml',
        sweep: parseSweepFile('command: python t.py {x}\ngrid:\n  x: [1, 2, 3]\ngpusPerRun: 0\nmaxParallel: 1\n'),
        image: 'python:3.12',
        gpus: [],
      });
      const changes: string[] = [];
      const final = await superviseSweep(runner, sweep, { onChange: (s) => changes.push(s.variants[0]!.state) });
      assert.equal(final.state, 'failed');
      assert.deepEqual(
        final.variants.map((v) => v.state),
        ['failed', 'not-started', 'not-started'],
      );
      assert.match(final.variants[0]!.explanation ?? '', /engine|Docker/i);
      assert.ok(changes.includes('running') && changes.at(-1) === 'failed', changes.join(' '));
      assert.equal((await readSweep(store, sweep.id))?.state, 'failed');
      assert.ok(!fs.existsSync(path.join(path.dirname(store.sweepFile(sweep.id)), 'sweep.lock')));
    } finally {
      cleanup();
    }
  });
});

describe('one home: how a sweep is said', () => {
  const sweep = (over: Partial<SweepState> = {}): SweepState => ({
    ...newSweep({
      project: '/p',
      file: 's.yaml',
      sweep: parseSweepFile(SWEEP_YAML),
      image: 'mlc/p:dev',
      gpus: ['0', '1'],
    }),
    id: 'sweep-1',
    ...over,
  });

  it('what it runs, and how it ended', () => {
    assert.equal(
      describeSweep(sweep()),
      'Sweep sweep-1: 2 runs of mlc/p:dev, at most 2 at a time, 1 GPU(s) each over 0,1.',
    );
    assert.equal(
      describeSweep(sweep({ gpusPerRun: 0 })),
      'Sweep sweep-1: 2 runs of mlc/p:dev, at most 2 at a time, no GPUs.',
    );
    const s = sweep({ state: 'failed' });
    s.variants[0]!.state = 'succeeded';
    assert.equal(sweepOutcome(s), 'Sweep sweep-1: 1 of 2 runs succeeded (failed).');
  });

  it('its progress: each variant once per change of state, queued ones left out', () => {
    const progress = variantProgress();
    const s = sweep();
    assert.deepEqual(progress(s), []);
    Object.assign(s.variants[0]!, { state: 'running', runId: 'r0' });
    assert.deepEqual(progress(s), ['[0] lr=0.1: running r0']);
    assert.deepEqual(progress(s), []);
    Object.assign(s.variants[0]!, { state: 'failed', exitCode: 4 });
    assert.deepEqual(progress(s), ['[0] lr=0.1: failed (exit 4) r0']);
    assert.equal(stateWithExit('stopped', 143), 'stopped (exit 143)');
    assert.equal(stateWithExit('running', null), 'running');
  });
});

describe('one home: the faces ask and show, the operations decide', () => {
  const faces = [
    'src/cli/commands/runs.ts',
    ...fs.readdirSync(path.join(ROOT, 'src/extension/commands/runs')).map((f) => `src/extension/commands/runs/${f}`),
  ];

  it('no face reads a sweep file, sizes its pool, makes, resumes or supervises a sweep, or makes a run spec itself', () => {
    assert.ok(faces.length > 5, faces.join(' '));
    const pieces =
      /\b(newSweep|runSweep|sweepSpecFor|parseSweepFile|readSweepFileText|sweepGpuPool|readSweep|ownerAlive|resolveImage|runSpecFor|formatSweepSummary)\(/;
    const found = faces.filter((f) => pieces.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
    assert.deepEqual(found, []);
  });
});
