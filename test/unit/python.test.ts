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
