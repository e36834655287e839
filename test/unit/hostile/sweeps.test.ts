/**
 * Issue 12, part B2: sweeps and run images from a hostile repository. A grid too big to expand is refused before it
 * is expanded (a setting / --max-variants), sweep files and the project's .env and devcontainer.json are read as
 * regular files only (a FIFO or /dev/zero is refused at once), a non-scalar grid value says what was found, image
 * references are checked against Docker's reference grammar before anything starts, a failing sweep is finalised and
 * its lock released, and `run`/`ps`/`sweep` on a missing project folder exit 1 like `detect`.
 *
 * No engine is needed: DOCKER_HOST points at a socket that does not exist, so nothing here can reach one.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  countVariants,
  DEFAULT_MAX_VARIANTS,
  expandGrid,
  imageNameFor,
  imageRefProblem,
  newSweep,
  parseSweepFile,
  readProjectEnv,
  readSweep,
  readSweepFileText,
  resolveImage,
  type Runner,
  RunStore,
  runSweep,
  shmFor,
  SweepFileError,
} from '../../../src/core/runs';
import { connectEngine } from '../../../src/core/docker';
import { type CliResult, runCli, tempDir, writeTree } from '../helpers';

const NO_ENGINE = { ...process.env, DOCKER_HOST: 'unix:///nonexistent-mlc-test.sock' };

/** The CLI with no engine reachable; a hang shows as status null after `timeout` ms. */
function cli(args: string[], timeout = 20_000): CliResult & { ms: number } {
  const t0 = Date.now();
  // SIGKILL at the limit: a CLI that traps SIGTERM and hangs (on a FIFO, expanding a grid) is still ended
  const r = runCli(args, { env: NO_ENGINE, timeout, killSignal: 'SIGKILL' });
  return { ...r, ms: Date.now() - t0 };
}

/** The message of the error `fn` throws (fails the test when it does not throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected an error');
}

/** One sentence for the user: no stack trace, no raw Node error names, one line. */
function assertOneSentence(text: string): void {
  assert.doesNotMatch(text, /\n\s+at |TypeError|RangeError|ERR_|undefined\)/, text);
  assert.doesNotMatch(text, /\b(EACCES|ENOENT|ENXIO|EAGAIN)\b/, text);
}

const grid = (params: number, values: number): string =>
  'command: python t.py' +
  Array.from({ length: params }, (_, i) => ` --p${i} {p${i}}`).join('') +
  '\ngrid:\n' +
  Array.from(
    { length: params },
    (_, i) => `  p${i}: [${Array.from({ length: values }, (_v, j) => j).join(', ')}]\n`,
  ).join('') +
  'gpusPerRun: 0\n';

