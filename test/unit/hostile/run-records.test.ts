/**
 * Issue 12, part B1 (unit tier): run records under `.ml-containers/` are data a cloned repository may forge. A record
 * of the wrong shape is reported and left out, never fails the list; a FIFO or a link out of the project is never
 * read; nothing is written outside the project through a symlinked `.ml-containers`, `runs` or run folder; container
 * ids are engine ids or names, never a path of the engine's API.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { containerRef, isContainerRef } from '../../../src/core/docker/engine';
import { parseEvent, type RunRecord, RunStore, validateRunRecord } from '../../../src/core/runs';
import { UnsafePathError } from '../../../src/core/util/safeFs';
import { runCli, tempDir } from '../helpers';

const RUN_ID = '20990101-000000-abcd';

function record(dir: string, id = RUN_ID): RunRecord {
  return {
    id,
    project: dir,
    projectName: path.basename(dir),
    state: 'succeeded',
    containerId: null,
    containerName: `mlc-p-${id}`,
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
    createdAt: '2099-01-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    stopRequestedAt: null,
    exitCode: 0,
    oomKilled: false,
    explanation: null,
    warnings: [],
    host: { dockerHost: 'unix:///var/run/docker.sock', engineVersion: null, driverVersion: null, gpus: [] },
  };
}

/** Writes `content` as the run.json of run `id` in `dir` (a string as is, anything else as JSON). */
function forge(dir: string, id: string, content: unknown): string {
  const file = path.join(dir, '.ml-containers', 'runs', id, 'run.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** Every file and folder under `dir` (relative paths), to prove nothing was written there. */
function tree(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

describe('hostile run records (B1): record shape', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('mlc-b1-records-')));
  afterEach(() => cleanup());

  it('accepts a record as the runner writes it, and one of an older version without the later fields', () => {
    const r = record(dir);
    assert.deepEqual(validateRunRecord(r), { ok: true, record: r });
    const old: Partial<RunRecord> = { ...r };
    delete old.mountWorkspace;
    delete old.requestedPorts;
    const v = validateRunRecord(old);
    assert.ok(v.ok);
    assert.equal(v.record.mountWorkspace, false);
    assert.deepEqual(v.record.requestedPorts, []);
  });

  it('refuses wrong shapes with what is wrong', () => {
    const r = record(dir) as unknown as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      [null, /not an object/],
      [[], /not an object/],
      ['x', /not an object/],
      [{ ...r, gpus: null }, /gpus/],
      [{ ...r, gpus: { kind: 'devices', ids: [1] } }, /gpus/],
      [{ ...r, gpus: { kind: 'devices', ids: ['0;rm'] } }, /gpus/],
      [{ ...r, state: 'exploded' }, /state/],
      [{ ...r, command: 'rm -rf /' }, /command/],
      [{ ...r, command: ['ok', 3] }, /command/],
      [{ ...r, containerId: 42 }, /containerId/],
      [{ ...r, id: 7 }, /\bid\b/],
      [{ ...r, params: { a: 1 } }, /params/],
      [{ ...r, ports: { '6006': 'x' } }, /ports/],
      [{ ...r, exitCode: '0' }, /exitCode/],
      [{ ...r, warnings: null }, /warnings/],
      [{ ...r, host: null }, /host/],
      [{ ...r, memoryBytes: 'lots' }, /memoryBytes/],
    ];
    for (const [value, problem] of cases) {
      const v = validateRunRecord(value);
      assert.equal(v.ok, false, JSON.stringify(value));
      if (!v.ok) assert.match(v.problem, problem, JSON.stringify(value));
    }
  });

  it('leaves out null, [], gpus: null and other wrong types with one warning each naming the file', async () => {
    const store = new RunStore(dir);
    await store.writeRecord(record(dir, '20990101-000000-good'));
    const files = [
      forge(dir, '20990101-000001-aaaa', 'null'),
      forge(dir, '20990101-000002-aaaa', '[]'),
      forge(dir, '20990101-000003-aaaa', { ...record(dir, '20990101-000003-aaaa'), gpus: null }),
      forge(dir, '20990101-000004-aaaa', { ...record(dir, '20990101-000004-aaaa'), command: 'x' }),
      // a record that claims another run's id is not that run
      forge(dir, '20990101-000005-aaaa', record(dir, '20990101-000000-good')),
    ];
    const warnings: string[] = [];
    const list = await store.listRecords((w) => warnings.push(w));
    assert.deepEqual(
      list.map((r) => r.id),
      ['20990101-000000-good'],
    );
    assert.equal(warnings.length, files.length, warnings.join('\n'));
    for (const f of files) {
      assert.equal(warnings.filter((w) => w.includes(f)).length, 1, `${f}: ${warnings.join('\n')}`);
    }
    for (const w of warnings) assert.doesNotMatch(w, /\n|TypeError|at .*\.js/);
  });

  it('`ps` lists the good runs and warns about each bad record instead of failing', () => {
    const good = record(dir, '20990101-000000-good');
    forge(dir, good.id, good);
    const bad = forge(dir, '20990101-000003-aaaa', { ...record(dir, '20990101-000003-aaaa'), gpus: null });
    forge(dir, '20990101-000001-aaaa', 'null');
    forge(dir, '20990101-000002-aaaa', '[]');
    // no engine: ps shows the records as they are
    const env = { ...process.env, DOCKER_HOST: `unix://${path.join(dir, 'no-engine.sock')}` };
    for (const args of [
      ['ps', dir],
      ['ps', dir, '--json'],
    ]) {
      const r = runCli(args, { env });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /20990101-000000-good/);
      assert.doesNotMatch(r.stdout, /20990101-00000[123]-aaaa/);
      assert.ok(r.stderr.includes(bad), r.stderr);
      assert.doesNotMatch(r.stderr, /TypeError|\n\s+at /);
    }
  });

  it('`ps` shows the control characters of a record as escapes, never sends them to the terminal', () => {
    forge(dir, RUN_ID, { ...record(dir), command: ['python', '\x1b]0;pwned\x07\x1b[2J', 'a\nb'] });
    const env = { ...process.env, DOCKER_HOST: `unix://${path.join(dir, 'no-engine.sock')}` };
    const r = runCli(['ps', dir], { env });
    assert.equal(r.status, 0, r.stderr);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(r.stdout, /\x1b|\x07/);
    assert.ok(r.stdout.includes('\\u001b]0;pwned\\u0007'), r.stdout);
    assert.equal(r.stdout.trim().split('\n').length, 2, r.stdout);
  });

  it('`logs` refuses a FIFO log.txt and a log.txt that links out of the project, in one sentence', function () {
    this.timeout(20_000);
    const outside = tempDir('mlc-b1-outside-');
    try {
      const env = { ...process.env, DOCKER_HOST: `unix://${path.join(dir, 'no-engine.sock')}` };
      forge(dir, RUN_ID, record(dir));
      const log = path.join(dir, '.ml-containers', 'runs', RUN_ID, 'log.txt');
      execFileSync('mkfifo', [log]);
      const fifo = runCli(['logs', RUN_ID, '--dir', dir], { env, timeout: 15_000 });
      assert.equal(fifo.status, 1, fifo.stderr);
      assert.match(fifo.stderr, /not a regular file/);
      assert.equal(fifo.stderr.trim().split('\n').length, 1, fifo.stderr);
      fs.rmSync(log);
      fs.writeFileSync(path.join(outside.dir, 'secret.txt'), 'top-secret\n');
      fs.symlinkSync(path.join(outside.dir, 'secret.txt'), log);
      const linked = runCli(['logs', RUN_ID, '--dir', dir], { env });
      assert.equal(linked.status, 1, linked.stderr);
      assert.doesNotMatch(linked.stdout + linked.stderr, /top-secret/);
      assert.match(linked.stderr, /outside the project/);
    } finally {
      outside.cleanup();
    }
  });

  it('reads the record as this project’s, whatever project it claims', async () => {
    forge(dir, RUN_ID, { ...record(dir), project: '/etc', projectName: 'etc' });
    const r = await new RunStore(dir).readRecord(RUN_ID);
    assert.equal(r?.project, dir);
    assert.equal(r?.projectName, path.basename(dir));
  });

  it('does not hang on a FIFO run.json, and warns about it', async function () {
    this.timeout(10_000);
    const store = new RunStore(dir);
    await store.writeRecord(record(dir, '20990101-000000-good'));
    const fifo = path.join(store.dir, 'runs', RUN_ID, 'run.json');
    fs.mkdirSync(path.dirname(fifo), { recursive: true });
    execFileSync('mkfifo', [fifo]);
    const warnings: string[] = [];
    const list = await store.listRecords((w) => warnings.push(w));
    assert.deepEqual(
      list.map((r) => r.id),
      ['20990101-000000-good'],
    );
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]!.includes(fifo), warnings[0]);
    assert.match(warnings[0]!, /not a regular file/);
  });

  it('does not read a run.json that links out of the project', async () => {
    const outside = tempDir('mlc-b1-outside-');
    try {
      fs.writeFileSync(path.join(outside.dir, 'secret.json'), JSON.stringify(record(dir)));
      const file = path.join(dir, '.ml-containers', 'runs', RUN_ID, 'run.json');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.symlinkSync(path.join(outside.dir, 'secret.json'), file);
      const warnings: string[] = [];
      assert.deepEqual(await new RunStore(dir).listRecords((w) => warnings.push(w)), []);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /outside the project/);
    } finally {
      outside.cleanup();
    }
  });

  it('a huge run.json is refused, not read whole', async () => {
    const file = forge(dir, RUN_ID, 'x');
    fs.truncateSync(file, 64 * 1024 * 1024);
    const warnings: string[] = [];
    assert.deepEqual(await new RunStore(dir).listRecords((w) => warnings.push(w)), []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /more than/);
  });
});

