/**
 * Detection on a hostile repository (issue 12): a FIFO named .gitignore, files nested thousands of levels deep,
 * requirements files of hundreds of thousands of lines, and the other parsers fed huge inputs. Detection must finish
 * quickly, never overflow the stack, and report what it skipped as one warning each.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectProject, detectProjectDetailed } from '../../../src/core/detect';
import {
  parseCondaEnvironment,
  parseDevcontainer,
  parseLockFile,
  parsePipfile,
  parsePyproject,
  parseRequirement,
  parseRequirementsTxt,
  parseSetupPy,
} from '../../../src/core/detect/declarations';
import { readNotebook } from '../../../src/core/detect/notebook';
import { devcontainerShm } from '../../../src/core/compat/project';
import { runtimeFromDevcontainer } from '../../../src/core/runs/spec';
import { parseSweepFile } from '../../../src/core/runs/sweep';
import { mergeDevcontainer } from '../../../src/core/scaffold/merge';
import { MAX_NESTING, jsoncTooDeep, yamlTooDeep } from '../../../src/core/util/json';
import { runCli, tempDir, writeTree } from '../helpers';

const TRAIN = 'import torch\nloss.backward()\n';
const nested = (n: number): string => '['.repeat(n) + ']'.repeat(n);

/** Seconds `fn` takes. */
async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

