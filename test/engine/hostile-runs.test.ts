/**
 * Issue 12, part B1 (engine tier): a run record is data a cloned repository may forge, never authority over the
 * engine. A record naming a container that does not carry our labels for this project and this run gets nothing done
 * to that container (stop, pause through a crafted id, remove, logs, exec, the refresh of `ps`), and the record is not
 * updated from it. A symlinked `.ml-containers` makes `run` refuse instead of writing outside the project. Victims are
 * plain busybox containers on the test engine (mlc-test/busybox:latest), not ours.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { connectEngine, type EngineClient } from '../../src/core/docker';
import { LABELS, openShell, type RunRecord, Runner, type RunSpec, RunStore } from '../../src/core/runs';
import { BUSYBOX, requireImage, testDockerHost, runCli, type CliResult, CLI } from './helpers';

const VICTIM = 'attack-victim-db';
const EXITED_VICTIM = 'attack-victim-exited';
const FORGED_ID = '20990101-000000-abcd';

const cli = (args: string[], timeoutMs?: number): Promise<CliResult> =>
  runCli(args, timeoutMs === undefined ? {} : { timeoutMs });

describe('hostile run records (B1, real engine): records are data, not authority', function () {
  this.timeout(120_000);
  let client: EngineClient;
  let docker: Docker;
  let tmp = '';
  const made: string[] = [];

  function project(): string {
    const dir = fs.mkdtempSync(path.join(tmp, 'proj '));
    made.push(dir);
    return dir;
  }

  function forgedRecord(dir: string, fields: Partial<RunRecord> = {}): RunRecord {
    return {
      id: FORGED_ID,
      project: dir,
      projectName: path.basename(dir),
      state: 'running',
      containerId: VICTIM,
      containerName: 'mlc-innocent-looking',
      image: BUSYBOX,
      imageId: null,
      repoDigests: [],
      command: ['sh'],
      gpus: { kind: 'none' },
      mountWorkspace: false,
      requestedPorts: [],
      ports: {},
      sweepId: null,
      params: {},
      createdAt: '2099-01-01T00:00:00.000Z',
      startedAt: '2099-01-01T00:00:00.000Z',
      finishedAt: null,
      stopRequestedAt: null,
      exitCode: null,
      oomKilled: false,
      explanation: null,
      warnings: [],
      host: { dockerHost: testDockerHost(), engineVersion: null, driverVersion: null, gpus: [] },
      ...fields,
    };
  }

  /** Writes a forged `.ml-containers/runs/<id>/run.json` into `dir`; returns its path. */
  function forge(dir: string, fields: Partial<RunRecord> = {}): string {
    const r = forgedRecord(dir, fields);
    const file = path.join(dir, '.ml-containers', 'runs', r.id, 'run.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
    return file;
  }

  async function removeIfThere(name: string): Promise<void> {
    await docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
  }

  /** A container that is not ours: no labels of ML Containers. */
  async function victim(name: string, script: string, start = true): Promise<Docker.Container> {
    await removeIfThere(name);
    const c = await docker.createContainer({ name, Image: BUSYBOX, Cmd: ['sh', '-c', script], Tty: false });
    if (start) await c.start();
    return c;
  }

  async function stateOf(name: string): Promise<Docker.ContainerInspectInfo['State']> {
    return (await docker.getContainer(name).inspect()).State;
  }

  async function runningVictim(): Promise<void> {
    await victim(VICTIM, 'echo victim-secret; exec sleep 3600');
    for (let i = 0; i < 100 && !(await stateOf(VICTIM)).Running; i++) await new Promise((r) => setTimeout(r, 50));
  }

  /** Our containers (any project) whose project label is `dir`. */
  async function ours(dir: string): Promise<Docker.ContainerInfo[]> {
    return docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [LABELS.run, `${LABELS.project}=${dir}`] }),
    });
  }

  /** A real run of ours in `dir`, through the runner, with a busybox command. */
  async function realRun(dir: string, command: string[]): Promise<RunRecord> {
    const spec: RunSpec = {
      projectRoot: dir,
      image: BUSYBOX,
      command,
      gpus: { kind: 'none' },
      mountWorkspace: false,
      env: {},
      shm: 64 * 1024 * 1024,
      ports: [],
    };
    const started = await new Runner({ client, store: new RunStore(dir) }).start(spec, {
      signal: AbortSignal.abort(),
    });
    await started.done;
    return started.record;
  }

  const oneSentence = (text: string): void => {
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 1, text);
    assert.doesNotMatch(text, /\n\s+at |TypeError|statusCode/);
  };

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-hostile-runs-'));
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: build the CLI first (npm run build)`);
    client = connectEngine({ env: { DOCKER_HOST: testDockerHost() } });
    docker = await client.docker();
    await requireImage(docker, BUSYBOX, 'run `bash scripts/docker-engine-up.sh`');
  });

  after(async function () {
    await removeIfThere(VICTIM);
    await removeIfThere(EXITED_VICTIM);
    for (const dir of made) {
      for (const c of await ours(dir)) {
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
      }
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('`stop` of a forged record naming a container that is not ours refuses, and the victim keeps running', async function () {
    await runningVictim();
    const dir = project();
    const file = forge(dir);
    const before = fs.readFileSync(file, 'utf8');
    const r = await cli(['stop', '2099', '--dir', dir, '--time', '1']);
    const st = await stateOf(VICTIM);
    assert.equal(st.Running, true, `the victim was stopped: ${st.Status}`);
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, /attack-victim-db/);
    assert.match(r.stderr, /not .*this run/);
    oneSentence(r.stderr);
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'the record is not updated');
  });

  it('a forged id with an API path in it ("attack-victim-db/pause?x=") never reaches the engine', async function () {
    await runningVictim();
    const dir = project();
    const file = forge(dir, { containerId: `${VICTIM}/pause?x=` });
    const before = fs.readFileSync(file, 'utf8');
    const r = await cli(['stop', FORGED_ID, '--dir', dir, '--time', '1']);
    const st = await stateOf(VICTIM);
    assert.equal(st.Paused, false, 'the victim was paused');
    assert.equal(st.Running, true, `the victim was stopped: ${st.Status}`);
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, /is not a container id or name/);
    oneSentence(r.stderr);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    // the runner's other actions refuse it as well
    const runner = new Runner({ client, store: new RunStore(dir) });
    for (const action of [
      () => runner.refresh(FORGED_ID),
      () => runner.removeContainer(FORGED_ID),
      () => runner.saveLog(FORGED_ID),
      () => runner.follow(FORGED_ID),
    ]) {
      await assert.rejects(action(), /is not a container id or name/);
    }
    assert.equal((await stateOf(VICTIM)).Paused, false);
  });

  it('`ps`, `logs` and `logs --follow` neither update the record from a foreign container nor show its log', async function () {
    await victim(EXITED_VICTIM, 'echo victim-secret; exit 0');
    await docker.getContainer(EXITED_VICTIM).wait();
    const dir = project();
    const file = forge(dir, { containerId: EXITED_VICTIM });
    const before = fs.readFileSync(file, 'utf8');

    const ps = await cli(['ps', dir, '--json']);
    assert.equal(ps.status, 0, ps.stderr);
    const listed = JSON.parse(ps.stdout) as RunRecord[];
    assert.deepEqual(
      listed.map((r) => [r.id, r.state]),
      [[FORGED_ID, 'running']],
    );
    assert.match(ps.stderr, /attack-victim-exited/);
    oneSentence(ps.stderr);
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'ps updated the record from a container not ours');

    for (const args of [
      ['logs', FORGED_ID, '--dir', dir],
      ['logs', FORGED_ID, '--follow', '--dir', dir],
    ]) {
      const r = await cli(args);
      assert.doesNotMatch(r.stdout + r.stderr, /victim-secret/, args.join(' '));
    }
    assert.ok(!fs.existsSync(path.join(path.dirname(file), 'log.txt')), 'the victim’s log was saved into the project');
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    assert.equal((await stateOf(EXITED_VICTIM)).Status, 'exited');
  });

  it("`ps` does not update one project's record from another project's run container", async function () {
    const other = project();
    const theirs = await realRun(other, ['sh', '-c', 'echo other-project-output']);
    await docker.getContainer(theirs.containerId!).wait();
    const dir = project();
    // the same run id and the container id of the other project's run: the project label differs
    const file = forge(dir, { id: theirs.id, containerId: theirs.containerId });
    const before = fs.readFileSync(file, 'utf8');
    const ps = await cli(['ps', dir, '--json']);
    assert.equal(ps.status, 0, ps.stderr);
    assert.equal((JSON.parse(ps.stdout) as RunRecord[]).find((r) => r.id === theirs.id)?.state, 'running');
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    assert.ok(!fs.existsSync(path.join(path.dirname(file), 'log.txt')));
    // and `stop` and remove leave it alone
    const runner = new Runner({ client, store: new RunStore(dir) });
    await assert.rejects(runner.removeContainer(theirs.id), /not .*this run/);
    assert.ok((await docker.getContainer(theirs.containerId!).inspect()).Id, 'their container was removed');
  });

  it('a record naming another run of the same project is refused too', async function () {
    const dir = project();
    const real = await realRun(dir, ['sh', '-c', 'exec sleep 3600']);
    const file = forge(dir, { containerId: real.containerId });
    const before = fs.readFileSync(file, 'utf8');
    const r = await cli(['stop', FORGED_ID, '--dir', dir, '--time', '1']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /not .*this run/);
    assert.equal((await docker.getContainer(real.containerId!).inspect()).State.Running, true);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    // the real run itself is still ours to stop
    const stopped = await cli(['stop', real.id, '--dir', dir, '--time', '1']);
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.match(stopped.stdout, /stopped/);
  });

  it('remove, delete, refresh and Attach Shell leave a foreign container alone', async function () {
    await runningVictim();
    const dir = project();
    const file = forge(dir);
    const before = fs.readFileSync(file, 'utf8');
    const runner = new Runner({ client, store: new RunStore(dir) });
    await assert.rejects(runner.removeContainer(FORGED_ID), /not .*this run/);
    await assert.rejects(runner.refresh(FORGED_ID), /not .*this run/);
    await assert.rejects(runner.saveLog(FORGED_ID), /not .*this run/);
    await assert.rejects(runner.follow(FORGED_ID), /not .*this run/);
    const record = (await runner.store.readRecord(FORGED_ID))!;
    await assert.rejects(openShell(client, record), /not .*this run/);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    assert.equal((await stateOf(VICTIM)).Running, true);
    // deleting the forged record deletes the record only
    await runner.deleteRecord(FORGED_ID);
    assert.ok(!fs.existsSync(file));
    assert.equal((await stateOf(VICTIM)).Running, true);
  });

  for (const link of ['.ml-containers', path.join('.ml-containers', 'runs')]) {
    it(`\`run\` refuses to write through a symlinked ${link} and starts nothing`, async function () {
      const dir = project();
      const outside = fs.mkdtempSync(path.join(tmp, 'outside-'));
      fs.mkdirSync(path.dirname(path.join(dir, link)), { recursive: true });
      fs.symlinkSync(outside, path.join(dir, link));
      const r = await cli(['run', dir, '--image', BUSYBOX, '--gpus', 'none', '--', 'echo', 'hi']);
      assert.notEqual(r.status, 0, r.stdout);
      assert.ok(r.stderr.includes(link), r.stderr);
      assert.match(r.stderr, /outside the project/);
      oneSentence(r.stderr);
      assert.deepEqual(fs.readdirSync(outside, { recursive: true }), [], 'something was written outside the project');
      assert.deepEqual(await ours(dir), [], 'a container was started');
    });
  }
});
