import * as assert from 'node:assert/strict';
import { analyzePython, lexPython } from '../../src/core/detect/python';

const ids = (hits: { id: string }[]): string[] => hits.map((h) => h.id);

describe('python lexer', () => {
  it('blanks comments and string contents but keeps offsets and line numbers', () => {
    const src = 'x = "import torch"  # import jax\ny = 1\n';
    const { code, codeWithStrings } = lexPython(src);
    assert.equal(code.length, src.length);
    const comment = ' '.repeat('  # import jax'.length);
    assert.equal(code, `x = "${' '.repeat(12)}"${comment}\ny = 1\n`);
    assert.equal(codeWithStrings, `x = "import torch"${comment}\ny = 1\n`);
  });

  it('blanks triple-quoted strings (docstrings) in both views, across lines', () => {
    const src = 'def f():\n    """Example:\n\n    import tensorflow\n    """\n    return 1\n';
    const { code, codeWithStrings } = lexPython(src);
    assert.ok(!code.includes('tensorflow'));
    assert.ok(!codeWithStrings.includes('tensorflow'));
    assert.equal(code.split('\n').length, src.split('\n').length);
  });

  it('handles escapes, prefixes and quotes inside the other quote kind', () => {
    const src = `a = r'\\'import x'\nb = f"it's {y}"\nc = b'#not a comment'\nimport torch\n`;
    const { code } = lexPython(src);
    assert.match(code, /^import torch$/m);
    assert.ok(!code.includes('not a comment'));
  });

  it('never throws on unterminated strings: a single-quoted one ends at its line, a triple-quoted one at the end', () => {
    assert.match(lexPython('x = "open\nimport torch\n').code, /^import torch$/m);
    assert.doesNotMatch(lexPython('x = """open\nimport torch\n').code, /import torch/);
  });
});