describe('hostile run records (B1): nothing written outside the project through links', () => {
  let dir: string;
  let outside: string;
  const cleanups: (() => void)[] = [];
  beforeEach(() => {
    const a = tempDir('mlc-b1-proj-');
    const b = tempDir('mlc-b1-outside-');
    dir = a.dir;
    outside = b.dir;
    cleanups.push(a.cleanup, b.cleanup);
  });
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  const links: [string, (dir: string) => string][] = [
    ['.ml-containers', (d) => path.join(d, '.ml-containers')],
    ['.ml-containers/runs', (d) => path.join(d, '.ml-containers', 'runs')],
    ['the run folder', (d) => path.join(d, '.ml-containers', 'runs', RUN_ID)],
  ];
  for (const [what, where] of links) {
    it(`refuses to write a record, a log or .gitignore through a symlinked ${what}`, async () => {
      const link = where(dir);
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync(outside, link);
      const store = new RunStore(dir);
      await assert.rejects(store.writeRecord(record(dir)), (err: Error) => {
        assert.ok(err instanceof UnsafePathError, String(err));
        assert.ok(err.message.includes(path.relative(dir, link)), err.message);
        assert.match(err.message, /outside the project/);
        return true;
      });
      await assert.rejects(store.writeLog(RUN_ID, Buffer.from('log')), UnsafePathError);
      await assert.rejects(store.prepareLog(RUN_ID), UnsafePathError);
      if (what === '.ml-containers') await assert.rejects(store.ensure(), UnsafePathError);
      await assert.rejects(store.removeRunDir(RUN_ID), UnsafePathError);
      assert.deepEqual(tree(outside), []);
    });
  }

  it('refuses a dangling .ml-containers link too', async () => {
    fs.symlinkSync(path.join(outside, 'not-yet'), path.join(dir, '.ml-containers'));
    await assert.rejects(new RunStore(dir).writeRecord(record(dir)), UnsafePathError);
    assert.deepEqual(tree(outside), []);
  });

  it('removeRunDir does not delete what a symlinked .ml-containers points at', async () => {
    fs.mkdirSync(path.join(outside, 'runs', RUN_ID), { recursive: true });
    fs.writeFileSync(path.join(outside, 'runs', RUN_ID, 'precious.txt'), 'keep me');
    fs.symlinkSync(outside, path.join(dir, '.ml-containers'));
    await assert.rejects(new RunStore(dir).removeRunDir(RUN_ID), UnsafePathError);
    assert.equal(fs.readFileSync(path.join(outside, 'runs', RUN_ID, 'precious.txt'), 'utf8'), 'keep me');
  });

  it('still writes and reads records, logs and .gitignore in a plain project', async () => {
    const store = new RunStore(dir);
    await store.writeRecord(record(dir));
    await store.writeLog(RUN_ID, Buffer.from('hello\n'));
    assert.equal(fs.readFileSync(store.logFile(RUN_ID), 'utf8'), 'hello\n');
    assert.equal(await store.readLogTail(RUN_ID, 3), 'lo\n');
    assert.deepEqual(await store.readRecord(RUN_ID), record(dir));
    assert.ok(fs.existsSync(path.join(dir, '.ml-containers', '.gitignore')));
    await store.removeRunDir(RUN_ID);
    assert.ok(!fs.existsSync(store.runDir(RUN_ID)));
  });

  it('readLogTail does not hang on a FIFO log.txt', async function () {
    this.timeout(10_000);
    const store = new RunStore(dir);
    await store.writeRecord(record(dir));
    execFileSync('mkfifo', [store.logFile(RUN_ID)]);
    assert.equal(await store.readLogTail(RUN_ID, 100), '');
  });
});

