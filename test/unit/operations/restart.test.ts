/**
 * Restart Run, the one home of "the same run again": the spec made from the run's record (command, image, GPUs,
 * ports, memory limit, a sweep run's parameters and its sweep's env over the project's .env read afresh), in the
 * project the record lives in; a running run is stopped first, and one that cannot be stopped is not started again.
 * The engine at the address used here is not there.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectEngine } from '../../../src/core/docker/engine';
import { restartRun, restartSpec } from '../../../src/core/operations/restartRun';
import { Runner } from '../../../src/core/runs/runner';
import { RunStore } from '../../../src/core/runs/store';
import { newSweep, parseSweepFile } from '../../../src/core/runs/sweep';
import type { RunRecord, RunSpec } from '../../../src/core/runs/types';
import { tempDir } from '../helpers';

describe('one operation: Restart Run', () => {
  let dir: string;
  let cleanup: () => void;
  let store: RunStore;
  let runner: Runner;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('mlc-restart-'));
    store = new RunStore(dir);
    runner = new Runner({ client: connectEngine({ dockerHost: 'unix:///nonexistent-mlc-restart.sock' }), store });
    fs.writeFileSync(path.join(dir, '.env'), 'A=from-env\nB=from-env\n');
  });
  afterEach(() => cleanup());

  const record = (over: Partial<RunRecord> = {}): RunRecord => ({
    id: '20261126-153012-a1b2',
    project: '/somewhere/else',
    projectName: 'else',
    state: 'failed',
    containerId: null,
    containerName: 'mlc-p-20261126-153012-a1b2',
    image: 'mlc/p:train',
    imageId: null,
    repoDigests: [],
    command: ['python', 'train.py', '--lr', '0.1'],
    gpus: { kind: 'devices', ids: ['1'] },
    mountWorkspace: false,
    requestedPorts: [6006],
    ports: { '6006': 49153 },
    memoryBytes: 16 * 1024 ** 3,
    sweepId: null,
    params: {},
    createdAt: '2026-11-26T15:30:12.000Z',
    startedAt: null,
    finishedAt: null,
    stopRequestedAt: null,
    exitCode: 1,
    oomKilled: false,
    explanation: null,
    warnings: [],
    host: { dockerHost: 'unix:///var/run/docker.sock', engineVersion: null, driverVersion: null, gpus: [] },
    ...over,
  });

  it('the same run again, in the project the record lives in, with the .env read afresh', async () => {
    const spec = await restartSpec(store, record());
    assert.deepEqual(
      [spec.projectRoot, spec.image, spec.command, spec.gpus, spec.ports, spec.memoryBytes, spec.mountWorkspace],
      [
        dir,
        'mlc/p:train',
        ['python', 'train.py', '--lr', '0.1'],
        { kind: 'devices', ids: ['1'] },
        [6006],
        16 * 1024 ** 3,
        false,
      ],
    );
    assert.deepEqual(spec.env, { A: 'from-env', B: 'from-env' });
    assert.equal(spec.sweepId, undefined);
  });

  it("a sweep run keeps its sweep and parameters, and gets its sweep's env over the .env", async () => {
    const sweep = newSweep({
      project: dir,
      file: 's.yaml',
      sweep: parseSweepFile('command: python t.py {lr}\ngrid:\n  lr: [0.1]\ngpusPerRun: 0\nenv:\n  B: from-sweep\n'),
      image: 'mlc/p:train',
      gpus: [],
    });
    fs.mkdirSync(path.dirname(store.sweepFile(sweep.id)), { recursive: true });
    fs.writeFileSync(store.sweepFile(sweep.id), JSON.stringify(sweep));
    const spec = await restartSpec(store, record({ sweepId: sweep.id, params: { lr: '0.1' } }));
    assert.deepEqual(
      [spec.sweepId, spec.params, spec.env],
      [sweep.id, { lr: '0.1' }, { A: 'from-env', B: 'from-sweep' }],
    );
    // a sweep no longer recorded: the run is made again without its env
    const gone = await restartSpec(store, record({ sweepId: 'sweep-gone', params: { lr: '0.1' } }));
    assert.deepEqual([gone.sweepId, gone.env], ['sweep-gone', { A: 'from-env', B: 'from-env' }]);
  });

  it('a finished run is started again through the port, the engine not asked to stop anything', async () => {
    let started: RunSpec | undefined;
    const again = record({ id: '20261126-153013-b2c3' });
    const out = await restartRun(runner, record(), {
      start: (spec) => {
        started = spec;
        return Promise.resolve({ record: again, done: Promise.resolve(again) });
      },
    });
    assert.equal(out.record, again);
    assert.deepEqual(started?.command, ['python', 'train.py', '--lr', '0.1']);
  });

  it('a running run that cannot be stopped is not started a second time', async () => {
    const running = record({ state: 'running', containerId: 'c0ffee', exitCode: null });
    await store.writeRecord(running);
    let starts = 0;
    await assert.rejects(
      restartRun(runner, running, {
        start: () => {
          starts++;
          return Promise.reject(new Error('not started'));
        },
      }),
      (e: Error) => e.message !== 'not started',
    );
    assert.equal(starts, 0);
  });
});
