// Attach Shell and the event stream on the real engine: a shell opened with openShell (the engine's exec API, a TTY,
// stdin) runs what is typed and reports its exit code; watchRunEvents sees our run containers start and die.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { connectEngine } from '../../src/core/docker/engine';
import { type RunEvent, watchRunEvents } from '../../src/core/runs/events';
import { openShell } from '../../src/core/runs/exec';
import { Runner } from '../../src/core/runs/runner';
import { RunStore } from '../../src/core/runs/store';
import type { RunSpec } from '../../src/core/runs/types';
import { BUSYBOX, testDockerHost } from './helpers';
import { until } from '../support/wait';

describe('Attach Shell and run events on the real engine', function () {
  this.timeout(60_000);
  let dir: string;
  let runner: Runner;
  const client = () => connectEngine({ dockerHost: testDockerHost() });
  const spec = (command: string[]): RunSpec => ({
    projectRoot: dir,
    image: BUSYBOX,
    command,
    gpus: { kind: 'none' },
    mountWorkspace: false,
    env: {},
    shm: 64 * 1024 * 1024,
    ports: [],
  });

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-shell-'));
    runner = new Runner({ client: client(), store: new RunStore(dir) });
  });
  after(async () => {
    for (const r of await runner.list({ refresh: false })) await runner.deleteRecord(r.id).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('openShell runs what is typed in a TTY and reports the exit code', async () => {
    const { record } = await runner.start(spec(['sleep', '60']));
    const session = await openShell(client(), record.containerId!, { columns: 100, rows: 30 });
    let out = '';
    session.stream.on('data', (c: Buffer) => (out += c.toString('utf8')));
    session.stream.write('echo "cols=$(stty size)"; echo $((6 * 7))\n');
    await until('the shell output', () => (/\b42\b/.test(out) && /cols=30 100/.test(out) ? true : undefined));
    session.stream.write('exit 3\n');
    assert.strictEqual(await session.exited, 3);
    await runner.stop(record.id, 1);
  });

  it('watchRunEvents reports start and die of our containers, with the exit code', async () => {
    const events: RunEvent[] = [];
    const ac = new AbortController();
    watchRunEvents(client(), (e) => events.push(e), ac.signal);
    await new Promise((r) => setTimeout(r, 300)); // the event stream is connected
    try {
      const { record, done } = await runner.start(spec(['sh', '-c', 'exit 5']));
      await done;
      const die = await until('the die event', () => events.find((e) => e.runId === record.id && e.action === 'die'));
      assert.strictEqual(die.exitCode, 5);
      assert.strictEqual(die.project, dir);
      assert.ok(events.some((e) => e.runId === record.id && e.action === 'start'));
      assert.ok(
        events.every((e) => e.runId),
        'an event of a container that is not ours came through',
      );
    } finally {
      ac.abort();
    }
  });
});
