/**
 * Training runs and sweeps (src/core/runs, `ml-containers run/ps/logs/stop/sweep`) against the private test engine:
 * a fake trainer image (FROM mlc-test/debian-python:bookworm) that prints progress bars with `\r` and colours, exits
 * with a given code, sleeps until stopped, eats memory or prints PyTorch's CUDA out-of-memory error. Each test works
 * in its own project folder; the containers of its runs carry that folder in their labels and are removed after it.
 * This engine has no NVIDIA runtime, and may not raise RLIMIT_MEMLOCK (runs then drop that ulimit with a warning).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { connectEngine, type EngineClient } from '../../src/core/docker';
import { CONTAINER_CA_FILE } from '../../src/core/network';
import { CancellationError } from '../../src/core/util/errors';
import {
  expandGrid,
  isFinished,
  LABELS,
  lastMetricLine,
  newSweep,
  openShell,
  parseSweepFile,
  readSweep,
  resolveImage,
  type RunRecord,
  Runner,
  type RunSpec,
  runSpecFor,
  RunStartError,
  RunStore,
  runSweep,
  type SweepState,
  type SweepVariantState,
} from '../../src/core/runs';
import {
  buildFakeTrainer,
  DEBIAN_PYTHON,
  demuxLogs,
  FAKE_TRAINER,
  requireImage,
  testDockerHost,
  runCli,
  type CliResult,
  CLI,
} from './helpers';

const TRAINER = ['python3', '/trainer.py'];
const MiB = 1024 ** 2;

const cli = (args: string[], timeoutMs?: number): Promise<CliResult> =>
  runCli(args, timeoutMs === undefined ? {} : { timeoutMs });

/** Resolves when `check` holds (polled), rejects after `timeoutMs` saying what it waited for. */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The argv the fake trainer printed (its `args: [...]` line). */
function printedArgs(log: string): string[] {
  const m = /args: (\[.*\])\r?\n/.exec(log);
  assert.ok(m, `no args line in ${JSON.stringify(log)}`);
  return JSON.parse(m[1]!) as string[];
}

