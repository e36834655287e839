// npm start: build, then open the extension in a real VS Code on the bundled example project.
// Desktop `code` when it is on PATH (extension development host); otherwise a local code-server (installed into
// test/vscode/code-server on first use) whose URL, with the extension loaded, is printed. Ctrl+C stops it.
// Installing code-server needs only its build prerequisites (`scripts/install-test-deps.sh --editor-only`): never a
// container engine, a browser or kubectl. MLC_INSTALL_DRY_RUN=1 prints that install plan and exits (nothing is built,
// installed or started).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const example = path.join(root, 'examples', 'pytorch-mnist');
const say = (m) => console.log(`[start] ${m}`);

function must(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(
      `[start] ${what} failed (exit ${r.status ?? r.signal}). Fix the error above and run npm start again.`,
    );
    process.exit(1);
  }
}

const onPath = (bin) =>
  (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, bin)));

const freePort = (preferred) =>
  new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => {
      const any = net.createServer();
      any.listen(0, '127.0.0.1', () => {
        const { port } = any.address();
        any.close(() => resolve(port));
      });
    });
    srv.listen(preferred, '127.0.0.1', () => srv.close(() => resolve(preferred)));
  });

/** What opening the editor in code-server installs: code-server and its build prerequisites, nothing for the tests. */
const INSTALL_EDITOR = ['scripts/install-test-deps.sh', '--editor-only'];
const dryRun = process.env.MLC_INSTALL_DRY_RUN === '1';
const useDesktop = onPath('code') && !process.env.ML_CONTAINERS_USE_CODE_SERVER;

if (dryRun) {
  if (useDesktop) say('desktop `code` is on PATH: nothing to install');
  else must('bash', INSTALL_EDITOR, 'The install plan');
  process.exit(0);
}

must(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], 'The build');

if (useDesktop) {
  say(`opening desktop VS Code with the extension on ${path.relative(root, example)}`);
  const child = spawn('code', ['--new-window', `--extensionDevelopmentPath=${root}`, example], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const codeServer = path.join(root, 'test', 'vscode', 'code-server', 'node_modules', '.bin', 'code-server');
  if (!fs.existsSync(codeServer)) {
    say('no desktop `code` on PATH: installing a local code-server (VS Code 1.100.3) first, about a minute');
    must('bash', INSTALL_EDITOR, 'Installing code-server');
  }
  const dir = path.join(root, '.vscode-test', 'start');
  const userData = path.join(dir, 'user-data');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  const settings = path.join(userData, 'User', 'settings.json');
  if (!fs.existsSync(settings)) {
    fs.writeFileSync(
      settings,
      JSON.stringify({ 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off' }),
    );
  }
  const port = await freePort(Number(process.env.PORT ?? 8123));
  const host = `127.0.0.1:${port}`;
  const server = spawn(
    codeServer,
    [
      '--config',
      path.join(dir, 'config.yaml'),
      '--bind-addr',
      host,
      '--auth',
      'none',
      '--user-data-dir',
      userData,
      '--extensions-dir',
      path.join(dir, 'extensions'),
      '--disable-telemetry',
      '--disable-update-check',
      '--ignore-last-opened',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'xdg-config'), XDG_DATA_HOME: path.join(dir, 'xdg-data') },
    },
  );
  const logFile = fs.createWriteStream(path.join(dir, 'code-server.log'));
  server.stdout.pipe(logFile);
  server.stderr.pipe(logFile);
  const payload = JSON.stringify([['extensionDevelopmentPath', `vscode-remote://${host}${root}`]]);
  const url = `http://${host}/?folder=${encodeURIComponent(example)}&payload=${encodeURIComponent(payload)}`;
  say(`code-server (VS Code 1.100.3) is starting; open this URL in a browser:\n\n  ${url}\n`);
  say(`logs: ${path.relative(root, path.join(dir, 'code-server.log'))}; Ctrl+C stops it`);
  const stop = () => server.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.on('exit', (code, signal) => {
    if (signal !== 'SIGTERM' && code !== 0) say(`code-server exited with ${code ?? signal}: see the log above.`);
    process.exit(code ?? 0);
  });
}
