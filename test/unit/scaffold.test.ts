/**
 * Scaffolding: every fixture project -> its generated files, compared with golden files reviewed by eye
 * (test/fixtures/scaffold/<project>/; UPDATE_EXPECTED=1 rewrites them), plus the CLI's never-lose-work rules.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import { DockerfileParser } from 'dockerfile-ast';
import { detectProjectDetailed } from '../../src/core/detect';
import { generateScaffold } from '../../src/core/scaffold/generate';
import { FIXTURES, runCli, tempDir } from './helpers';

const projects = path.join(FIXTURES, 'projects');
const golden = path.join(FIXTURES, 'scaffold');
const HOST_MEM = 32 * 1024 ** 3;

describe('scaffold: every fixture project -> golden files', () => {
  for (const name of fs.readdirSync(projects).filter((n) => n !== 'malformed')) {
    it(name, async () => {
      const d = await detectProjectDetailed(path.join(projects, name));
      const s = generateScaffold(d.profile, d.packages, { hostMemBytes: HOST_MEM });
      for (const f of s.files) {
        const file = path.join(golden, name, f.path);
        if (process.env.UPDATE_EXPECTED) {
          fs.mkdirSync(path.dirname(file), { recursive: true });
          fs.writeFileSync(file, f.content);
        }
        assert.ok(fs.existsSync(file), `${file} is missing (UPDATE_EXPECTED=1 once, then review it)`);
        assert.equal(f.content, fs.readFileSync(file, 'utf8'), `${name}/${f.path} differs from its golden file`);
      }
      // devcontainer.json is valid JSONC; the GPU is requested the portable way
      const dc = s.files.find((f) => f.path.endsWith('devcontainer.json'))!;
      const errors: ParseError[] = [];
      const json = parseJsonc(dc.content, errors) as {
        runArgs: string[];
        hostRequirements?: { gpu: unknown };
        build: { target: string };
      };
      assert.deepEqual(errors, []);
      assert.ok(!json.runArgs.some((a) => a.startsWith('--gpus')), 'never --gpus in runArgs');
      assert.ok(
        json.runArgs.every((a) => !a.includes(' ')),
        'one token per element',
      );
      assert.equal(json.build.target, 'dev');
      if (d.profile.needsGpu === 'yes') assert.equal(json.hostRequirements?.gpu, true);
      else if (s.stack.framework) assert.equal(json.hostRequirements?.gpu, 'optional');
      // the Dockerfile has the two stages and the labels the doctor reads back
      const df = s.files.find((f) => f.path.endsWith('Dockerfile'))!;
      const stages = DockerfileParser.parse(df.content)
        .getFROMs()
        .map((f) => f.getBuildStage());
      assert.deepEqual(stages, ['dev', 'train']);
      assert.match(df.content, /^ARG BASE_IMAGE=\S+$/m);
      assert.match(df.content, /org\.ml-containers\.framework=/);
    });
  }

  it('honours the project pins: torch 2.3.1+cu121 and Python 3.10 (pytorch-ddp)', async () => {
    const d = await detectProjectDetailed(path.join(projects, 'pytorch-ddp'));
    const s = generateScaffold(d.profile, d.packages, {});
    assert.deepEqual([s.stack.frameworkVersion, s.stack.cuda, s.stack.python], ['2.3.1', '12.1', '3.10']);
    assert.equal(s.stack.baseImage, 'nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04');
    assert.equal(s.stack.extraIndexUrl, 'https://download.pytorch.org/whl/cu121');
  });

  it('honours conda pins: cudatoolkit=11.8 and python=3.10 (tensorflow-conda)', async () => {
    const d = await detectProjectDetailed(path.join(projects, 'tensorflow-conda'));
    const s = generateScaffold(d.profile, d.packages, {});
    assert.deepEqual(
      [s.stack.framework, s.stack.frameworkVersion, s.stack.cuda, s.stack.python, s.installer],
      ['tensorflow', '2.13.1', '11.8', '3.10', 'conda'],
    );
  });

  it('options override the facts: --cuda, --python, --base-image, --framework', async () => {
    const d = await detectProjectDetailed(path.join(projects, 'sklearn-cpu'));
    const s = generateScaffold(d.profile, d.packages, {
      framework: 'pytorch',
      cuda: '12.8',
      python: '3.11',
      baseImage: 'my/base:1',
    });
    assert.deepEqual(
      [s.stack.framework, s.stack.cuda, s.stack.python, s.stack.baseImage],
      ['pytorch', '12.8', '3.11', 'my/base:1'],
    );
    assert.equal(s.stack.frameworkRequirement, 'torch==2.14.*');
  });

  it('a CPU-only project gets a CPU image and no GPU request', async () => {
    const d = await detectProjectDetailed(path.join(projects, 'sklearn-cpu'));
    const s = generateScaffold(d.profile, d.packages, {});
    assert.equal(s.stack.baseImage, 'python:3.11-slim-bookworm');
    assert.doesNotMatch(s.files[0]!.content, /hostRequirements/);
  });
});

describe("scaffold CLI: never lose the user's work", () => {
  it('writes new files, is idempotent, and refuses to change existing ones without --force', () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.cpSync(path.join(projects, 'pytorch-ddp'), dir, { recursive: true });
      const first = runCli(['scaffold', dir, '--json']);
      assert.equal(first.status, 0, first.stderr);
      const out = JSON.parse(first.stdout) as { files: { path: string; action: string; written: boolean }[] };
      assert.deepEqual(
        out.files.map((f) => [f.path, f.action, f.written]),
        [
          ['.devcontainer/devcontainer.json', 'create', true],
          ['.devcontainer/Dockerfile', 'create', true],
          ['.dockerignore', 'create', true],
        ],
      );
      const again = runCli(['scaffold', dir, '--json']);
      assert.equal(again.status, 0);
      assert.ok(
        (JSON.parse(again.stdout) as { files: { action: string }[] }).files.every((f) => f.action === 'unchanged'),
      );

      // the user edits devcontainer.json and the Dockerfile
      const dcPath = path.join(dir, '.devcontainer', 'devcontainer.json');
      const mine =
        '{\n  // my own dev container\n  "image": "python:3.10", // pinned by me\n  "runArgs": ["--gpus", "all"]\n}\n';
      fs.writeFileSync(dcPath, mine);
      const dfPath = path.join(dir, '.devcontainer', 'Dockerfile');
      fs.writeFileSync(dfPath, 'FROM python:3.10\n# mine\n');
      const refused = runCli(['scaffold', dir]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /--dry-run.*--force/);
      assert.equal(fs.readFileSync(dcPath, 'utf8'), mine, 'untouched without --force');
      assert.equal(fs.readFileSync(dfPath, 'utf8'), 'FROM python:3.10\n# mine\n');

      const dry = runCli(['scaffold', dir, '--dry-run']);
      assert.equal(dry.status, 0);
      assert.match(dry.stdout, /^-\s+"runArgs": \["--gpus", "all"\]$/m);
      assert.equal(fs.readFileSync(dcPath, 'utf8'), mine, 'dry-run writes nothing');

      const forced = runCli(['scaffold', dir, '--force']);
      assert.equal(forced.status, 0, forced.stderr);
      const merged = fs.readFileSync(dcPath, 'utf8');
      assert.match(merged, /\/\/ my own dev container/);
      assert.match(merged, /"image": "python:3\.10", \/\/ pinned by me/);
      const mergedJson = parseJsonc(merged) as { runArgs: string[] };
      assert.ok(
        !mergedJson.runArgs.some((a) => a.startsWith('--gpus') || a === 'all'),
        JSON.stringify(mergedJson.runArgs),
      );
      assert.match(merged, /"gpu": true/);
      assert.match(fs.readFileSync(dfPath, 'utf8'), /FROM \$\{BASE_IMAGE\} AS dev/);
      assert.deepEqual(
        fs.readdirSync(path.join(dir, '.devcontainer')).sort(),
        ['Dockerfile', 'devcontainer.json'],
        'no temp files left',
      );
    } finally {
      cleanup();
    }
  });

  it('leaves a devcontainer.json it cannot parse alone and says where', () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.cpSync(path.join(projects, 'sklearn-cpu'), dir, { recursive: true });
      fs.mkdirSync(path.join(dir, '.devcontainer'));
      const broken = '{ "image": "x", "runArgs": [ \n';
      fs.writeFileSync(path.join(dir, '.devcontainer', 'devcontainer.json'), broken);
      const r = runCli(['scaffold', dir, '--force']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /could not be parsed/);
      assert.equal(fs.readFileSync(path.join(dir, '.devcontainer', 'devcontainer.json'), 'utf8'), broken);
      assert.ok(!fs.existsSync(path.join(dir, '.devcontainer', 'Dockerfile')), 'nothing written');
    } finally {
      cleanup();
    }
  });

  it('bad usage exits 2', () => {
    for (const args of [
      ['scaffold', '--mode', 'x'],
      ['scaffold', '--cuda', '12'],
      ['scaffold', '--framework', 'caffe'],
      ['scaffold', 'a', 'b'],
    ]) {
      assert.equal(runCli(args).status, 2, args.join(' '));
    }
  });
});
