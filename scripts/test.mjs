// npm test: every tier, in order, nothing skipped. Setup (apt packages, code-server) -> build -> type check -> lint ->
// format check -> unit tests (plain Node) -> engine tests (real Docker engine) -> real projects built and trained (a
// CI subset of test/fixtures/real, dependencies through the caching PyPI mirror) -> integration tests (real VS Code) ->
// UI tests (the packaged .vsix in code-server, driven through chromium like a user, on the same engine; screenshots in
// test-results/ui/). The UI tier runs `npm run package`, which leaves production bundles in dist/: it runs last.
// Stops at the first failing step and names it. With CI=true a test marked pending counts as a failure: nothing skips
// in CI.
// `npm run test:real` (--real): build, compile the tests, then every real project of the corpus.
// The real-project tier gets the caching PyPI mirror (scripts/pypi-mirror-up.sh; its cache outside the clone, reused
// by every run on this machine), started before that tier and stopped at the end unless it was already running.
// The engine tests get a private Docker engine, started once per run before the first tier that needs it
// (scripts/docker-engine-up.sh; DOCKER_HOST is exported to every later tier) and stopped at the end, also when a tier
// fails or the run is interrupted (scripts/docker-engine-down.sh). Without CI=true, an engine that cannot start (no
// root, no docker.io) skips the engine and UI tiers with a warning; with CI=true it fails the run.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ci = process.env.CI === 'true' || process.env.CI === '1';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The step's process while it runs, so that a signal can stop it. */
let current = null;

/**
 * Runs a command (argv array), streaming its output, and resolves with the exit code and the captured output. Each
 * step runs in its own process group: a Ctrl-C reaches this script only, which passes it on once (see the signal
 * handlers below), so the run can still stop the Docker engine after the step has cleaned up.
 */
