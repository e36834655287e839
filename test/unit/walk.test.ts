/**
 * Detection on awkward real folders built in a temp dir: .gitignore at several levels, virtual environments under
 * any name, symlink loops, FIFOs, huge files, folders it may not read, and walks too big to finish.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DetectRootError, detectProject } from '../../src/core/detect';
import { CancellationError } from '../../src/core/util/errors';
import { CLI, type CliResult, runCli, tempDir, writeTree } from './helpers';

const TRAIN = 'import torch\nloss.backward()\n';

describe('detect: the walk', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('respects .gitignore files at every level, including negations', async () => {
    writeTree(dir, {
      '.gitignore': 'data/\n*.tmp.py\n',
      'train.py': TRAIN,
      'data/tf.py': 'import tensorflow\n',
      'x.tmp.py': 'import jax\n',
      'sub/.gitignore': 'gen/\n*.py\n!keep.py\n',
      'sub/gen/k.py': 'import keras\n',
      'sub/skip.py': 'import xgboost\n',
      'sub/keep.py': 'import lightgbm\n',
    });
    const p = await detectProject(dir);
    assert.deepEqual(p.frameworks, ['pytorch', 'lightgbm']);
  });

  it('skips virtual environments under any name, conda environments and site-packages', async () => {
    writeTree(dir, {
      'train.py': TRAIN,
      'myenv/pyvenv.cfg': 'home = /usr/bin\n',
      'myenv/lib/python3.11/site-packages/tensorflow/__init__.py': 'import tensorflow\n',
      'condaenv/conda-meta/history': '',
      'condaenv/lib/jax_stuff.py': 'import jax\n',
      'vendor/site-packages/keras/__init__.py': 'import keras\n',
      'node_modules/x/y.py': 'import sklearn\n',
    });
    const p = await detectProject(dir);
    assert.deepEqual(p.frameworks, ['pytorch']);
  });

  it('lists environment files at the top level or one folder down, not deeper', async () => {
    writeTree(dir, {
      'requirements-dev.txt': 'pytest\n',
      'docker/Dockerfile.gpu': 'FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n',
      'svc/Dockerfile-cpu': 'FROM python:3.11\n',
      'a/b/requirements.txt': 'torch\n',
      'a/b/pyproject.toml': '[project]\nname="x"\n',
      '.devcontainer/devcontainer.json': '{ "image": "python:3.11" }\n',
      'docs/devcontainer.json': '{}\n',
    });
    const p = await detectProject(dir);
    assert.deepEqual(p.envFiles, [
      'requirements-dev.txt',
      '.devcontainer/devcontainer.json',
      'docker/Dockerfile.gpu',
      'svc/Dockerfile-cpu',
    ]);
    assert.equal(p.cudaHint, '12.4');
  });

  it('does not follow symlinked folders (loops, links to datasets) but reads symlinked files', async () => {
    writeTree(dir, { 'real/train.py': TRAIN, 'outside/tf.py': 'import tensorflow\n' });
    fs.symlinkSync('..', path.join(dir, 'real', 'loop'));
    fs.symlinkSync(dir, path.join(dir, 'self'));
    fs.mkdirSync(path.join(dir, 'proj'));
    fs.symlinkSync(path.join(dir, 'outside'), path.join(dir, 'proj', 'datasets'));
    fs.symlinkSync(path.join(dir, 'real', 'train.py'), path.join(dir, 'proj', 'train_link.py'));
    const p = await detectProject(path.join(dir, 'proj'));
    assert.deepEqual(p.frameworks, ['pytorch']);
    const again = await detectProject(dir);
    assert.ok(again.frameworks.includes('pytorch'));
  });

  it('never blocks on a FIFO named like an environment file', async () => {
    writeTree(dir, { 'train.py': TRAIN });
    execFileSync('mkfifo', [path.join(dir, 'requirements.txt')]);
    const p = await detectProject(dir);
    assert.deepEqual(p.envFiles, []);
  });

  it('caps the bytes read from a huge file and says so', async () => {
    writeTree(dir, { 'train.py': TRAIN + `x = [${'1, '.repeat(1_200_000)}]\n` });
    const p = await detectProject(dir);
    assert.deepEqual(p.frameworks, ['pytorch']);
    assert.equal(p.warnings.length, 1);
    assert.equal(p.warnings[0]?.file, 'train.py');
    assert.match(p.warnings[0]!.message, /only its first 1\.0 MiB were read/);
  });

  it('stops after the maximum number of entries with a warning', async () => {
    const files: Record<string, string> = { 'train.py': TRAIN };
    for (let i = 0; i < 50; i++) files[`d${i}/f.txt`] = '';
    writeTree(dir, files);
    const p = await detectProject(dir, { maxEntries: 20 });
    assert.ok(p.warnings.some((w) => /more than 20 files and folders/.test(w.message)));
  });

  it('skips what it may not read, with a warning per folder and file (run as an unprivileged user)', function () {
    writeTree(dir, {
      'train.py': TRAIN,
      'secret/inner.py': 'import jax\n',
      'locked.py': 'import tensorflow\n',
    });
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, 'secret'), 0o000);
    fs.chmodSync(path.join(dir, 'locked.py'), 0o000);
    const asRoot = process.getuid?.() === 0;
    // root reads everything: drop to `nobody` for this run so the permission checks are real
    const r = asRoot ? runAsNobody(['detect', dir, '--json']) : runCli(['detect', dir, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as { frameworks: string[]; warnings: { file: string; message: string }[] };
    assert.deepEqual(p.frameworks, ['pytorch']);
    assert.deepEqual(
      p.warnings.map((w) => [w.file, w.message]),
      [
        ['locked.py', 'permission denied, so it was skipped.'],
        ['secret/', 'permission denied, so this folder was skipped.'],
      ],
    );
  });

  it('can be cancelled', async () => {
    writeTree(dir, { 'train.py': TRAIN });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(detectProject(dir, { signal: ac.signal }), CancellationError);
  });

  it('rejects a root that is not a folder with a DetectRootError', async () => {
    await assert.rejects(detectProject(path.join(dir, 'nope')), DetectRootError);
    writeTree(dir, { 'file.txt': '' });
    await assert.rejects(detectProject(path.join(dir, 'file.txt')), /is not a folder/);
  });
});

/** Runs the CLI as `nobody` (a copy of the bundle in a world-readable folder: the checkout may not be). */
function runAsNobody(args: string[]): CliResult {
  const { dir, cleanup } = tempDir('mlc-cli-');
  try {
    fs.chmodSync(dir, 0o755);
    const cli = path.join(dir, 'cli.js');
    fs.copyFileSync(CLI, cli);
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cli, ...args],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    if (r.error) throw new Error(`setpriv (util-linux) is needed to test permissions as root: ${r.error.message}`);
    return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
  } finally {
    cleanup();
  }
}
