// Integration test entry: runs out/test/integration/index.js inside a real VS Code with the extension under development.
// By default that VS Code is code-server 4.100.3 (VS Code 1.100.3) driven headless through chromium by
// test/integration/harness/code-launcher.js; set ML_CONTAINERS_VSCODE to a desktop VS Code executable to use that one,
// or to `download` to let @vscode/test-electron download desktop VS Code 1.100.3 (where the network allows it).
// The workspace is a fresh copy of examples/pytorch-mnist under .vscode-test/workspaces/, so tests may write into it.
import * as fs from 'fs';
import * as path from 'path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';

// Compiled to out/test/integration/runTest.js: the project root is three folders up either way.
const ROOT = path.resolve(__dirname, '..', '..', '..');
const KEEP_WORKSPACES = 10;
const INSTALL_HINT = 'Install the test dependencies with: bash scripts/install-test-deps.sh';

function rel(p: string): string {
  const r = path.relative(ROOT, p);
  return r.startsWith('..') || path.isAbsolute(r) ? p : r || '.';
}

/** Lists what is missing to run the tests in code-server; empty when everything is there. */
function missingForCodeServer(): string[] {
  const problems: string[] = [];
  const codeServer =
    process.env.ML_CONTAINERS_CODE_SERVER ??
    path.join(ROOT, 'test', 'vscode', 'code-server', 'node_modules', '.bin', 'code-server');
  if (!fs.existsSync(codeServer)) {
    problems.push(`code-server is not installed (expected ${rel(codeServer)}, or set ML_CONTAINERS_CODE_SERVER)`);
  }
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!fs.existsSync(chromium)) {
    problems.push(`chromium is not installed (expected ${chromium}, or set CHROMIUM_PATH)`);
  }
  return problems;
}

function copyWorkspace(): string {
  const source = path.join(ROOT, 'examples', 'pytorch-mnist');
  if (!fs.existsSync(source)) throw new Error(`example workspace ${rel(source)} is missing`);
  const parent = path.join(ROOT, '.vscode-test', 'workspaces');
  fs.mkdirSync(parent, { recursive: true });
  // keep the copies of the last few runs for post-mortems, drop the rest
  const old = fs
    .readdirSync(parent)
    .map((name) => ({ name, mtime: fs.statSync(path.join(parent, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime)
    .slice(KEEP_WORKSPACES - 1);
  for (const { name } of old) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  const target = fs.mkdtempSync(path.join(parent, 'pytorch-mnist-'));
  fs.cpSync(source, target, { recursive: true });
  return target;
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const extensionDevelopmentPath = ROOT;
  const extensionTestsPath = path.join(ROOT, 'out', 'test', 'integration', 'index.js');

  const problems: string[] = [];
  if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js'))) {
    problems.push('dist/extension.js is missing: run `npm run build`');
  }
  if (!fs.existsSync(extensionTestsPath)) {
    problems.push(`${rel(extensionTestsPath)} is missing: run \`npm run compile:tests\``);
  }

  const desktop = process.env.ML_CONTAINERS_VSCODE;
  let vscodeExecutablePath: string;
  let extraArgs: string[] = [];
  if (desktop === 'download') {
    try {
      vscodeExecutablePath = await downloadAndUnzipVSCode({
        version: '1.100.3',
        cachePath: path.join(ROOT, '.vscode-test', 'desktop'),
      });
    } catch (err) {
      problems.push(
        `desktop VS Code 1.100.3 could not be downloaded (${String(err)}); unset ML_CONTAINERS_VSCODE to use code-server`,
      );
      vscodeExecutablePath = '';
    }
    extraArgs = ['--disable-extensions'];
  } else if (desktop) {
    if (!fs.existsSync(desktop)) problems.push(`ML_CONTAINERS_VSCODE=${desktop} does not exist`);
    vscodeExecutablePath = desktop;
    // a desktop VS Code may have other extensions installed: test ours alone
    extraArgs = ['--disable-extensions'];
  } else {
    const missing = missingForCodeServer();
    if (missing.length > 0) problems.push(...missing, INSTALL_HINT);
    vscodeExecutablePath = path.join(ROOT, 'test', 'integration', 'harness', 'code-launcher.js');
  }
  if (problems.length > 0) {
    console.error('[integration] cannot run the integration tests:');
    for (const p of problems) console.error(`[integration]   - ${p}`);
    return 1;
  }

  const workspace = copyWorkspace();
  console.log(`[integration] VS Code: ${desktop ?? 'code-server (test/integration/harness/code-launcher.js)'}`);
  console.log(`[integration] workspace: ${rel(workspace)}`);
  try {
    await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath,
      extensionTestsPath,
      launchArgs: [workspace, ...extraArgs],
    });
    console.log(`[integration] passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    console.error(`[integration] FAILED after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${String(err)}`);
    return typeof code === 'number' && code !== 0 ? code : 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('[integration] error:', err);
    process.exit(1);
  },
);
