/**
 * The GPU status bar's data path: one long-lived nvidia-smi (the fake replaying the real H200 captures, idle and
 * under load) read line by line, restarted with backoff, paused and resumed; the item's text, tooltip and warning;
 * and the idle-GPU hint.
 */
import * as assert from 'node:assert/strict';
import { GpuMonitor, type GpuSnapshot, type MonitorState } from '../../src/core/gpu/monitor';
import { NO_NVIDIA_SMI_REASON, parseQueryGpuCsv } from '../../src/core/gpu/nvidiaSmi';
import { gib, IdleGpuDetector, idleHintMessage, statusBarView } from '../../src/core/gpu/status';
import { type FakeNvidiaSmi, installFakeNvidiaSmi, readCapture } from '../support/fakeNvidiaSmi';
import { until } from '../support/wait';

const UUID0 = 'GPU-c422a366-d6ee-b87d-50f4-1882b1497d37';

/** The GPUs of a capture folder's query-gpu.csv, as a snapshot at `at`. */
function snapshotOf(host: string, at: number): GpuSnapshot {
  const csv = readCapture(host, 'query-gpu.csv');
  const fields = csv
    .split('\n')[0]!
    .split(', ')
    .map((h) => h.replace(/ \[[^\]]*\]$/, '').replace('clocks.current.sm', 'clocks.sm'));
  return { at, gpus: parseQueryGpuCsv(csv, fields) };
}

describe('gpu: the long-lived monitor', function () {
  this.timeout(20_000);
  const fakes: FakeNvidiaSmi[] = [];
  const monitors: GpuMonitor[] = [];
  afterEach(() => {
    monitors.splice(0).forEach((m) => m.dispose());
    fakes.splice(0).forEach((f) => f.cleanup());
  });
  const watch = (env: NodeJS.ProcessEnv, intervalMs = 100): { monitor: GpuMonitor; states: MonitorState[] } => {
    const states: MonitorState[] = [];
    const monitor = new GpuMonitor({
      intervalMs,
      env,
      onUpdate: (s) => states.push(s),
      backoffMs: { initial: 50, max: 200 },
    });
    monitors.push(monitor);
    monitor.resume();
    return { monitor, states };
  };
  const oks = (states: MonitorState[]): GpuSnapshot[] =>
    states.filter((s): s is Extract<MonitorState, { kind: 'ok' }> => s.kind === 'ok').map((s) => s.snapshot);

  it('reads sample after sample from ONE nvidia-smi process (the idle H200 capture)', async () => {
    const f = installFakeNvidiaSmi('h200-driver-580');
    fakes.push(f);
    const { monitor, states } = watch(f.env);
    await until('five samples', () => (oks(states).length >= 5 ? true : undefined));
    assert.equal(monitor.spawns, 1, 'the monitor spawned nvidia-smi more than once');
    const g = oks(states)[0]!.gpus[0]!;
    assert.equal(g.index, 0);
    assert.equal(g.uuid, UUID0);
    assert.equal(g.name, 'NVIDIA H200');
    assert.equal(g.utilizationGpu, 0);
    assert.equal(g.memoryTotalMiB, 143771);
    assert.equal(g.powerDrawW, 126.1);
  });

  it('follows the values of the capture under load, and groups two GPUs per sample', async () => {
    const f = installFakeNvidiaSmi('h200-driver-580', {}, 'nvidia-smi', { FAKE_NVIDIA_SMI_SCENARIO: 'load' });
    fakes.push(f);
    const { states } = watch(f.env);
    const load = await until('a sample under load', () => oks(states).find((s) => s.gpus[0]?.utilizationGpu === 100));
    assert.equal(load.gpus[0]!.memoryUsedMiB, 1139);
    assert.ok(load.gpus[0]!.powerDrawW! > 500);

    const two = installFakeNvidiaSmi('h200x2-derived');
    fakes.push(two);
    const pair = watch(two.env);
    const s = await until('a two-GPU sample', () => oks(pair.states)[1]);
    assert.deepEqual(
      s.gpus.map((g) => [g.index, g.utilizationGpu]),
      [
        [0, 0],
        [1, 100],
      ],
    );
  });

  it('says "no GPU" with the reason when there is no nvidia-smi or the driver fails', async () => {
    const none = watch({ PATH: '/nonexistent' });
    const s = await until('the no-gpu state', () => none.states.find((x) => x.kind === 'no-gpu'));
    assert.equal((s as { reason: string }).reason, NO_NVIDIA_SMI_REASON);

    const f = installFakeNvidiaSmi('h200-driver-580', {}, 'nvidia-smi', { FAKE_NVIDIA_SMI_MODE: 'driver-failure' });
    fakes.push(f);
    const failing = watch(f.env);
    const d = await until('the driver failure', () => failing.states.find((x) => x.kind === 'no-gpu'));
    assert.match((d as { reason: string }).reason, /NVIDIA-SMI has failed/);
    assert.equal(failing.monitor.spawns, 1, 'a missing driver is not retried in a loop');
  });

  it('restarts nvidia-smi with backoff when it dies, and stops it while paused', async () => {
    const f = installFakeNvidiaSmi('h200-driver-580', {}, 'nvidia-smi', { FAKE_NVIDIA_SMI_MODE: 'bad-format' });
    fakes.push(f);
    const { monitor, states } = watch(f.env);
    await until('three restarts', () => (monitor.spawns >= 3 ? true : undefined));
    const errors = states.filter((s): s is Extract<MonitorState, { kind: 'error' }> => s.kind === 'error');
    assert.ok(errors.length >= 2);
    assert.ok(errors[1]!.retryInMs > errors[0]!.retryInMs, 'the wait grows');
    monitor.pause();
    const spawns = monitor.spawns;
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(monitor.spawns, spawns, 'nvidia-smi was started while paused');

    const ok = installFakeNvidiaSmi('h200-driver-580');
    fakes.push(ok);
    const w = watch(ok.env);
    await until('a sample', () => oks(w.states)[0]);
    w.monitor.pause();
    const n = oks(w.states).length;
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(oks(w.states).length <= n + 1, 'samples kept coming while paused');
    w.monitor.resume();
    await until('samples after resume', () => (oks(w.states).length > n + 1 ? true : undefined));
    assert.equal(w.monitor.spawns, 2);
  });
});

