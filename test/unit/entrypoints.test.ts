/**
 * Entry points and launcher, rule by rule, on small projects written to a temp folder: the authors' commands rank
 * first in their order; what runs when a file is run decides whether it is a script; a library module's `__main__`
 * demo is no entry point and no training; the launcher is the one the main command uses.
 */
import * as assert from 'node:assert/strict';
import { detectProject } from '../../src/core/detect';
import { launcherCommand } from '../../src/core/scaffold/generate';
import { tempDir, writeTree } from './helpers';

const TRAIN_LOOP = 'import torch\n\ndef main():\n    loss.backward()\n    optimizer.step()\n\n';
const SCRIPT = `${TRAIN_LOOP}if __name__ == "__main__":\n    main()\n`;

describe('detect: entry points and launcher', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  const detect = async (files: Record<string, string>): ReturnType<typeof detectProject> => {
    writeTree(dir, files);
    return detectProject(dir);
  };

  it("ranks the scripts the authors' commands run first, in their order, before the cap of 20", async () => {
    const many = Object.fromEntries(Array.from({ length: 22 }, (_, i) => [`examples/a${i}_train.py`, SCRIPT]));
    const p = await detect({
      ...many,
      'zz/main_dino.py': SCRIPT,
      'eval_linear.py': SCRIPT,
      'run.sh': 'python zz/main_dino.py --epochs 1\n',
      'README.md': '# Train\n```\npython eval_linear.py\npython zz/main_dino.py\n```\n',
    });
    assert.deepEqual(p.entrypoints.slice(0, 3), ['zz/main_dino.py', 'eval_linear.py', 'examples/a0_train.py']);
    assert.equal(p.entrypoints.length, 20);
    const ev = p.evidence.filter((e) => e.field === 'entrypoints' && e.value === 'zz/main_dino.py');
    assert.deepEqual(
      ev.map((e) => [e.file, e.line]),
      [
        ['run.sh', 1],
        ['zz/main_dino.py', 4],
      ],
    );
  });

  it('maps python -m and torchrun -m to the module file, poetry run and uv run to the script', async () => {
    const p = await detect({
      'src/__init__.py': '',
      'src/lab1/__init__.py': '',
      'src/lab1/train.py': SCRIPT,
      'pkg/__init__.py': '',
      'pkg/finetune.py': SCRIPT,
      'rl/ppo.py': SCRIPT,
      'README.md':
        '```\npoetry run python rl/ppo.py --seed 1\npython -m src.lab1.train\ntorchrun -m pkg.finetune\n```\n',
    });
    assert.deepEqual(p.entrypoints, ['rl/ppo.py', 'src/lab1/train.py', 'pkg/finetune.py']);
  });

  it('takes a script the authors run that calls the project training functions, not a library of them', async () => {
    const p = await detect({
      'train.py':
        '"""Library file which executes the training loop."""\nimport optax\nimport tensorflow as tf\n\n' +
        'tf.random.set_seed(0)\n\ndef train_and_evaluate(config):\n    tx = optax.adam(1e-3)\n',
      'main.py': 'import train\n\ndef main(argv):\n    train.train_and_evaluate(None)\n\napp.run(main)\n',
      'trainer.py':
        'import torch\nlogger = get_logger(__name__)\n\nclass Trainer:\n    def fit(self):\n        loss.backward()\n',
      'README.md': 'Run `python main.py --workdir=/tmp/x`.\n',
    });
    assert.deepEqual(p.entrypoints, ['main.py']);
    assert.ok(p.evidence.some((e) => e.field === 'entrypoints' && e.file === 'main.py' && e.line === 4));
  });

  it('takes a train-named script that hands off to the training code of a project module', async () => {
    const p = await detect({
      'src/__init__.py': '',
      'src/training.py': TRAIN_LOOP,
      'train.py': 'from src.training import main\n\nif __name__ == "__main__":\n    main()\n',
      'sample.py': 'from src.training import main\n\nif __name__ == "__main__":\n    main()\n',
    });
    assert.deepEqual(p.entrypoints, ['train.py']);
  });

  it('runs module-level code and the main block, and what they call, to decide that a file trains', async () => {
    const p = await detect({
      'loop.py': 'import torch\n\ndef train(epoch):\n    loss.backward()\n\nfor epoch in range(3):\n    train(epoch)\n',
      'cli.py':
        'import torch\n\ndef run():\n    loss.backward()\n\ndef main():\n    run()\n\nif __name__ == "__main__":\n    main()\n',
      'helpers.py': 'import torch\nSEED = set_seed(0)\n\ndef fit_once(model):\n    model.train()\n',
    });
    assert.deepEqual(p.entrypoints, ['cli.py', 'loop.py']);
  });

  it("does not take a package module's argument-less __main__ demo for training or an entry point", async () => {
    const demo =
      'import torch\n\nclass ViT:\n    pass\n\nif __name__ == "__main__":\n    v = ViT()\n    v(x).sum().backward()\n';
    const lib = await detect({ 'vit/__init__.py': 'from .vat import ViT\n', 'vit/vat.py': demo });
    assert.equal(lib.isTrainingProject, false);
    assert.deepEqual(lib.entrypoints, []);
    cleanup();
    ({ dir, cleanup } = tempDir());
    // the same block reading arguments, or named for training, is a script of the package
    const cli = demo.replace('import torch\n', 'import argparse\nimport torch\n');
    const scripts = await detect({ 'vit/__init__.py': '', 'vit/vat.py': cli, 'vit/train_demo.py': demo });
    assert.equal(scripts.isTrainingProject, true);
    assert.deepEqual(scripts.entrypoints, ['vit/train_demo.py', 'vit/vat.py']);
  });

  it('does not take a train-named script that trains nothing, even when the README runs it', async () => {
    const p = await detect({
      'main.py': SCRIPT,
      'scripts/train_searcher.py':
        'import numpy as np\n\ndef train_searcher(opt):\n    print("building index")\n\nif __name__ == "__main__":\n    train_searcher(None)\n',
      'README.md': '```\npython scripts/train_searcher.py\npython main.py\n```\n',
    });
    assert.deepEqual(p.entrypoints, ['main.py']);
  });

  it('recognises training in cross-validation and booster cross-validation', async () => {
    const p = await detect({
      'cv.py':
        'import sklearn\n\ndef objective(t):\n    return cross_val_score(clf, x, y, cv=3).mean()\n\nif __name__ == "__main__":\n    study.optimize(objective)\n',
      'xcv.py': 'import xgboost as xgb\nres = xgb.cv(params, dtrain, num_boost_round=10, nfold=5)\n',
    });
    assert.equal(p.isTrainingProject, true);
    assert.deepEqual(p.entrypoints, ['cv.py', 'xcv.py']);
  });

  it("takes the launcher the main command uses, not a variant's, and its own code's when run with python", async () => {
    const variant = {
      'ppo.py': SCRIPT,
      'ppo_multigpu.py': SCRIPT.replace('def main', 'RANK = os.environ["LOCAL_RANK"]\ndef main'),
    };
    const plain = await detect({ ...variant, 'README.md': '```\npoetry run python ppo.py\n```\n' });
    assert.deepEqual([plain.entrypoints[0], plain.launcher], ['ppo.py', null]);
    cleanup();
    ({ dir, cleanup } = tempDir());
    const ddp = await detect({ ...variant, 'README.md': '```\npython ppo_multigpu.py\n```\n' });
    assert.deepEqual([ddp.entrypoints[0], ddp.launcher], ['ppo_multigpu.py', 'torchrun']);
    cleanup();
    ({ dir, cleanup } = tempDir());
    const torchrun = await detect({
      ...variant,
      'README.md': '```\npython ppo.py\ntorchrun --nproc_per_node=8 ppo.py\n```\n',
    });
    assert.equal(torchrun.launcher, 'torchrun');
    assert.deepEqual(
      torchrun.evidence.filter((e) => e.field === 'launcher').map((e) => [e.file, e.line]),
      [['README.md', 3]],
    );
  });

  it("keeps the Accelerate config file the project's command passes, when it exists, for the train image", async () => {
    const p = await detect({
      'finetune.py': SCRIPT,
      'configs/accelerate.yaml': 'num_processes: 2\n',
      Makefile: 'train:\n\taccelerate launch --config_file configs/accelerate.yaml finetune.py\n',
    });
    assert.equal(p.launcher, 'accelerate');
    assert.deepEqual(p.launcherArgs, ['--config_file', 'configs/accelerate.yaml']);
    assert.deepEqual(launcherCommand(p).argv, [
      'accelerate',
      'launch',
      '--config_file',
      'configs/accelerate.yaml',
      'finetune.py',
    ]);
    cleanup();
    ({ dir, cleanup } = tempDir());
    const missing = await detect({
      'finetune.py': SCRIPT,
      Makefile: 'train:\n\taccelerate launch --config_file configs/missing.yaml finetune.py\n',
    });
    assert.equal(missing.launcher, 'accelerate');
    assert.equal(missing.launcherArgs, undefined);
    assert.deepEqual(launcherCommand(missing).argv, ['accelerate', 'launch', 'finetune.py']);
  });

  it("maps a console script's subcommand to its module, with the launcher the program's code uses", async () => {
    const p = await detect({
      'pyproject.toml': '[project]\nname = "mytrl"\n\n[project.scripts]\nmytrl = "mytrl.cli:main"\n',
      'mytrl/__init__.py': '',
      'mytrl/cli/__init__.py': 'from .main import main\n',
      'mytrl/cli/main.py': 'import sys\n\ndef main():\n    launch(sys.argv[1])\n',
      'mytrl/cli/launcher.py': 'from accelerate.commands.launch import launch_command\n',
      'mytrl/scripts/__init__.py': '',
      'mytrl/scripts/sft.py': SCRIPT,
      'mytrl/scripts/dpo.py': SCRIPT,
      'examples/sft_variant.py': SCRIPT,
      'README.md': '```bash\nmytrl dpo --model x\nmytrl sft --model x\n```\n',
    });
    assert.deepEqual(p.entrypoints, ['mytrl/scripts/dpo.py', 'mytrl/scripts/sft.py', 'examples/sft_variant.py']);
    assert.equal(p.launcher, 'accelerate');
    assert.ok(p.evidence.some((e) => e.field === 'launcher' && e.file === 'mytrl/cli/launcher.py'));
  });
});
