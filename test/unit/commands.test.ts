import * as assert from 'node:assert/strict';
import { findLaunchCommands, findPipInstalls } from '../../src/core/detect/commands';

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