describe('hostile run records (B1): container ids', () => {
  it('takes engine ids (64 or 12+ hex) and container names', () => {
    for (const ok of ['a'.repeat(64), '0123456789ab', 'attack-victim-db', 'mlc-proj-20990101-000000-abcd', 'A_b.c-1']) {
      assert.ok(isContainerRef(ok), ok);
      assert.equal(containerRef(ok), ok);
    }
  });

  it('an engine event whose run label could not be a run id is not one of our runs', () => {
    const event = (run: string): string =>
      JSON.stringify({ Action: 'die', Actor: { ID: 'abc', Attributes: { 'org.ml-containers.run': run } } });
    assert.equal(parseEvent(event(RUN_ID))?.runId, RUN_ID);
    for (const bad of ['../x', '..', 'a/b', 'a b', '']) assert.equal(parseEvent(event(bad)), undefined, bad);
  });

  it('refuses anything that would be more than one path segment of the API', () => {
    for (const bad of [
      'attack-victim-db/pause?x=',
      '../containers/x',
      'x?force=1',
      'x#y',
      'a b',
      '',
      '-x',
      '.x',
      '/x',
      'x\n',
      'x%2Fpause',
      'é',
      'a'.repeat(300),
      null,
      42,
      {},
    ]) {
      assert.equal(isContainerRef(bad), false, JSON.stringify(bad));
    }
    assert.throws(
      () => containerRef('attack-victim-db/pause?x='),
      (err: Error) => {
        assert.match(err.message, /^"attack-victim-db\/pause\?x=" is not a container id or name/);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      },
    );
  });
});
