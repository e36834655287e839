// What the integration harness (run-in-code-server.js) and the UI tests (test/ui/run-ui-tests.mjs) share: a free
// loopback port, a health probe, an environment that keeps code-server and chromium out of $HOME, code-server's serve
// arguments, and chromium's launch options.
'use strict';
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

/** A TCP port free on 127.0.0.1 right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The HTTP status of a GET (0 when nothing answers within 2 s). */
function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

/**
 * The environment for code-server and chromium: config, data and caches in the run folder (`dir(name)` makes one),
 * unix sockets in the short `sockDir`; without the variables of an outer VS Code / Electron.
 */
function isolatedEnv(dir, sockDir) {
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: dir('xdg-config'),
    XDG_DATA_HOME: dir('xdg-data'),
    XDG_CACHE_HOME: dir('xdg-cache'),
    TMPDIR: sockDir,
    XDG_RUNTIME_DIR: sockDir,
  };
  for (const k of Object.keys(env)) {
    if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete env[k];
  }
  return env;
}

/** User settings for a quiet test workbench: no trust prompt, telemetry, updates, recommendations or git. */
const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'git.enabled': false,
};

/** code-server's folders: its config file, user data and extensions (for serving and for --install-extension). */
function dataArgs({ runDir, userData, extensionsDir }) {
  return ['--config', path.join(runDir, 'config.yaml'), '--user-data-dir', userData, '--extensions-dir', extensionsDir];
}

/** code-server's arguments to serve on 127.0.0.1:port without auth, telemetry, trust prompts or welcome pages. */
function serveArgs({ runDir, port, userData, extensionsDir, sockDir }) {
  return [
    ...dataArgs({ runDir, userData, extensionsDir }),
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    // default: <user-data-dir>/code-server-ipc.sock, which can pass the socket path limit
    '--session-socket',
    path.join(sockDir, 'cs.sock'),
  ];
}

/** playwright-core's launchPersistentContext options for headless Debian chromium. */
function chromiumOptions({ executablePath, env, viewport }) {
  return {
    executablePath,
    headless: true,
    env,
    viewport,
    // the caller's signal handler stops chromium and code-server together (playwright's own would exit right away)
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--no-default-browser-check',
    ],
  };
}

module.exports = { BASE_SETTINGS, chromiumOptions, dataArgs, freePort, httpStatus, isolatedEnv, serveArgs };