describe('Training runs and sweeps (real engine, fake trainer image)', function () {
  this.timeout(60_000);
  let client: EngineClient;
  let docker: Docker;
  let tmp = '';
  /** Every project folder made, for the leak check at the end. */
  const projects: string[] = [];
  /** Project folders of the current test. */
  let current: string[] = [];
  /** Containers found after a test that no run record accounts for. */
  const leaked: string[] = [];
  const timings: string[] = [];
  let t0 = 0;

  /** A new project folder for this test (its name has a space, as real ones do). */
  function project(files: Record<string, string> = {}): string {
    const dir = fs.mkdtempSync(path.join(tmp, 'proj '));
    for (const [rel, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), content);
    }
    projects.push(dir);
    current.push(dir);
    return dir;
  }

  function runnerFor(dir: string, log?: (m: string) => void): Runner {
    return new Runner({ client, store: new RunStore(dir), log });
  }

  /** The run spec of the fake trainer for a project: the existing image, the project mounted, no GPUs. */
  async function trainerSpec(dir: string, args: string[], extra: Partial<RunSpec> = {}): Promise<RunSpec> {
    const image = await resolveImage(client, dir, { kind: 'image', ref: FAKE_TRAINER });
    const spec = await runSpecFor({ projectRoot: dir, command: [...TRAINER, ...args], gpus: { kind: 'none' } }, image);
    return { ...spec, ...extra };
  }

  /** Our containers on the engine for a project folder (labels as the runner writes them). */
  async function containersOf(dir: string, extra: string[] = []): Promise<Docker.ContainerInfo[]> {
    return docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [LABELS.run, `${LABELS.project}=${dir}`, ...extra] }),
    });
  }

  /** Starts a run and waits until its output contains `text`; returns the run and its output so far. */
  async function startAndWait(
    runner: Runner,
    spec: RunSpec,
    text: string,
    signal?: AbortSignal,
  ): Promise<{ record: RunRecord; done: Promise<RunRecord>; output: () => string }> {
    let out = '';
    const started = await runner.start(spec, { signal, onOutput: (c) => (out += c.toString('utf8')) });
    await until(() => out.includes(text), `"${text}" in the output of run ${started.record.id}`);
    return { ...started, output: () => out };
  }

  before(async function () {
    t0 = Date.now();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-runs-'));
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: build the CLI first (npm run build)`);
    client = connectEngine({ env: { DOCKER_HOST: testDockerHost() } });
    docker = await client.docker();
    await requireImage(
      docker,
      DEBIAN_PYTHON,
      'run `MLC_DEBIAN_PYTHON=1 bash scripts/docker-engine-up.sh` (npm test sets MLC_DEBIAN_PYTHON=1)',
    );
    const built = await buildFakeTrainer(docker, tmp);
    timings.push(`fake trainer image ${(built.ms / 1000).toFixed(1)} s`);
  });

  afterEach(async function () {
    // containers the records know are the runs' own (kept after they end, by design); any other is a leak
    for (const dir of current) {
      const records = await new RunStore(dir).listRecords();
      const known = new Set(records.map((r) => r.containerId).filter((id): id is string => !!id));
      for (const c of await containersOf(dir)) {
        if (!known.has(c.Id)) leaked.push(`${c.Names[0] ?? c.Id} (${c.State}, ${this.currentTest?.title ?? ''})`);
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
      }
    }
    current = [];
  });

  after(async function () {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    console.log(`      timings: ${[...timings, `whole file ${((Date.now() - t0) / 1000).toFixed(1)} s`].join(', ')}`);
  });

  it('streams a run: the terminal bytes to onOutput and log.txt, and records its end in run.json', async function () {
    const dir = project({ '.env': 'FROM_ENV=dotenv\n' });
    const runner = runnerFor(dir);
    const spec = await trainerSpec(dir, ['--steps', '2'], { env: { FROM_ENV: 'dotenv' } });
    assert.equal(spec.mountWorkspace, true, 'an existing image gets the project mounted');
    const chunks: Buffer[] = [];
    const t = Date.now();
    const started = await runner.start(spec, { onOutput: (c) => chunks.push(Buffer.from(c)) });
    assert.equal(started.record.state, 'running');
    assert.match(started.record.id, /^\d{8}-\d{6}-[0-9a-f]{4}$/);
    const final = await started.done;
    timings.push(`one run ${((Date.now() - t) / 1000).toFixed(1)} s`);

    const streamed = Buffer.concat(chunks).toString('utf8');
    assert.ok(streamed.includes('\r\x1b[32mepoch 1\x1b[0m #... 1/4'), `no \\r redraw in ${JSON.stringify(streamed)}`);
    assert.ok(streamed.includes('\x1b[1mloss=0.5000\x1b[0m'), 'ANSI colours pass through');
    assert.deepEqual(printedArgs(streamed), ['--steps', '2']);
    const logFile = runner.store.logFile(final.id);
    assert.equal(fs.readFileSync(logFile, 'utf8'), streamed, 'log.txt holds exactly what was streamed');
    assert.equal(lastMetricLine(streamed), 'epoch 2 #### 4/4 loss=0.5000');

    const onDisk = JSON.parse(fs.readFileSync(runner.store.recordFile(final.id), 'utf8')) as RunRecord;
    assert.deepEqual(onDisk, final);
    assert.equal(final.state, 'succeeded');
    assert.equal(final.exitCode, 0);
    assert.equal(final.oomKilled, false);
    assert.equal(final.explanation, null);
    assert.equal(final.project, dir);
    assert.equal(final.image, FAKE_TRAINER);
    assert.equal(final.imageId, (await docker.getImage(FAKE_TRAINER).inspect()).Id);
    assert.match(final.imageId!, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(final.command, [...TRAINER, '--steps', '2']);
    assert.ok(final.startedAt && final.finishedAt);
    assert.ok(Date.parse(final.finishedAt) >= Date.parse(final.startedAt), `${final.startedAt} .. ${final.finishedAt}`);
    assert.equal(final.host.dockerHost, testDockerHost());
    assert.match(final.host.engineVersion ?? '', /^\d+\.\d+/);
    // this engine may not raise RLIMIT_MEMLOCK: then the run dropped it and said so (machine-specific)
    for (const w of final.warnings) assert.match(w, /may not raise the (memlock|stack) limit/);
    assert.ok(fs.readFileSync(path.join(dir, '.ml-containers', '.gitignore'), 'utf8').includes('\n*\n'));

    const info = await docker.getContainer(final.containerId!).inspect();
    assert.equal(info.HostConfig.Init, true);
    assert.equal(info.Config.Tty, true);
    assert.deepEqual(
      // the host's CA bundle, when it configures one, is mounted too (test/engine/build-network.test.ts)
      (info.HostConfig.Mounts ?? [])
        .filter((m) => m.Target !== CONTAINER_CA_FILE)
        .map((m) => [m.Type, m.Source, m.Target]),
      [['bind', dir, '/workspace']],
    );
    assert.equal(info.Config.WorkingDir, '/workspace');
    assert.equal(info.Config.Labels[LABELS.run], final.id);
    assert.equal(info.Config.Labels[LABELS.project], dir);
    assert.ok(info.Config.Env.includes('FROM_ENV=dotenv'));
    assert.ok(info.Config.Env.includes('PYTHONUNBUFFERED=1'));
    assert.equal(info.HostConfig.ShmSize, spec.shm);
  });

  it('builds a scaffold target with resolveImage and runs it with the shm, .env and mount of the project', async function () {
    const dir = project({
      '.devcontainer/Dockerfile': `ARG BASE_IMAGE=scratch\nFROM \${BASE_IMAGE} AS dev\nENV FROM_IMAGE=yes\n`,
      '.devcontainer/devcontainer.json':
        '// made by hand\n{\n  "build": {"dockerfile": "Dockerfile", "context": "..", "target": "dev",\n' +
        `    "args": {"BASE_IMAGE": "${FAKE_TRAINER}"}},\n  "runArgs": ["--shm-size=96m", "--ulimit", "memlock=-1"],\n}\n`,
      '.env': '# the project environment\nexport GREETING="hello world"\n',
      'check.py':
        'import os, json\nprint("check: " + json.dumps([os.getcwd(), os.environ["GREETING"], os.environ["FROM_IMAGE"], ' +
        'os.statvfs("/dev/shm").f_blocks * os.statvfs("/dev/shm").f_frsize, os.path.exists("/workspace/check.py")]))\n',
    });
    const progress: string[] = [];
    const image = await resolveImage(
      client,
      dir,
      { kind: 'target', target: 'dev' },
      { onProgress: (l) => progress.push(l) },
    );
    assert.equal(image.mountWorkspace, true);
    assert.match(image.image, /^mlc\/proj-[a-z0-9_.-]+:dev$/);
    assert.match(progress[0] ?? '', /^Building mlc\/proj-.*:dev \(target dev, \.devcontainer\/Dockerfile\)/);
    try {
      const spec = await runSpecFor(
        { projectRoot: dir, command: ['python3', 'check.py'], gpus: { kind: 'none' }, env: { EXTRA: '1' } },
        image,
      );
      assert.equal(spec.shm, 96 * MiB, 'the shm size of devcontainer.json');
      assert.deepEqual(spec.env, { GREETING: 'hello world', EXTRA: '1' });
      const final = await (await runnerFor(dir).start(spec)).done;
      assert.equal(final.state, 'succeeded', final.explanation ?? '');
      const log = fs.readFileSync(new RunStore(dir).logFile(final.id), 'utf8');
      const m = /check: (.*)\r?\n/.exec(log);
      assert.ok(m, log);
      assert.deepEqual(JSON.parse(m[1]!), ['/workspace', 'hello world', 'yes', 96 * MiB, true]);
    } finally {
      await docker
        .getImage(image.image)
        .remove({ force: true })
        .catch(() => undefined);
    }
  });

  it('a non-zero exit: failed, its exit code, and an explanation', async function () {
    const dir = project();
    const final = await (await runnerFor(dir).start(await trainerSpec(dir, ['--steps', '1', '--exit', '3']))).done;
    assert.equal(final.state, 'failed');
    assert.equal(final.exitCode, 3);
    assert.equal(final.explanation, 'The run exited with code 3: the end of its log says why.');
  });

  it('stop: SIGTERM reaches the trainer through the init, exit 143, state stopped', async function () {
    const dir = project();
    const runner = runnerFor(dir);
    const run = await startAndWait(runner, await trainerSpec(dir, ['--mode', 'forever']), 'ready');
    const t = Date.now();
    const stopped = await runner.stop(run.record.id, 8);
    const ms = Date.now() - t;
    assert.ok(ms < 6000, `stop took ${ms} ms: SIGTERM did not end the trainer, SIGKILL did`);
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.exitCode, 143);
    assert.ok(stopped.stopRequestedAt);
    assert.equal(stopped.explanation, 'The run was stopped (exit code 143).');
    assert.deepEqual(await run.done, stopped);
    assert.equal((await new RunStore(dir).readRecord(run.record.id))?.state, 'stopped');
  });

  it('OOM-killed under a memory limit: exit 137, oomKilled, and the limit in the explanation', async function () {
    const dir = project();
    const spec = await trainerSpec(dir, ['--mode', 'oom'], { memoryBytes: 64 * MiB });
    const final = await (await runnerFor(dir).start(spec)).done;
    assert.equal(final.exitCode, 137);
    assert.equal(final.oomKilled, true);
    assert.equal(final.state, 'failed');
    assert.match(final.explanation ?? '', /ran out of host memory \(its limit is 64 MiB\) \(exit 137, OOMKilled\)/);
  });

  it('CUDA out of memory in the log: the GPU ran out of memory', async function () {
    const dir = project();
    const final = await (
      await runnerFor(dir).start(await trainerSpec(dir, ['--steps', '1', '--mode', 'cuda-oom']))
    ).done;
    assert.equal(final.exitCode, 1);
    assert.equal(final.state, 'failed');
    assert.match(final.explanation ?? '', /^The run failed because a GPU ran out of memory/);
  });

  it('a run survives a reload: a new runner lists it running, adopts it, follows it and records its end', async function () {
    const dir = project();
    const a = runnerFor(dir);
    const follow = new AbortController();
    const run = await startAndWait(a, await trainerSpec(dir, ['--sleep', '2', '--steps', '1']), 'ready', follow.signal);
    follow.abort(); // the window closes: stop following, the container keeps running
    const left = await run.done;
    assert.equal(left.state, 'running');

    const b = runnerFor(dir); // a new window: a new runner and store over the same folder
    const listed = await b.list();
    assert.deepEqual(
      listed.map((r) => [r.id, r.state]),
      [[run.record.id, 'running']],
    );
    const adopted = await b.adoptRunning();
    assert.deepEqual(
      adopted.map((r) => r.id),
      [run.record.id],
    );
    const final = await b.follow(run.record.id);
    assert.equal(final.state, 'succeeded');
    assert.equal(final.exitCode, 0);
    assert.ok(final.finishedAt);
    const log = fs.readFileSync(b.store.logFile(run.record.id), 'utf8');
    assert.ok(log.startsWith('args: '), 'the log is whole again, from the start');
    assert.match(log, /loss=1\.0000/);
    assert.equal((await b.list()).find((r) => r.id === run.record.id)?.state, 'succeeded');
  });

  it('a running container whose run.json was deleted gets its record back from its labels', async function () {
    const dir = project();
    const a = runnerFor(dir);
    const spec = await trainerSpec(dir, ['--mode', 'forever'], { sweepId: 'sweep-by-hand', params: { lr: '1e-4' } });
    const run = await startAndWait(a, spec, 'ready', AbortSignal.timeout(60_000));
    fs.rmSync(a.store.recordFile(run.record.id));
    const b = runnerFor(dir);
    const listed = await b.list();
    assert.equal(listed.length, 1);
    const r = listed[0]!;
    assert.equal(r.id, run.record.id);
    assert.equal(r.state, 'running');
    assert.equal(r.containerId, run.record.containerId);
    assert.equal(r.containerName, run.record.containerName);
    assert.equal(r.sweepId, 'sweep-by-hand');
    assert.deepEqual(r.params, { lr: '1e-4' });
    assert.ok(fs.existsSync(b.store.recordFile(r.id)), 'run.json is written again');
    const stopped = await b.stop(r.id, 5);
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.exitCode, 143);
    assert.equal((await run.done).state, 'stopped', "the first runner's follow sees the stop recorded");
  });

  it('exec into a running run works (Attach Shell): a command, and a terminal shell', async function () {
    const dir = project();
    const runner = runnerFor(dir);
    const run = await startAndWait(runner, await trainerSpec(dir, ['--mode', 'forever']), 'ready');
    const container = docker.getContainer(run.record.containerId!);
    const exec = await container.exec({ Cmd: ['python3', '-c', 'print(42)'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const bufs: Buffer[] = [];
    stream.on('data', (d: Buffer) => bufs.push(d));
    await new Promise((r) => stream.on('end', r));
    assert.equal(demuxLogs(Buffer.concat(bufs)).stdout, '42\n');
    assert.equal((await exec.inspect()).ExitCode, 0);

    const shell = await openShell(client, run.record.containerId!, { columns: 100, rows: 30 });
    let seen = '';
    (shell.stream as Duplex).on('data', (d: Buffer) => (seen += d.toString('utf8')));
    shell.stream.write('echo "answer=$((6*7))"; exit 5\n');
    assert.equal(await shell.exited, 5);
    assert.match(seen, /answer=42/);
    await runner.stop(run.record.id, 5);
  });

  it('a GPU request on an engine without the NVIDIA runtime: one sentence, a failed record, no container', async function () {
    const dir = project();
    const runner = runnerFor(dir);
    const spec = await trainerSpec(dir, [], { gpus: { kind: 'all' } });
    const err = await runner.start(spec).then(
      () => assert.fail('the run started without a GPU runtime'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RunStartError, String(err));
    assert.equal(err.problemId, 'no-container-gpu-runtime');
    assert.ok(err.message.includes('cannot give containers a GPU'), err.message);
    assert.ok(err.message.includes('NVIDIA Container Toolkit'), err.message);
    assert.equal(err.record.state, 'failed');
    const recorded = await runner.store.readRecord(err.record.id);
    assert.equal(recorded?.state, 'failed');
    assert.equal(recorded?.explanation, err.message);
    assert.equal(recorded?.containerId, null);
    assert.deepEqual(await containersOf(dir), [], 'the container that could not start is removed');
  });

  it('an image that does not exist: neither on this engine nor in its registry', async function () {
    const dir = project();
    const runner = runnerFor(dir);
    const spec = await trainerSpec(dir, [], { image: 'mlc-test/no-such-image:missing' });
    await assert.rejects(runner.start(spec), (err: unknown) => {
      assert.ok(err instanceof RunStartError);
      assert.equal(err.problemId, 'image-not-found');
      assert.match(
        err.message,
        /^The image mlc-test\/no-such-image:missing is neither on this engine nor in its registry: build or pull it/,
      );
      assert.equal(err.record.state, 'failed');
      return true;
    });
    assert.deepEqual(await containersOf(dir), []);
  });

  describe('sweeps', function () {
    /** Spec of a variant: the trainer's argv from the sweep, no GPUs. */
    async function specFor(dir: string, sweep: SweepState): Promise<(v: SweepVariantState) => RunSpec> {
      const base = await trainerSpec(dir, []);
      return (v) => ({ ...base, command: v.command, sweepId: sweep.id, params: v.params });
    }

    it('runs a 3 x 4 grid, at most 3 at a time, and records every run and the sweep', async function () {
      const dir = project();
      const runner = runnerFor(dir);
      const file = parseSweepFile(
        'command: python3 /trainer.py --sleep 1 --steps 1 --a {a} --b {b}\ngrid:\n  a: [1, 2, 3]\n' +
          '  b: [w, x, y, z]\ngpusPerRun: 0\nmaxParallel: 3\n',
      );
      const sweep = newSweep({ project: dir, file: 'sweep.yaml', sweep: file, image: FAKE_TRAINER, gpus: [] });
      let maxRunning = 0;
      const t = Date.now();
      const final = await runSweep(sweep, {
        runner,
        specFor: await specFor(dir, sweep),
        onChange: (s) => {
          maxRunning = Math.max(maxRunning, s.variants.filter((v) => v.state === 'running').length);
        },
      });
      timings.push(`12-run sweep ${((Date.now() - t) / 1000).toFixed(1)} s`);
      assert.equal(final.state, 'succeeded', JSON.stringify(final.variants.map((v) => v.explanation)));
      assert.ok(maxRunning <= 3, `${maxRunning} runs at once`);
      assert.ok(maxRunning >= 2, 'the runs overlapped');
      const onDisk = await readSweep(runner.store, sweep.id);
      assert.equal(onDisk?.state, 'succeeded');
      assert.equal(onDisk?.owner, null);
      assert.ok(onDisk?.finishedAt);
      assert.deepEqual(
        onDisk?.variants.map((v) => [v.params, v.state, v.exitCode]),
        expandGrid({ a: ['1', '2', '3'], b: ['w', 'x', 'y', 'z'] }).map((v) => [v.params, 'succeeded', 0]),
      );
      const runDirs = fs.readdirSync(path.join(runner.store.dir, 'runs'));
      assert.equal(runDirs.length, 12);
      for (const v of onDisk!.variants) {
        assert.ok(runDirs.includes(v.runId!));
        const rec = await runner.store.readRecord(v.runId!);
        assert.equal(rec?.state, 'succeeded');
        assert.equal(rec?.sweepId, sweep.id);
        assert.deepEqual(rec?.params, v.params);
        assert.deepEqual(printedArgs(fs.readFileSync(runner.store.logFile(v.runId!), 'utf8')), v.command.slice(2));
      }
      const containers = await containersOf(dir, [`${LABELS.sweep}=${sweep.id}`]);
      assert.equal(containers.length, 12, 'one container per run, none left over from a retried start');
      assert.ok(containers.every((c) => c.State === 'exited'));
    });

    it('passes hostile parameter values to the program literally, one argument each', async function () {
      const dir = project();
      const runner = runnerFor(dir);
      const file = parseSweepFile(
        "command: python3 /trainer.py --steps 0 --x {x} --tag=v-{x}\ngrid:\n  x: ['; rm -rf /', '$(id)', 'a b', " +
          "'\"quoted\"', '{x}']\ngpusPerRun: 0\nmaxParallel: 5\n",
      );
      const values = ['; rm -rf /', '$(id)', 'a b', '"quoted"', '{x}'];
      assert.deepEqual(file.grid.x, values);
      const sweep = newSweep({ project: dir, file: 'sweep.yaml', sweep: file, image: FAKE_TRAINER, gpus: [] });
      const final = await runSweep(sweep, { runner, specFor: await specFor(dir, sweep) });
      assert.equal(final.state, 'succeeded');
      for (const v of final.variants) {
        const log = fs.readFileSync(runner.store.logFile(v.runId!), 'utf8');
        const x = values[v.index]!;
        assert.deepEqual(printedArgs(log), ['--steps', '0', '--x', x, `--tag=v-${x}`]);
      }
    });

    it('survives a reload: detached with runs going, resumed by a new runner, every variant run exactly once', async function () {
      const dir = project();
      const file = parseSweepFile(
        'command: python3 /trainer.py --sleep 1 --steps 1 --i {i}\ngrid:\n  i: [1, 2, 3, 4, 5, 6]\n' +
          'gpusPerRun: 0\nmaxParallel: 2\n',
      );
      const first = newSweep({ project: dir, file: 'sweep.yaml', sweep: file, image: FAKE_TRAINER, gpus: [] });
      const detach = new AbortController();
      const a = runnerFor(dir);
      const left = await runSweep(first, {
        runner: a,
        specFor: await specFor(dir, first),
        detach: detach.signal,
        onChange: (s) => {
          if (s.variants.filter((v) => v.state === 'running').length >= 2) detach.abort(); // the window closes
        },
      });
      assert.equal(left.owner, null);
      const saved = await readSweep(a.store, first.id);
      assert.ok(saved);
      assert.equal(saved.owner, null);
      assert.equal(saved.state, 'running');
      assert.deepEqual(
        saved.variants.map((v) => v.state),
        ['running', 'running', 'queued', 'queued', 'queued', 'queued'],
      );
      const runningIds = saved.variants.slice(0, 2).map((v) => v.runId);
      for (const id of runningIds) assert.equal((await a.store.readRecord(id!))?.state, 'running');

      const b = runnerFor(dir); // a new window resumes it
      const final = await runSweep((await readSweep(b.store, first.id))!, {
        runner: b,
        specFor: await specFor(dir, first),
      });
      assert.equal(final.state, 'succeeded', JSON.stringify(final.variants.map((v) => v.explanation)));
      assert.ok(final.variants.every((v) => v.state === 'succeeded' && v.exitCode === 0));
      assert.deepEqual(
        final.variants.slice(0, 2).map((v) => v.runId),
        runningIds,
        'the runs that were going are adopted, not started again',
      );
      const runIds = final.variants.map((v) => v.runId);
      assert.equal(new Set(runIds).size, 6);
      assert.deepEqual(fs.readdirSync(path.join(b.store.dir, 'runs')).sort(), [...runIds].sort());
      assert.equal((await containersOf(dir)).length, 6, 'no variant ran twice');
      for (const id of runIds) {
        const rec = await b.store.readRecord(id!);
        assert.ok(rec && isFinished(rec) && rec.state === 'succeeded', JSON.stringify(rec));
      }
      assert.equal((await readSweep(b.store, first.id))?.state, 'succeeded');
    });
    it('cancel: stops the running runs, leaves the rest unstarted, and rejects with CancellationError', async function () {
      const dir = project();
      const runner = runnerFor(dir);
      const file = parseSweepFile(
        'command: python3 /trainer.py --mode forever --i {i}\ngrid:\n  i: [1, 2, 3]\ngpusPerRun: 0\nmaxParallel: 2\n',
      );
      const sweep = newSweep({ project: dir, file: 'sweep.yaml', sweep: file, image: FAKE_TRAINER, gpus: [] });
      const cancel = new AbortController();
      const outputs = new Map<number, string>();
      const going = runSweep(sweep, {
        runner,
        specFor: await specFor(dir, sweep),
        signal: cancel.signal,
        onOutput: (v, chunk) => outputs.set(v.index, (outputs.get(v.index) ?? '') + chunk.toString('utf8')),
      });
      await until(() => [0, 1].every((i) => outputs.get(i)?.includes('ready')), 'the first two runs to be ready');
      assert.deepEqual(printedArgs(outputs.get(1)!), ['--mode', 'forever', '--i', '2'], 'output tagged by variant');
      cancel.abort();
      await assert.rejects(going, CancellationError);
      const saved = await readSweep(runner.store, sweep.id);
      assert.equal(saved?.state, 'cancelled');
      assert.equal(saved?.owner, null);
      assert.deepEqual(
        saved?.variants.map((v) => [v.state, v.exitCode]),
        [
          ['stopped', 143],
          ['stopped', 143],
          ['not-started', null],
        ],
      );
      assert.equal(saved?.variants[2]?.explanation, 'Not started: the sweep was cancelled.');
      assert.ok((await containersOf(dir)).every((c) => c.State === 'exited'));
    });
  });

  describe('the command line (dist/cli.js)', function () {
    it('run: streams the output and exits with the exit code of the container', async function () {
      const dir = project();
      const r = await cli([
        'run',
        dir,
        '--image',
        FAKE_TRAINER,
        '--gpus',
        'none',
        '--',
        ...TRAINER,
        '--steps',
        '1',
        '--exit',
        '3',
      ]);
      assert.equal(r.status, 3, r.stderr);
      const [id, ...rest] = r.stdout.split('\n');
      assert.match(id!, /^\d{8}-\d{6}-[0-9a-f]{4}$/);
      const output = rest.join('\n');
      assert.deepEqual(printedArgs(output), ['--steps', '1', '--exit', '3']);
      assert.ok(output.includes('\r\x1b[32mepoch 1'), 'the raw terminal bytes');
      assert.match(r.stderr, /The run exited with code 3: the end of its log says why\./);
      const rec = await new RunStore(dir).readRecord(id!);
      assert.equal(rec?.state, 'failed');
      assert.equal(rec?.exitCode, 3);
    });

    it('run --detach returns while the run goes on; logs --follow streams it to its end; ps and stop', async function () {
      const dir = project();
      const r = await cli([
        'run',
        dir,
        '-d',
        '--image',
        FAKE_TRAINER,
        '--gpus',
        'none',
        '--',
        ...TRAINER,
        '--sleep',
        '4',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const id = r.stdout.trim();
      assert.match(id, /^\d{8}-\d{6}-[0-9a-f]{4}$/);
      assert.match(r.stderr, new RegExp(`logs ${id} --follow`));
      const ps = await cli(['ps', dir, '--json']);
      assert.equal(ps.status, 0, ps.stderr);
      const runs = JSON.parse(ps.stdout) as RunRecord[];
      assert.deepEqual(
        runs.map((x) => [x.id, x.state]),
        [[id, 'running']],
        'run --detach returned before the run ended',
      );
      const logs = await cli(['logs', id.slice(0, 17), '--follow', '--dir', dir]);
      assert.equal(logs.status, 0, logs.stderr);
      assert.ok(logs.stdout.startsWith('args: '), logs.stdout);
      assert.match(logs.stdout, /loss=0\.5000/);
      const after = JSON.parse((await cli(['ps', dir, '--json'])).stdout) as RunRecord[];
      assert.equal(after[0]?.state, 'succeeded');
      assert.equal(after[0]?.exitCode, 0);
      const table = await cli(['ps', dir]);
      assert.match(table.stdout, new RegExp(`^${id}\\s+succeeded\\s+0\\s+none\\s+`, 'm'));

      const forever = await cli([
        'run',
        dir,
        '-d',
        '--image',
        FAKE_TRAINER,
        '--gpus',
        'none',
        '--',
        ...TRAINER,
        '--mode',
        'forever',
      ]);
      assert.equal(forever.status, 0, forever.stderr);
      const stop = await cli(['stop', forever.stdout.trim(), '--dir', dir, '--time', '5']);
      assert.equal(stop.status, 0, stop.stderr);
      assert.equal(stop.stdout.trim(), `${forever.stdout.trim()}: stopped (exit 143)`);
    });

    it('sweep: runs the file, prints the summary, and exits 1 when a run failed', async function () {
      const dir = project({
        'sweep.yaml': 'command: python3 /trainer.py --steps 1 --exit {code}\ngrid:\n  code: [0, 4]\ngpusPerRun: 1\n',
      });
      const r = await cli([
        'sweep',
        dir,
        '--file',
        path.join(dir, 'sweep.yaml'),
        '--image',
        FAKE_TRAINER,
        '--gpus',
        'none',
      ]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(
        r.stderr,
        /^Sweep sweep-\S+: 2 runs of mlc-test\/fake-trainer:runs, at most 2 at a time, no GPUs\./m,
      );
      assert.match(r.stdout, /^Sweep sweep-\S+: 1 of 2 runs succeeded \(failed\)\./);
      assert.match(r.stdout, /^0\s+0\s+succeeded\s+0\s+epoch 1 #### 4\/4 loss=1\.0000$/m);
      assert.match(r.stdout, /^1\s+4\s+failed\s+4\s+epoch 1 #### 4\/4 loss=1\.0000$/m);
    });

    it('sweep --resume: continues a sweep that no process supervises, with the env of its file', async function () {
      const dir = project();
      const file = parseSweepFile(
        "command: [python3, -c, \"import os, sys; print('env: ' + os.environ.get('SWEEP_ENV', 'unset') + " +
          '\' arg: \' + sys.argv[1])", "{x}"]\ngrid:\n  x: [a, b]\ngpusPerRun: 0\nenv:\n  SWEEP_ENV: from-the-file\n',
      );
      const sweep = newSweep({ project: dir, file: 'sweep.yaml', sweep: file, image: FAKE_TRAINER, gpus: [] });
      const store = new RunStore(dir);
      fs.mkdirSync(path.dirname(store.sweepFile(sweep.id)), { recursive: true });
      fs.writeFileSync(store.sweepFile(sweep.id), JSON.stringify(sweep)); // as a window that closed at once leaves it
      const r = await cli(['sweep', dir, '--resume', sweep.id]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Sweep sweep-\S+: 2 of 2 runs succeeded \(succeeded\)\./);
      const done = await readSweep(store, sweep.id);
      for (const v of done!.variants) {
        assert.match(
          fs.readFileSync(store.logFile(v.runId!), 'utf8'),
          new RegExp(`env: from-the-file arg: ${v.params.x}`),
        );
      }
    });
  });

  describe('at the end', function () {
    it('leaves no container behind that no run record accounts for', async function () {
      assert.deepEqual(leaked, []);
      const ours = new Set(projects);
      const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [LABELS.run] }) });
      assert.deepEqual(
        left.filter((c) => ours.has(c.Labels[LABELS.project] ?? '')).map((c) => c.Names[0]),
        [],
      );
    });
  });
});
