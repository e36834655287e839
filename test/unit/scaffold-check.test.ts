/**
 * Our scaffold passes our own doctor: every fixture project (and every real-corpus project) is scaffolded, then
 * checked against the oldest driver its chosen CUDA supports. With nothing pinned the PyTorch build is the one that
 * runs on the widest range of drivers (CUDA 12.x, not 13.x), and `check` says when a driver allows a newer build.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { minDriverFor } from '../../src/core/compat/rules';
import { factsFromImageRef } from '../../src/core/compat/image';
import { FIXTURES, runCli, tempDir } from './helpers';

/** Fixture projects that are training or inference projects (a scaffold for each), and the real corpus's. */
function projects(): { name: string; dir: string }[] {
  const own = fs
    .readdirSync(path.join(FIXTURES, 'projects'))
    .filter((n) => !['malformed', 'node-app', 'webapp'].includes(n))
    .map((name) => ({ name, dir: path.join(FIXTURES, 'projects', name) }));
  const realRoot = path.join(FIXTURES, 'real');
  const real = fs.existsSync(realRoot)
    ? fs
        .readdirSync(realRoot)
        .filter((n) => fs.existsSync(path.join(realRoot, n, 'repo')))
        .map((name) => ({ name: `real/${name}`, dir: path.join(realRoot, name, 'repo') }))
    : [];
  return [...own, ...real];
}

/** Scaffolds a copy of `dir` and returns the copy and the Dockerfile's default BASE_IMAGE. */
function scaffoldCopy(dir: string, into: string): { project: string; baseImage: string } {
  const project = path.join(into, 'p');
  fs.cpSync(dir, project, { recursive: true });
  const r = runCli(['scaffold', project, '--force']);
  assert.equal(r.status, 0, r.stderr);
  const dockerfile = fs.readFileSync(path.join(project, '.devcontainer', 'Dockerfile'), 'utf8');
  const baseImage = /^ARG BASE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
  assert.ok(baseImage, 'the Dockerfile names its base image');
  return { project, baseImage };
}

describe('scaffold + check: our scaffold passes our own doctor', () => {
  for (const { name, dir } of projects()) {
    it(`${name}: no error against the oldest driver its CUDA supports`, function () {
      this.timeout(30_000);
      const t = tempDir();
      try {
        const { project, baseImage } = scaffoldCopy(dir, t.dir);
        const cuda = factsFromImageRef(baseImage).cudaVersion;
        if (cuda === null) return assert.match(baseImage, /^python:/, 'a CPU project gets a Python image');
        const driver = minDriverFor(cuda)?.driver;
        assert.ok(driver, `a minimum driver is known for CUDA ${cuda}`);
        const gpu = 'NVIDIA GeForce RTX 3090';
        const r = runCli(['check', '--json', '--no-engine', '--project', project, '--driver', driver, '--gpu', gpu]);
        const result = JSON.parse(r.stdout) as { findings: { severity: string; message: string }[] };
        const errors = result.findings.filter((f) => f.severity === 'error').map((f) => f.message);
        assert.deepEqual(errors, [], `${baseImage} on driver ${driver}`);
        assert.equal(r.status, 0);
      } finally {
        t.cleanup();
      }
    });
  }
});

