/**
 * src/core/runs' pure parts: `--gpus` values and the DeviceRequests they become, the container create options of a
 * run, .env files, devcontainer.json runArgs (a real scaffold golden), byte sizes, sweep files, the grid, argv
 * substitution with hostile values, the GPU pool, failure explanations over real PyTorch/NCCL texts, the last metric
 * line of a terminal log, and the run store on disk.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  commandFor,
  containerCreateOptions,
  containerNameFor,
  deviceRequests,
  expandGrid,
  explainRunExit,
  formatGpuSelection,
  GpuPool,
  imageNameFor,
  LABELS,
  lastMetricLine,
  newRunId,
  newSweep,
  parseByteSize,
  parseEnvFile,
  parseGpuSelection,
  parseSweepFile,
  type RunRecord,
  type RunSpec,
  type Runner,
  RunStore,
  runSweep,
  runtimeFromDevcontainer,
  SweepFileError,
  WORKSPACE_DIR,
} from '../../src/core/runs';
import { FIXTURES, tempDir } from './helpers';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const UUID = 'GPU-c422a366-d6ee-b87d-50f4-1882b1497d37';

/** The message of the error `fn` throws (fails the test when it does not throw). */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('expected an error');
}

/** A DeviceRequest as JSON on the wire, with the `null` fields Go's encoder writes left out (null = absent). */
function wire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (_k, v: unknown) => (v === null ? undefined : v));
}

describe('runs: --gpus values', () => {
  it('reads all, none, indices, UUIDs and the quoted device= form docker run takes', () => {
    assert.deepEqual(parseGpuSelection('all'), { kind: 'all' });
    assert.deepEqual(parseGpuSelection(' all '), { kind: 'all' });
    assert.deepEqual(parseGpuSelection('none'), { kind: 'none' });
    assert.deepEqual(parseGpuSelection('0,1'), { kind: 'devices', ids: ['0', '1'] });
    assert.deepEqual(parseGpuSelection('0, 1'), { kind: 'devices', ids: ['0', '1'] });
    assert.deepEqual(parseGpuSelection('3'), { kind: 'devices', ids: ['3'] });
    assert.deepEqual(parseGpuSelection(UUID), { kind: 'devices', ids: [UUID] });
    assert.deepEqual(parseGpuSelection(`0,${UUID}`), { kind: 'devices', ids: ['0', UUID] });
    assert.deepEqual(parseGpuSelection('device=2,3'), { kind: 'devices', ids: ['2', '3'] });
    // what the shell passes for `--gpus '"device=0,1"'` (the docker docs' form): the quotes are part of the value
    assert.deepEqual(parseGpuSelection('"device=0,1"'), { kind: 'devices', ids: ['0', '1'] });
  });

  it('refuses anything else with one sentence that shows the forms it takes', () => {
    for (const bad of ['gpu0', '0;rm -rf /', '0 1', 'device=', ',', '$(id)', '-1', 'GPU-xyz', 'count=2']) {
      const msg = thrown(() => parseGpuSelection(bad));
      assert.ok(msg.startsWith(`"${bad}" is not a GPU selection`), msg);
      assert.match(msg, /use all, none, or GPU indices or UUIDs separated by commas \(e\.g\. 0,1\)\.$/);
    }
  });

  it('formats a selection back as the --gpus value', () => {
    assert.equal(formatGpuSelection({ kind: 'all' }), 'all');
    assert.equal(formatGpuSelection({ kind: 'none' }), 'none');
    assert.equal(formatGpuSelection({ kind: 'devices', ids: ['0', '1'] }), '0,1');
  });

  it('sends the DeviceRequests `docker run --gpus` sends (docker/cli opts/gpus.go)', () => {
    // `docker run --gpus all`: count "all" is -1, no device IDs, the gpu capability, empty options
    const dockerAll = { Driver: '', Count: -1, DeviceIDs: null, Capabilities: [['gpu']], Options: {} };
    // `docker run --gpus '"device=0,1"'`: device IDs and no count (0)
    const dockerDevices = { Driver: '', Count: 0, DeviceIDs: ['0', '1'], Capabilities: [['gpu']], Options: {} };
    assert.deepEqual(wire(deviceRequests(parseGpuSelection('all'))), [wire(dockerAll)]);
    assert.deepEqual(wire(deviceRequests(parseGpuSelection('"device=0,1"'))), [wire(dockerDevices)]);
    assert.deepEqual(wire(deviceRequests(parseGpuSelection('0,1'))), [wire(dockerDevices)]);
    assert.deepEqual(deviceRequests({ kind: 'none' }), []);
    assert.deepEqual(deviceRequests({ kind: 'devices', ids: [UUID] })[0]!.DeviceIDs, [UUID]);
  });
});