describe('hostile sweeps: a grid too big is refused before it is expanded', () => {
  it('counts the grid as it multiplies, without overflow, stopping past the limit', () => {
    assert.equal(countVariants({ a: ['1', '2'], b: ['1', '2', '3'] }, 1000), 6);
    assert.equal(countVariants({ a: Array(10).fill('x'), b: Array(10).fill('x'), c: Array(10).fill('x') }, 1000), 1000);
    assert.equal(countVariants({ a: Array(1001).fill('x') }, 1000), null);
    // 100^200 is Infinity as a double: the count must stop long before
    const huge: Record<string, string[]> = {};
    for (let i = 0; i < 200; i++) huge[`p${i}`] = Array(100).fill('v');
    assert.equal(countVariants(huge, 1000), null);
    assert.equal(countVariants(huge, Number.MAX_SAFE_INTEGER), null);
  });

  it('refuses 10^6 and 10^12 combinations at once with one sentence naming the limit and --max-variants', () => {
    for (const [params, values] of [
      [3, 100],
      [6, 100],
      [300, 2],
    ] as const) {
      const t0 = Date.now();
      const err = thrown(() => parseSweepFile(grid(params, values), 'sweeps/big.yaml'));
      assert.ok(Date.now() - t0 < 2000, `${params}x${values} took ${Date.now() - t0} ms`);
      assert.ok(err instanceof SweepFileError, String(err));
      assert.match(err.message, /^sweeps\/big\.yaml: the grid makes /);
      assert.match(err.message, new RegExp(`more than the ${DEFAULT_MAX_VARIANTS} runs`));
      assert.match(err.message, /--max-variants/);
      assert.match(err.message, /mlContainers\.sweep\.maxVariants/);
      assert.doesNotMatch(err.message, /Infinity|NaN|e\+/);
      assertOneSentence(err.message);
    }
    assert.match(thrown(() => parseSweepFile(grid(6, 100))).message, /1000000000000 runs/);
  });

  it('takes the limit as an option: exactly the limit passes, one more is refused', () => {
    assert.equal(expandGrid(parseSweepFile(grid(3, 10)).grid).length, 1000);
    assert.equal(parseSweepFile(grid(2, 10), 'f', { maxVariants: 100 }).grid.p0!.length, 10);
    assert.match(thrown(() => parseSweepFile(grid(2, 10), 'f', { maxVariants: 99 })).message, /more than the 99 runs/);
    assert.equal(Object.keys(parseSweepFile(grid(2, 50), 'f', { maxVariants: 2500 }).grid).length, 2);
  });

  it('refuses a grid whose runs would carry too many bytes of argv (sweep.json is rewritten after each change)', () => {
    const long = 'x'.repeat(100_000);
    const text = `command: [t, "${long}", "{a}"]\ngrid:\n  a: [${Array.from({ length: 1000 }, (_, i) => i).join(', ')}]\n`;
    const err = thrown(() => parseSweepFile(text));
    assert.ok(err instanceof SweepFileError);
    assert.match(
      err.message,
      /^sweep\.yaml: the grid's 1000 runs would carry 96 MiB of commands and values, more than the 64 MiB/,
    );
    assert.equal(parseSweepFile(text.replace(long, 'x'.repeat(1000))).command.length, 3);
  });

  it('expandGrid and newSweep refuse too, whoever calls them', () => {
    const big: Record<string, string[]> = { a: Array(100).fill('1'), b: Array(100).fill('2'), c: Array(100).fill('3') };
    const t0 = Date.now();
    assert.ok(thrown(() => expandGrid(big)) instanceof SweepFileError);
    assert.equal(expandGrid(big, 1_000_000).length, 1_000_000);
    assert.ok(Date.now() - t0 < 10_000);
    const sweep = { command: ['t', '{a}'], grid: big, gpusPerRun: 0, runsPerGpu: 1, env: {} };
    assert.match(
      thrown(() => newSweep({ project: '/p', file: 'f', sweep, image: 'i', gpus: [] })).message,
      /more than the 1000 runs/,
    );
  });

  it('the CLI refuses a 10^12 grid at once (no sweep recorded) and documents --max-variants', () => {
    const { dir, cleanup } = tempDir('mlc-hostile-sweep-');
    try {
      writeTree(dir, { 'big.yaml': grid(6, 100), 'ok.yaml': grid(2, 3) });
      const r = cli(['sweep', dir, '--file', path.join(dir, 'big.yaml'), '--image', 'busybox', '--gpus', 'none']);
      assert.equal(r.status, 1, r.stderr);
      assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
      assert.match(r.stderr, /the grid makes 1000000000000 runs/);
      assertOneSentence(r.stderr);
      assert.ok(!fs.existsSync(path.join(dir, '.ml-containers', 'sweeps')), 'no sweep is recorded');

      const low = cli(['sweep', dir, '--file', path.join(dir, 'ok.yaml'), '--image', 'busybox', '--max-variants', '8']);
      assert.equal(low.status, 1, low.stderr);
      assert.match(low.stderr, /the grid makes 9 runs .*more than the 8 runs/);
      for (const bad of ['0', '-1', 'x', '1.5']) {
        const u = cli([
          'sweep',
          dir,
          '--file',
          path.join(dir, 'ok.yaml'),
          '--image',
          'busybox',
          `--max-variants=${bad}`,
        ]);
        assert.equal(u.status, 2, `${bad}: ${u.stderr}`);
        assert.match(u.stderr, /--max-variants needs a whole number/);
      }
      const help = runCli(['sweep', '--help']);
      assert.equal(help.status, 0);
      assert.match(help.stdout, /--max-variants N/);
    } finally {
      cleanup();
    }
  });
});