function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
      detached: true,
    });
    current = child;
    child.on('exit', () => {
      if (current === child) current = null;
    });
    let out = '';
    const take = (stream, sink) =>
      stream.on('data', (d) => {
        out += d.toString();
        if (out.length > 2_000_000) out = out.slice(-1_000_000);
        sink.write(d);
      });
    take(child.stdout, process.stdout);
    take(child.stderr, process.stderr);
    child.on('error', (err) => resolve({ code: 127, out: `${out}\n${err.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
    // a process it left behind may hold its output open: do not wait for that longer than 5 s after it exited
    child.on('exit', (code) => setTimeout(() => resolve({ code: code ?? 1, out }), 5000).unref());
  });
}

/** The real projects CI builds and trains (PyTorch with no environment file, scikit-learn, XGBoost); all: test:real. */
const REAL_CI_SUBSET = 'makemore,optuna-sklearn,xgboost-guide-python';
const realOnly = process.argv.includes('--real');
const realStep = (name, projects) => [
  name,
  'npx',
  ['mocha', '--config', 'test/real/.mocharc.json'],
  'mocha',
  'engine+mirror',
  projects ? { MLC_REAL_PROJECTS: projects } : {},
];

const allSteps = [
  ['setup: apt packages and code-server', 'bash', ['scripts/install-test-deps.sh']],
  ['build', npm, ['run', '--silent', 'build']],
  ['type check', npm, ['run', '--silent', 'typecheck']],
  ['lint', npm, ['run', '--silent', 'lint']],
  ['format check', npm, ['run', '--silent', 'format:check']],
  ['compile tests', npm, ['run', '--silent', 'compile:tests']],
  ['unit tests', 'npx', ['mocha', '--config', 'test/unit/.mocharc.json'], 'mocha'],
  ['engine tests (real Docker engine)', 'npx', ['mocha', '--config', 'test/engine/.mocharc.json'], 'mocha', 'engine'],
  realStep(`real projects, built and trained (CI subset: ${REAL_CI_SUBSET})`, REAL_CI_SUBSET),
  ['integration tests (real VS Code)', process.execPath, ['out/test/integration/runTest.js'], 'plain'],
  ['UI tests (packaged extension in a browser)', process.execPath, ['test/ui/run-ui-tests.mjs'], 'plain', 'engine'],
];
// `npm run test:real`: the whole corpus (build, compile the tests, then every project)
const steps = realOnly
  ? [allSteps[1], allSteps[5], realStep('real projects, built and trained (the whole corpus)')]
  : allSteps;

const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

// --- the private Docker engine -----------------------------------------------------------------------------------------
/** started: docker-engine-up.sh ran (even if it failed half-way: the down script cleans up either way). */
const engine = { started: false, stopping: false, host: null, problem: null };
/** The exit code the run ends with after SIGINT (130), SIGTERM (143) or SIGHUP (129). */
let interrupted = null;

/** Starts the engine once; resolves with DOCKER_HOST, or null with engine.problem set. */
async function engineUp() {
  if (engine.started) return engine.host;
  engine.started = true;
  const ts = Date.now();
  console.log('\n=== start the Docker engine (scripts/docker-engine-up.sh)');
  // the whole real corpus also needs Python 3.9 (bullseye) and 3.13 (trixie) for the projects that pin them
  const suites = realOnly ? ['MLC_DEBIAN_SUITES=bookworm bullseye trixie'] : [];
  const { code, out } = await run('env', ['MLC_DEBIAN_PYTHON=1', ...suites, 'bash', 'scripts/docker-engine-up.sh']);
  const host = [...out.matchAll(/^DOCKER_HOST=(\S+)$/gm)].pop()?.[1];
  if (code === 0 && host) {
    engine.host = host;
    process.env.DOCKER_HOST = host;
    console.log(`=== Docker engine ready at ${host} in ${secs(Date.now() - ts)}`);
    return host;
  }
  const why = [...out.matchAll(/ERROR: ([^\n]+)/g)].pop()?.[1] ?? `scripts/docker-engine-up.sh exited with ${code}`;
  engine.problem = `the Docker engine could not start: ${why.replace(/\.$/, '')}`;
  console.log(`=== ${engine.problem}`);
  return null;
}

/** Stops the engine if this run started it (idempotent). */
async function engineDown() {
  if (!engine.started || engine.stopping) return;
  engine.stopping = true;
  const ts = Date.now();
  console.log('\n=== stop the Docker engine (scripts/docker-engine-down.sh)');
  const { code } = await run('bash', ['scripts/docker-engine-down.sh']);
  console.log(`=== Docker engine ${code === 0 ? 'stopped' : `stop FAILED (exit ${code})`} in ${secs(Date.now() - ts)}`);
  engine.started = false;
  return code;
}

// --- the caching PyPI mirror (real-project builds) ----------------------------------------------------------------
const mirror = { started: false, reused: false, url: null, problem: null };

/** Starts the mirror once (scripts/pypi-mirror-up.sh); resolves with its index URL, or null with mirror.problem set. */
async function mirrorUp() {
  if (mirror.started) return mirror.url;
  mirror.started = true;
  const ts = Date.now();
  console.log('\n=== start the PyPI mirror (scripts/pypi-mirror-up.sh)');
  const { code, out } = await run('bash', ['scripts/pypi-mirror-up.sh']);
  const url = [...out.matchAll(/^PIP_INDEX_URL=(\S+)$/gm)].pop()?.[1];
  if (code === 0 && url) {
    mirror.url = url;
    // one that was already running (a developer's) stays running after the run
    mirror.reused = /\(reused\)/.test(out);
    // builds take it as their index (on loopback: the host network); download.pytorch.org is unreachable here
    process.env.MLC_PYPI_MIRROR = url;
    process.env.MLC_FRAMEWORK_INDEX_URL = '';
    console.log(`=== PyPI mirror ready at ${url} in ${secs(Date.now() - ts)}`);
    return url;
  }
  mirror.problem = `the PyPI mirror could not start (scripts/pypi-mirror-up.sh exited with ${code}; see .vscode-test/pypi-mirror/)`;
  console.log(`=== ${mirror.problem}`);
  return null;
}

async function mirrorDown() {
  if (!mirror.started || mirror.reused) return;
  mirror.started = false;
  await run('bash', ['scripts/pypi-mirror-down.sh']);
}

// Ctrl-C or a CI timeout: pass SIGINT on to the running step's process group (the way a terminal would, once), let
// the step clean up (the integration runner stops code-server and chromium on SIGINT), then the run stops the Docker
// engine in its `finally` and exits. A second signal, or a step still running after 30 s, gets SIGKILL.
const stepGroup = (sig) => {
  if (!current?.pid) return;
  try {
    process.kill(-current.pid, sig);
  } catch {
    // already gone
  }
};
for (const [sig, exitCode] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.on(sig, () => {
    if (interrupted !== null) {
      console.log(`\n=== ${sig} again: killing the running step`);
      if (!engine.stopping) stepGroup('SIGKILL');
      return;
    }
    interrupted = exitCode;
    if (engine.stopping) {
      console.log(`\n=== ${sig}: the Docker engine is being stopped, waiting for it`);
      return;
    }
    console.log(`\n=== ${sig}: stopping the running step, then the Docker engine`);
    stepGroup('SIGINT');
    setTimeout(() => engine.stopping || stepGroup('SIGKILL'), 30_000).unref();
  });
}

let passed = 0;
let failed = 0;
let skipped = 0;
let stoppedAt = null;
const t0 = Date.now();
try {
  for (const [name, cmd, args, counts, needs, env] of steps) {
    const missing = needs?.startsWith('engine')
      ? !(await engineUp())
        ? engine.problem
        : needs === 'engine+mirror' && !(await mirrorUp())
          ? mirror.problem
          : null
      : null;
    if (missing && interrupted === null) {
      if (ci) {
        console.log(`=== ${name}: FAILED: ${missing}; with CI=true the engine tests may not skip.`);
        failed += 1;
        stoppedAt = name;
        break;
      }
      console.log(`=== ${name}: SKIPPED: ${missing} (with CI=true this fails the run).`);
      skipped += 1;
      continue;
    }
    if (interrupted !== null) {
      stoppedAt = `${name} (interrupted before it started)`;
      failed += 1;
      break;
    }
    const ts = Date.now();
    console.log(`\n=== ${name}`);
    const { code, out } = await run(cmd, args, env);
    if (interrupted !== null) {
      stoppedAt = `${name} (interrupted)`;
      failed += 1;
      break;
    }
    let pending = 0;
    if (counts === 'mocha') {
      passed += Number(/^\s*(\d+) passing/m.exec(out)?.[1] ?? 0);
      failed += Number(/^\s*(\d+) failing/m.exec(out)?.[1] ?? 0);
      pending = Number(/^\s*(\d+) pending/m.exec(out)?.[1] ?? 0);
    } else if (counts === 'plain') {
      const m = /^(\d+) passed, (\d+) failed$/m.exec(out);
      passed += Number(m?.[1] ?? 0);
      failed += Number(m?.[2] ?? (code === 0 ? 0 : 1));
      pending = Number(/^\((\d+) pending\)$/m.exec(out)?.[1] ?? 0);
    }
    console.log(`=== ${name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${secs(Date.now() - ts)}`);
    if (ci && pending > 0) {
      console.log(`=== ${name}: ${pending} test(s) pending; with CI=true nothing may skip.`);
      failed += pending;
    }
    if (code !== 0 || (ci && pending > 0)) {
      stoppedAt = name;
      break;
    }
  }
} finally {
  await mirrorDown();
  const downCode = await engineDown();
  if (downCode !== undefined && downCode !== 0 && stoppedAt === null) {
    // leftovers (mounts, dockerd) on the host are a failure of the run
    failed += 1;
    stoppedAt = 'stop the Docker engine';
  }
}
if (stoppedAt !== null || interrupted !== null) {
  console.log(`\nnpm test stopped at "${stoppedAt ?? 'the end'}" after ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
  console.log(`${passed} passed, ${Math.max(failed, 1)} failed`);
  process.exit(interrupted ?? 1);
}
const skipNote = skipped ? ` (${skipped} tier(s) SKIPPED, see above)` : '';
console.log(`\nAll tiers passed${skipNote} in ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
console.log(`${passed} passed, ${failed} failed`);