describe('runs: container create options', () => {
  const spec: RunSpec = {
    projectRoot: '/home/ada/My Project',
    image: 'mlc/my-project:dev',
    command: ['python', 'train.py', '--lr', '1e-4'],
    gpus: { kind: 'all' },
    mountWorkspace: true,
    env: { WANDB_MODE: 'offline', PYTHONUNBUFFERED: '0' },
    shm: 16 * GiB,
    memoryBytes: 8 * GiB,
    ports: [6006],
    sweepId: 'sweep-20261126-153012-a1b2',
    params: { lr: '1e-4' },
  };
  const id = '20261126-153012-a1b2';

  it("a host user other than the image's runs as itself, in the environment's group, with a writable home", () => {
    const o = containerCreateOptions({ ...spec, user: { uid: 4321, gid: 4321 } }, id, 'mlc-my-project-x');
    assert.equal(o.User, '4321:4321');
    assert.deepEqual(o.HostConfig.GroupAdd, ['mlc-env']);
    assert.ok(o.Env?.includes('HOME=/tmp'));
    const plain = containerCreateOptions(spec, id, 'mlc-my-project-x');
    assert.equal(plain.User, undefined);
    assert.equal(plain.HostConfig.GroupAdd, undefined);
  });

  it('runs the command as argv in place of the entry point, with an init, a terminal, GPUs, shm and labels', () => {
    const o = containerCreateOptions(spec, id, 'mlc-my-project-x');
    assert.equal(o.name, 'mlc-my-project-x');
    assert.equal(o.Image, 'mlc/my-project:dev');
    assert.deepEqual(o.Entrypoint, []);
    assert.deepEqual(o.Cmd, ['python', 'train.py', '--lr', '1e-4']);
    assert.equal(o.WorkingDir, WORKSPACE_DIR);
    assert.equal(o.Tty, true);
    assert.equal(o.OpenStdin, false);
    assert.deepEqual(o.Labels, {
      [LABELS.run]: id,
      [LABELS.project]: '/home/ada/My Project',
      [LABELS.sweep]: 'sweep-20261126-153012-a1b2',
      [LABELS.params]: '{"lr":"1e-4"}',
    });
    // the run's own environment wins over the default
    assert.deepEqual(o.Env, ['PYTHONUNBUFFERED=0', 'WANDB_MODE=offline']);
    const h = o.HostConfig;
    assert.equal(h.Init, true, 'an init forwards SIGTERM to the training process and reaps its workers');
    assert.equal(h.AutoRemove, false, 'the container outlives its end: its log and exit state are read after');
    assert.deepEqual(h.DeviceRequests, deviceRequests({ kind: 'all' }));
    assert.deepEqual(h.Mounts, [{ Type: 'bind', Source: '/home/ada/My Project', Target: '/workspace' }]);
    assert.equal(h.ShmSize, 16 * GiB);
    assert.equal(h.IpcMode, undefined);
    assert.equal(h.Memory, 8 * GiB);
    assert.equal(h.MemorySwap, 8 * GiB, 'no swap on top of the limit');
    assert.deepEqual(h.Ulimits, [
      { Name: 'memlock', Soft: -1, Hard: -1 },
      { Name: 'stack', Soft: 67108864, Hard: 67108864 },
    ]);
    assert.deepEqual(o.ExposedPorts, { '6006/tcp': {} });
    assert.deepEqual(h.PortBindings, { '6006/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  });

  it('binds the project only when asked, shares the host IPC for --ipc=host, and keeps the image command', () => {
    const o = containerCreateOptions(
      { ...spec, mountWorkspace: false, shm: 'host', command: [], memoryBytes: undefined, ports: [] },
      id,
      'n',
    );
    assert.deepEqual(o.HostConfig.Mounts, []);
    assert.equal(o.WorkingDir, undefined);
    assert.equal(o.HostConfig.IpcMode, 'host');
    assert.equal(o.HostConfig.ShmSize, undefined);
    assert.ok(!('Entrypoint' in o) && !('Cmd' in o), "an empty command keeps the image's entry point and command");
    assert.equal(o.HostConfig.Memory, undefined);
    assert.equal(o.HostConfig.MemorySwap, undefined);
    assert.deepEqual(o.ExposedPorts, {});
  });

  it('labels a lone run without sweep or params, and gives no GPUs for none', () => {
    const o = containerCreateOptions({ ...spec, sweepId: undefined, params: {}, gpus: { kind: 'none' } }, id, 'n');
    assert.deepEqual(o.Labels, { [LABELS.run]: id, [LABELS.project]: '/home/ada/My Project' });
    assert.deepEqual(o.HostConfig.DeviceRequests, []);
  });

  it('names runs, containers and images as the engine allows', () => {
    assert.match(newRunId(new Date(2026, 10, 26, 15, 30, 12)), /^20261126-153012-[0-9a-f]{4}$/);
    assert.notEqual(newRunId(), newRunId());
    assert.equal(containerNameFor('/home/ada/My Project', id), `mlc-my-project-${id}`);
    assert.equal(containerNameFor('/tmp/--weird', id), `mlc-weird-${id}`);
    assert.equal(containerNameFor('/', id), `mlc-project-${id}`);
    assert.equal(imageNameFor('/home/ada/My Project!', 'train'), 'mlc/my-project:train');
    assert.equal(imageNameFor('/srv/_', 'dev'), 'mlc/project:dev');
  });
});

describe('runs: .env files', () => {
  it("reads dotenv's syntax: export, quotes, comments, = in values, escaped newlines", () => {
    const text = [
      '# secrets for the run',
      'export WANDB_API_KEY=abc123',
      'HF_HOME="/data/hf cache"',
      "TAG='x#y'",
      'ARGS=--a=b # a comment',
      'MULTI="line1\\nline2"',
      '',
      'EMPTY=',
    ].join('\n');
    assert.deepEqual(parseEnvFile(text), {
      WANDB_API_KEY: 'abc123',
      HF_HOME: '/data/hf cache',
      TAG: 'x#y',
      ARGS: '--a=b',
      MULTI: 'line1\nline2',
      EMPTY: '',
    });
    assert.deepEqual(parseEnvFile(''), {});
  });
});

describe('runs: devcontainer.json runArgs', () => {
  it('reads --shm-size=16g from the pytorch-ddp scaffold golden', () => {
    const file = path.join(FIXTURES, 'scaffold', 'pytorch-ddp', '.devcontainer', 'devcontainer.json');
    const rt = runtimeFromDevcontainer(fs.readFileSync(file, 'utf8'), file);
    assert.deepEqual(rt, { shm: 16 * GiB, source: file });
  });

  it('reads --ipc=host and the two-token forms', () => {
    assert.equal(runtimeFromDevcontainer('{"runArgs": ["--ipc=host"]}', 'f').shm, 'host');
    assert.equal(runtimeFromDevcontainer('{"runArgs": ["--ipc", "host"]}', 'f').shm, 'host');
    assert.equal(runtimeFromDevcontainer('{"runArgs": ["--shm-size", "512m"]}', 'f').shm, 512 * MiB);
    assert.equal(runtimeFromDevcontainer('// none\n{"runArgs": ["--gpus", "all"],}', 'f').shm, undefined);
    assert.deepEqual(runtimeFromDevcontainer('{}', 'f'), { source: 'f' });
  });

  it('names the file, the error, and its line:column when the JSON is malformed', () => {
    const text = '{\n  "runArgs": [\n    "--shm-size=8g"\n    "--ipc=host"\n  ]\n}\n';
    const msg = thrown(() => runtimeFromDevcontainer(text, '.devcontainer/devcontainer.json'));
    assert.equal(msg, '.devcontainer/devcontainer.json is not valid JSON with comments (CommaExpected at 4:5).');
  });
});

describe('runs: byte sizes', () => {
  it('reads sizes as docker --shm-size and --memory do', () => {
    assert.equal(parseByteSize('16g'), 16 * GiB);
    assert.equal(parseByteSize('16G'), 16 * GiB);
    assert.equal(parseByteSize('1gb'), GiB);
    assert.equal(parseByteSize('512m'), 512 * MiB);
    assert.equal(parseByteSize('64k'), 64 * 1024);
    assert.equal(parseByteSize('2048'), 2048);
    assert.equal(parseByteSize('2048b'), 2048);
    assert.equal(parseByteSize('1.5g'), 1.5 * GiB);
    assert.equal(parseByteSize(' 2 t '), 2 * 1024 ** 4);
    for (const bad of ['', 'g', '-1g', '16x', 'lots', '1,5g']) assert.equal(parseByteSize(bad), undefined, bad);
  });
});

/** The example sweep file: a learning-rate by batch-size grid. */
const SWEEP_YAML = `# sweep.yaml: learning rate x batch size
command: python train.py --lr {lr} --batch-size {bs} --epochs 3
grid:
  lr: [1e-4, 3e-4, 1e-3]
  bs: [32, 64]
gpusPerRun: 1
maxParallel: 4
env:
  WANDB_MODE: offline
`;

describe('runs: sweep files', () => {
  it('reads the example: argv template, values as written (1e-4 stays 1e-4), defaults', () => {
    const s = parseSweepFile(SWEEP_YAML);
    assert.deepEqual(s, {
      command: ['python', 'train.py', '--lr', '{lr}', '--batch-size', '{bs}', '--epochs', '3'],
      grid: { lr: ['1e-4', '3e-4', '1e-3'], bs: ['32', '64'] },
      gpusPerRun: 1,
      runsPerGpu: 1,
      maxParallel: 4,
      env: { WANDB_MODE: 'offline' },
    });
    const min = parseSweepFile('command: python t.py --x {x}\ngrid:\n  x: [0.10, 1.0, true, "a b"]\n');
    assert.deepEqual(min.grid, { x: ['0.10', '1.0', 'true', 'a b'] });
    assert.equal(min.gpusPerRun, 1);
    assert.equal(min.maxParallel, undefined);
    assert.deepEqual(parseSweepFile('command: t {x}\ngrid:\n  x: 5\n').grid, { x: ['5'] });
  });

  it('takes the command as a list, each element one argument, nothing split or interpreted', () => {
    const s = parseSweepFile(
      'command: [bash, -c, "python train.py --lr \\"$0\\" | tee out.log", "{lr}"]\ngrid:\n  lr: [1e-4]\n',
    );
    assert.deepEqual(s.command, ['bash', '-c', 'python train.py --lr "$0" | tee out.log', '{lr}']);
    const list = parseSweepFile('command:\n  - python\n  - "--name=a b; c"\n  - --x={x}\ngrid:\n  x: [1]\n');
    assert.deepEqual(list.command, ['python', '--name=a b; c', '--x={x}']);
  });

  it('splits a command line like a shell, keeping quotes together and $VAR literal', () => {
    const s = parseSweepFile(`command: python t.py --name "a b" --out '$HOME/x' --x={x}\ngrid:\n  x: [1]\n`);
    assert.deepEqual(s.command, ['python', 't.py', '--name', 'a b', '--out', '$HOME/x', '--x={x}']);
  });

  it('refuses an unknown key, naming its line and the keys a sweep file has', () => {
    const msg = thrown(() => parseSweepFile('command: t {x}\ngrid:\n  x: [1]\nmaxparallel: 2\n', 'sweeps/lr.yaml'));
    assert.equal(
      msg,
      'sweeps/lr.yaml:4: unknown key "maxparallel"; a sweep file has command, grid, gpusPerRun, maxParallel, ' +
        'runsPerGpu, env.',
    );
  });

  it('refuses a placeholder the grid does not define', () => {
    const text = 'grid:\n  lr: [1e-4]\ncommand: python t.py --lr {lr} --wd {wd}\n';
    const msg = thrown(() => parseSweepFile(text));
    assert.equal(msg, 'sweep.yaml:3: the command uses {wd}, which "grid" does not define (it has lr).');
  });

  it('refuses shell operators in a command line, with the list form as the hint', () => {
    for (const [line, op] of [
      ['python t.py --lr {lr}; rm -rf /', ';'],
      ['python t.py --lr {lr} | tee out.log', '|'],
      ['python t.py --lr {lr} > out.log', '>'],
      ['python t.py --lr {lr} && echo done', '&&'],
    ] as const) {
      const err = (() => {
        try {
          parseSweepFile(`command: ${line}\ngrid:\n  lr: [1e-4]\n`);
        } catch (e) {
          return e as Error;
        }
        assert.fail(`"${line}" was accepted`);
      })();
      assert.ok(err instanceof SweepFileError);
      assert.ok(err.message.startsWith(`sweep.yaml:1: "${op}" in "command": commands run without a shell`), line);
      assert.ok(err.message.includes('["bash", "-c", "python train.py --lr \\"$0\\" | tee out.log", "{lr}"]'));
    }
  });

  it('refuses bad numbers, a missing grid or command, and invalid YAML, each with its line', () => {
    const base = 'command: t {x}\ngrid:\n  x: [1]\n';
    for (const bad of ['-1', '1.5', 'two', '[1]']) {
      assert.equal(
        thrown(() => parseSweepFile(`${base}gpusPerRun: ${bad}\n`)),
        'sweep.yaml:4: "gpusPerRun" must be a whole number of at least 0.',
        bad,
      );
    }
    assert.equal(parseSweepFile(`${base}gpusPerRun: 0\n`).gpusPerRun, 0);
    assert.match(
      thrown(() => parseSweepFile(`${base}maxParallel: 0\n`)),
      /"maxParallel" must be .* at least 1\./,
    );
    assert.match(
      thrown(() => parseSweepFile(`${base}runsPerGpu: 0\n`)),
      /"runsPerGpu" must be .* at least 1\./,
    );
    assert.match(
      thrown(() => parseSweepFile('command: t\n')),
      /"grid" must map each parameter to a list/,
    );
    assert.match(
      thrown(() => parseSweepFile('grid:\n  x: [1]\n')),
      /"command" must be a command line or a list/,
    );
    assert.match(
      thrown(() => parseSweepFile('command: t {x}\ngrid:\n  x: {a: 1}\n')),
      /:3: "x" must be a list of plain values .*, but it is a mapping;/,
    );
    assert.match(
      thrown(() => parseSweepFile('command: t {x}\ngrid:\n  x: [1\n')),
      /^sweep\.yaml(:\d+)? is not valid/,
    );
    assert.match(
      thrown(() => parseSweepFile('- a\n- b\n')),
      /must be a mapping with "command" and "grid"/,
    );
  });
});

describe('runs: grid and argv substitution', () => {
  it('expands the grid with the last parameter varying fastest (3 x 2 = 6)', () => {
    const v = expandGrid({ lr: ['1e-4', '3e-4', '1e-3'], bs: ['32', '64'] });
    assert.deepEqual(v, [
      { index: 0, params: { lr: '1e-4', bs: '32' } },
      { index: 1, params: { lr: '1e-4', bs: '64' } },
      { index: 2, params: { lr: '3e-4', bs: '32' } },
      { index: 3, params: { lr: '3e-4', bs: '64' } },
      { index: 4, params: { lr: '1e-3', bs: '32' } },
      { index: 5, params: { lr: '1e-3', bs: '64' } },
    ]);
    assert.equal(expandGrid({ a: ['1', '2'], b: ['1', '2', '3'], c: ['x', 'y'] }).length, 12);
  });

  it('puts hostile values into their own argv element, literally, never re-substituted', () => {
    const template = ['python', 'train.py', '--x', '{x}', '--tag=run-{x}-{bs}', '{unknown}'];
    assert.deepEqual(commandFor(template, { x: '; rm -rf /', bs: '$(id)' }), [
      'python',
      'train.py',
      '--x',
      '; rm -rf /',
      '--tag=run-; rm -rf /-$(id)',
      '{unknown}',
    ]);
    // a value that looks like a placeholder stays as it is
    assert.deepEqual(commandFor(['--x', '{x}', '--bs={bs}'], { x: '{bs}', bs: '32' }), ['--x', '{bs}', '--bs=32']);
    assert.deepEqual(commandFor(['{x}'], { x: '`id` "q" \'s\' \\n a b' }), ['`id` "q" \'s\' \\n a b']);
  });

  it('makes a new sweep: every variant queued with its argv, maxParallel from the pool', () => {
    const s = newSweep({
      project: '/p',
      file: 'sweep.yaml',
      sweep: parseSweepFile(SWEEP_YAML),
      image: 'mlc/p:dev',
      gpus: ['0', '1'],
    });
    assert.match(s.id, /^sweep-\d{8}-\d{6}-[0-9a-f]{4}$/);
    assert.equal(s.maxParallel, 4, 'maxParallel of the file, even above what the GPUs allow');
    assert.equal(s.variants.length, 6);
    assert.deepEqual(s.variants[5]!.command, [
      'python',
      'train.py',
      '--lr',
      '1e-3',
      '--batch-size',
      '64',
      '--epochs',
      '3',
    ]);
    assert.ok(s.variants.every((v) => v.state === 'queued' && v.runId === null));
    assert.equal(s.owner, null);
    assert.deepEqual(s.env, { WANDB_MODE: 'offline' }, 'kept for the runs a resumed sweep starts');
    assert.throws(
      () => newSweep({ project: '/p', file: 'f', sweep: parseSweepFile(SWEEP_YAML), image: 'i', gpus: [] }),
      /no GPU is available/,
    );
  });
});

describe('runs: GPU pool', () => {
  const GPUS = ['0', '1', '2', '3'];

  /** Acquires until the pool says wait. */
  function drain(pool: GpuPool): string[][] {
    const out: string[][] = [];
    for (let g = pool.acquire(); g !== null; g = pool.acquire()) out.push(g);
    return out;
  }

  it('4 GPUs, 1 per run: 4 in parallel, never two runs on one GPU', () => {
    const pool = new GpuPool(GPUS, 1);
    assert.equal(pool.maxParallel, 4);
    const got = drain(pool);
    assert.deepEqual(got, [['0'], ['1'], ['2'], ['3']]);
    assert.equal(new Set(got.flat()).size, 4);
  });

  it('2 GPUs per run: pairs, 2 in parallel', () => {
    const pool = new GpuPool(GPUS, 2);
    assert.equal(pool.maxParallel, 2);
    assert.deepEqual(drain(pool), [
      ['0', '1'],
      ['2', '3'],
    ]);
  });

  it('runsPerGpu 2 shares each GPU between two runs, least loaded first', () => {
    const pool = new GpuPool(['0', '1'], 1, 2);
    assert.equal(pool.maxParallel, 4);
    const got = drain(pool);
    assert.deepEqual(got, [['0'], ['1'], ['0'], ['1']]);
  });

  it('refuses GPUs per run without GPUs, or more than there are, with a sentence saying what to do', () => {
    assert.equal(
      thrown(() => new GpuPool([], 1)),
      'The sweep gives each run 1 GPU, but no GPU is available: set gpusPerRun: 0 in the sweep file (or --gpus ' +
        'none) to run on the CPU, or run it on a machine with GPUs.',
    );
    assert.match(
      thrown(() => new GpuPool([], 2)),
      /each run 2 GPUs, but no GPU is available/,
    );
    assert.equal(
      thrown(() => new GpuPool(['0', '1'], 3)),
      'The sweep gives each run 3 GPUs, but only 2 are available (0, 1): lower gpusPerRun.',
    );
  });

  it('gpusPerRun 0: CPU runs, 2 in parallel by default, or maxParallel', () => {
    const pool = new GpuPool([], 0);
    assert.equal(pool.maxParallel, 2);
    assert.deepEqual(drain(pool), [[], []]);
    const five = new GpuPool([], 0, 1, 5);
    assert.equal(drain(five).length, 5);
  });

  it('keeps to maxParallel even when GPUs are free', () => {
    const pool = new GpuPool(GPUS, 1, 1, 2);
    assert.equal(pool.maxParallel, 2);
    assert.deepEqual(drain(pool), [['0'], ['1']]);
  });

  it('release makes the GPUs available again; hold counts a resumed run', () => {
    const pool = new GpuPool(['0', '1'], 1);
    assert.deepEqual(drain(pool), [['0'], ['1']]);
    pool.release(['0']);
    assert.deepEqual(pool.acquire(), ['0']);
    assert.equal(pool.acquire(), null);
    pool.release(['1']);
    pool.release(['0']);
    assert.deepEqual(drain(pool), [['0'], ['1']]);

    const resumed = new GpuPool(['0', '1'], 1);
    resumed.hold(['1']);
    assert.deepEqual(resumed.acquire(), ['0']);
    assert.equal(resumed.acquire(), null);
  });
});

/** PyTorch 2.4's CUDA out-of-memory error, as a training script prints it (traceback, then the message). */
const CUDA_OOM_LOG = [
  '\x1b[32mEpoch 1\x1b[0m:  12%|█▏        | 12/100 [00:03<00:22, loss=2.31]\r',
  'Traceback (most recent call last):',
  '  File "/workspace/train.py", line 88, in <module>',
  '    loss.backward()',
  'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total capacity of 79.19 GiB ' +
    'of which 13.25 MiB is free. Process 2157 has 79.17 GiB memory in use. Of the allocated memory 78.21 GiB is ' +
    'allocated by PyTorch, and 407.35 MiB is reserved by PyTorch but unallocated. If reserved but unallocated memory ' +
    'is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation ' +
    'for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)',
].join('\r\n');

const BUS_ERROR_LOG =
  'ERROR: Unexpected bus error encountered in worker. This might be caused by insufficient shared memory (shm).\r\n' +
  'Traceback (most recent call last):\r\n' +
  "RuntimeError: DataLoader worker (pid 1234) is killed by signal: Bus error. It is possible that dataloader's " +
  'workers are out of shared memory. Please try to raise your shared memory limit.\r\n';

const NCCL_SHM_LOG =
  'torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1970, ' +
  'unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL version 2.20.5\n' +
  'ncclSystemError: System call (e.g. socket, malloc) or external library call failed or device error.\n' +
  'Last error:\nError while creating shared memory segment /dev/shm/nccl-vzIpS6 (size 9637888)\n';

const NCCL_LOG =
  'node1:2157:2201 [1] NCCL INFO Channel 00/0 : 1[1] -> 0[0] via P2P/CUMEM\n' +
  'torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/NCCLUtils.hpp:275, unhandled cuda error (run with NCCL_DEBUG=INFO for details), NCCL version 2.20.5\n' +
  "ncclUnhandledCudaError: Call to CUDA function failed.\nLast error:\nCuda failure 'peer access is not supported between these two devices'\n";

describe('runs: why a run ended', () => {
  it('OOMKilled: the container ran out of host memory, with its limit', () => {
    const f = explainRunExit({ exitCode: 137, oomKilled: true, logTail: '', memoryLimitBytes: 64 * MiB });
    assert.equal(f?.id, 'host-oom');
    assert.match(f!.message, /ran out of host memory \(its limit is 64 MiB\) \(exit 137, OOMKilled\): raise or remove/);
    const big = explainRunExit({ exitCode: 137, oomKilled: true, logTail: '', memoryLimitBytes: 16 * GiB });
    assert.match(big!.message, /its limit is 16 GiB/);
    assert.doesNotMatch(explainRunExit({ exitCode: 137, oomKilled: true, logTail: '' })!.message, /its limit/);
  });

  it('CUDA out of memory from the real PyTorch message', () => {
    const f = explainRunExit({ exitCode: 1, oomKilled: false, logTail: CUDA_OOM_LOG });
    assert.equal(f?.id, 'cuda-oom');
    assert.equal(
      f!.message,
      'The run failed because a GPU ran out of memory (CUDA out of memory in the log): lower the batch size, use ' +
        'mixed precision or gradient checkpointing, or give the run a GPU with more memory.',
    );
  });

  it("DataLoader workers' bus error: /dev/shm filled up", () => {
    const f = explainRunExit({ exitCode: 1, oomKilled: false, logTail: BUS_ERROR_LOG });
    assert.equal(f?.id, 'shm-exhausted');
    assert.match(f!.message, /\/dev\/shm filled up .*--shm-size or --ipc=host .*num_workers\.$/);
  });

  it('NCCL errors: shared memory when it says so, else NCCL_DEBUG', () => {
    const shm = explainRunExit({ exitCode: 1, oomKilled: false, logTail: NCCL_SHM_LOG });
    assert.equal(shm?.id, 'nccl-error');
    assert.match(shm!.message, /NCCL .* because shared memory ran out/);
    const other = explainRunExit({ exitCode: 1, oomKilled: false, logTail: NCCL_LOG });
    assert.equal(other?.id, 'nccl-error');
    assert.match(other!.message, /rerun with NCCL_DEBUG=INFO/);
  });

  it('success is no failure, even with scary words in the log; a stop is a stop', () => {
    assert.equal(explainRunExit({ exitCode: 0, oomKilled: false, logTail: CUDA_OOM_LOG }), null);
    const stopped = explainRunExit({ exitCode: 143, oomKilled: false, logTail: '', stoppedByUser: true });
    assert.deepEqual(stopped, { id: 'stopped', message: 'The run was stopped (exit code 143).' });
    assert.equal(
      explainRunExit({ exitCode: 137, oomKilled: true, logTail: '', stoppedByUser: true })?.id,
      'stopped',
      'a stop that needed SIGKILL',
    );
  });

  it('the rest: no GPU, command not found, killed, other exit codes', () => {
    const e = (exitCode: number, logTail = ''): string | undefined =>
      explainRunExit({ exitCode, oomKilled: false, logTail })?.id;
    assert.equal(e(1, 'RuntimeError: Found no NVIDIA driver on your system.'), 'no-cuda-device');
    assert.equal(e(127), 'command-not-found');
    // what python3 prints for a missing script
    assert.equal(
      e(2, "python3: can't open file '/workspace/t.py': [Errno 2] No such file or directory"),
      'command-not-found',
    );
    // a missing data file is the program's own error, not a missing command
    assert.equal(e(1, "FileNotFoundError: [Errno 2] No such file or directory: 'data/train.csv'"), 'exit-nonzero');
    assert.equal(e(137), 'killed');
    assert.equal(e(143), 'killed');
    assert.deepEqual(explainRunExit({ exitCode: 3, oomKilled: false, logTail: 'boom' }), {
      id: 'exit-nonzero',
      message: 'The run exited with code 3: the end of its log says why.',
    });
  });
});

describe('runs: the last metric line', () => {
  it('reads the last redraw of a tqdm bar with colours as the user sees it', () => {
    const log =
      '\x1b[32mEpoch 1\x1b[0m:  10%|█         | 1/10 [00:01<00:09, loss=2.31]\r' +
      '\x1b[32mEpoch 1\x1b[0m: 100%|██████████| 10/10 [00:10<00:00, loss=0.412]\r\n' +
      '\x1b[1;34msaving checkpoint\x1b[0m\r\n\r\n';
    assert.equal(lastMetricLine(log), 'Epoch 1: 100%|██████████| 10/10 [00:10<00:00, loss=0.412]');
  });

  it('finds key: value, key=value and "loss 0.2" forms; null without a metric', () => {
    assert.equal(lastMetricLine('epoch 3 val_acc: 0.93\nbye\n'), 'epoch 3 val_acc: 0.93');
    assert.equal(lastMetricLine('step 10 loss 0.25\n'), 'step 10 loss 0.25');
    assert.equal(lastMetricLine('{"train/loss": 1.5e-3}\n'), '{"train/loss": 1.5e-3}');
    assert.equal(lastMetricLine('eval_loss=nan\n'), 'eval_loss=nan');
    assert.equal(lastMetricLine('val_loss=nan\r\n'), 'val_loss=nan');
    assert.equal(lastMetricLine('learning_rate=0.1 grad_norm: 2\n'), null, 'not a metric a user compares runs by');
    // Hugging Face Trainer's log lines are Python dicts
    const hf =
      "{'loss': 0.6931, 'grad_norm': 1.2345, 'learning_rate': 4.9e-05, 'epoch': 0.5}\n" +
      "{'eval_loss': 0.4127, 'eval_accuracy': 0.8731, 'eval_runtime': 3.21, 'epoch': 1.0}\n" +
      "{'train_runtime': 61.2, 'train_samples_per_second': 32.7, 'epoch': 1.0}\n";
    assert.equal(
      lastMetricLine(hf),
      "{'eval_loss': 0.4127, 'eval_accuracy': 0.8731, 'eval_runtime': 3.21, 'epoch': 1.0}",
    );
    assert.equal(lastMetricLine('hello\nworld\n'), null);
    assert.equal(lastMetricLine(''), null);
  });
});

describe('runs: one supervisor per sweep', () => {
  it('refuses to supervise a sweep whose lock a live process holds, and takes over a stale lock', async () => {
    const { dir, cleanup } = tempDir('mlc-sweep-lock-');
    try {
      const store = new RunStore(dir);
      const sweep = newSweep({
        project: dir,
        file: 'sweep.yaml',
        sweep: parseSweepFile('command: python t.py --lr {lr}\ngrid: { lr: [0.1] }\ngpusPerRun: 0\n'),
        image: 'x',
        gpus: [],
      });
      const lock = path.join(path.dirname(store.sweepFile(sweep.id)), 'sweep.lock');
      fs.mkdirSync(path.dirname(lock), { recursive: true });
      fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, hostname: os.hostname() }));
      const runner = { store } as unknown as Runner;
      await assert.rejects(
        runSweep(sweep, { runner, specFor: () => assert.fail('no run may start') }),
        /already supervised by process \d+/,
      );
      // a lock left by a process that is gone is taken over (the sweep then runs: here its one variant cannot start)
      fs.writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, hostname: os.hostname() }));
      const final = await runSweep(sweep, { runner, specFor: () => assert.fail('taken over') });
      assert.match(final.variants[0]!.explanation ?? '', /taken over/);
      assert.ok(!fs.existsSync(lock), 'the lock is released when the supervisor ends');
    } finally {
      cleanup();
    }
  });
});