describe('hostile repository: detection', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  describe('FIFOs', () => {
    // a blocked read stops the whole event loop, so these run the CLI in a child process with a time limit
    it('a FIFO named .gitignore does not hang detect', () => {
      writeTree(dir, { 'train.py': TRAIN });
      execFileSync('mkfifo', [path.join(dir, '.gitignore')]);
      const r = runCli(['detect', dir, '--json'], { timeout: 15_000 });
      assert.equal(r.status, 0, `detect did not finish: ${r.stderr}`);
      const p = JSON.parse(r.stdout) as { frameworks: string[]; warnings: { file: string; message: string }[] };
      assert.deepEqual(p.frameworks, ['pytorch']);
      assert.deepEqual(p.warnings, [
        { file: '.gitignore', message: 'is not a regular file, so its rules were ignored.' },
      ]);
    });

    it('a FIFO named .gitignore in a nested folder does not hang detect', () => {
      writeTree(dir, { 'train.py': TRAIN, 'a/b/model.py': 'import jax\n' });
      execFileSync('mkfifo', [path.join(dir, 'a', 'b', '.gitignore')]);
      const r = runCli(['detect', dir, '--json'], { timeout: 15_000 });
      assert.equal(r.status, 0, `detect did not finish: ${r.stderr}`);
      const p = JSON.parse(r.stdout) as { frameworks: string[]; warnings: { file: string }[] };
      assert.deepEqual(p.frameworks, ['pytorch', 'jax']);
      assert.deepEqual(
        p.warnings.map((w) => w.file),
        ['a/b/.gitignore'],
      );
    });

    it('a link named .gitignore to a regular file is still read', async () => {
      writeTree(dir, { 'train.py': TRAIN, 'rules.txt': 'gen/\n', 'gen/x.py': 'import jax\n' });
      fs.symlinkSync('rules.txt', path.join(dir, '.gitignore'));
      const p = await detectProject(dir);
      assert.deepEqual(p.frameworks, ['pytorch']);
      assert.deepEqual(p.warnings, []);
    });
  });

  describe('nesting depth', () => {
    it('a notebook nested 5,000 levels deep is reported, and the rest is still detected', async () => {
      writeTree(dir, {
        'train.py': TRAIN,
        'deep.ipynb': `{"cells": ${nested(5000)}}`,
        'ok.ipynb': JSON.stringify({ cells: [{ cell_type: 'code', source: ['import jax\n'] }] }),
      });
      const p = await detectProject(dir);
      assert.deepEqual(p.frameworks, ['pytorch', 'jax']);
      assert.deepEqual(p.warnings, [
        { file: 'deep.ipynb', message: `is nested more than ${MAX_NESTING} levels deep, so it was not read.` },
      ]);
      assert.equal(p.notebooks, 2);
    });

    it('a devcontainer.json of 5,000 unclosed [ is reported, and the rest is still detected', async () => {
      writeTree(dir, {
        'train.py': TRAIN,
        '.devcontainer/devcontainer.json': '['.repeat(5000),
        'requirements.txt': 'torch==2.1.0+cu121\n',
      });
      const p = await detectProject(dir);
      assert.deepEqual(p.frameworks, ['pytorch']);
      assert.equal(p.cudaHint, '12.1');
      assert.deepEqual(p.warnings, [
        {
          file: '.devcontainer/devcontainer.json',
          message: `is nested more than ${MAX_NESTING} levels deep, so it was not read.`,
        },
      ]);
    });

    it('an environment.yml nested 5,000 levels deep (flow or block) is reported', async () => {
      for (const text of [`dependencies: ${nested(5000)}\n`, `dependencies:\n  ${'- '.repeat(5000)}torch\n`]) {
        const d = parseCondaEnvironment('environment.yml', text);
        assert.deepEqual(d.warnings, [
          { file: 'environment.yml', message: `is nested more than ${MAX_NESTING} levels deep, so it was not read.` },
        ]);
      }
    });

    it('files nested exactly to the limit are still read', () => {
      const depth = MAX_NESTING - 3; // the notebook's object, its cells list and the cell
      const nb = readNotebook(
        `{"cells": [{"cell_type": "code", "source": ["import torch\\n"], "x": ${nested(depth)}}]}`,
        false,
      );
      assert.equal(nb.problem, null);
      assert.match(nb.code, /import torch/);
      assert.equal(jsoncTooDeep(nested(MAX_NESTING)), false);
      assert.equal(jsoncTooDeep(nested(MAX_NESTING + 1)), true);
      assert.equal(yamlTooDeep(nested(MAX_NESTING)), false);
      assert.equal(yamlTooDeep(nested(MAX_NESTING + 1)), true);
      assert.equal(yamlTooDeep(`${'- '.repeat(MAX_NESTING + 1)}x`), true);
      assert.deepEqual(
        parseDevcontainer('d.json', `{"image": "nvidia/cuda:12.1.0-base-ubuntu22.04", "x": ${nested(200)}}`).cuda
          .length,
        1,
      );
    });

    it('the JSONC depth check tokenises like jsonc-parser: strings, escapes, comments, unterminated strings', () => {
      const deep = '['.repeat(MAX_NESTING + 1);
      assert.equal(jsoncTooDeep(`{"a": "${deep}"}`), false, 'brackets in a string');
      assert.equal(jsoncTooDeep(`{"a": "\\"${deep}"}`), false, 'after an escaped quote');
      assert.equal(jsoncTooDeep(`// ${deep}\n{}`), false, 'in a line comment');
      assert.equal(jsoncTooDeep(`/* ${deep} */ {}`), false, 'in a block comment');
      // jsonc-parser ends an unterminated string at the line break: what follows is structure again
      assert.equal(jsoncTooDeep(`{"a": "open\n${deep}`), true, 'after an unterminated string');
      assert.equal(jsoncTooDeep(`"x" ${deep}`), true);
      // closing brackets hidden in comments do not cancel real ones
      assert.equal(jsoncTooDeep(`[ // ]\n`.repeat(MAX_NESTING + 1)), true);
    });

    it('YAML brackets in quotes, comments and plain scalars do not count', () => {
      const deep = '['.repeat(MAX_NESTING + 1);
      assert.equal(yamlTooDeep(`a: '${deep}'\n`), false);
      assert.equal(yamlTooDeep(`a: "${deep}"\n`), false);
      assert.equal(yamlTooDeep(`a: 1 # ${deep}\n`), false);
      assert.equal(yamlTooDeep(`a: b${deep}\n`), false);
    });

    it('scaffold, run and check refuse a devcontainer.json nested 5,000 levels deep with one sentence', () => {
      const text = `{"runArgs": ${nested(5000)}}`;
      const wanted = {
        gpu: 'optional' as const,
        runArgs: ['--gpus', 'all'],
        extensions: [],
        why: {},
      } as unknown as Parameters<typeof mergeDevcontainer>[1];
      const merged = mergeDevcontainer(text, wanted, { file: '.devcontainer/devcontainer.json' });
      assert.equal(merged.text, text);
      assert.equal(merged.changes.length, 1);
      assert.match(
        merged.changes[0]!.message,
        /^\.devcontainer\/devcontainer\.json is nested more than 256 levels deep; it was left unchanged\./,
      );
      assert.doesNotMatch(merged.changes[0]!.message, /call stack/);
      assert.throws(() => runtimeFromDevcontainer(text, 'devcontainer.json'), /nested more than 256 levels deep/);
      assert.equal(devcontainerShm('devcontainer.json', text)?.shmBytes, null);
      assert.throws(() => parseSweepFile(`command: [python]\ngrid: ${nested(5000)}\n`), /nested more than 256 levels/);
    });
  });

  describe('huge files', () => {
    it('a 200,000-line requirements.txt is read in seconds, without overflowing the stack', async function () {
      this.timeout(120_000);
      const lines: string[] = [];
      for (let i = 0; i < 200_000; i++) lines.push(`package-${i}==1.${i % 10}`);
      writeTree(dir, { 'train.py': TRAIN, 'requirements.txt': `torch==2.1.0\n${lines.join('\n')}\n` });
      const [details, seconds] = await timed(() => detectProjectDetailed(dir));
      assert.equal(details.packages.length, 200_001);
      assert.deepEqual(details.profile.frameworks, ['pytorch']);
      assert.deepEqual(details.profile.warnings, []);
      assert.ok(seconds < 30, `took ${seconds.toFixed(1)} s`);
    });

    it('200,000 invalid requirement lines take seconds and give a few warnings, not 200,000', async function () {
      this.timeout(120_000);
      const [d, seconds] = await timed(() =>
        parseRequirementsTxt('requirements.txt', `${'not a requirement!\n'.repeat(200_000)}torch==2.1\n`),
      );
      assert.ok(seconds < 30, `took ${seconds.toFixed(1)} s`);
      assert.deepEqual(
        d.packages.map((p) => p.name),
        ['torch'],
      );
      assert.equal(d.warnings.length, 22);
      assert.equal(d.warnings[0]!.message, 'line 1 is not a valid requirement: not a requirement!');
      assert.equal(
        d.warnings[20]!.message,
        'has more than 5000 requirements with markers, URLs or unusual syntax; from line 5001 on, those were not read.',
      );
      assert.equal(d.warnings[21]!.message, 'has 4980 more lines that are not valid requirements.');
    });

    it('continued lines and long lines stay linear', () => {
      const continued = parseRequirementsTxt('r.txt', `torch \\\n${'\\\n'.repeat(1000)}>=2.1\n`);
      assert.deepEqual(
        continued.packages.map((p) => [p.name, p.spec, p.line]),
        [['torch', '>=2.1', 1]],
      );
      // 200,000 continuations make one line too long to be a requirement: one warning, at once
      const huge = parseRequirementsTxt('r.txt', `torch \\\n${'\\\n'.repeat(200_000)}>=2.1\n`);
      assert.deepEqual(huge.packages, []);
      assert.equal(huge.warnings.length, 1);
      assert.match(huge.warnings[0]!.message, /^line 1 is not a valid requirement/);
      assert.equal(parseRequirement(`torch${' or'.repeat(100_000)}`), null);
      assert.equal(parseRequirement(`torch;${' python_version>"3" or'.repeat(1000)} os_name=="x"`), null);
    });

    it('the fast requirement parser agrees with the PEP 508 grammar', () => {
      for (const [line, want] of [
        ['torch', { name: 'torch', extras: [], spec: '' }],
        ['Torch_Vision [cuda, x] >= 0.16 , <1', { name: 'torch-vision', extras: ['cuda', 'x'], spec: '>=0.16,<1' }],
        ['torch==2.1.0+cu121', { name: 'torch', extras: [], spec: '==2.1.0+cu121' }],
        ['torch (>=2)', { name: 'torch', extras: [], spec: '>=2' }],
        ['torch>=2; python_version >= "3.9"', { name: 'torch', extras: [], spec: '>=2' }],
        ['torch===2.1', null],
        ['torch>=2,', null],
        ['torch[x,]', null],
        ['-torch', null],
      ] as const) {
        assert.deepEqual(parseRequirement(line), want, line);
      }
    });

    it('other environment files with tens of thousands of entries are read in linear time', async function () {
      this.timeout(120_000);
      const n = 40_000;
      const ids = Array.from({ length: n }, (_, i) => i);
      const [, seconds] = await timed(() => {
        const py = parsePyproject(
          'pyproject.toml',
          `[project]\ndependencies = [\n${ids.map((i) => `  "pkg${i}>=1",`).join('\n')}\n]\n`,
        );
        assert.equal(py.packages.length, n);
        assert.equal(py.packages[n - 1]!.line, n + 2);
        const pf = parsePipfile('Pipfile', `[packages]\n${ids.map((i) => `p${i} = "*"`).join('\n')}\n`);
        assert.equal(pf.packages[n - 1]!.line, n + 1);
        const lock = parseLockFile(
          'uv.lock',
          ids.map((i) => `[[package]]\nname = "p${i}"\nversion = "1.0"\n`).join('\n'),
          false,
        );
        assert.equal(lock.packages[n - 1]!.line, 4 * (n - 1) + 2);
        const conda = parseCondaEnvironment(
          'environment.yml',
          `dependencies:\n${ids.map((i) => `  - p${i}=1.0`).join('\n')}\n`,
        );
        assert.equal(conda.packages[n - 1]!.line, n + 1);
        assert.equal(parseSetupPy('setup.py', 'install_requires=['.repeat(n * 4)).packages.length, 0);
      });
      assert.ok(seconds < 60, `took ${seconds.toFixed(1)} s`);
    });

    it('an empty requirement in a conda pip list after a comment line does not loop', () => {
      const d = parseCondaEnvironment('environment.yml', '# comment\ndependencies:\n  - pip:\n    - ""\n');
      assert.deepEqual(d.packages, []);
    });
  });
});
