#!/usr/bin/env node
// Runs an extension's mocha tests inside a real VS Code: code-server's remote extension host, driven headless by
// Debian chromium through playwright-core. The web workbench gets extensionDevelopmentPath/extensionTestsPath through
// its `payload` URL parameter, loads the extension under development, calls run() from extensionTestsPath and reports
// the result through window.codeAutomationExit(code) (the hook @vscode/test-web uses). The extension host's console
// output (the mocha reporter) arrives through window.codeAutomationLog(type, args).
//
// usage: node run-in-code-server.js <extensionDevelopmentPath> <extensionTestsPath> <workspaceFolder>
// env:   ML_CONTAINERS_CODE_SERVER  code-server executable (default test/vscode/code-server/node_modules/.bin/code-server)
//        CHROMIUM_PATH              browser (default /usr/bin/chromium)
//        TEST_TIMEOUT_MS            whole-run limit (default 300000); on timeout a screenshot goes into the run folder
//        VERBOSE=1                  also print workbench noise and the browser console
// Everything a run writes (code-server user data, extensions, XDG dirs, chromium profile, logs) lives in
// .vscode-test/runs/<timestamp>/ inside the project (the newest 10 are kept); unix sockets and temp files go to a
// short .vscode-test/tmp/r*/ folder (socket paths are limited to 107 bytes), removed after the run.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { BASE_SETTINGS, chromiumOptions, freePort, httpStatus, isolatedEnv, serveArgs } = require('./common');

const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');
const CODE_SERVER =
  process.env.ML_CONTAINERS_CODE_SERVER ||
  path.join(PROJECT_ROOT, 'test', 'vscode', 'code-server', 'node_modules', '.bin', 'code-server');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TIMEOUT_MS = Number(process.env.TEST_TIMEOUT_MS || 300000);
const VERBOSE = Boolean(process.env.VERBOSE);
const KEEP_RUNS = 10; // older run folders (about 7 MB each) are removed
// Workbench-internal log lines that are not test output (printed with VERBOSE=1; always kept in workbench.log).
const NOISE =
  /ENOTFOUND|^(Resolving connection token|Resolved connection token|Creating a socket|\[Service Worker\]|Updating additional builtin|ChatSessionStore|Started local extension host|Extension host .* started|Overwriting extension)/m;

