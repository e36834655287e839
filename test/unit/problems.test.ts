/**
 * Typed problems and cancellation (src/core/util/errors.ts, src/core/docker/errors.ts): an engine error keeps its id,
 * fix, status code and cause as a Problem; a cancellation and a Problem are recognised by marks every bundle shares.
 * The extension is two bundles (dist/extension.js, dist/lazy.js) with a copy of these classes each: the cross-bundle
 * tests load the built dist/lazy.js next to this test's own copy (out/), as the extension does.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Lazy from '../../src/extension/lazy';
import {
  describeEngineProblem,
  engineError,
  engineProblem,
  explainEngineError,
  type EngineProblemId,
} from '../../src/core/docker/errors';
import { BuildError } from '../../src/core/runs/build';
import { RunStartError } from '../../src/core/runs/runner';
import type { RunRecord } from '../../src/core/runs/types';
import {
  CancellationError,
  isCancellation,
  isProblem,
  Problem,
  problemIdOf,
  throwIfCancelled,
} from '../../src/core/util/errors';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const LAZY = path.join(ROOT, 'dist', 'lazy.js');

/** An error shaped exactly as docker-modem builds it for an HTTP error answer. */
function dockerodeError(statusCode: number, engineMessage: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${engineMessage} `), {
    statusCode,
    json: { message: engineMessage },
  });
}

/** What each kind of engine error looks like (the engine's real words, as in docker-errors.test.ts). */
const ENGINE_ERRORS: { id: EngineProblemId; err: unknown; status: number | null; fix: RegExp }[] = [
  {
    id: 'image-not-found',
    err: dockerodeError(404, 'No such image: mlc-test/no-such-image:missing'),
    status: 404,
    fix: /docker pull mlc-test\/no-such-image:missing/,
  },
  {
    id: 'no-container-gpu-runtime',
    err: dockerodeError(500, 'could not select device driver "" with capabilities: [[gpu]]'),
    status: 500,
    fix: /NVIDIA Container Toolkit/,
  },
  {
    id: 'no-nvidia-runtime',
    err: dockerodeError(400, 'unknown or invalid runtime name: nvidia; unknown runtime specified nvidia'),
    status: 400,
    fix: /nvidia-ctk runtime configure/,
  },
  {
    id: 'engine-unreachable',
    err: Object.assign(new Error('connect ENOENT /run/none.sock'), { code: 'ENOENT', address: '/run/none.sock' }),
    status: null,
    fix: /systemctl start docker/,
  },
  {
    id: 'engine-permission-denied',
    err: Object.assign(new Error('connect EACCES /run/docker.sock'), { code: 'EACCES', address: '/run/docker.sock' }),
    status: null,
    fix: /usermod -aG docker/,
  },
  {
    id: 'engine-error',
    err: dockerodeError(404, 'No such container: mlc-none'),
    status: 404,
    fix: /engine's log/,
  },
];

describe('problems: cancellation is recognised by its mark', () => {
  it('a CancellationError, one from another copy of the class, and one that lost its brand are cancellations', () => {
    assert.ok(isCancellation(new CancellationError()));
    assert.ok(isCancellation(Object.assign(new Error('x'), { [Symbol.for('mlContainers.cancelled')]: true })));
    // structured cloning keeps the name, not the symbol
    assert.ok(isCancellation(Object.assign(new Error('x'), { name: 'CancellationError' })));
    for (const other of [
      new Error('cancelled'),
      new Problem('cancelled', 'x.'),
      null,
      undefined,
      'CancellationError',
    ]) {
      assert.ok(!isCancellation(other), String(other));
    }
  });

  it('`instanceof CancellationError` holds for a cancellation of another copy, and for nothing else', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('mlContainers.cancelled')]: true });
    assert.ok(foreign instanceof CancellationError);
    assert.ok(!(new Error('x') instanceof CancellationError));
    assert.throws(() => throwIfCancelled(AbortSignal.abort()), CancellationError);
  });

  it('a cancellation thrown by the built dist/lazy.js is one for this copy of the core', async function () {
    if (!fs.existsSync(LAZY)) this.skip(); // npm run test:unit builds it first
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lazy = require(LAZY) as typeof Lazy;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-problems-'));
    try {
      fs.writeFileSync(path.join(dir, 'train.py'), 'import torch\n');
      const err = await lazy.detectProject(dir, { signal: AbortSignal.abort() }).then(
        () => assert.fail('the detection was not cancelled'),
        (e: unknown) => e,
      );
      assert.equal((err as Error).constructor === CancellationError, false, 'the bundle has its own copy');
      assert.ok(isCancellation(err), String(err));
      assert.ok(err instanceof CancellationError, 'instanceof across the bundles');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a Problem thrown by the built dist/lazy.js keeps its id, fix and cause for this copy', async function () {
    if (!fs.existsSync(LAZY)) this.skip();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lazy = require(LAZY) as typeof Lazy;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-problems-'));
    try {
      fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch AS train\n');
      const socket = path.join(dir, 'no-engine.sock');
      const client = lazy.connectEngine({ env: { DOCKER_HOST: `unix://${socket}` } });
      const err = await lazy.buildTarget(client, { projectRoot: dir, target: 'train' }).then(
        () => assert.fail('the build ran without an engine'),
        (e: unknown) => e,
      );
      assert.ok(!(err instanceof Problem), 'the bundle has its own copy');
      assert.ok(isProblem(err), String(err));
      assert.equal(err.id, 'engine-unreachable');
      assert.equal(problemIdOf(err), 'engine-unreachable');
      assert.match(err.message, /^No Docker engine is running at .*no-engine\.sock.*: start it/);
      assert.match(err.fix ?? '', /systemctl start docker/);
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('problems: engine errors keep their id, fix and status code', () => {
  for (const c of ENGINE_ERRORS) {
    it(`${c.id}: engineProblem keeps what explainEngineError found, and the error as its cause`, () => {
      const explained = explainEngineError(c.err);
      const p = engineProblem(c.err);
      assert.ok(isProblem(p) && p instanceof Problem && p instanceof Error);
      assert.equal(p.id, c.id);
      assert.equal(p.message, describeEngineProblem(explained));
      assert.equal(p.fix, explained.fix);
      assert.match(p.fix ?? '', c.fix);
      assert.equal(p.statusCode, c.status ?? undefined);
      assert.equal(p.detail, explained.detail);
      assert.equal(p.cause, c.err);
      assert.ok(!isCancellation(p));
    });
  }

  it('engineError passes cancellations (of any copy) and problems through, and explains anything else', () => {
    const cancelled = Object.assign(new Error('x'), { name: 'CancellationError' });
    assert.equal(engineError(cancelled), cancelled);
    const p = new Problem('image-not-found', 'The image x is missing: build it.');
    assert.equal(engineError(p), p);
    const e = engineError(dockerodeError(404, 'No such image: x:1'));
    assert.ok(isProblem(e));
    assert.equal(e.id, 'image-not-found');
  });

  it('RunStartError is the engine Problem with the failed record; BuildError is the Problem build-failed', () => {
    const record = { id: 'r1', state: 'failed' } as RunRecord;
    const cause = ENGINE_ERRORS[1]!.err;
    const err = new RunStartError(engineProblem(cause), record);
    assert.ok(isProblem(err));
    assert.deepEqual(
      [err.id, err.problemId, err.statusCode, err.cause, err.record],
      ['no-container-gpu-runtime', 'no-container-gpu-runtime', 500, cause, record],
    );
    assert.match(err.fix ?? '', /NVIDIA Container Toolkit/);
    const build = new BuildError('Building x failed: boom. Fix the Dockerfile and run again.', 'Step 1/2\nboom');
    assert.ok(isProblem(build));
    assert.equal(build.id, 'build-failed');
    assert.equal(build.logTail, 'Step 1/2\nboom');
  });

  it('a Problem is one sentence, its fix and status only when given', () => {
    const p = new Problem('x', 'Something failed: do this.');
    assert.equal(p.message, 'Something failed: do this.');
    assert.equal(p.name, 'Problem');
    assert.deepEqual([p.fix, p.statusCode, p.cause], [undefined, undefined, undefined]);
    assert.equal(problemIdOf(new Error('x')), undefined);
    assert.ok(!isProblem(Object.assign(new Error('x'), { problemId: 'image-not-found' })), 'not by shape');
  });
});