describe('scaffold: the PyTorch build with nothing pinned', () => {
  it('is a CUDA 12 build (drivers from 525 on), never 13.x (580 and newer), and the comment says why', () => {
    const t = tempDir();
    try {
      const { project, baseImage } = scaffoldCopy(path.join(FIXTURES, 'projects', 'hf-accelerate'), t.dir);
      assert.match(baseImage, /^nvidia\/cuda:12\./);
      const dockerfile = fs.readFileSync(path.join(project, '.devcontainer', 'Dockerfile'), 'utf8');
      assert.match(dockerfile, /the newest CUDA 12 build of PyTorch [\d.]+, which runs on the widest range of drivers/);
      assert.match(dockerfile, /Blackwell GPUs .* need CUDA 12\.8 or newer: pass --cuda/);
      assert.match(dockerfile, /^ARG FRAMEWORK_INDEX_URL=https:\/\/download\.pytorch\.org\/whl\/cu12\d$/m);
      // the report names the build without a version nobody pinned (no "PyTorch  (CUDA …")
      const r = runCli([
        'check',
        '--no-engine',
        '--project',
        project,
        '--driver',
        '580.95.05',
        '--gpu',
        'NVIDIA A100-SXM4-80GB',
      ]);
      assert.match(r.stdout, /^ {2}Framework: PyTorch \(CUDA 12\.\d build\)$/m);
      assert.match(r.stdout, /newer-build-available/);
    } finally {
      t.cleanup();
    }
  });

  it('check tells a user whose driver allows a newer build, and not one whose driver does not', () => {
    const args = ['check', '--json', '--no-engine', '--torch', '2.11.0+cu126', '--gpu', 'NVIDIA GeForce RTX 3090'];
    const ids = (driver: string): string[] =>
      (JSON.parse(runCli([...args, '--driver', driver]).stdout) as { findings: { id: string }[] }).findings.map(
        (f) => f.id,
      );
    assert.ok(ids('580.95.05').includes('newer-build-available'));
    assert.ok(!ids('560.35.03').includes('newer-build-available'));
  });

  it('a project that builds CUDA extensions (DeepSpeed ops) gets the devel image, and says why', () => {
    const t = tempDir();
    try {
      const { project, baseImage } = scaffoldCopy(path.join(FIXTURES, 'projects', 'deepspeed-setup'), t.dir);
      assert.match(baseImage, /^nvidia\/cuda:[\d.]+-cudnn\d*-devel-ubuntu/);
      const dockerfile = fs.readFileSync(path.join(project, '.devcontainer', 'Dockerfile'), 'utf8');
      assert.match(dockerfile, /the devel image \(nvcc, CUDA headers\), since deepspeed compiles CUDA code/);
    } finally {
      t.cleanup();
    }
  });
});

describe('scaffold: what the wheels do not bring', () => {
  it('a LightGBM project gets libgomp1 from apt, before the user and the dependencies', () => {
    const t = tempDir();
    try {
      const { project } = scaffoldCopy(path.join(FIXTURES, 'real', 'lightgbm-python-guide', 'repo'), t.dir);
      const dockerfile = fs.readFileSync(path.join(project, '.devcontainer', 'Dockerfile'), 'utf8');
      const apt = dockerfile.indexOf('apt-get install -y --no-install-recommends libgomp1');
      assert.ok(apt > 0, dockerfile);
      assert.ok(apt < dockerfile.indexOf('USER $USERNAME'));
      // no environment file: what its code imports (well-known packages) is installed, with LightGBM itself
      assert.match(dockerfile, /^RUN .* pip install .*\bpandas\b.*\blightgbm\b/m);
    } finally {
      t.cleanup();
    }
  });

  it("a uv.lock is synced into the image's venv with the venv's Python, never one uv downloads (lpnu-ml-labs)", () => {
    const t = tempDir();
    try {
      const { project } = scaffoldCopy(path.join(FIXTURES, 'real', 'lpnu-ml-labs-uv', 'repo'), t.dir);
      const dockerfile = fs.readFileSync(path.join(project, '.devcontainer', 'Dockerfile'), 'utf8');
      assert.match(
        dockerfile,
        /UV_PROJECT_ENVIRONMENT=\/opt\/venv UV_PYTHON=\/opt\/venv\/bin\/python UV_PYTHON_DOWNLOADS=never uv sync --frozen --no-install-project/,
      );
      assert.doesNotMatch(dockerfile, /uv pip install .* -r pyproject\.toml/);
    } finally {
      t.cleanup();
    }
  });

  it('a requirement from git (alpaca-lora: git+https://github.com/huggingface/peft.git) gets git before pip runs', () => {
    const t = tempDir();
    try {
      const { project } = scaffoldCopy(path.join(FIXTURES, 'real', 'alpaca-lora', 'repo'), t.dir);
      const dockerfile = fs.readFileSync(path.join(project, '.devcontainer', 'Dockerfile'), 'utf8');
      assert.match(dockerfile, /need \(peft from git\): pip installs from version control with git\./);
      const git = dockerfile.indexOf('apt-get install -y --no-install-recommends git');
      assert.ok(git > 0 && git < dockerfile.indexOf('pip install ${FRAMEWORK_INDEX_URL'), dockerfile);
    } finally {
      t.cleanup();
    }
  });
});
