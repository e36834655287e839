/**
 * The generated Dockerfile, built for real (issue 3): `ml-containers scaffold` (dist/cli.js) writes the files into a
 * copy of a fixture project, then the private test engine builds both targets, `dev` and `train`, with the build
 * section of the generated devcontainer.json (Dockerfile, context, args) and BASE_IMAGE overridden to
 * mlc-test/debian-python:bookworm (Debian 12's python3, made with debootstrap by `MLC_DEBIAN_PYTHON=1
 * scripts/docker-engine-up.sh`: registries are unreachable here), and runs the train image once. Builds and runs use
 * no network at all (network mode none).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import { connectEngine } from '../../src/core/docker';
import { FETCH_SCRIPT, FRAMEWORK_INDEX_FLAGS } from '../../src/core/scaffold/generate';
import {
  buildImage,
  DEBIAN_PYTHON,
  DEBIAN_PYTHON_VERSION,
  requireImage,
  ROOT,
  runOnce,
  testDockerHost,
} from './helpers';

const CLI = path.join(ROOT, 'dist', 'cli.js');
/** Marks this run's containers, so that they can be removed even after a test timed out. */
const RUN_LABELS = { 'org.ml-containers.test': `scaffold-build-${process.pid}` };
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

interface ScaffoldJson {
  stack: { framework: string | null; python: string; baseImage: string };
  installer: string;
  files: { path: string; action: string; written: boolean }[];
}

interface DevcontainerBuild {
  dockerfile: string;
  context: string;
  target: string;
  args: Record<string, string>;
}

