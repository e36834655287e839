/**
 * Typed problems on the private test engine: each kind of engine error reaches the caller of the runner, the build and
 * the shell as a Problem with its id, fix, status code and the engine's error as its cause, and a cancelled build
 * rejects with a cancellation. The engine has no NVIDIA runtime and the busybox base image (no registry).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { connectEngine, type EngineClient } from '../../src/core/docker';
import {
  BuildError,
  buildTarget,
  openShell,
  Runner,
  type RunSpec,
  runSpecFor,
  RunStartError,
  RunStore,
} from '../../src/core/runs';
import { isCancellation, isProblem, type Problem } from '../../src/core/util/errors';
import { BUSYBOX, requireImage, testDockerHost } from './helpers';

/** The rejection of `p` (fails when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => assert.fail(`resolved with ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
}

/** Asserts that `err` is a Problem of kind `id` and returns it. */
function problem(err: unknown, id: string): Problem {
  assert.ok(isProblem(err), `not a Problem: ${String(err)}`);
  assert.equal(err.id, id, err.message);
  return err;
}

describe('Typed problems from the engine (real engine)', function () {
  this.timeout(60_000);
  let client: EngineClient;
  let docker: Docker;
  let tmp = '';

  function project(files: Record<string, string> = {}): string {
    const dir = fs.mkdtempSync(path.join(tmp, 'proj '));
    for (const [rel, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, rel), content);
    return dir;
  }

  async function spec(dir: string, extra: Partial<RunSpec> = {}): Promise<RunSpec> {
    const image = { image: BUSYBOX, mountWorkspace: false };
    const s = await runSpecFor({ projectRoot: dir, command: ['sleep', '1'], gpus: { kind: 'none' } }, image);
    return { ...s, ...extra };
  }

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-problems-'));
    client = connectEngine({ env: { DOCKER_HOST: testDockerHost() } });
    docker = await client.docker();
    await requireImage(docker, BUSYBOX, 'start the test engine with `bash scripts/docker-engine-up.sh`');
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a missing image: RunStartError image-not-found, 404, the fix to pull or build it, the engine error as cause', async () => {
    const dir = project();
    const runner = new Runner({ client, store: new RunStore(dir) });
    const err = await rejection(runner.start(await spec(dir, { image: 'mlc-test/no-such-image:missing' })));
    const p = problem(err, 'image-not-found');
    assert.ok(err instanceof RunStartError);
    assert.equal(p.statusCode, 404);
    assert.match(p.fix ?? '', /docker pull mlc-test\/no-such-image:missing/);
    assert.match(p.message, /^The image mlc-test\/no-such-image:missing is neither on this engine nor in its registry/);
    assert.equal((p.cause as { statusCode?: number }).statusCode, 404);
    assert.match(p.detail ?? '', /No such image/i);
    assert.equal(err.record.state, 'failed');
    assert.equal(err.record.explanation, p.message);
  });

  it('a GPU request on this engine: no-container-gpu-runtime with the toolkit fix and the status code', async () => {
    const dir = project();
    const runner = new Runner({ client, store: new RunStore(dir) });
    const err = await rejection(runner.start(await spec(dir, { gpus: { kind: 'all' } })));
    const p = problem(err, 'no-container-gpu-runtime');
    assert.ok(err instanceof RunStartError);
    assert.equal(typeof p.statusCode, 'number');
    assert.equal(p.statusCode, (p.cause as { statusCode?: number }).statusCode);
    assert.match(p.fix ?? '', /NVIDIA Container Toolkit/);
    assert.match(p.detail ?? '', /could not select device driver/);
    assert.equal(err.record.containerId, null);
  });

  it('a shell in a container the engine does not have: engine-error 404 with the engine words', async () => {
    const err = await rejection(openShell(client, 'mlc-test-no-such-container'));
    const p = problem(err, 'engine-error');
    assert.equal(p.statusCode, 404);
    assert.match(p.message, /No such container: mlc-test-no-such-container/);
    assert.match(p.fix ?? '', /engine's log/);
  });

  it('a build whose base image is missing: BuildError build-failed with the end of the build log', async () => {
    const dir = project({ Dockerfile: 'FROM mlc-test/no-such-base:missing AS train\nRUN true\n' });
    const err = await rejection(buildTarget(client, { projectRoot: dir, target: 'train', tag: 'mlc-test/problems:x' }));
    const p = problem(err, 'build-failed');
    assert.ok(err instanceof BuildError);
    // the engine answers for the base image: not in its store, and its registry is not reachable from here
    assert.match(
      p.message,
      /^Building mlc-test\/problems:x \(target train\) failed: .+\. The build log above says where/,
    );
    assert.match(err.logTail, /no-such-base/);
    assert.match(p.fix ?? '', /fix the Dockerfile/);
  });

  it('an engine that is not there: engine-unreachable through the build', async () => {
    const dir = project({ Dockerfile: `FROM ${BUSYBOX} AS train\n` });
    const gone = connectEngine({ env: { DOCKER_HOST: `unix://${path.join(tmp, 'none.sock')}` } });
    const p = problem(await rejection(buildTarget(gone, { projectRoot: dir, target: 'train' })), 'engine-unreachable');
    assert.equal(p.statusCode, undefined);
    assert.match(p.fix ?? '', /DOCKER_HOST/);
  });

  it('a cancelled build rejects with a cancellation (not a problem) and tags no image', async () => {
    const dir = project({ Dockerfile: `FROM ${BUSYBOX} AS train\nRUN echo building && sleep 3600\n` });
    const tag = 'mlc-test/problems-cancelled:train';
    const ac = new AbortController();
    const t0 = Date.now();
    const err = await rejection(
      buildTarget(client, {
        projectRoot: dir,
        target: 'train',
        tag,
        signal: ac.signal,
        onProgress: (line) => {
          if (line.includes('building')) ac.abort(); // the RUN step is running
        },
      }),
    );
    assert.ok(isCancellation(err), String(err));
    assert.ok(!isProblem(err));
    assert.ok(Date.now() - t0 < 30_000, 'the build was not stopped');
    await assert.rejects(docker.getImage(tag).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });
});
