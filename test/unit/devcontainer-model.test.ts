/**
 * One model of devcontainer.json: the doctor (compat), the runner (runs) and the cluster job (k8s) find the same
 * configuration, size /dev/shm the same way from it, and a build reads its settings relative to the file that holds
 * them, never leaving the project.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectFacts } from '../../src/core/compat/project';
import { detectProjectDetailed } from '../../src/core/detect/detect';
import {
  DevcontainerSyntaxError,
  gpuRequirement,
  mountsOf,
  mountTarget,
  parseDevcontainer,
  sharedMemory,
} from '../../src/core/devcontainer';
import { planClusterJob } from '../../src/core/k8s/plan';
import { quantityBytes, toQuantity } from '../../src/core/k8s/validate';
import { findBuildSetup, shmFor } from '../../src/core/runs';
import { FIXTURES, tempDir, writeTree } from './helpers';

const GiB = 1024 ** 3;
const EXAMPLE = path.join(FIXTURES, 'projects', 'pytorch-ddp');
const IMAGE = 'ghcr.io/team/project@sha256:' + 'a'.repeat(64);

function project(files: Record<string, string>): string {
  const { dir } = tempDir('mlc-devcontainer-model-');
  writeTree(dir, {
    'train.py': fs.readFileSync(path.join(EXAMPLE, 'train.py'), 'utf8'),
    'requirements.txt': fs.readFileSync(path.join(EXAMPLE, 'requirements.txt'), 'utf8'),
    ...files,
  });
  return dir;
}

/** /dev/shm as the doctor, the runner and the cluster job see it (bytes, 'host', or null when the file says nothing). */
async function shmSeenBy(
  root: string,
): Promise<{ doctor: number | 'host' | null; runner: number | 'host'; k8s: number }> {
  const facts = await projectFacts(root, await detectProjectDetailed(root));
  const dc = facts.devcontainer;
  const doctor = dc === null ? null : dc.ipcHost ? 'host' : dc.shmBytes;
  const runner = await shmFor(root);
  const k8s = quantityBytes((await planClusterJob(root, { image: IMAGE })).request.shmSize) ?? NaN;
  return { doctor, runner, k8s };
}

describe('devcontainer model: one reading of devcontainer.json', () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
  });

  it('gives the doctor, the runner and the cluster job the same /dev/shm size', async () => {
    const cases: [unknown[], number | 'host'][] = [
      [['--shm-size=1t'], 1024 * GiB],
      [['--shm-size', '2g'], 2 * GiB],
      [['--shm-size 2g'], 2 * GiB],
      [['--shm-size=512m', '--init'], 512 * 1024 ** 2],
      [['--shm-size=3gb'], 3 * GiB],
      [['--ipc=host'], 'host'],
      [['--ipc', 'host', '--shm-size=8g'], 'host'],
    ];
    for (const [runArgs, want] of cases) {
      const root = project({ '.devcontainer/devcontainer.json': JSON.stringify({ image: 'x', runArgs }) });
      roots.push(root);
      const seen = await shmSeenBy(root);
      const label = JSON.stringify(runArgs);
      assert.equal(seen.doctor, want, `doctor ${label}`);
      assert.equal(seen.runner, want, `runner ${label}`);
      if (typeof want === 'number') assert.equal(seen.k8s, want, `k8s ${label}`);
    }
  });

  it('finds a root .devcontainer.json in the doctor, the runner and the cluster job alike', async () => {
    const root = project({ '.devcontainer.json': '// the root form\n{ "image": "x", "runArgs": ["--shm-size=3g"], }' });
    roots.push(root);
    const facts = await projectFacts(root, await detectProjectDetailed(root));
    assert.equal(facts.devcontainer?.file, '.devcontainer.json');
    const seen = await shmSeenBy(root);
    assert.deepEqual(seen, { doctor: 3 * GiB, runner: 3 * GiB, k8s: 3 * GiB });
  });

  it('resolves build settings relative to a root .devcontainer.json', async () => {
    const root = project({
      '.devcontainer.json': JSON.stringify({
        build: { dockerfile: 'docker/Dockerfile', context: '.', args: { PYTHON_VERSION: '3.12' }, target: 'dev' },
      }),
      'docker/Dockerfile': 'FROM scratch AS train\nFROM scratch AS dev\n',
    });
    roots.push(root);
    assert.deepEqual(await findBuildSetup(root), {
      context: root,
      dockerfile: 'docker/Dockerfile',
      args: { PYTHON_VERSION: '3.12' },
    });
  });

  it('refuses a configuration whose build context escapes the project, with one sentence', async () => {
    const root = project({
      '.devcontainer.json': JSON.stringify({ build: { dockerfile: 'Dockerfile', context: '../..' } }),
      Dockerfile: 'FROM scratch AS train\n',
    });
    roots.push(root);
    await assert.rejects(findBuildSetup(root), (err: Error) => {
      assert.match(err.message, /^\.devcontainer\.json sets the build context to .* outside the project/);
      assert.equal(err.message.trim().split('\n').length, 1, err.message);
      assert.match(err.message, /\.$/);
      return true;
    });
  });

  it('converts docker sizes to Kubernetes quantities through the same parser (t included)', () => {
    assert.equal(toQuantity('1t'), '1Ti');
    assert.equal(toQuantity('4096m'), '4Gi');
    assert.equal(toQuantity('1.5g'), '1536Mi');
    assert.equal(toQuantity('16Gi'), '16Gi');
  });

  it('parses once: runArgs line, shared memory, mounts and the GPU requirement; errors name line and column', () => {
    const text = [
      '// a dev container',
      '{',
      '  "hostRequirements": { "gpu": "optional" },',
      '  "mounts": ["source=data,target=/data/,type=volume", { "source": "c", "target": "/cache", "type": "volume" }],',
      '  "runArgs": ["--shm-size", "1t",],',
      '}',
    ].join('\n');
    const dc = parseDevcontainer(text, '.devcontainer.json', '/p');
    assert.equal(dc.runArgsLine, 5);
    assert.deepEqual(sharedMemory(dc), { shm: 1024 * GiB, shmSize: '1t' });
    assert.deepEqual(mountsOf(dc).map(mountTarget), ['/data', '/cache']);
    assert.equal(gpuRequirement(dc), 'optional');
    assert.throws(
      () => parseDevcontainer('{\n  "runArgs": [\n    "--shm-size=8g"\n    "--ipc=host"\n  ]\n}\n', 'd.json'),
      (err: Error) =>
        err instanceof DevcontainerSyntaxError &&
        err.message === 'd.json is not valid JSON with comments (CommaExpected at 4:5).',
    );
  });
});