describe('python facts', () => {
  it('finds absolute imports at statement starts, once per module, with their lines', () => {
    const f = analyzePython(
      'import os, torch.nn as nn\nfrom jax import numpy\nimport torch\nx = 1; import keras\nfrom . import local\nfrom .models import y\n',
    );
    assert.deepEqual(ids(f.imports), ['os', 'torch', 'jax', 'keras']);
    assert.deepEqual(
      f.imports.map((i) => i.line),
      [1, 1, 2, 4],
    );
  });

  it('ignores imports in comments, docstrings and strings', () => {
    const f = analyzePython('"""\nimport tensorflow\n"""\n# import jax\ns = "import keras"\nimport torch\n');
    assert.deepEqual(ids(f.imports), ['torch']);
  });

  it('recognises training code, and not inference code', () => {
    assert.ok(ids(analyzePython('loss.backward()\noptimizer.step()\n').training).includes('backward'));
    assert.ok(ids(analyzePython('model.fit(x, y, epochs=3)\n').training).includes('fit'));
    assert.ok(
      ids(
        analyzePython('trainer = Trainer(model=m, args=TrainingArguments("out"))\ntrainer.train()\n').training,
      ).includes('hf-trainer'),
    );
    assert.ok(ids(analyzePython('grads = jax.grad(loss_fn)(params)\n').training).includes('jax-grad'));
    assert.deepEqual(analyzePython('model.eval()\nwith torch.no_grad():\n    y = model(x)\n').training, []);
    assert.deepEqual(analyzePython('# loss.backward()\ns = "model.fit(x)"\n').training, []);
  });

  it('tells hard-coded CUDA from code with a CPU fallback', () => {
    assert.deepEqual(ids(analyzePython('model.cuda()\n').gpuRequired), ['cuda-call']);
    assert.deepEqual(ids(analyzePython('x = x.to("cuda:0")\n').gpuRequired), ['cuda-device-literal']);
    assert.deepEqual(analyzePython('device = "cuda" if torch.cuda.is_available() else "cpu"\n').gpuRequired, []);
    assert.deepEqual(ids(analyzePython('device = "cuda" if torch.cuda.is_available() else "cpu"\n').gpuFallback), [
      'cuda-is-available',
    ]);
    assert.deepEqual(analyzePython('# model.cuda()\n').gpuRequired, []);
  });

  it('places GPU-only code: the main path, the __main__ block, a distributed-only branch; a parameter default is none', () => {
    const f = analyzePython(
      [
        'import torch',
        'def evaluate(model, device="cuda"):',
        '    return model.to(device)',
        'def main(args):',
        '    if args.distributed:',
        '        torch.cuda.set_device(args.rank)',
        "        dist.init_process_group(backend='nccl')",
        '    model = Net()',
        '',
        "if __name__ == '__main__':",
        '    Net().cuda()',
      ].join('\n'),
    );
    const placed = (hits: { id: string; line: number; place?: string }[]): unknown[] =>
      hits.map((h) => [h.id, h.line, h.place ?? 'main path']);
    assert.deepEqual(placed(f.gpuRequired), [
      ['cuda-call', 11, 'main-block'],
      ['cuda-set-device', 6, 'distributed'],
      ['nccl-backend', 7, 'distributed'],
    ]);
    // the other branch of a distributed `if`, a negated condition and a one-line `if` are told apart
    const other = analyzePython('if args.distributed:\n    x = 1\nelse:\n    model.cuda()\n');
    assert.deepEqual(placed(other.gpuRequired), [['cuda-call', 4, 'main path']]);
    const negated = analyzePython('if not ddp:\n    model.cuda()\n');
    assert.deepEqual(placed(negated.gpuRequired), [['cuda-call', 2, 'main path']]);
    const oneLine = analyzePython('if world_size > 1: model.cuda()\nif "WORLD_SIZE" in os.environ:\n    x.cuda()\n');
    assert.deepEqual(placed(oneLine.gpuRequired), [['cuda-call', 1, 'distributed']]);
    // a main-path hit after one aside is kept too: it is the one that decides
    const both = analyzePython('if ddp:\n    a.cuda()\nb.cuda()\n');
    assert.deepEqual(placed(both.gpuRequired), [
      ['cuda-call', 2, 'distributed'],
      ['cuda-call', 3, 'main path'],
    ]);
  });

  it('8-bit and 4-bit loading needs a GPU whatever the file falls back to; device-aware code is GPU use', () => {
    const f = analyzePython('m = AutoModel.from_pretrained(name, load_in_8bit=True, device_map="auto")\n');
    assert.deepEqual(ids(f.gpuOnly), ['quantized-load']);
    assert.deepEqual(ids(f.gpuFallback), ['auto-device']);
    assert.deepEqual(analyzePython('m = load(name, load_in_8bit=args.int8)\n').gpuOnly, []);
    assert.deepEqual(ids(analyzePython('model.to(args.device)\n').gpuUse), ['to-device']);
    assert.deepEqual(ids(analyzePython('x = torch.zeros(3, device=device)\n').gpuUse), ['to-device']);
    assert.deepEqual(ids(analyzePython('torch.cuda.manual_seed(0)\n').gpuUse), ['torch-cuda']);
    assert.deepEqual(ids(analyzePython('trainer = Trainer(model=m, args=a)\n').gpuUse), ['hf-trainer']);
    assert.deepEqual(analyzePython('import torch\nx = torch.zeros(3)\nloss.backward()\n').gpuUse, []);
  });

  it('counts Keras reached through TensorFlow, and not TensorFlow used only to hide its GPUs or to export', () => {
    const uses = (src: string): string[] => analyzePython(src).frameworkUses.map((u) => `${u.framework}:${u.line}`);
    assert.deepEqual(uses('import numpy\nfrom tensorflow import keras\n'), ['keras:2']);
    assert.deepEqual(uses('from tensorflow import data, keras\n'), ['keras:1']);
    assert.deepEqual(uses('from tensorflow.keras import layers\n'), ['keras:1']);
    assert.deepEqual(uses('import tensorflow as tf\nm = tf.keras.Sequential()\n'), ['keras:2']);
    assert.deepEqual(uses('import tensorflow as tf\nds = tf.data.Dataset\n# tf.keras.Sequential()\n'), []);
    const utility = (src: string): string[] => analyzePython(src).utilityImports;
    assert.deepEqual(utility('import jax\nimport tensorflow as tf\ntf.config.set_visible_devices([], "GPU")\n'), [
      'tensorflow',
    ]);
    assert.deepEqual(
      utility('import tensorflow as tf\ntf.config.set_visible_devices([], "GPU")\nx = tf.data.Dataset\n'),
      [],
    );
    assert.deepEqual(utility('import tensorflow as tf\n'), []); // an import alone still counts
    assert.deepEqual(
      utility('import torch\nfrom onnx_tf.backend import prepare\nimport tensorflow as tf\nx = tf.constant(1)\n'),
      ['tensorflow'],
    );
    assert.deepEqual(utility('import tensorflow as tf\ntf.saved_model.save(m, "out")\n'), ['tensorflow']);
  });

  it('knows a script from a library module', () => {
    assert.equal(analyzePython('def main():\n    pass\n\nif __name__ == "__main__":\n    main()\n').mainGuard, true);
    assert.equal(analyzePython("if __name__ == '__main__':\n    pass\n").mainGuard, true);
    assert.equal(analyzePython('def f():\n    return 1\n').mainGuard, false);
    assert.equal(analyzePython('import x\nmain()\n').topLevelCall, true);
    assert.equal(analyzePython('import x\ndef main():\n    run()\n').topLevelCall, false);
  });

  it('maps lines through a line map (notebook cells)', () => {
    const f = analyzePython('import torch\n', (line) => line + 40);
    assert.equal(f.imports[0]?.line, 41);
  });
});
