/**
 * Issue 12, part B2, against engines: a sweep stops at the first engine-level failure (an engine that is missing, one
 * that accepts connections and never answers) instead of failing each variant in turn, and a bad image reference is a
 * usage error before anything starts, even with a reachable engine (it used to crash the process with
 * `TypeError: Invalid URL` and leave the sweep "running" with its lock held).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectEngine } from '../../src/core/docker';
import { LABELS, type SweepState } from '../../src/core/runs';
import { BUSYBOX, testDockerHost, runCli, type CliResult } from './helpers';

const cli = (args: string[], dockerHost: string, timeoutMs = 100_000): Promise<CliResult> =>
  runCli(args, { dockerHost, timeoutMs });

/** A project with an 8-variant sweep file (no GPUs). */
function project(): { dir: string; file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-hostile-sweep-engine-'));
  const file = path.join(dir, 'sweep.yaml');
  fs.writeFileSync(file, 'command: echo {lr} {bs}\ngrid:\n  lr: [1, 2, 3, 4]\n  bs: [8, 16]\ngpusPerRun: 0\n');
  return { dir, file, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The one sweep recorded in the project, and whether its lock file is left. */
function recordedSweep(dir: string): { sweep: SweepState; locked: boolean } {
  const sweeps = path.join(dir, '.ml-containers', 'sweeps');
  const ids = fs.readdirSync(sweeps);
  assert.equal(ids.length, 1, `one sweep recorded, found ${ids.join(', ')}`);
  const folder = path.join(sweeps, ids[0]!);
  return {
    sweep: JSON.parse(fs.readFileSync(path.join(folder, 'sweep.json'), 'utf8')) as SweepState,
    locked: fs.existsSync(path.join(folder, 'sweep.lock')),
  };
}

/** The sweep stopped after its first variant: that one failed, the other 7 never started, one sentence says why. */
function assertStoppedAtFirst(r: CliResult, dir: string, why: RegExp): void {
  assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
  const { sweep, locked } = recordedSweep(dir);
  assert.equal(locked, false, 'the lock is released');
  assert.equal(sweep.state, 'failed');
  assert.equal(sweep.owner, null);
  assert.match(sweep.explanation ?? '', why);
  assert.equal(sweep.variants[0]!.state, 'failed');
  assert.deepEqual(
    sweep.variants.slice(1).map((v) => v.state),
    Array(7).fill('not-started'),
  );
  for (const v of sweep.variants.slice(1)) assert.match(v.explanation ?? '', /^Not started: /);
  assert.match(r.stdout, /0 of 8 runs succeeded \(failed\)/);
  assert.match(r.stdout, why);
  assert.doesNotMatch(r.stderr, /\n\s+at |TypeError/);
}

describe('hostile sweeps against engines', function () {
  this.timeout(120_000);

  it('a missing engine stops the sweep at its first run, the rest not started', async function () {
    const { dir, file, cleanup } = project();
    try {
      const r = await cli(
        ['sweep', dir, '--file', file, '--image', BUSYBOX, '--gpus', 'none'],
        'unix:///nonexistent.sock',
      );
      assertStoppedAtFirst(r, dir, /No Docker engine is running at \/nonexistent\.sock/);
      assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
    } finally {
      cleanup();
    }
  });

  it('a hung engine (accepts, never answers) stops the sweep after the first time limit, not 8 of them', async function () {
    const { dir, file, cleanup } = project();
    const sock = path.join(dir, 'hung.sock');
    const held: net.Socket[] = [];
    const server = net.createServer((s) => {
      held.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      const r = await cli(['sweep', dir, '--file', file, '--image', BUSYBOX, '--gpus', 'none'], `unix://${sock}`);
      assertStoppedAtFirst(r, dir, /did not answer within/);
      // one time limit (10 s) and the rest of the work, far from 8 of them
      assert.ok(r.ms < 35_000, `the sweep took ${r.ms} ms`);
    } finally {
      for (const s of held) s.destroy();
      server.close();
      cleanup();
    }
  });

  for (const image of ['', '/x', 'a//b', '..']) {
    it(`--image ${JSON.stringify(image)} with a reachable engine: exit 2, one sentence, no sweep left running`, async function () {
      const { dir, file, cleanup } = project();
      try {
        const sweep = await cli(['sweep', dir, '--file', file, '--image', image, '--gpus', 'none'], testDockerHost());
        assert.equal(sweep.status, 2, sweep.stderr);
        assert.match(sweep.stderr, /^ml-containers sweep: --image .*name\[:tag\]\[@digest\]/);
        assert.doesNotMatch(sweep.stderr, /Invalid URL|TypeError|\n\s+at /);
        assert.ok(!fs.existsSync(path.join(dir, '.ml-containers', 'sweeps')), 'no sweep recorded');
        const run = await cli(['run', dir, '--image', image, '--gpus', 'none', '--', 'true'], testDockerHost());
        assert.equal(run.status, 2, run.stderr);
        assert.doesNotMatch(run.stderr, /Invalid URL|TypeError|\n\s+at /);
      } finally {
        cleanup();
      }
    });
  }

  it('a good sweep still runs on the real engine', async function () {
    const { dir, file, cleanup } = project();
    try {
      fs.writeFileSync(file, 'command: echo {lr}\ngrid:\n  lr: [1, 2]\ngpusPerRun: 0\n');
      const r = await cli(['sweep', dir, '--file', file, '--image', BUSYBOX, '--gpus', 'none'], testDockerHost());
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /2 of 2 runs succeeded \(succeeded\)/);
      const { sweep, locked } = recordedSweep(dir);
      assert.equal(sweep.state, 'succeeded');
      assert.equal(locked, false);
    } finally {
      // the runs' containers carry the project folder in their labels: remove them with the folder
      const docker = await connectEngine({ dockerHost: testDockerHost() }).docker();
      const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${dir}`] } });
      for (const c of left) {
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
      }
      cleanup();
    }
  });
});
