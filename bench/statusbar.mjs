// npm run bench:statusbar — what the GPU status bar costs: CPU time per minute of our process plus its nvidia-smi, for
// the long-lived `nvidia-smi … -lms N` the indicator uses, against spawning `nvidia-smi --query-gpu=…` once per tick
// (the obvious way), at 1 s and 2 s, in the same run. nvidia-smi is test/support/fake-nvidia-smi.js replaying the
// real H200 capture (NVIDIA_SMI=/path/to/nvidia-smi measures a real one instead).
// Each measurement runs in its own process: after a warm-up, the CPU time (user + system) of that process and of its
// nvidia-smi children is read from /proc over the measured window and scaled to one minute. The fake is a Node
// script, so each spawn costs far more than a real nvidia-smi (~26 ms wall on the H200): the spawn-per-tick baseline
// is pessimistic, the long-lived figure is steady state (its one start is reported apart).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setInterval, clearInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 10_000);
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 60_000);

/** utime + stime (+ reaped children's) of a process, in ms, from /proc/<pid>/stat. */
function cpuMs(pid, withChildren = false) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields after the name: state(0) … utime(11) stime(12) cutime(13) cstime(14)
  const ticks = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
  return (ticks * 1000) / TICK;
}

// ---------------------------------------------------------------------------------------------------------------
// child: one measurement, printed as JSON
if (process.argv[2] === '--child') {
  const [, , , mode, intervalText, smi] = process.argv;
  const interval = Number(intervalText);
  const { GpuMonitor, MONITOR_FIELDS } = await import(path.join(root, 'out', 'src', 'core', 'gpu', 'monitor.js'));
  const { parseQueryGpuCsv, queryGpuArgs } = await import(path.join(root, 'out', 'src', 'core', 'gpu', 'nvidiaSmi.js'));
  let samples = 0;
  let stop;
  let childPid = () => undefined;
  if (mode === 'long-lived') {
    const monitor = new GpuMonitor({
      intervalMs: interval,
      nvidiaSmi: smi,
      onUpdate: (s) => s.kind === 'ok' && samples++,
    });
    monitor.resume();
    childPid = () => monitor['child']?.pid;
    stop = () => monitor.dispose();
  } else {
    // the obvious way: spawn nvidia-smi every tick and parse what it prints
    const args = queryGpuArgs(MONITOR_FIELDS);
    const tick = () => {
      const c = spawn(smi, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('close', () => {
        parseQueryGpuCsv(out, MONITOR_FIELDS);
        samples++;
      });
    };
    const timer = setInterval(tick, interval);
    tick();
    stop = () => clearInterval(timer);
  }
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  // this process: microseconds from the kernel; its reaped children (spawn per tick) in clock ticks
  const usage = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const reaped = () => cpuMs(process.pid, true) - cpuMs(process.pid, false);
  const self0 = usage();
  const reaped0 = reaped();
  const child0 = childPid() ? cpuMs(childPid()) : 0;
  const pid0 = childPid();
  const samples0 = samples;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const wall = Date.now() - t0;
  const self1 = usage();
  const reaped1 = reaped();
  const child1 = childPid() ? cpuMs(childPid()) : 0;
  const restarted = childPid() !== pid0;
  stop();
  console.log(
    JSON.stringify({
      wallMs: wall,
      selfMs: self1 - self0,
      // the long-lived nvidia-smi, read while alive; or every nvidia-smi spawned and reaped in the window
      childMs: restarted ? NaN : child1 - child0 + (reaped1 - reaped0),
      samples: samples - samples0,
    }),
  );
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------------
let smi = process.env.NVIDIA_SMI;
let tmp;
if (!smi) {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-bench-smi-'));
  smi = path.join(tmp, 'nvidia-smi');
  const fake = path.join(root, 'test', 'support', 'fake-nvidia-smi.js');
  const capture = path.join(root, 'test', 'fixtures', 'gpu-hosts', 'h200-driver-580');
  fs.writeFileSync(smi, `#!/bin/sh\nexec '${process.execPath}' '${fake}' '${capture}' "$@"\n`, { mode: 0o755 });
}
const monitorJs = path.join(root, 'out', 'src', 'core', 'gpu', 'monitor.js');
if (!fs.existsSync(monitorJs)) {
  console.error(`${monitorJs} is missing: run \`npm run compile:tests\` first (npm run bench:statusbar does).`);
  process.exit(1);
}

function measure(mode, interval) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, String(interval), smi], {
    encoding: 'utf8',
    timeout: WARMUP_MS + MEASURE_MS + 30_000,
  });
  if (r.status !== 0) throw new Error(`${mode} @ ${interval} ms failed: ${r.stderr || r.error}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop());
  const perMinute = ((m.selfMs + m.childMs) * 60_000) / m.wallMs;
  return { ...m, perMinute, corePct: (perMinute / 60_000) * 100 };
}

const startCost = () => {
  // one nvidia-smi start and query, for the record (the long-lived process pays it once)
  const t0 = process.hrtime.bigint();
  const r = spawnSync(smi, ['--query-gpu=index,utilization.gpu', '--format=csv,noheader,nounits'], {
    encoding: 'utf8',
  });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, ok: r.status === 0 };
};

console.log(`GPU status bar cost, ${MEASURE_MS / 1000} s measured per case after ${WARMUP_MS / 1000} s warm-up`);
console.log(`nvidia-smi: ${process.env.NVIDIA_SMI ? smi : 'fake (Node) replaying the real H200 capture'}`);
const start = startCost();
console.log(`one nvidia-smi start + query: ${start.ms.toFixed(0)} ms wall${start.ok ? '' : ' (FAILED)'}\n`);
const rows = [];
let failed = false;
for (const interval of [1000, 2000]) {
  const ours = measure('long-lived', interval);
  const spawnEach = measure('spawn-per-tick', interval);
  rows.push({ interval, ours, spawnEach });
  if (!(ours.samples > 0) || !(spawnEach.samples > 0) || Number.isNaN(ours.childMs)) failed = true;
}
const fmt = (m) =>
  `${m.perMinute.toFixed(0).padStart(6)} ms/min = ${m.corePct.toFixed(3).padStart(6)}% of a core ` +
  `(ours ${m.selfMs.toFixed(0)} + nvidia-smi ${m.childMs.toFixed(0)} ms, ${m.samples} samples)`;
for (const { interval, ours, spawnEach } of rows) {
  console.log(`interval ${interval / 1000} s`);
  console.log(`  long-lived -lms (ours): ${fmt(ours)}`);
  console.log(`  spawn per tick:         ${fmt(spawnEach)}`);
  const ratio = spawnEach.perMinute / Math.max(ours.perMinute, 1e-9);
  console.log(`  spawn-per-tick / ours:  ${ratio.toFixed(1)}x`);
}
const at1 = rows.find((r) => r.interval === 1000);
const ratio1 = at1.spawnEach.perMinute / Math.max(at1.ours.perMinute, 1e-9);
console.log('');
console.log(
  `${at1.ours.corePct <= 0.1 ? 'PASS' : 'FAIL'} target: at most 0.1% of one core at 1 s (got ${at1.ours.corePct.toFixed(3)}%)`,
);
console.log(`${ratio1 >= 50 ? 'PASS' : 'FAIL'} target: 50x below spawn-per-tick at 1 s (got ${ratio1.toFixed(1)}x)`);
if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
if (failed) {
  console.error('a measurement got no samples or lost its nvidia-smi: the numbers above are not valid');
  process.exit(1);
}
