#!/usr/bin/env node
// Stand-in "VS Code executable" for @vscode/test-electron's runTests({ vscodeExecutablePath }): no desktop VS Code can
// be downloaded here, so this maps the command line runTests builds
//   [launchArgs...] --no-sandbox ... --extensionTestsPath=<p> --extensionDevelopmentPath=<p> --user-data-dir=... <folder>
// onto run-in-code-server.js (real VS Code server + web workbench in headless chromium). Flags meant for a desktop
// Electron build (--no-sandbox, --disable-updates, --user-data-dir=, --extensions-dir=, ...) do not apply and are
// ignored: the harness gives every run its own folders under .vscode-test/runs/.
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');

const args = process.argv.slice(2);
const values = (name) => args.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
const devPaths = values('extensionDevelopmentPath');
const testsPaths = values('extensionTestsPath');
const folders = args.filter((a) => !a.startsWith('-'));

function fail(msg) {
  console.error(`[code-launcher] ${msg}`);
  console.error(`[code-launcher] got: ${JSON.stringify(args)}`);
  process.exit(2);
}
if (devPaths.length !== 1) fail(`expected exactly one --extensionDevelopmentPath=, got ${devPaths.length}`);
if (testsPaths.length !== 1) fail(`expected exactly one --extensionTestsPath=, got ${testsPaths.length}`);
if (folders.length > 1) fail(`expected at most one folder argument, got ${folders.length}`);

const child = spawn(
  process.execPath,
  [path.join(__dirname, 'run-in-code-server.js'), devPaths[0], testsPaths[0], folders[0] || process.cwd()],
  { stdio: 'inherit' },
);
// runTests sends SIGINT on Ctrl+C; the harness then stops code-server and chromium itself.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('error', (err) => fail(`cannot start the harness: ${err.message}`));
child.on('exit', (code) => process.exit(code ?? 1));