const log = (msg) => console.log(`[harness] ${msg}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function usage(msg) {
  console.error(`[harness] ${msg}`);
  console.error('usage: node run-in-code-server.js <extensionDevelopmentPath> <extensionTestsPath> <workspaceFolder>');
  process.exit(2);
}

// Unix socket paths are limited to 107 bytes on Linux. The longest socket name that lands in the socket folder is
// VS Code's `vscode-ipc-<uuid>.sock` (52) or chromium's `org.chromium.Chromium.XXXXXX/SingletonSocket` (45), so the
// folder itself may take at most 54 bytes; a project that deep falls back to a short folder under the system temp dir.
const SOCKET_DIR_MAX = 107 - 53;

function socketDir() {
  const parent = path.join(PROJECT_ROOT, '.vscode-test', 'tmp');
  if (parent.length + 8 <= SOCKET_DIR_MAX) {
    fs.mkdirSync(parent, { recursive: true });
    return fs.mkdtempSync(path.join(parent, 'r'));
  }
  const short = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-'));
  log(`project path too long for unix sockets: TMPDIR is ${short}`);
  return short;
}

/** Keeps the newest `keep` entries of a folder whose names sort by time, removes the others. */
function pruneOld(parent, keep) {
  if (!fs.existsSync(parent)) return;
  const names = fs.readdirSync(parent).sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep))) {
    fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

function runStamp() {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 3) usage(`expected 3 arguments, got ${args.length}`);
  const [devPath, testsPath, wsFolder] = args.map((p) => path.resolve(p));
  if (!fs.existsSync(path.join(devPath, 'package.json')))
    usage(`no package.json in extensionDevelopmentPath ${devPath}`);
  // VS Code accepts the module with or without .js, or a folder with index.js.
  if (![testsPath, `${testsPath}.js`, path.join(testsPath, 'index.js')].some((p) => fs.existsSync(p))) {
    usage(`extensionTestsPath ${testsPath} does not exist (compile the tests first: npm run compile:tests)`);
  }
  if (!fs.statSync(wsFolder, { throwIfNoEntry: false })?.isDirectory()) usage(`workspace folder ${wsFolder} missing`);
  if (!fs.existsSync(CODE_SERVER)) {
    usage(`code-server not found at ${CODE_SERVER}: run \`bash scripts/install-test-deps.sh\``);
  }
  if (!fs.existsSync(CHROMIUM)) usage(`chromium not found at ${CHROMIUM}: run \`bash scripts/install-test-deps.sh\``);
  // playwright-core is a devDependency of the extension; resolve it only now so usage errors stay cheap.
  const { chromium } = require('playwright-core');

  const t0 = Date.now();
  const runsDir = path.join(PROJECT_ROOT, '.vscode-test', 'runs');
  pruneOld(runsDir, KEEP_RUNS - 1);
  const runDir = path.join(runsDir, runStamp());
  const dir = (name) => {
    const d = path.join(runDir, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  const userData = dir('user-data');
  const extensionsDir = dir('extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(BASE_SETTINGS, null, 2));
  const sockDir = socketDir();
  // Keep code-server's config.yaml and logs, VS Code's caches and chromium's crashpad/dconf dirs out of $HOME and /tmp.
  // TMPDIR and XDG_RUNTIME_DIR hold unix sockets (VS Code's vscode-ipc-<uuid>.sock, chromium's SingletonSocket).
  const env = isolatedEnv(dir, sockDir);
  const serverLogPath = path.join(runDir, 'code-server.log');
  const workbenchLogPath = path.join(runDir, 'workbench.log');
  const workbenchLog = fs.createWriteStream(workbenchLogPath);
  log(`run folder ${path.relative(process.cwd(), runDir) || runDir}`);

  const port = await freePort();
  const server = spawn(CODE_SERVER, serveArgs({ runDir, port, userData, extensionsDir, sockDir }), {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const serverLog = fs.createWriteStream(serverLogPath);
  server.stdout.pipe(serverLog);
  server.stderr.pipe(serverLog);
  let serverExit = null;
  const serverExited = new Promise((resolve) =>
    server.once('exit', (code, signal) => {
      serverExit = signal || code;
      resolve(serverExit);
    }),
  );
  server.once('error', (err) => log(`cannot start code-server: ${err.message}`));

  let browser;
  let cleanupDone;
  // Idempotent: a signal and the normal end may both ask; everyone waits for the same shutdown.
  const cleanup = () => (cleanupDone ??= stopAll());
  const stopAll = async () => {
    try {
      await Promise.race([browser?.close(), sleep(10000)]);
    } catch {
      // the browser may be gone already
    }
    // Stop the whole process group: code-server, its VS Code server, extension hosts, file watchers, pty hosts.
    if (server.pid) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([serverExited, sleep(5000)]);
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const onSignal = (sig) => {
    log(`${sig}: stopping code-server and chromium`);
    cleanup().finally(() => {
      fs.rmSync(sockDir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let exitCode = 1;
  try {
    while ((await httpStatus(`http://127.0.0.1:${port}/healthz`)) !== 200) {
      if (serverExit !== null) throw new Error(`code-server exited (${serverExit}) before it was ready`);
      if (Date.now() - t0 > 60000) throw new Error('code-server did not answer /healthz within 60 s');
      await sleep(100);
    }
    log(`code-server up on 127.0.0.1:${port} after ${Date.now() - t0} ms`);

    browser = await chromium.launchPersistentContext(
      dir('chromium-profile'),
      chromiumOptions({ executablePath: CHROMIUM, env, viewport: { width: 1400, height: 900 } }),
    );
    const page = browser.pages()[0] || (await browser.newPage());
    let resolveDone;
    const done = new Promise((resolve) => (resolveDone = resolve));
    await page.exposeFunction('codeAutomationExit', (code) => resolveDone({ code: Number(code) }));
    await page.exposeFunction('codeAutomationLog', (type, logArgs) => {
      const line = util.format(...(Array.isArray(logArgs) ? logArgs : [logArgs]));
      workbenchLog.write(`${line}\n`);
      if (VERBOSE || !NOISE.test(line)) console.log(line);
    });
    page.on('console', (msg) => {
      workbenchLog.write(`[browser console] ${msg.text()}\n`);
      if (VERBOSE) console.log('[browser console]', msg.text());
    });
    page.on('pageerror', (err) => workbenchLog.write(`[pageerror] ${err.message}\n`));
    page.on('crash', () => resolveDone({ error: 'the workbench page crashed' }));
    browser.on('close', () => cleanupDone || resolveDone({ error: 'chromium closed' }));
    serverExited.then((code) => cleanupDone || resolveDone({ error: `code-server exited (${code}) during the run` }));

    const authority = `127.0.0.1:${port}`;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${devPath}`],
      ['extensionTestsPath', `vscode-remote://${authority}${testsPath}`],
    ];
    const url = `http://${authority}/?folder=${encodeURIComponent(wsFolder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url);
    log(`workbench loading ${wsFolder}`);

    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve({ timeout: true }), Math.max(0, TIMEOUT_MS - (Date.now() - t0)));
    });
    const result = await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (result.timeout) {
      const shot = path.join(runDir, 'timeout.png');
      log(`TIMEOUT: no result after ${TIMEOUT_MS} ms (TEST_TIMEOUT_MS); screenshot ${shot}`);
      await page.screenshot({ path: shot }).catch((err) => log(`screenshot failed: ${err.message}`));
      exitCode = 1;
    } else if (result.error) {
      log(`ERROR: ${result.error}`);
      exitCode = 1;
    } else {
      exitCode = Number.isInteger(result.code) ? result.code : 1;
    }
  } catch (err) {
    log(`ERROR: ${err instanceof Error ? err.stack || err.message : String(err)}`);
    exitCode = 1;
  } finally {
    await cleanup();
    workbenchLog.end();
    fs.rmSync(sockDir, { recursive: true, force: true });
  }
  log(`exit code ${exitCode} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  log(`logs: ${serverLogPath} (code-server), ${workbenchLogPath} (workbench + extension host),`);
  log(`      ${path.join(userData, 'logs')} (VS Code server logs)`);
  process.exit(exitCode);
}

main().catch((err) => {
  console.error('[harness] internal error', err);
  process.exit(1);
});
