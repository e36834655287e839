/**
 * Issue 12, part A, on the real engine: a cloned project whose training script is named
 * "train\nRUN touch pwned-at-build #.py" used to give a Dockerfile whose train stage ran `touch pwned-at-build`.
 * `ml-containers scaffold --dockerfile-at root` (dist/cli.js) writes the files, the test engine builds the train
 * target once (BASE_IMAGE overridden to mlc-test/debian-python:bookworm, network none) and the image must hold no
 * pwned-at-build anywhere, name the script exactly as its entry point, copy a requirements file with quotes, `$()`
 * and a backslash in its name by that exact name, and label the image with the folder's exact name ($, quotes).
 * Last, the datasets mount of devcontainer.json, for a folder whose name has a comma and quotes, given to the docker
 * CLI's --mount as Dev Containers does: one bind of exactly that folder at /datasets (no build).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { connectEngine } from '../../src/core/docker';
import type { ProjectProfile } from '../../src/core/detect/types';
import { generateScaffold } from '../../src/core/scaffold/generate';
import {
  BUSYBOX,
  buildImage,
  DEBIAN_PYTHON,
  DEBIAN_PYTHON_VERSION,
  requireImage,
  ROOT,
  runOnce,
  testDockerHost,
} from './helpers';

const CLI = path.join(ROOT, 'dist', 'cli.js');
const TINY = path.join(ROOT, 'test', 'fixtures', 'projects-build', 'tiny-train');
const RUN_LABELS = { 'org.ml-containers.test': `hostile-scaffold-${process.pid}` };
const ENTRY = 'train\nRUN touch pwned-at-build #.py';
const ODD_REQS = `requirements-extra $(touch pwned-req) 'q' "d" \\b.txt`;
const FOLDER = `proj $HOME "q" \\x`;

/** Lists /workspace and every file named pwned* in the image (a fixed script; nothing in it comes from a value). */
const PROBE = `
import json, os
pwned = []
for top, dirs, names in os.walk('/', topdown=True):
    dirs[:] = [d for d in dirs if os.path.join(top, d) not in ('/proc', '/sys', '/dev')]
    pwned += [os.path.join(top, n) for n in names + dirs if n.startswith('pwned')]
print(json.dumps({'workspace': sorted(os.listdir('/workspace')), 'pwned': sorted(pwned)}))
`;

describe('Hostile project names built for real (Debian python3 base image, no network)', function () {
  this.timeout(600_000);
  let docker: Docker;
  let tmp = '';
  let dir = '';
  const tag = `mlc-test/hostile-scaffold:train-${process.pid}`;
  let image: Docker.ImageInspectInfo;

  before(async function () {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: build the CLI first (npm run build)`);
    docker = await connectEngine({ env: { DOCKER_HOST: testDockerHost() } }).docker();
    await requireImage(docker, DEBIAN_PYTHON, 'MLC_DEBIAN_PYTHON=1 bash scripts/docker-engine-up.sh builds it');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-hostile-scaffold-'));
    dir = path.join(tmp, FOLDER);
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(TINY, 'train.py'), path.join(dir, ENTRY));
    fs.copyFileSync(path.join(TINY, 'requirements.txt'), path.join(dir, 'requirements.txt'));
    fs.writeFileSync(path.join(dir, ODD_REQS), '# nothing to install\n');
    const r = spawnSync(
      process.execPath,
      [CLI, 'scaffold', dir, '--dockerfile-at', 'root', '--python', DEBIAN_PYTHON_VERSION, '--json'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);

    const built = await buildImage(docker, dir, {
      t: tag,
      target: 'train',
      dockerfile: 'Dockerfile',
      buildargs: { BASE_IMAGE: DEBIAN_PYTHON, PYTHON_VERSION: DEBIAN_PYTHON_VERSION },
      networkmode: 'none',
    });
    assert.ok(built.id);
    image = await docker.getImage(tag).inspect();
  });

  after(async function () {
    if (docker) {
      const label = Object.entries(RUN_LABELS).map(([k, v]) => `${k}=${v}`);
      for (const c of await docker.listContainers({ all: true, filters: { label } })) {
        await docker.getContainer(c.Id).remove({ force: true });
      }
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the build ran no injected command: no pwned-at-build anywhere; the odd names copied exactly', async function () {
    const r = await runOnce(docker, {
      Image: tag,
      Entrypoint: ['python', '-c', PROBE],
      Labels: RUN_LABELS,
      HostConfig: { NetworkMode: 'none' },
    });
    assert.equal(r.exitCode, 0, r.stderr);
    const p = JSON.parse(r.stdout) as { workspace: string[]; pwned: string[] };
    assert.deepEqual(p.pwned, []);
    for (const name of [ENTRY, ODD_REQS, 'requirements.txt', 'Dockerfile']) {
      assert.ok(p.workspace.includes(name), `${JSON.stringify(name)} in ${JSON.stringify(p.workspace)}`);
    }
  });

  it('the entry point is the script by its exact name, and the label the exact folder name', async function () {
    assert.deepEqual(image.Config.Entrypoint, ['python', ENTRY]);
    assert.equal(image.Config.Labels?.['org.opencontainers.image.title'], FOLDER);
    const r = await runOnce(docker, {
      Image: tag,
      Cmd: ['--epochs', '1'],
      Labels: RUN_LABELS,
      HostConfig: { NetworkMode: 'none' },
    });
    assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /^epoch 1 loss \d+\.\d+$/m);
  });

  it('a datasets folder named \'data,target=etc "x"\' is one bind mount at /datasets for docker --mount', async function () {
    const cli = spawnSync('docker', ['--version'], { encoding: 'utf8' });
    if (cli.status !== 0) {
      if (process.env.CI === 'true' || process.env.CI === '1') throw new Error('the docker CLI is not on the PATH');
      this.skip();
    }
    const datasets = path.join(tmp, 'data,target=etc "x"');
    fs.mkdirSync(datasets);
    const profile: ProjectProfile = {
      root: dir,
      isTrainingProject: true,
      frameworks: [],
      primaryFramework: null,
      envFiles: [],
      pythonVersion: null,
      entrypoints: [],
      launcher: null,
      cudaHint: null,
      needsGpu: 'no',
      notebooks: 0,
      evidence: [],
      warnings: [],
    };
    const mount = generateScaffold(profile, [], { datasetsPath: datasets }).settings.mounts[0]!;
    const label = Object.entries(RUN_LABELS).map(([k, v]) => `${k}=${v}`)[0]!;
    // what @devcontainers/cli runs for a string mount: docker run … --mount <the string>
    const created = spawnSync('docker', ['create', '--label', label, '--mount', mount, BUSYBOX, 'true'], {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: testDockerHost() },
      timeout: 60_000,
    });
    assert.equal(created.status, 0, created.stderr);
    const c = docker.getContainer(created.stdout.trim());
    try {
      const info = await c.inspect();
      assert.deepEqual(
        info.Mounts.map((m) => [m.Type, m.Source, m.Destination]),
        [['bind', datasets, '/datasets']],
      );
    } finally {
      await c.remove({ force: true });
    }
  });
});
