/**
 * Detection reads the project's devcontainer.json through the devcontainer model: the file the Dev Container spec picks
 * (the one the scaffold, the doctor and the runner read), read only as a regular file of the project, parsed once as
 * JSON with comments. A broken file is reported and what it still says is used; the evidence names the image line.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectProject } from '../../src/core/detect';
import { inspectDevcontainer, parseDevcontainerLeniently } from '../../src/core/devcontainer';
import { tempDir, writeTree } from './helpers';

const TRAIN = 'import torch\nloss.backward()\n';
const IMAGE = (cuda: string): string => `{\n  // dev\n  "image": "nvidia/cuda:${cuda}-cudnn-runtime-ubuntu22.04"\n}\n`;

describe('detect: the devcontainer.json the spec picks, through the devcontainer model', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('mlc-detect-devcontainer-')));
  afterEach(() => cleanup());

  it('reads a root .devcontainer.json (the spec second candidate) and lists it with the environment files', async () => {
    writeTree(dir, { 'train.py': TRAIN, '.devcontainer.json': IMAGE('12.4.1'), 'requirements.txt': 'torch\n' });
    const p = await detectProject(dir);
    assert.equal(p.cudaHint, '12.4');
    assert.deepEqual(p.envFiles, ['.devcontainer.json', 'requirements.txt']);
    assert.deepEqual(
      p.evidence.filter((e) => e.field === 'cudaHint'),
      [
        {
          field: 'cudaHint',
          value: '12.4',
          file: '.devcontainer.json',
          line: 3,
          text: '"image": "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04"',
        },
      ],
    );
  });

  it('reads .devcontainer/devcontainer.json before the root file, and a named folder config when it is the only one', async () => {
    writeTree(dir, {
      'train.py': TRAIN,
      '.devcontainer/devcontainer.json': IMAGE('12.1.1'),
      '.devcontainer.json': IMAGE('12.8.1'),
    });
    assert.equal((await detectProject(dir)).cudaHint, '12.1');
    fs.rmSync(path.join(dir, '.devcontainer'), { recursive: true });
    fs.rmSync(path.join(dir, '.devcontainer.json'));
    writeTree(dir, { '.devcontainer/gpu/devcontainer.json': IMAGE('12.6.3') });
    const p = await detectProject(dir);
    assert.equal(p.cudaHint, '12.6');
    assert.deepEqual(p.envFiles, ['.devcontainer/gpu/devcontainer.json']);
  });

  it('leaves out a devcontainer.json that the exclude patterns name', async () => {
    writeTree(dir, { 'train.py': TRAIN, '.devcontainer.json': IMAGE('12.4.1') });
    const p = await detectProject(dir, { exclude: ['.devcontainer.json'] });
    assert.equal(p.cudaHint, null);
    assert.deepEqual(p.envFiles, []);
  });

  it('reports a link out of the project instead of reading through it', async () => {
    const outside = tempDir('mlc-detect-devcontainer-outside-');
    try {
      writeTree(outside.dir, { 'devcontainer.json': IMAGE('12.4.1') });
      writeTree(dir, { 'train.py': TRAIN });
      fs.mkdirSync(path.join(dir, '.devcontainer'));
      fs.symlinkSync(path.join(outside.dir, 'devcontainer.json'), path.join(dir, '.devcontainer', 'devcontainer.json'));
      const p = await detectProject(dir);
      assert.equal(p.cudaHint, null);
      assert.deepEqual(p.warnings, [
        {
          file: '.devcontainer/devcontainer.json',
          message: 'leads out of the project through a link, so it was not read.',
        },
      ]);
    } finally {
      outside.cleanup();
    }
  });

  it('reports a FIFO and a file over the cap without waiting on or reading them', async () => {
    writeTree(dir, {
      'train.py': TRAIN,
      '.devcontainer.json': `{"image": "nvidia/cuda:12.4.1-base", "x": "${'a'.repeat(1024 * 1024)}"}`,
    });
    assert.deepEqual((await detectProject(dir)).warnings, [
      { file: '.devcontainer.json', message: 'is more than 1 MiB, so it was not read.' },
    ]);
    fs.rmSync(path.join(dir, '.devcontainer.json'));
    execFileSync('mkfifo', [path.join(dir, '.devcontainer.json')]);
    const p = await detectProject(dir);
    assert.deepEqual(p.warnings, [
      { file: '.devcontainer.json', message: 'is not a regular file, so it was skipped.' },
    ]);
    assert.deepEqual(p.envFiles, []);
  });

  it('keeps what a file with a syntax error still says, with the error beside it', async () => {
    const text = '{\n  "image": "nvidia/cuda:12.4.1-base-ubuntu22.04",\n  "runArgs": ["--gpus", "all",\n}\n';
    const { dc, error } = parseDevcontainerLeniently(text, 'devcontainer.json');
    assert.equal(dc.json.image, 'nvidia/cuda:12.4.1-base-ubuntu22.04');
    assert.equal(dc.runArgsLine, 3);
    assert.equal(error?.code, 'ValueExpected');
    assert.equal(error?.line, 4);
    writeTree(dir, { 'train.py': TRAIN, '.devcontainer.json': text });
    const found = await inspectDevcontainer(dir);
    assert.equal(found?.file, '.devcontainer.json');
    assert.equal(found?.dc?.json.image, 'nvidia/cuda:12.4.1-base-ubuntu22.04');
    const p = await detectProject(dir);
    assert.equal(p.cudaHint, '12.4');
    assert.deepEqual(p.warnings, [
      { file: '.devcontainer.json', message: 'not valid JSON with comments (ValueExpected at line 4).' },
    ]);
  });

  it('finds nothing, and never throws, when the project has no devcontainer.json', async () => {
    writeTree(dir, { 'train.py': TRAIN });
    assert.equal(await inspectDevcontainer(dir), null);
    assert.equal((await detectProject(dir)).cudaHint, null);
  });
});
