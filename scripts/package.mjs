// npm run package: the production bundles (minified, no source maps), then the .vsix with @vscode/vsce. What goes in
// is what .vscodeignore lets through: dist/*.js, media/ (without the README's screenshots), snippets/, README.md,
// LICENSE and package.json. The bundles carry every dependency, so node_modules stays out (--no-dependencies). vsce
// runs in a staging folder holding only those files (walking the project, with code-server and the test engine's data
// under it, would take ~45 s). Prints the file, its size and its entries.
// usage: node scripts/package.mjs [--out FILE]   (default: ml-containers-<version>.vsix in the project root)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { name, version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const i = process.argv.indexOf('--out');
const out = path.resolve(i > 0 ? process.argv[i + 1] : path.join(root, `${name}-${version}.vsix`));

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`[package] ${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
}

const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
if (!fs.existsSync(vsce)) {
  console.error('[package] @vscode/vsce is not installed: run `npm install` first.');
  process.exit(1);
}
run(process.execPath, ['esbuild.mjs', '--production']);
const stage = path.join(root, '.vscode-test', 'package-stage');
fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });
const copy = (rel, filter) => {
  const from = path.join(root, rel);
  if (fs.existsSync(from)) fs.cpSync(from, path.join(stage, rel), { recursive: true, filter });
};
for (const f of ['package.json', 'README.md', 'LICENSE', '.vscodeignore', 'snippets']) copy(f);
copy('media', (src) => !src.includes(`${path.sep}screenshots`));
for (const f of ['extension.js', 'lazy.js', 'cli.js']) copy(path.join('dist', f));
fs.mkdirSync(path.dirname(out), { recursive: true });
const r = spawnSync(
  process.execPath,
  [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out],
  { cwd: stage, stdio: 'inherit' },
);
fs.rmSync(stage, { recursive: true, force: true });
if (r.status !== 0) {
  console.error(`[package] vsce package failed (${r.error?.message ?? `exit ${r.status}`})`);
  process.exit(1);
}
const size = fs.statSync(out).size;
console.log(`[package] ${path.relative(root, out) || out}: ${(size / 1024).toFixed(0)} KiB`);