/** `ml-containers scaffold DIR ARGS… --json`, the built CLI in its own process. */
function scaffold(dir: string, ...args: string[]): ScaffoldJson {
  const r = spawnSync(process.execPath, [CLI, 'scaffold', dir, ...args, '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `ml-containers scaffold ${dir} ${args.join(' ')}: ${r.error?.message ?? ''}${r.stderr}`);
  const out = JSON.parse(r.stdout) as ScaffoldJson;
  assert.deepEqual(
    out.files.map((f) => [f.path, f.action, f.written]),
    [
      ['.devcontainer/devcontainer.json', 'create', true],
      ['.devcontainer/Dockerfile', 'create', true],
      ['.dockerignore', 'create', true],
    ],
  );
  return out;
}

/** The build section of the generated devcontainer.json (JSON with comments). */
function devcontainerBuild(dir: string): DevcontainerBuild {
  const errors: ParseError[] = [];
  const json = parseJsonc(fs.readFileSync(path.join(dir, '.devcontainer', 'devcontainer.json'), 'utf8'), errors) as {
    build: DevcontainerBuild;
  };
  assert.deepEqual(errors, [], 'devcontainer.json parses');
  return json.build;
}

/** The instructions of a Dockerfile, parsed, each as its own text (with its flags), comments left out. */
function instructionLines(text: string): string[] {
  return DockerfileParser.parse(text)
    .getInstructions()
    .map((i: Instruction) => i.getTextContent());
}

/**
 * Facts about an image's user, Python and /workspace, printed by a fixed Python script inside a container (nothing in
 * the script comes from a value).
 */
const PROBE = `
import json, os, pwd, sys
files = []
for top, dirs, names in os.walk('/workspace'):
    rel = os.path.relpath(top, '/workspace')
    files += sorted(os.path.normpath(os.path.join(rel, n)) for n in names)
site = next(p for p in sys.path if p.endswith('site-packages'))
print(json.dumps({
    'uid': os.getuid(),
    'user': pwd.getpwuid(os.getuid()).pw_name,
    'home': os.path.expanduser('~'),
    'prefix': sys.prefix,
    'executable': os.path.realpath(sys.executable),
    'version': '%d.%d' % sys.version_info[:2],
    'sitePackages': site,
    'venvWritable': os.access(site, os.W_OK),
    'cwd': os.getcwd(),
    'files': sorted(files),
}))
`;

interface Probe {
  uid: number;
  user: string;
  home: string;
  prefix: string;
  executable: string;
  version: string;
  sitePackages: string;
  venvWritable: boolean;
  cwd: string;
  files: string[];
}

describe('Generated Dockerfile built for real (Debian python3 base image, no network)', function () {
  this.timeout(600_000);
  let docker: Docker;
  let tmp = '';
  const tags: string[] = [];
  const timings: string[] = [];

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-scaffold-build-'));
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: build the CLI first (npm run build)`);
    const client = connectEngine({ env: { DOCKER_HOST: testDockerHost() } });
    docker = await client.docker();
    await requireImage(
      docker,
      DEBIAN_PYTHON,
      'scripts/docker-engine-up.sh builds it with debootstrap from the Debian mirror when MLC_DEBIAN_PYTHON=1 (npm ' +
        'test sets it); see its WARNING line and .vscode-test/docker/logs/debootstrap.log, or run ' +
        '`MLC_DEBIAN_PYTHON=1 bash scripts/docker-engine-up.sh`',
    );
  });

  after(async function () {
    if (docker) {
      const label = Object.entries(RUN_LABELS).map(([k, v]) => `${k}=${v}`);
      const left = await docker.listContainers({ all: true, filters: { label } });
      for (const c of left) await docker.getContainer(c.Id).remove({ force: true });
      // train first: it is a child of dev
      for (const t of tags.reverse()) {
        await docker
          .getImage(t)
          .remove({ force: true })
          .catch(() => undefined);
      }
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    if (timings.length) console.log(`      timings: ${timings.join(', ')}`);
  });

  describe('tiny-train (no dependencies): dev and train built, the train image run once', function () {
    let dir = '';
    const devTag = `mlc-test/scaffold-tiny-train:dev-${process.pid}`;
    const trainTag = `mlc-test/scaffold-tiny-train:train-${process.pid}`;
    let build: DevcontainerBuild;
    let buildargs: Record<string, string>;
    let dev: Docker.ImageInspectInfo | undefined;

    before(function () {
      dir = path.join(tmp, 'tiny-train');
      fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'projects-build', 'tiny-train'), dir, { recursive: true });
      // What a real project has beside its code, which the generated .dockerignore keeps out of the image: a dataset,
      // a checkpoint, a secret, byte code, weights below the top level; and what it must keep: code in a nested
      // folder called data (only the top-level data folder is a dataset).
      const extra: Record<string, string | Buffer> = {
        'data/big.bin': Buffer.alloc(4 * 1024 * 1024, 7),
        'checkpoints/last.pt': 'not a real checkpoint',
        '.env': 'API_KEY=do-not-ship',
        'lib/__pycache__/loader.cpython-311.pyc': 'byte code',
        'lib/weights.bin': 'weights',
        'lib/data/loader.py': 'def load():\n    return []\n',
        // configs and scripts real projects keep beside their data and runs (data/*.yaml, runs/*.sh): kept
        'data/config.yaml': 'lr: 0.1\n',
        'data/prepare.py': 'print("prepare")\n',
        'runs/train_small.sh': 'python train.py --epochs 1\n',
        'runs/exp1/metrics.csv': 'step,loss\n',
        'runs/exp1/events.out.tfevents.1.host': 'scalars',
        'data/train/part-0.parquet': 'rows',
        'data/raw/input.txt': 'text',
        'configs/data/sizes.csv': 'kept: not in a data folder at the top',
      };
      for (const [rel, content] of Object.entries(extra)) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), content);
      }
      const out = scaffold(dir, '--python', DEBIAN_PYTHON_VERSION);
      assert.equal(out.stack.framework, null);
      assert.equal(out.stack.python, DEBIAN_PYTHON_VERSION);
      assert.equal(out.installer, 'pip');
      build = devcontainerBuild(dir);
      assert.deepEqual(
        { dockerfile: build.dockerfile, context: build.context, target: build.target },
        { dockerfile: 'Dockerfile', context: '..', target: 'dev' },
      );
      assert.deepEqual(Object.keys(build.args).sort(), ['BASE_IMAGE', 'PYTHON_VERSION']);
      // the build arguments of devcontainer.json, with the base image that exists here (registries are unreachable)
      buildargs = { ...build.args, BASE_IMAGE: DEBIAN_PYTHON };
    });

    /** Builds one target of the generated Dockerfile the way devcontainer.json describes (context "..", from .devcontainer). */
    async function buildTarget(target: string, t: string): Promise<Docker.ImageInspectInfo> {
      const context = path.resolve(dir, '.devcontainer', build.context);
      assert.equal(context, dir);
      const dockerfile = path.relative(context, path.join(dir, '.devcontainer', build.dockerfile));
      tags.push(t);
      const built = await buildImage(docker, context, { t, target, dockerfile, buildargs, networkmode: 'none' });
      timings.push(`build ${target} ${secs(built.ms)}`);
      const image = await docker.getImage(t).inspect();
      assert.ok(
        image.Id.replace(/^sha256:/, '').startsWith(built.id.replace(/^sha256:/, '')),
        `${image.Id} ${built.id}`,
      );
      return image;
    }

    it('builds the dev target: labels, user vscode (uid 1000), the image python in a venv at /opt/venv, no code', async function () {
      dev = await buildTarget(build.target, devTag);
      assert.deepEqual(
        Object.fromEntries(Object.entries(dev.Config.Labels ?? {}).filter(([k]) => k.startsWith('org.'))),
        {
          'org.opencontainers.image.title': 'tiny-train',
          'org.ml-containers.framework': 'none',
          'org.ml-containers.cuda': 'none',
          'org.ml-containers.python': DEBIAN_PYTHON_VERSION,
        },
      );
      assert.equal(dev.Config.User, 'vscode');
      assert.equal(dev.Config.WorkingDir, '/workspace');
      assert.ok(dev.Config.Env.includes('VIRTUAL_ENV=/opt/venv'), dev.Config.Env.join(' '));
      assert.ok(!dev.Config.Entrypoint?.length, `dev has no entry point: ${JSON.stringify(dev.Config.Entrypoint)}`);

      const r = await runOnce(docker, {
        Image: devTag,
        Cmd: ['python', '-c', PROBE],
        Labels: RUN_LABELS,
        HostConfig: { NetworkMode: 'none' },
      });
      assert.equal(r.exitCode, 0, r.stderr);
      const p = JSON.parse(r.stdout) as Probe;
      assert.equal(p.uid, 1000);
      assert.equal(p.user, 'vscode');
      assert.equal(p.home, '/home/vscode');
      assert.equal(p.cwd, '/workspace');
      assert.equal(p.prefix, '/opt/venv', 'python on the PATH is the venv');
      assert.equal(p.version, DEBIAN_PYTHON_VERSION);
      // the base image's own python (PYTHON_VERSION matched it), not one downloaded with uv
      assert.equal(p.executable, `/usr/bin/python${DEBIAN_PYTHON_VERSION}`);
      // postCreateCommand re-runs pip install as vscode: the venv must be the user's
      assert.equal(p.venvWritable, true, `${p.sitePackages} is not writable by vscode`);
      // dependencies only: the requirement files, not the code (the dev container mounts it)
      assert.deepEqual(p.files, ['requirements.txt']);
    });

    it("the environment stays writable for a user the dev container gives another uid (group mlc-env), caches are the user's", async function () {
      await requireImage(docker, devTag, 'the dev target was not built (see the test before)');
      // what the dev container does for a host uid other than 1000: the user's uid changes, its groups stay
      const r = await runOnce(docker, {
        Image: devTag,
        User: '4321:4321',
        Cmd: [
          'python',
          '-c',
          'import json, os, pwd; site = [p for p in __import__("sys").path if p.endswith("site-packages")][0]; ' +
            'print(json.dumps({"venv": os.access(site, os.W_OK), "bin": os.access("/opt/venv/bin", os.W_OK), ' +
            '"caches": {d: pwd.getpwuid(os.stat("/home/vscode/.cache/" + d).st_uid).pw_name for d in ["pip", "huggingface", "torch"]}}))',
        ],
        Labels: RUN_LABELS,
        HostConfig: { NetworkMode: 'none', GroupAdd: ['mlc-env'] },
      });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), {
        venv: true,
        bin: true,
        caches: { pip: 'vscode', huggingface: 'vscode', torch: 'vscode' },
      });
    });

    it('builds the train target on top of dev: the code without what .dockerignore excludes, python train.py', async function () {
      const train = await buildTarget('train', trainTag);
      assert.ok(dev, 'the dev target was built');
      // FROM dev AS train: every layer of dev, then the code
      assert.deepEqual(train.RootFS.Layers?.slice(0, dev.RootFS.Layers?.length), dev.RootFS.Layers);
      assert.deepEqual(train.Config.Labels, dev.Config.Labels);
      assert.deepEqual(train.Config.Entrypoint, ['python', 'train.py']);
      assert.equal(train.Config.User, 'vscode');

      const r = await runOnce(docker, {
        Image: trainTag,
        Entrypoint: ['python', '-c', PROBE],
        Labels: RUN_LABELS,
        HostConfig: { NetworkMode: 'none' },
      });
      assert.equal(r.exitCode, 0, r.stderr);
      const p = JSON.parse(r.stdout) as Probe;
      assert.deepEqual(p.files, [
        '.devcontainer/Dockerfile',
        '.devcontainer/devcontainer.json',
        '.dockerignore',
        'configs/data/sizes.csv',
        'data/config.yaml',
        'data/prepare.py',
        'lib/data/loader.py',
        'requirements.txt',
        'runs/train_small.sh',
        'train.py',
      ]);
    });

    it('runs the train image once: the entry point trains with the arguments given after the image name', async function () {
      await requireImage(docker, trainTag, 'the train target was not built (see the test before)');
      const r = await runOnce(docker, {
        Image: trainTag,
        Cmd: ['--epochs', '2'],
        Labels: RUN_LABELS,
        HostConfig: { NetworkMode: 'none' },
      });
      timings.push(`run train ${secs(r.ms)}`);
      assert.equal(r.exitCode, 0, `${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, '');
      const epochs = [...r.stdout.matchAll(/^epoch (\d+) loss (\d+\.\d+)$/gm)];
      assert.deepEqual(
        epochs.map((m) => m[1]),
        ['1', '2'],
        r.stdout,
      );
      assert.ok(Number(epochs[1]![2]) < Number(epochs[0]![2]), `the loss goes down: ${r.stdout}`);
      assert.match(r.stdout, /\ndone\n$/);
    });
  });

  describe('pytorch-ddp (PyTorch 2.3.1+cu121, torchrun): the generated files, not built', function () {
    // Not built: its dependency step installs torch 2.3.1+cu121 (about 2.5 GB of wheels) from PyPI and
    // download.pytorch.org, which this machine cannot reach; tiny-train above builds the same stages for real.
    let dir = '';
    let lines: string[];

    before(function () {
      dir = path.join(tmp, 'pytorch-ddp');
      fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'projects', 'pytorch-ddp'), dir, { recursive: true });
      const out = scaffold(dir);
      assert.equal(out.stack.framework, 'pytorch');
      lines = instructionLines(fs.readFileSync(path.join(dir, '.devcontainer', 'Dockerfile'), 'utf8'));
    });

    it('FROM the CUDA 12.1 base image (an ARG), Python 3.10 from .python-version, dev and train stages', function () {
      const base = 'nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04';
      assert.equal(lines[0], `ARG BASE_IMAGE=${base}`);
      assert.deepEqual(
        lines.filter((l) => l.startsWith('FROM ')),
        ['FROM ${BASE_IMAGE} AS dev', 'FROM dev AS train'],
      );
      assert.ok(lines.includes('ARG PYTHON_VERSION=3.10'), lines.join('\n'));
      // devcontainer.json passes the same values
      assert.deepEqual(devcontainerBuild(dir).args, { BASE_IMAGE: base, PYTHON_VERSION: '3.10' });
    });

    it('labels what the image is: PyTorch 2.3.1, CUDA 12.1, Python 3.10', function () {
      const label = lines.find((l) => l.startsWith('LABEL '));
      assert.ok(label, lines.join('\n'));
      const pairs = Object.fromEntries(
        [...label.matchAll(/([\w.-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as [string, string]),
      );
      assert.deepEqual(pairs, {
        'org.opencontainers.image.title': 'pytorch-ddp',
        'org.ml-containers.framework': 'pytorch',
        'org.ml-containers.framework-version': '2.3.1',
        'org.ml-containers.cuda': '12.1',
        'org.ml-containers.python': '${PYTHON_VERSION}', // the build argument, 3.10 by default
      });
    });

    it("installs its requirements with PyTorch's cu121 index, and trains with torchrun on every GPU", function () {
      assert.ok(lines.includes('COPY requirements-base.txt requirements.txt ./'), lines.join('\n'));
      assert.ok(lines.includes('ARG FRAMEWORK_INDEX_URL=https://download.pytorch.org/whl/cu121'), lines.join('\n'));
      assert.ok(
        lines.includes(
          `RUN . ${FETCH_SCRIPT} && umask 0002 && pip install ${FRAMEWORK_INDEX_FLAGS} -r requirements.txt`,
        ),
        lines.join('\n'),
      );
      const train = lines.slice(lines.indexOf('FROM dev AS train'));
      assert.ok(train.includes('COPY --chown=$USERNAME . /workspace'), train.join('\n'));
      assert.equal(train[train.length - 1], 'ENTRYPOINT ["torchrun","--nproc_per_node=gpu","train.py"]');
    });
  });
});
