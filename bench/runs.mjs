// npm run bench:runs — training runs against the docker CLI on the same engine, in the same run:
//   (1) log streaming: a container printing 1,000,000 lines (busybox `seq`, with a TTY as the runner makes it)
//       followed into log.txt by Runner.start + Runner.follow (in a child process, so its memory is its own), against
//       `docker run -d` + `docker logs -f` of an identically specified container writing to a file. Throughput from
//       the container's start (its State.StartedAt) to the log file being complete and the run over; the followers'
//       RSS and CPU; both files checked line by line.
//   (2) command -> container running: Runner.start (a fresh engine client each time, as a command-line call has)
//       against `docker run -d` with the same spec; and Runner.start with the memlock ulimit left out (what-if: this
//       engine refuses memlock, so the runner retries every start without it; no RunSpec field controls that).
// Measurements alternate ours/baseline; medians are reported. Everything it creates (containers labelled with its
// temporary project folder, the folder itself) is removed at the end. Exits non-zero only on correctness failures.
// Needs the private engine (DOCKER_HOST, else scripts/docker-engine-up.sh is run) and out/ (npm run compile:tests).
// usage: node bench/runs.mjs [--lines N] [--log-reps N] [--start-reps N]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const modules = {
  runner: path.join(root, 'out', 'src', 'core', 'runs', 'runner.js'),
  store: path.join(root, 'out', 'src', 'core', 'runs', 'store.js'),
  spec: path.join(root, 'out', 'src', 'core', 'runs', 'spec.js'),
  types: path.join(root, 'out', 'src', 'core', 'runs', 'types.js'),
  engine: path.join(root, 'out', 'src', 'core', 'docker', 'engine.js'),
};
const DOCKER = '/usr/bin/docker';
const IMAGE = 'mlc-test/busybox:latest';
const SHM = 64 * 1024 * 1024;
const STACK = 67108864; // the stack ulimit the runner asks for (spec.ts DEFAULT_ULIMITS)
const MiB = 1024 * 1024;

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

/** The RunSpec of every container here: no GPUs, no mount, 64 MiB of shm, no ports, no extra environment. */
const specFor = (projectRoot, command) => ({
  projectRoot,
  image: IMAGE,
  command,
  gpus: { kind: 'none' },
  mountWorkspace: false,
  env: {},
  shm: SHM,
  ports: [],
});

