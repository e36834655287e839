/**
 * `ml-containers detect <dir> --json` against every fixture project: the output must equal the fixture's expected
 * JSON exactly (the root, which depends on the machine, is compared separately). To accept a deliberate change,
 * run with UPDATE_EXPECTED=1 and review the diff of test/fixtures/expected/.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, runCli } from './helpers';

const projects = path.join(FIXTURES, 'projects');
const expectedDir = path.join(FIXTURES, 'expected');

describe('detect: fixture projects match their expected JSON', () => {
  const names = fs.readdirSync(projects).filter((n) => fs.statSync(path.join(projects, n)).isDirectory());

  it('has a fixture for every kind the contract names', () => {
    for (const required of [
      'pytorch-ddp',
      'tensorflow-conda',
      'jax-pyproject',
      'lightning-poetry',
      'hf-accelerate',
      'sklearn-cpu',
      'notebook-only',
      'webapp',
      'node-app',
      'malformed',
    ]) {
      assert.ok(names.includes(required), `fixture ${required} is missing`);
    }
  });

  for (const name of names) {
    it(name, () => {
      const dir = path.join(projects, name);
      const r = runCli(['detect', dir, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const actual = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(actual.root, dir);
      const comparable = { ...actual, root: `<fixtures>/projects/${name}` };
      const file = path.join(expectedDir, `${name}.json`);
      if (process.env.UPDATE_EXPECTED) fs.writeFileSync(file, `${JSON.stringify(comparable, null, 2)}\n`);
      assert.ok(fs.existsSync(file), `${file} is missing (run with UPDATE_EXPECTED=1 once, then review it)`);
      assert.deepEqual(comparable, JSON.parse(fs.readFileSync(file, 'utf8')));
    });
  }

  it('the bundled example is a PyTorch training project', () => {
    const r = runCli(['detect', path.join(FIXTURES, '..', '..', 'examples', 'pytorch-mnist'), '--json']);
    const p = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(p.isTrainingProject, true);
    assert.deepEqual(p.frameworks, ['pytorch']);
    assert.deepEqual(p.entrypoints, ['train.py']);
    assert.equal(p.cudaHint, '12.1');
  });
});