describe('gpu: the status bar text and the idle hint', () => {
  it('shows one GPU as utilization and GiB used/total, with a table per GPU in the tooltip', () => {
    const view = statusBarView(snapshotOf('h200-driver-580', 0), [], 'busiest');
    assert.equal(view.text, '$(pulse) GPU 0% · 0/140 GiB');
    assert.match(view.tooltip, /\| &nbsp;GPU&nbsp; \| &nbsp;Name&nbsp; \|/);
    assert.match(
      view.tooltip.replace(/&nbsp;/g, ''),
      /\| 0 \| NVIDIA H200 \| 0% \| 0 \/ 140 GiB \| 40 °C \| 126 W \| — \|/,
    );
    assert.equal(view.memoryWarning, false);
    assert.equal(gib(1139), '1.1');
  });

  it('shows the busiest GPU or the average on two GPUs, and which runs use each', () => {
    const snap = snapshotOf('h200x2-derived', 0);
    const runs = [{ id: 'r1', label: 'lr=0.1', gpus: ['1'] }];
    const busiest = statusBarView(snap, runs, 'busiest');
    assert.equal(busiest.text, '$(pulse) GPU 1/2 100% · 1.1/140 GiB');
    assert.match(busiest.tooltip.replace(/&nbsp;/g, ''), /\| 1 \| NVIDIA H200 \| 100% .* \| lr=0\.1 \|/);
    assert.equal(statusBarView(snap, runs, 'average').text, '$(pulse) 2 GPUs 50% · 1.1/281 GiB');
  });

  it('warns above 90% of a GPU memory', () => {
    const snap = snapshotOf('h200-driver-580', 0);
    snap.gpus[0]!.memoryUsedMiB = 140_000;
    assert.equal(statusBarView(snap, [], 'busiest').memoryWarning, true);
  });

  it('hints once when a run keeps its GPUs below 10% for the whole window, never for a busy run', () => {
    const idle = new IdleGpuDetector(10, 120_000);
    const two = (at: number): GpuSnapshot => snapshotOf('h200x2-derived', at); // GPU 0 idle, GPU 1 at 100%
    const runs = [
      { id: 'idle', label: 'lr=0.1', gpus: ['0'] },
      { id: 'busy', label: 'lr=0.2', gpus: ['1'] },
      { id: 'both', label: 'lr=0.3', gpus: 'all' as const },
    ];
    assert.deepEqual(idle.observe(two(0), runs), []);
    assert.deepEqual(idle.observe(two(60_000), runs), []);
    const hints = idle.observe(two(120_000), runs);
    assert.deepEqual(
      hints.map((h) => h.runId),
      ['idle'],
    );
    assert.equal(idle.observe(two(200_000), runs).length, 0, 'the hint comes once');
    const message = idleHintMessage('lr=0.1', hints[0]!, 10);
    assert.match(message, /GPU 0 below 10% busy for 2 minutes/);
    assert.match(message, /num_workers.*pin_memory.*\/dev\/shm.*CPU-bound preprocessing/);
  });

  it('starts counting again when the GPU gets busy in between', () => {
    const idle = new IdleGpuDetector(10, 120_000);
    const runs = [{ id: 'r', label: 'r', gpus: ['0'] }];
    const snap = (at: number, util: number): GpuSnapshot => {
      const s = snapshotOf('h200-driver-580', at);
      s.gpus[0]!.utilizationGpu = util;
      return s;
    };
    idle.observe(snap(0, 0), runs);
    idle.observe(snap(100_000, 95), runs);
    assert.deepEqual(idle.observe(snap(130_000, 0), runs), []);
    assert.equal(idle.observe(snap(250_000, 3), runs).length, 1);
  });
});