// ---------------------------------------------------------------------------------------------------------------
// child (node --expose-gc): one Runner.start + follow of the log container, printed as JSON
if (process.argv[2] === '--child-logs') {
  const [, , , projectRoot, lines] = process.argv;
  const { connectEngine } = await import(modules.engine);
  const { Runner } = await import(modules.runner);
  const { RunStore } = await import(modules.store);
  const runner = new Runner({
    client: connectEngine({ dockerHost: process.env.DOCKER_HOST }),
    store: new RunStore(projectRoot),
  });
  const mem = () => {
    const m = process.memoryUsage();
    return { rss: m.rss / MiB, buffers: m.arrayBuffers / MiB, live: (m.heapUsed + m.arrayBuffers) / MiB };
  };
  globalThis.gc();
  const before = mem();
  let rssPeak = before.rss;
  let buffersPeak = before.buffers;
  const sample = () => {
    const m = mem();
    rssPeak = Math.max(rssPeak, m.rss);
    buffersPeak = Math.max(buffersPeak, m.buffers);
  };
  let chunks = 0;
  const timer = setInterval(sample, 50);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const epoch0 = Date.now();
  // onOutput as the command line and the extension pass one (they print each chunk); here it only counts them
  const started = await runner.start(specFor(projectRoot, ['seq', '1', lines]), { onOutput: () => chunks++ });
  const tRunning = performance.now() - t0;
  const record = await started.done;
  const tDone = performance.now() - t0;
  const doneEpoch = Date.now();
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  sample();
  globalThis.gc();
  console.log(
    JSON.stringify({
      epoch0,
      doneEpoch,
      tRunning,
      tDone,
      cpuS: (cpu.user + cpu.system) / 1e6,
      chunks,
      rssStart: before.rss,
      rssPeak,
      buffersPeak,
      liveStart: before.live,
      liveEnd: mem().live,
      containerId: record.containerId,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt,
      state: record.state,
      exitCode: record.exitCode,
      warnings: record.warnings,
      logFile: runner.store.logFile(record.id),
    }),
  );
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------------
// helpers
function fail(message) {
  console.error(`bench:runs: ${message}`);
  process.exit(2);
}

/** Runs a command (argv, no shell); resolves with its exit code and output. */
function exec(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    options.onSpawn?.(child);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function docker(args, options) {
  const r = await exec(DOCKER, args, options);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** DOCKER_HOST, else the private engine's (started by scripts/docker-engine-up.sh). */
function resolveDockerHost() {
  if (process.env.DOCKER_HOST) return process.env.DOCKER_HOST;
  const script = path.join(root, 'scripts', 'docker-engine-up.sh');
  if (!fs.existsSync(script)) fail(`DOCKER_HOST is not set and ${script} is missing.`);
  console.log(`DOCKER_HOST is not set: starting the private engine (MLC_DEBIAN_PYTHON=1 bash ${script})`);
  const r = spawnSync('bash', [script], {
    env: { ...process.env, MLC_DEBIAN_PYTHON: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const out = (r.stdout ?? '').trim().split('\n');
  const m = /^DOCKER_HOST=(\S+)$/.exec(out[out.length - 1] ?? '');
  if (r.status !== 0 || !m) {
    fail(
      `scripts/docker-engine-up.sh ${r.error ? `could not run (${r.error.message})` : `exited with ${r.status}`} ` +
        `and printed no DOCKER_HOST= line:\n${out.slice(-10).join('\n')}`,
    );
  }
  for (const line of out.slice(0, -1)) console.log(`  ${line}`);
  return m[1];
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const fmt = (x, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '-';
const pad = (s, n) => String(s).padStart(n);

/** null when `file` holds exactly the lines 1..n (`\r\n` or `\n` endings), else what is wrong. */
function checkLog(file, n) {
  const text = fs.readFileSync(file, 'latin1');
  const parts = text.split('\n');
  if (parts.pop() !== '') return `${file} does not end with a newline (${text.length} bytes)`;
  if (parts.length !== n) return `${file} has ${parts.length} lines, expected ${n}`;
  for (let i = 0; i < n; i++) {
    const p = parts[i].endsWith('\r') ? parts[i].slice(0, -1) : parts[i];
    if (p !== String(i + 1)) return `${file} line ${i + 1} is ${JSON.stringify(parts[i])}`;
  }
  return null;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
/** RSS and peak RSS (MiB) and CPU seconds so far of a process, from /proc (undefined once it is gone). */
function procStats(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is the state (field 3)
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), cpuS: (Number(fields[11]) + Number(fields[12])) / CLK_TCK };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// setup
for (const [name, file] of Object.entries(modules)) {
  if (!fs.existsSync(file)) {
    fail(`${path.relative(root, file)} (${name}) is missing: run \`npm run compile:tests\` first.`);
  }
}
if (!fs.existsSync(DOCKER)) {
  fail(`${DOCKER} is missing: install Debian's docker.io (scripts/docker-engine-up.sh does).`);
}
process.env.DOCKER_HOST = resolveDockerHost();
{
  const r = spawnSync(DOCKER, ['image', 'inspect', '--format', '{{.Id}}', IMAGE], { encoding: 'utf8' });
  if (r.status !== 0) {
    fail(
      `${IMAGE} is not on the engine at ${process.env.DOCKER_HOST} (${(r.stderr || r.error?.message || '').trim()}): ` +
        'run `MLC_DEBIAN_PYTHON=1 bash scripts/docker-engine-up.sh`.',
    );
  }
}

const LINES = arg('--lines', 1_000_000);
const LOG_REPS = arg('--log-reps', 5);
const START_REPS = arg('--start-reps', 11);

const { connectEngine } = await import(modules.engine);
const { Runner } = await import(modules.runner);
const { RunStore } = await import(modules.store);
const { LABELS } = await import(modules.types);
const { containerNameFor, newRunId, DEFAULT_ULIMITS } = await import(modules.spec);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-bench-runs-'));
const projectRoot = path.join(tmp, 'bench-project');
fs.mkdirSync(projectRoot);
const baselineDir = path.join(tmp, 'baseline');
fs.mkdirSync(baselineDir);

/** Removes every container this run created (they all carry its project label), then its temporary folder. */
function cleanup() {
  const ps = spawnSync(DOCKER, ['ps', '-aq', '--filter', `label=${LABELS.project}=${projectRoot}`], {
    encoding: 'utf8',
  });
  const ids = (ps.stdout ?? '').trim().split('\n').filter(Boolean);
  if (ids.length > 0) spawnSync(DOCKER, ['rm', '-f', ...ids], { stdio: 'ignore' });
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

/** `docker run` flags of the container the runner creates for specFor(projectRoot, …) once memlock is dropped. */
function baselineRunArgs(runId, command) {
  return [
    'run',
    '-d',
    '-t',
    '--init',
    '--name',
    containerNameFor(projectRoot, runId),
    '--shm-size',
    String(SHM),
    '--ulimit',
    `stack=${STACK}:${STACK}`,
    '--label',
    `${LABELS.run}=${runId}`,
    '--label',
    `${LABELS.project}=${projectRoot}`,
    '-e',
    'PYTHONUNBUFFERED=1',
    '--entrypoint',
    '',
    IMAGE,
    ...command,
  ];
}

const failures = [];
const check = (ok, message) => {
  if (!ok) {
    failures.push(message);
    console.log(`  CORRECTNESS FAILURE: ${message}`);
  }
};

// ---------------------------------------------------------------------------------------------------------------
// (1) log streaming

/** Whether a followed log is complete; when it is not, whether the engine's own (non-follow) log of it is. */
async function verifyLog(file, lines, containerId) {
  const problem = checkLog(file, lines);
  if (problem === null) return { ok: true };
  const full = path.join(tmp, 'engine-log.txt');
  const fd = fs.openSync(full, 'w');
  try {
    await exec(DOCKER, ['logs', containerId], { stdout: fd });
  } finally {
    fs.closeSync(fd);
  }
  const engineProblem = checkLog(full, lines);
  fs.rmSync(full);
  return { ok: false, problem, engineProblem };
}

async function oursLogs(lines) {
  const script = fileURLToPath(import.meta.url);
  const r = await exec(process.execPath, ['--expose-gc', script, '--child-logs', projectRoot, String(lines)]);
  if (r.code !== 0) throw new Error(`the Runner child failed (${r.code}): ${r.stderr.trim()}`);
  const res = JSON.parse(r.stdout.trim().split('\n').pop());
  const startedEpoch = Date.parse(res.startedAt);
  const verify = await verifyLog(res.logFile, lines, res.containerId);
  check(res.state === 'succeeded' && res.exitCode === 0, `ours: run ${res.state}, exit ${res.exitCode}`);
  await docker(['rm', '-f', res.containerId]);
  fs.rmSync(res.logFile);
  return {
    verify,
    fromStart: res.doneEpoch - startedEpoch, // container start -> log.txt complete and the run recorded
    total: res.tDone,
    ranMs: Date.parse(res.finishedAt) - startedEpoch,
    cpuS: res.cpuS,
    chunks: res.chunks,
    rssStart: res.rssStart,
    rssPeak: res.rssPeak,
    buffersPeak: res.buffersPeak,
    liveStart: res.liveStart,
    liveEnd: res.liveEnd,
    warnings: res.warnings,
  };
}

async function baselineLogs(lines) {
  const runId = newRunId();
  const file = path.join(baselineDir, `${runId}.log`);
  const t0 = performance.now();
  const id = await docker(baselineRunArgs(runId, ['seq', '1', String(lines)]));
  const fd = fs.openSync(file, 'w');
  let first;
  let last;
  let rssPeak = 0;
  let timer;
  let r;
  try {
    r = await exec(DOCKER, ['logs', '-f', id], {
      stdout: fd,
      onSpawn: (child) => {
        timer = setInterval(() => {
          const s = procStats(child.pid);
          if (!s || !Number.isFinite(s.rss)) return; // gone, or exiting (a zombie has no VmRSS)
          first ??= s;
          last = s;
          rssPeak = Math.max(rssPeak, s.rss, Number.isFinite(s.hwm) ? s.hwm : 0);
        }, 50);
      },
    });
  } finally {
    clearInterval(timer);
    fs.closeSync(fd);
  }
  const tDone = performance.now() - t0;
  const doneEpoch = Date.now();
  if (r.code !== 0) throw new Error(`docker logs -f ${id} failed (${r.code}): ${r.stderr.trim()}`);
  const [startedAt, finishedAt, exitCode] = (
    await docker(['inspect', '--format', '{{.State.StartedAt}} {{.State.FinishedAt}} {{.State.ExitCode}}', id])
  ).split(' ');
  const startedEpoch = Date.parse(startedAt);
  const verify = await verifyLog(file, lines, id);
  check(exitCode === '0', `docker logs -f: container exit ${exitCode}`);
  await docker(['rm', '-f', id]);
  fs.rmSync(file);
  return {
    verify,
    fromStart: doneEpoch - startedEpoch,
    total: tDone,
    ranMs: Date.parse(finishedAt) - startedEpoch,
    cpuS: last?.cpuS ?? NaN, // sampled every 50 ms: may miss the last few ms of CPU
    rssStart: first?.rss ?? NaN,
    rssPeak: rssPeak || NaN,
  };
}

const engineTruncations = [];
/**
 * One complete measurement (up to 3 attempts). An incomplete log.txt of ours is a correctness failure, whatever the
 * cause; an incomplete `docker logs -f` file is one only when the engine's own log is wrong too (else the engine's
 * follow stream ended early: noted, and measured again).
 */
async function measureLog(kind, lines) {
  const who = kind === 'ours' ? 'ours (Runner log.txt)' : 'baseline (docker logs -f)';
  for (let attempt = 1; ; attempt++) {
    const r = await (kind === 'ours' ? oursLogs : baselineLogs)(lines);
    if (r.verify.ok) return r;
    const cause =
      r.verify.engineProblem === null
        ? `the engine's own log has all ${lines} lines: its follow stream ended early`
        : `the engine's own log is wrong too: ${r.verify.engineProblem}`;
    const message = `${who}: ${r.verify.problem}; ${cause}`;
    if (kind === 'ours' || r.verify.engineProblem !== null) check(false, message);
    else {
      engineTruncations.push(message);
      console.log(`  note: ${message} (measured again)`);
    }
    if (attempt === 3) throw new Error(`${who}: no complete log in 3 attempts`);
  }
}

console.log(`engine ${process.env.DOCKER_HOST}, ${os.cpus().length} CPUs, node ${process.version}, temp ${tmp}`);
let exitCode = 0;
try {
  console.log(`\n(1) log streaming: ${IMAGE} \`seq 1 ${LINES}\` with a TTY, ${LOG_REPS} runs each, alternating`);
  await measureLog('ours', 10_000); // warm-up of both paths (engine, page cache), not counted
  await measureLog('base', 10_000);
  const ours = [];
  const base = [];
  for (let i = 0; i < LOG_REPS; i++) {
    for (const kind of i % 2 === 0 ? ['ours', 'base'] : ['base', 'ours']) {
      const r = await measureLog(kind, LINES);
      (kind === 'ours' ? ours : base).push(r);
      console.log(
        `  run ${i + 1} ${kind === 'ours' ? 'ours          ' : 'docker logs -f'} ${pad(fmt(r.fromStart / 1000, 2), 6)} s ` +
          `from container start (${pad(fmt(LINES / (r.fromStart / 1000)), 9)} lines/s), container ran ` +
          `${fmt(r.ranMs / 1000, 2)} s, CPU ${fmt(r.cpuS, 2)} s, RSS ${fmt(r.rssStart)} -> ${fmt(r.rssPeak)} MiB`,
      );
    }
  }
  let logBytes = 0; // `seq` output with the terminal's \r\n endings
  for (let i = 1; i <= LINES; i++) logBytes += String(i).length + 2;
  const med = (rs, key) => median(rs.map((r) => r[key] ?? NaN));
  const summary = (label, rs) => ({
    label,
    rate: LINES / (med(rs, 'fromStart') / 1000),
    s: med(rs, 'fromStart') / 1000,
    total: med(rs, 'total') / 1000,
    ran: med(rs, 'ranMs') / 1000,
    cpuS: med(rs, 'cpuS'),
    chunks: med(rs, 'chunks'),
    rssStart: med(rs, 'rssStart'),
    rssPeak: med(rs, 'rssPeak'),
  });
  const o = summary('ours: Runner.start + follow -> log.txt', ours);
  const b = summary('baseline: docker run -d; docker logs -f > file', base);
  console.log(`\n  log: ${fmt(LINES)} lines, ${fmt(logBytes / MiB, 1)} MiB (\\r\\n endings); medians of ${LOG_REPS}`);
  console.log(
    `  ${'follower'.padEnd(48)} ${pad('lines/s', 9)} ${pad('start->done', 11)} ${pad('cmd->done', 9)} ` +
      `${pad('ctr ran', 8)} ${pad('CPU', 7)} ${pad('chunks', 9)}  RSS start / peak`,
  );
  for (const r of [o, b]) {
    console.log(
      `  ${r.label.padEnd(48)} ${pad(fmt(r.rate), 9)} ${pad(`${fmt(r.s, 2)} s`, 11)} ${pad(`${fmt(r.total, 2)} s`, 9)} ` +
        `${pad(`${fmt(r.ran, 2)} s`, 8)} ${pad(`${fmt(r.cpuS, 2)} s`, 7)} ${pad(fmt(r.chunks), 9)}  ` +
        `${fmt(r.rssStart, 1)} / ${fmt(r.rssPeak, 1)} MiB`,
    );
  }
  const logRatio = o.rate / b.rate;
  console.log(`  ratio ours/baseline: lines/s ${logRatio.toFixed(2)}x, CPU ${(o.cpuS / b.cpuS).toFixed(2)}x`);
  // flat: the follower holds neither the log nor a backlog of it (RSS growth is V8 sizing its heap to the churn)
  const buffersPeak = Math.max(...ours.map((r) => r.buffersPeak));
  const retained = Math.max(...ours.map((r) => r.liveEnd - r.liveStart));
  const slack = Math.max(2, logBytes / MiB / 2); // MiB: holding the log, or half of it, would exceed this
  const flat = buffersPeak < slack && retained < slack;
  console.log(
    `  our follower's memory: RSS +${fmt(o.rssPeak - o.rssStart, 1)} MiB at peak; Buffers at most ` +
      `${fmt(buffersPeak, 1)} MiB at any sample; heap + Buffers after GC ${retained >= 0 ? '+' : ''}${fmt(retained, 1)} ` +
      `MiB over the start (the log is ${fmt(logBytes / MiB, 1)} MiB) -> ${flat ? 'flat' : 'GROWS WITH THE LOG'}`,
  );
  if (ours[0]?.warnings.length) console.log(`  note: our runs carry the warning: ${ours[0].warnings[0]}`);
  if (engineTruncations.length > 0) {
    console.log(`  engine follow streams that ended early (baseline, measured again): ${engineTruncations.length}`);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // (2) command -> container running
  console.log(`\n(2) command -> container running: ${IMAGE} \`sleep 30\`, ${START_REPS} runs each, rotating order`);
  const memlock = DEFAULT_ULIMITS.find((u) => u.Name === 'memlock');

  /** Runner.start with a fresh engine client (as one command-line call has); `noMemlock`: memlock left out. */
  const oursStart = async (noMemlock) => {
    const memlockAt = DEFAULT_ULIMITS.indexOf(memlock);
    if (noMemlock && memlockAt >= 0) DEFAULT_ULIMITS.splice(memlockAt, 1); // what-if: no RunSpec field controls it
    let started;
    let ms;
    try {
      const runner = new Runner({
        client: connectEngine({ dockerHost: process.env.DOCKER_HOST }),
        store: new RunStore(projectRoot),
      });
      const t0 = performance.now();
      started = await runner.start(specFor(projectRoot, ['sleep', '30']));
      ms = performance.now() - t0;
    } finally {
      if (noMemlock && !DEFAULT_ULIMITS.includes(memlock)) DEFAULT_ULIMITS.unshift(memlock);
    }
    const { record } = started;
    const running = await docker(['inspect', '--format', '{{.State.Running}}', record.containerId]);
    check(record.state === 'running' && running === 'true', `ours: container ${record.containerId} is not running`);
    await docker(['rm', '-f', record.containerId]);
    // the follow that start began ends once the container is gone; do not let it outlive the measurement
    await Promise.race([started.done.catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
    return { ms, dropped: record.warnings.length > 0 };
  };
  const baselineStart = async () => {
    const runId = newRunId();
    const t0 = performance.now();
    const id = await docker(baselineRunArgs(runId, ['sleep', '30']));
    const ms = performance.now() - t0;
    const running = await docker(['inspect', '--format', '{{.State.Running}}', id]);
    check(running === 'true', `docker run -d: container ${id} is not running`);
    await docker(['rm', '-f', id]);
    return { ms, dropped: false };
  };
  const kinds = [
    { label: 'ours: Runner.start (as a user runs it)', run: () => oursStart(false), xs: [] },
    { label: 'what-if: Runner.start without memlock ulimit', run: () => oursStart(true), xs: [] },
    { label: 'baseline: docker run -d (same spec)', run: baselineStart, xs: [] },
  ];
  for (const k of kinds) await k.run(); // warm-up, not counted
  for (let i = 0; i < START_REPS; i++) {
    for (let j = 0; j < kinds.length; j++) {
      const k = kinds[(i + j) % kinds.length];
      k.xs.push(await k.run());
    }
  }
  const [ko, kn, kb] = kinds;
  const ms = (k) => median(k.xs.map((r) => r.ms));
  console.log(`  ${'command'.padEnd(48)} ${pad('median', 9)} ${pad('min', 7)} ${pad('max', 7)}  ratio/baseline`);
  for (const k of kinds) {
    const xs = k.xs.map((r) => r.ms);
    console.log(
      `  ${k.label.padEnd(48)} ${pad(`${fmt(ms(k))} ms`, 9)} ${pad(fmt(Math.min(...xs)), 7)} ` +
        `${pad(fmt(Math.max(...xs)), 7)}  ${(ms(k) / ms(kb)).toFixed(2)}x`,
    );
  }
  const droppedCount = ko.xs.filter((r) => r.dropped).length;
  console.log(
    `  our starts that ran without memlock (refused by this engine, then remembered): ${droppedCount}/${ko.xs.length}` +
      ` (what-if runs: ${kn.xs.filter((r) => r.dropped).length}/${kn.xs.length})`,
  );
  const startRatio = ms(ko) / ms(kb);
  const startRatioNoMemlock = ms(kn) / ms(kb);

  console.log('');
  console.log(
    `${logRatio >= 0.9 ? 'PASS' : 'FAIL'} log streaming: ours/baseline ${logRatio.toFixed(2)}x lines/s ` +
      `(target >= 0.90x; ${fmt(o.rate)} vs ${fmt(b.rate)} lines/s from container start)`,
  );
  console.log(
    `${startRatio <= 1.1 ? 'PASS' : 'FAIL'} command -> running: ours/baseline ${startRatio.toFixed(2)}x ` +
      `(target <= 1.10x; ${fmt(ms(ko))} vs ${fmt(ms(kb))} ms` +
      `${droppedCount > 0 ? `, memlock left out (this engine refuses it) in ${droppedCount}/${ko.xs.length} starts` : ''})`,
  );
  console.log(
    `${startRatioNoMemlock <= 1.1 ? 'PASS' : 'FAIL'} command -> running without the memlock retry (what-if): ` +
      `${startRatioNoMemlock.toFixed(2)}x (target <= 1.10x; ${fmt(ms(kn))} vs ${fmt(ms(kb))} ms)`,
  );
} catch (err) {
  console.error(`bench:runs: ${err instanceof Error ? err.stack : err}`);
  exitCode = 1;
} finally {
  cleanup();
}
if (failures.length > 0) {
  console.log(`\n${failures.length} correctness failure(s):\n  ${failures.join('\n  ')}`);
  exitCode = 1;
}
process.exit(exitCode);