describe('runs: the run store, stray folders', () => {
  it('leaves a folder that is not a run id out of the list instead of failing', async () => {
    const { dir, cleanup } = tempDir('mlc-runs-stray-');
    try {
      const store = new RunStore(dir);
      await store.ensure();
      fs.mkdirSync(path.join(store.dir, 'runs', '20261126-000000-aaaa copy'), { recursive: true });
      assert.deepEqual(await store.listRecords(), []);
    } finally {
      cleanup();
    }
  });
});

describe('runs: the run store', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('mlc-runs-')));
  afterEach(() => cleanup());

  const record = (id: string, containerName = `mlc-p-${id}`): RunRecord => ({
    id,
    project: dir,
    projectName: path.basename(dir),
    state: 'succeeded',
    containerId: null,
    containerName,
    image: 'mlc/p:dev',
    imageId: 'sha256:00',
    repoDigests: [],
    command: ['python', 't.py'],
    gpus: { kind: 'none' },
    mountWorkspace: true,
    requestedPorts: [],
    ports: {},
    sweepId: null,
    params: {},
    createdAt: '2026-11-26T15:30:12.000Z',
    startedAt: null,
    finishedAt: null,
    stopRequestedAt: null,
    exitCode: 0,
    oomKilled: false,
    explanation: null,
    warnings: [],
    host: { dockerHost: 'unix:///var/run/docker.sock', engineVersion: null, driverVersion: null, gpus: [] },
  });

  it('creates .ml-containers with a .gitignore that ignores everything, and keeps a changed one', async () => {
    const store = new RunStore(dir);
    await store.ensure();
    const ignore = path.join(dir, '.ml-containers', '.gitignore');
    assert.ok(fs.readFileSync(ignore, 'utf8').split('\n').includes('*'));
    assert.ok(fs.statSync(path.join(dir, '.ml-containers', 'runs')).isDirectory());
    fs.writeFileSync(ignore, 'runs/\n');
    await store.ensure();
    assert.equal(fs.readFileSync(ignore, 'utf8'), 'runs/\n');
  });

  it('writes, reads and lists records newest first; finds by id, unique prefix or container name', async () => {
    const store = new RunStore(path.join(dir, '.'));
    assert.equal(store.root, dir);
    assert.deepEqual(await store.listRecords(), []);
    await store.writeRecord(record('20261126-153012-a1b2'));
    await store.writeRecord(record('20261126-153013-c3d4', 'my-container'));
    await store.writeRecord(record('20261127-090000-ffff'));
    assert.ok(fs.existsSync(path.join(dir, '.ml-containers', '.gitignore')), 'writing a record ensures the folder');
    assert.deepEqual(
      (await store.listRecords()).map((r) => r.id),
      ['20261127-090000-ffff', '20261126-153013-c3d4', '20261126-153012-a1b2'],
    );
    assert.deepEqual(await store.readRecord('20261126-153012-a1b2'), record('20261126-153012-a1b2'));
    assert.equal(await store.readRecord('20261126-000000-0000'), undefined);
    assert.equal((await store.findRecord('20261127')).id, '20261127-090000-ffff');
    assert.equal((await store.findRecord('20261126-153012')).id, '20261126-153012-a1b2');
    assert.equal((await store.findRecord('my-container')).id, '20261126-153013-c3d4');
    await assert.rejects(store.findRecord('20261126'), {
      message: '"20261126" matches 2 runs: give more of the run id.',
    });
    await assert.rejects(store.findRecord('2025'), (err: Error) => {
      assert.equal(
        err.message,
        `No run "2025" is recorded in ${path.join(dir, '.ml-containers', 'runs')}: \`ml-containers ps\` lists the runs.`,
      );
      return true;
    });
  });

  it('leaves out unreadable records with a warning', async () => {
    const store = new RunStore(dir);
    await store.writeRecord(record('20261126-153012-a1b2'));
    fs.mkdirSync(path.join(store.dir, 'runs', 'broken'));
    fs.writeFileSync(path.join(store.dir, 'runs', 'broken', 'run.json'), '{"id": ');
    const warnings: string[] = [];
    assert.deepEqual(
      (await store.listRecords((w) => warnings.push(w))).map((r) => r.id),
      ['20261126-153012-a1b2'],
    );
    assert.deepEqual(warnings, [
      `${path.join(store.dir, 'runs', 'broken', 'run.json')} is not valid JSON; that run is left out.`,
    ]);
  });

  it('refuses ids that are not one safe path segment', async () => {
    const store = new RunStore(dir);
    for (const bad of ['../x', '..', '.', 'a/b', '', 'a b', '..\\x']) {
      assert.throws(() => store.runDir(bad), { message: `"${bad}" is not a valid run or sweep id.` });
    }
    assert.throws(() => store.sweepFile('../../etc'), /is not a valid run or sweep id/);
    await assert.rejects(store.findRecord('../x'), /"\.\.\/x" is not a valid run or sweep id\./);
    assert.ok(!fs.existsSync(path.join(dir, 'x')));
  });
});