describe('hostile sweeps: sweep files, .env and devcontainer.json are regular files only', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('mlc-hostile-sweepfile-')));
  afterEach(() => cleanup());

  it('a FIFO sweep file is refused at once, not waited on (no signal needed to end it)', () => {
    const fifo = path.join(dir, 'sweep.yaml');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const r = cli(['sweep', dir, '--file', fifo, '--image', 'busybox', '--gpus', 'none']);
    assert.notEqual(r.status, null, `the sweep hung on the FIFO (${r.ms} ms)`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /sweep\.yaml is not a regular file \(a FIFO\)/);
    assertOneSentence(r.stderr);
  });

  it('--file /dev/zero, a folder, a link to /dev/zero and a file too big are refused with one sentence', () => {
    fs.symlinkSync('/dev/zero', path.join(dir, 'zero.yaml'));
    fs.mkdirSync(path.join(dir, 'folder.yaml'));
    fs.writeFileSync(path.join(dir, 'big.yaml'), `command: t {x}\ngrid:\n  x: [1]\n#${'x'.repeat(2 * 1024 * 1024)}\n`);
    for (const [file, want] of [
      ['/dev/zero', /\/dev\/zero is not a regular file \(a character device\)/],
      [path.join(dir, 'zero.yaml'), /zero\.yaml is not a regular file \(a character device\)/],
      [path.join(dir, 'folder.yaml'), /folder\.yaml is a folder, not a file/],
      [path.join(dir, 'big.yaml'), /big\.yaml is 2\.0 MiB, more than the 1 MiB/],
    ] as const) {
      const r = cli(['sweep', dir, '--file', file, '--image', 'busybox', '--gpus', 'none']);
      assert.equal(r.status, 1, `${file}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assert.doesNotMatch(r.stderr, /cannot be read \(undefined\)/);
      assertOneSentence(r.stderr);
    }
    const missing = cli(['sweep', dir, '--file', path.join(dir, 'nope.yaml'), '--image', 'busybox']);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /the sweep file .*nope\.yaml does not exist/);
  });

  it('readSweepFileText: null when missing, one sentence for anything but a regular file', async () => {
    assert.equal(await readSweepFileText(path.join(dir, 'none.yaml')), null);
    fs.writeFileSync(path.join(dir, 's.yaml'), 'command: t\n');
    assert.equal(await readSweepFileText(path.join(dir, 's.yaml')), 'command: t\n');
    const fifo = path.join(dir, 'f.yaml');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    await assert.rejects(
      readSweepFileText(fifo),
      (e: Error) => e instanceof SweepFileError && /a FIFO/.test(e.message),
    );
  });

  it('a FIFO or device .env and devcontainer.json are refused or ignored at once, never waited on', async () => {
    assert.equal(spawnSync('mkfifo', [path.join(dir, '.env')]).status, 0);
    fs.mkdirSync(path.join(dir, '.devcontainer'));
    assert.equal(spawnSync('mkfifo', [path.join(dir, '.devcontainer', 'devcontainer.json')]).status, 0);
    const t0 = Date.now();
    await assert.rejects(readProjectEnv(dir), (e: Error) => {
      assert.match(e.message, /\.env is not a regular file \(a FIFO\)/);
      assertOneSentence(e.message);
      return true;
    });
    assert.equal(typeof (await shmFor(dir)), 'number', 'a FIFO devcontainer.json is not read: the default shm');
    assert.ok(Date.now() - t0 < 2000);
  });

  it('a .env that is a link out of the project is not read', async () => {
    const outside = tempDir('mlc-hostile-outside-');
    try {
      fs.writeFileSync(path.join(outside.dir, 'secrets'), 'TOKEN=stolen\n');
      fs.symlinkSync(path.join(outside.dir, 'secrets'), path.join(dir, '.env'));
      await assert.rejects(readProjectEnv(dir), /outside the project/);
      fs.rmSync(path.join(dir, '.env'));
      fs.symlinkSync('/dev/zero', path.join(dir, '.env'));
      await assert.rejects(readProjectEnv(dir), /outside the project|not a regular file/);
    } finally {
      outside.cleanup();
    }
  });

  it('a .env bigger than the cap is refused, not read whole', async () => {
    fs.writeFileSync(path.join(dir, '.env'), `A=${'x'.repeat(9 * 1024 * 1024)}\n`);
    await assert.rejects(readProjectEnv(dir), /\.env is .* MiB, more than the/);
  });
});

describe('hostile sweeps: a grid value that is not a list of plain values says what it found', () => {
  const base = 'command: t {lr}\ngrid:\n';
  const cases: [string, RegExp][] = [
    [
      '  lr: {a: 1}\n',
      /^sweep\.yaml:3: "lr" must be a list of plain values \(numbers or strings\), but it is a mapping;/,
    ],
    ['  lr: [[1, 2], 3]\n', /^sweep\.yaml:3: "lr" must be a list of plain values .*but its item 1 is a list;/],
    ['  lr: [1, {a: 2}]\n', /^sweep\.yaml:3: "lr" must be a list of plain values .*but its item 2 is a mapping;/],
    ['  lr: []\n', /^sweep\.yaml:3: "lr" must be a list of plain values .*but the list is empty;/],
    ['  lr:\n', /^sweep\.yaml:3: "lr" must be a list of plain values .*but it has no value;/],
  ];
  for (const [text, want] of cases) {
    it(JSON.stringify(text.trim()), () => {
      const err = thrown(() => parseSweepFile(base + text));
      assert.ok(err instanceof SweepFileError);
      assert.match(err.message, want);
      assert.match(err.message, /e\.g\. lr: \[0\.1, 0\.01\]\.$/);
    });
  }
});

describe('hostile sweeps: image references follow Docker reference grammar', () => {
  const valid = [
    'busybox',
    'busybox:latest',
    'library/busybox',
    'mlc-test/busybox:latest',
    'pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime',
    'nvcr.io/nvidia/pytorch:24.05-py3',
    'localhost:5000/a/b:tag',
    'Registry.Example.com:443/ns/img',
    '[::1]:5000/x',
    'a__b/c.d/e-f--g:T_1.x-y',
    `img@sha256:${'a'.repeat(64)}`,
    `ghcr.io/o/img:v1@sha256:${'0'.repeat(64)}`,
    `sha256:${'b'.repeat(64)}`,
    'mlc/my-project:train',
  ];
  const invalid: [string, RegExp][] = [
    ['', /is empty/],
    ['   ', /space or control character/],
    ['/x', /empty path component/],
    ['a//b', /empty path component/],
    ['a/', /empty path component/],
    ['..', /is not an image reference/],
    ['.', /is not an image reference/],
    ['../etc', /is not an image reference/],
    ['Ubuntu:22.04', /lowercase/],
    ['pytorch/PyTorch', /lowercase/],
    ['x:', /is not an image reference/],
    ['x@', /is not an image reference/],
    ['x:a:b', /is not an image reference/],
    ['x y', /space or control character/],
    ['x\n', /space or control character/],
    ['\x1b[31mred', /space or control character/],
    ['-a', /is not an image reference/],
    ['a..b', /is not an image reference/],
    ['a:b/c', /is not an image reference/],
    ['x?y', /is not an image reference/],
    ['x#y', /is not an image reference/],
    ['x%2e%2e', /is not an image reference/],
    [`x:${'t'.repeat(129)}`, /is not an image reference/],
    ['x@sha256:abc', /is not an image reference/],
    [`${'a'.repeat(256)}`, /longer than 255/],
  ];

  it('accepts what docker run accepts', () => {
    for (const ref of valid) assert.equal(imageRefProblem(ref), null, ref);
  });

  it('refuses the rest with one sentence that says how to write one', () => {
    for (const [ref, why] of invalid) {
      const p = imageRefProblem(ref);
      assert.ok(p, `${JSON.stringify(ref)} was accepted`);
      assert.match(p, why, JSON.stringify(ref));
      assert.match(p, /name\[:tag\]\[@digest\]/);
      assert.ok(!p.includes('\n') && !p.includes('\x1b'), `${JSON.stringify(p)} prints control characters`);
    }
  });

  it("the scaffold's own image names are valid, whatever the folder is called", () => {
    for (const name of ['My Project', 'a..b', 'a._-b', '__x__', '...', 'Ünïcödé', 'a--b', 'x'.repeat(300)]) {
      const ref = imageNameFor(path.join('/tmp', name), 'train');
      assert.equal(imageRefProblem(ref), null, `${name} -> ${ref}`);
    }
  });

  it('resolveImage refuses a bad reference before it asks the engine', async () => {
    const client = connectEngine({ dockerHost: 'unix:///nonexistent-mlc-test.sock' });
    await assert.rejects(resolveImage(client, '/tmp', { kind: 'image', ref: 'a//b' }), /empty path component/);
  });

  for (const image of ['', '/x', 'a//b', '..']) {
    it(`run and sweep --image ${JSON.stringify(image)}: a usage error (exit 2), nothing recorded`, () => {
      const { dir, cleanup } = tempDir('mlc-hostile-image-');
      try {
        writeTree(dir, { 's.yaml': grid(1, 3) });
        const run = cli(['run', dir, '--image', image, '--gpus', 'none', '--', 'true']);
        assert.equal(run.status, 2, run.stderr);
        assert.match(run.stderr, /^ml-containers run: --image .*name\[:tag\]\[@digest\]/);
        assertOneSentence(run.stderr);
        const sweep = cli(['sweep', dir, '--file', path.join(dir, 's.yaml'), '--image', image, '--gpus', 'none']);
        assert.equal(sweep.status, 2, sweep.stderr);
        assert.match(sweep.stderr, /^ml-containers sweep: --image /);
        assertOneSentence(sweep.stderr);
        assert.ok(!fs.existsSync(path.join(dir, '.ml-containers')), 'nothing is recorded');
      } finally {
        cleanup();
      }
    });
  }
});

describe('hostile sweeps: a sweep that fails is finalised and its lock released', () => {
  it('a hostile sweep.json image is refused before the sweep is locked', async () => {
    const { dir, cleanup } = tempDir('mlc-hostile-resume-');
    try {
      const store = new RunStore(dir);
      const sweep = newSweep({ project: dir, file: 's', sweep: parseSweepFile(grid(1, 2)), image: 'x', gpus: [] });
      sweep.image = '../../x';
      const runner = { store } as unknown as Runner;
      await assert.rejects(runSweep(sweep, { runner, specFor: () => assert.fail('no run may start') }), (e: Error) => {
        assert.match(e.message, /records an image that is not valid: "\.\.\/\.\.\/x" is not an image reference/);
        return true;
      });
      assert.ok(!fs.existsSync(path.join(path.dirname(store.sweepFile(sweep.id)), 'sweep.lock')));
    } finally {
      cleanup();
    }
  });

  it('an unexpected error while supervising: the sweep is recorded failed, queued runs not started, lock gone', async () => {
    const { dir, cleanup } = tempDir('mlc-hostile-finalise-');
    try {
      const store = new RunStore(dir);
      const sweep = newSweep({ project: dir, file: 's', sweep: parseSweepFile(grid(1, 3)), image: 'x', gpus: [] });
      // a resumed sweep whose first variant was running (its record is there): the runner cannot refresh it
      sweep.variants[0]!.state = 'running';
      sweep.variants[0]!.runId = '20261126-153012-a1b2';
      const withRecord = Object.assign(Object.create(store) as RunStore, {
        readRecord: (id: string) => Promise.resolve({ id }),
      });
      const runner = {
        store: withRecord,
        refresh: () => Promise.reject(new Error('The Docker engine went away.')),
        stop: () => Promise.resolve(),
      } as unknown as Runner;
      await assert.rejects(
        runSweep(sweep, { runner, specFor: () => assert.fail('no run may start') }),
        /The Docker engine went away\./,
      );
      const saved = await readSweep(store, sweep.id);
      assert.equal(saved?.state, 'failed');
      assert.equal(saved?.owner, null);
      assert.match(saved?.explanation ?? '', /The Docker engine went away\./);
      assert.deepEqual(
        saved?.variants.slice(1).map((v) => v.state),
        ['not-started', 'not-started'],
      );
      assert.ok(!fs.existsSync(path.join(path.dirname(store.sweepFile(sweep.id)), 'sweep.lock')), 'lock released');
    } finally {
      cleanup();
    }
  });

  it('readSweep does not wait on a FIFO sweep.json and leaves out one that is not a sweep', async () => {
    const { dir, cleanup } = tempDir('mlc-hostile-readsweep-');
    try {
      const store = new RunStore(dir);
      fs.mkdirSync(path.dirname(store.sweepFile('sweep-a')), { recursive: true });
      assert.equal(spawnSync('mkfifo', [store.sweepFile('sweep-a')]).status, 0);
      fs.mkdirSync(path.dirname(store.sweepFile('sweep-b')), { recursive: true });
      fs.writeFileSync(store.sweepFile('sweep-b'), JSON.stringify({ id: 'sweep-b', variants: 'nope' }));
      const t0 = Date.now();
      assert.equal(await readSweep(store, 'sweep-a'), undefined);
      assert.equal(await readSweep(store, 'sweep-b'), undefined);
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      cleanup();
    }
  });
});

describe('hostile sweeps: a project folder that does not exist', () => {
  it('run, ps and sweep exit 1 with "does not exist", as detect does', () => {
    const missing = path.join(os.tmpdir(), `mlc-no-such-folder-${process.pid}`);
    for (const args of [
      ['run', missing, '--image', 'busybox', '--', 'true'],
      ['ps', missing],
      ['sweep', missing, '--file', 'sweep.yaml', '--image', 'busybox'],
    ]) {
      const r = cli(args);
      assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /the project folder .* does not exist/i);
      assert.doesNotMatch(r.stderr, /Usage:/);
    }
    assert.equal(cli(['detect', missing]).status, 1);
  });
});
