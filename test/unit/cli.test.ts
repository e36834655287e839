import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ROOT, runCli } from './helpers';

const example = path.join(ROOT, 'examples', 'pytorch-mnist');

describe('ml-containers CLI', () => {
  it('detect --json prints one JSON object with exactly the contract fields', () => {
    const r = runCli(['detect', example, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(p), [
      'root',
      'isTrainingProject',
      'frameworks',
      'primaryFramework',
      'envFiles',
      'pythonVersion',
      'entrypoints',
      'launcher',
      'cudaHint',
      'needsGpu',
      'notebooks',
      'evidence',
      'warnings',
    ]);
    for (const e of p.evidence as Record<string, unknown>[]) {
      assert.deepEqual(Object.keys(e), ['field', 'value', 'file', 'line', 'text']);
    }
  });

  it('detect without --json prints a readable summary', () => {
    const r = runCli(['detect', example]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^PyTorch training project \(train\.py\)$/m);
    assert.match(r.stdout, /CUDA\s+12\.1/);
  });

  it('detect defaults to the current folder', () => {
    const r = runCli(['detect', '--json'], { cwd: example });
    assert.equal((JSON.parse(r.stdout) as { root: string }).root, example);
  });

  it('bad usage exits 2 with the usage text', () => {
    for (const args of [
      ['detect', '--no-such-flag'],
      ['detect', 'a', 'b'],
      ['nope'],
      [],
      ['detect', '--max-files', 'x'],
    ]) {
      const r = runCli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.match(runCli(['detect', '--bogus']).stderr, /Usage: ml-containers detect/);
  });

  it('a folder that does not exist exits 1 with one sentence saying what to do', () => {
    const r = runCli(['detect', path.join(ROOT, 'no-such-folder'), '--json']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no-such-folder does not exist\./);
    assert.match(r.stderr, /Pass the folder of a project\./);
  });

  it('--help and --version exit 0', () => {
    assert.equal(runCli(['--help']).status, 0);
    assert.match(runCli(['detect', '--help']).stdout, /--json/);
    const v = runCli(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+$/);
  });
});
