import * as assert from 'node:assert/strict';
import { findLaunchCommands, findPipInstalls, findProgramCommands } from '../../src/core/detect/commands';

const found = (text: string): [string, string | null][] => findLaunchCommands(text).map((c) => [c.launcher, c.script]);

describe('launch commands', () => {
  it('finds each launcher and the script it runs, skipping its options', () => {
    assert.deepEqual(found('torchrun --nproc_per_node 8 --nnodes=2 train.py --lr 0.1'), [['torchrun', 'train.py']]);
    assert.deepEqual(found('python -m torch.distributed.run --nproc_per_node=2 ./src/train.py'), [
      ['torchrun', 'src/train.py'],
    ]);
    assert.deepEqual(found('accelerate launch --config_file cfg.yaml finetune.py'), [['accelerate', 'finetune.py']]);
    assert.deepEqual(found('deepspeed --num_gpus 8 pretrain.py --deepspeed_config ds.json'), [
      ['deepspeed', 'pretrain.py'],
    ]);
    assert.deepEqual(found('horovodrun -np 4 -H localhost:4 python train.py'), [['horovod', 'train.py']]);
    assert.deepEqual(found('srun --ntasks=8 torchrun --nnodes=2 train.py'), [['torchrun', 'train.py']]);
    assert.deepEqual(found('CUDA_VISIBLE_DEVICES=0,1 python3 train.py --epochs 3'), [['python', 'train.py']]);
  });

  it('joins shell continuations and reports the first line', () => {
    const c = findLaunchCommands('#!/bin/sh\ntorchrun \\\n  --nproc_per_node=8 \\\n  main.py\n');
    assert.deepEqual(
      c.map((x) => [x.launcher, x.script, x.line]),
      [['torchrun', 'main.py', 2]],
    );
  });

  it('reads commands run through a project runner (poetry run, uv run), as python', () => {
    assert.deepEqual(found('poetry run python cleanrl/ppo.py \\\n    --seed 1'), [['python', 'cleanrl/ppo.py']]);
    assert.deepEqual(found('uv run train.py --epochs 1'), [['python', 'train.py']]);
    assert.deepEqual(found('poetry run torchrun --nproc_per_node=2 train.py'), [['torchrun', 'train.py']]);
    assert.deepEqual(found('uv run --with jupyter jupyter lab'), []);
  });

  it('records the module a command runs with -m, and the Accelerate config file it passes', () => {
    const c = (text: string): [string, string | null, string | null][] =>
      findLaunchCommands(text).map((x) => [x.launcher, x.module, x.configFile]);
    assert.deepEqual(c('python -m src.lab1.train --epochs 10'), [['python', 'src.lab1.train', null]]);
    assert.deepEqual(c('uv run -m src.lab1.train'), [['python', 'src.lab1.train', null]]);
    assert.deepEqual(c('torchrun --nproc_per_node=2 -m pkg.train --lr 1'), [['torchrun', 'pkg.train', null]]);
    assert.deepEqual(c('accelerate launch --config_file configs/a.yaml train.py'), [
      ['accelerate', null, 'configs/a.yaml'],
    ]);
    assert.deepEqual(c('accelerate launch --config-file=a.yaml -m pkg.train'), [['accelerate', 'pkg.train', 'a.yaml']]);
    assert.deepEqual(c('python -m pip install -e .'), []);
  });

  it('gives the line of the command itself, not of a code fence or a VAR= line before it', () => {
    const fence = findLaunchCommands(
      'Train:\n```\npython -m torch.distributed.launch --nproc_per_node=8 main.py\n```\n',
    );
    assert.deepEqual(
      fence.map((x) => [x.launcher, x.script, x.line, x.text]),
      [['torchrun', 'main.py', 3, 'python -m torch.distributed.launch --nproc_per_node=8 main.py']],
    );
    const script = findLaunchCommands(
      '#!/bin/bash\nEXPERTS=2\n\ndeepspeed --num_nodes=1\\\n  --num_gpus=2 \\\n  train.py\n',
    );
    assert.deepEqual(
      script.map((x) => [x.launcher, x.script, x.line, x.text]),
      [['deepspeed', 'train.py', 4, 'deepspeed --num_nodes=1\\']],
    );
  });

  it('finds the commands of console scripts with their subcommand', () => {
    const text = '```bash\ntrl sft --model_name_or_path Qwen \\\n  --dataset x\n```\n$ trl dpo --beta 0.1\nmytrl sft\n';
    assert.deepEqual(
      findProgramCommands(text, ['trl']).map((c) => [c.program, c.subcommand, c.line]),
      [
        ['trl', 'sft', 2],
        ['trl', 'dpo', 5],
      ],
    );
    assert.deepEqual(
      findProgramCommands('trl --help\n', ['trl']).map((c) => c.subcommand),
      [null],
    );
    assert.deepEqual(findProgramCommands(text, []), []);
  });

  it('ignores installs and prose that only mention a launcher', () => {
    assert.deepEqual(found('pip install deepspeed accelerate'), []);
    assert.deepEqual(found('We use deepspeed for large models.'), []);
    assert.deepEqual(found('python -m pip install torch'), []);
  });

  it('finds pip installs in READMEs and notebook magics', () => {
    assert.deepEqual(
      findPipInstalls('Run `pip install torch==2.4 -U transformers`\n!pip install jax[cuda12]\n').map((i) => i.spec),
      ['torch==2.4', 'transformers', 'jax[cuda12]'],
    );
  });
});
