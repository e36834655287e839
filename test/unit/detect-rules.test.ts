/**
 * How detection weighs what it finds, on small projects written for each rule: which frameworks are the project's,
 * which one the training loop is written against, whether the project needs a GPU, which files are environment
 * files, which pins it states, and the packages a project with no environment file installs from its README.
 */
import * as assert from 'node:assert/strict';
import { detectProject, detectProjectDetailed } from '../../src/core/detect/detect';
import type { ProjectProfile } from '../../src/core/detect/types';
import { tempDir, writeTree } from './helpers';

const TRAIN = 'import torch\nmodel = torch.nn.Linear(2, 2)\nloss = model(x).sum()\nloss.backward()\noptimizer.step()\n';
const FALLBACK = "device = 'cuda' if torch.cuda.is_available() else 'cpu'\n";

/** The profile of a project made of `files`, in a temporary folder. */
async function detect(files: Record<string, string>): Promise<ProjectProfile> {
  const t = tempDir();
  try {
    writeTree(t.dir, files);
    return await detectProject(t.dir);
  } finally {
    t.cleanup();
  }
}

/** A notebook whose one code cell is `source`. */
const notebook = (source: string): string =>
  JSON.stringify({ cells: [{ cell_type: 'code', source: source.split(/(?<=\n)/), metadata: {}, outputs: [] }] });

describe('detect: frameworks', () => {
  it('a framework declared but never imported is not the project’s; with no framework imported, declarations count', async () => {
    const declared = await detect({
      'train.py': TRAIN,
      'pyproject.toml': '[project]\nname = "x"\ndependencies = ["torch==2.5.0", "scikit-learn"]\n',
    });
    assert.deepEqual(declared.frameworks, ['pytorch']);
    assert.ok(declared.evidence.some((e) => e.value === 'pytorch' && e.text.includes('torch==2.5.0')));
    const nothingImported = await detect({
      'run.py': 'import ultralytics_like\n',
      'requirements.txt': 'torch\nscikit-learn\n',
    });
    assert.deepEqual(nothingImported.frameworks, ['pytorch', 'sklearn']);
  });

  it('a lock file never adds a framework (its packages are transitive), but its pins corroborate', async () => {
    const p = await detect({
      'train.py': TRAIN,
      'pyproject.toml': '[project]\nname = "x"\ndependencies = ["torch"]\n',
      'poetry.lock': '[[package]]\nname = "scikit-learn"\nversion = "1.3.0"\ncategory = "dev"\n',
    });
    assert.deepEqual(p.frameworks, ['pytorch']);
    const noCode = await detect({
      'pyproject.toml': '[project]\nname = "x"\ndependencies = ["numpy"]\n',
      'uv.lock': 'version = 1\n[[package]]\nname = "torch"\nversion = "2.5.0"\n',
    });
    assert.deepEqual(noCode.frameworks, []);
  });

  it('Keras code through `from tensorflow import keras` or `tf.keras` counts Keras; TensorFlow as a utility does not count', async () => {
    const keras = await detect({
      'train.py': 'from tensorflow import keras\nmodel = keras.Sequential()\nmodel.fit(x, y)\n',
    });
    assert.deepEqual(keras.frameworks, ['tensorflow', 'keras']);
    assert.equal(keras.primaryFramework, 'tensorflow');
    const workaround = await detect({
      'train.ipynb': notebook(
        'import tensorflow as tf\ntf.config.experimental.set_visible_devices([], "GPU")\nimport jax\ng = jax.grad(f)(p)\n',
      ),
      'requirements.txt': 'jax\ntensorflow\n',
    });
    assert.deepEqual(workaround.frameworks, ['jax']);
    const exportOnly = await detect({
      'train.py': TRAIN,
      'export.py': 'import torch\nimport onnx\nfrom onnx_tf.backend import prepare\nimport tensorflow as tf\n',
    });
    assert.deepEqual(exportOnly.frameworks, ['pytorch']);
  });

  it('each framework is shown by the line that pins the framework itself, not an add-on before it', async () => {
    const p = await detect({
      'train.py': 'import jax\nimport flax\ngrads = jax.grad(loss)(params)\n',
      'requirements.txt': 'flax==0.4.1\njax==0.3.4\n',
    });
    assert.ok(p.evidence.some((e) => e.value === 'jax' && e.file === 'requirements.txt' && e.text === 'jax==0.3.4'));
  });
});

describe('detect: the primary framework is the one the training loop is written against', () => {
  it('Lightning’s Trainer over LightningModules: lightning', async () => {
    const p = await detect({
      'model.py': 'import lightning as L\nimport torch\nclass M(L.LightningModule):\n    pass\n',
      'fit.py': 'import lightning as L\nimport torch\nfrom model import M\ntrainer = L.Trainer()\ntrainer.fit(M())\n',
    });
    assert.deepEqual(p.frameworks, ['pytorch', 'lightning']);
    assert.equal(p.primaryFramework, 'lightning');
  });

  it('a Hugging Face Trainer: transformers; a plain loop over a Transformers model: pytorch', async () => {
    const hf = await detect({
      'finetune.py':
        'import torch\nfrom transformers import Trainer, TrainingArguments\ntrainer = Trainer(model=m, args=a)\ntrainer.train()\n',
    });
    assert.equal(hf.primaryFramework, 'transformers');
    const loop = await detect({
      'finetune.py': `import torch\nfrom transformers import AutoModel\nm = AutoModel.from_pretrained("x")\n${TRAIN}`,
    });
    assert.equal(loop.primaryFramework, 'pytorch');
  });
});

describe('detect: GPU need', () => {
  it('`import torch` alone is no; device-aware code or a framework that takes a GPU by itself is optional', async () => {
    assert.equal((await detect({ 'train.py': TRAIN })).needsGpu, 'no');
    assert.equal((await detect({ 'train.py': `${TRAIN}model.to(args.device)\n` })).needsGpu, 'optional');
    assert.equal((await detect({ 'train.py': 'import tensorflow as tf\nmodel.fit(x, y)\n' })).needsGpu, 'optional');
  });

  it('GPU-only code on the main path without a fallback is yes; in a distributed-only branch it is optional', async () => {
    assert.equal((await detect({ 'train.py': `${TRAIN}model.cuda()\n` })).needsGpu, 'yes');
    const ddp = await detect({
      'train.py': `${TRAIN}if args.distributed:\n    torch.cuda.set_device(rank)\n    dist.init_process_group(backend="nccl")\n`,
      'utils.py': `import torch\n${FALLBACK}`,
    });
    assert.equal(ddp.needsGpu, 'optional');
  });

  it('a library module’s __main__ demo is aside from the main path; a training script’s __main__ block is not', async () => {
    const demo = "if __name__ == '__main__':\n    Net().cuda()\n";
    const library = await detect({
      'pkg/__init__.py': '',
      'pkg/net.py': `import torch\nclass Net(torch.nn.Module):\n    pass\n${demo}`,
      'train.py': `from pkg.net import Net\n${TRAIN}`,
    });
    assert.equal(library.needsGpu, 'optional');
    const script = await detect({ 'pkg/__init__.py': '', 'pkg/train.py': `${TRAIN}${demo}` });
    assert.equal(script.needsGpu, 'yes');
  });

  it('an example notebook’s .cuda() is aside when the main code falls back to the CPU; a notebook-only project’s is not', async () => {
    const cuda = notebook('import torch\nmodel = Net().cuda()\nloss.backward()\n');
    assert.equal(
      (await detect({ 'train.py': `${TRAIN}${FALLBACK}`, 'notebooks/demo.ipynb': cuda })).needsGpu,
      'optional',
    );
    assert.equal((await detect({ 'train.ipynb': cuda })).needsGpu, 'yes');
  });

  it('a script a README runs with --device cpu, and XGBoost asked for CUDA, fall back to the CPU', async () => {
    const readme = await detect({
      'train.py': `${TRAIN}model = model.to("cuda")\n`,
      'README.md': '```\npython train.py --device cpu\n```\n',
    });
    assert.equal(readme.needsGpu, 'optional');
    const xgb = await detect({
      'train.py': 'import xgboost as xgb\nclf = xgb.XGBClassifier(device="cuda")\nclf.fit(x, y)\n',
    });
    assert.equal(xgb.needsGpu, 'optional');
  });

  it('8-bit loading is GPU-only, whatever device_map="auto" or a fallback says', async () => {
    const p = await detect({
      'finetune.py': `import torch\nfrom transformers import AutoModel\n${FALLBACK}m = AutoModel.from_pretrained(b, load_in_8bit=True, device_map="auto")\n${TRAIN}`,
    });
    assert.equal(p.needsGpu, 'yes');
    assert.ok(p.evidence.some((e) => e.field === 'needsGpu' && e.text.includes('load_in_8bit=True')));
  });
});

describe('detect: environment files and pins', () => {
  it('a pyproject.toml or setup.cfg that only configures tools is no environment file', async () => {
    const p = await detect({
      'train.py': TRAIN,
      'requirements.txt': 'torch\n',
      'pyproject.toml': '[tool.black]\nline-length = 79\n',
      'setup.cfg': '[flake8]\nmax-line-length = 120\n',
    });
    assert.deepEqual(p.envFiles, ['requirements.txt']);
  });

  it('a Dockerfile’s Python is a pin; a README’s CUDA build is one, weaker than an environment file’s', async () => {
    const docker = await detect({
      'train.py': TRAIN,
      Dockerfile: 'FROM nvidia/cuda:11.8.0-devel-ubuntu22.04\nRUN apt install -y python3.10\n',
    });
    assert.equal(docker.pythonVersion, '3.10');
    const inRange = await detect({
      'train.py': TRAIN,
      'pyproject.toml': '[project]\nname = "x"\nrequires-python = ">=3.8"\ndependencies = ["torch"]\n',
      Dockerfile: 'FROM python:3.10-slim\n',
    });
    assert.deepEqual([inRange.pythonVersion, inRange.pythonRange], ['3.8', '>=3.8']);
    assert.deepEqual(inRange.warnings, [], 'the range allows the Dockerfile’s 3.10: they do not disagree');
    const readme = '```\npip install torch==2.1.0 --index-url https://download.pytorch.org/whl/cu118\n```\n';
    assert.equal((await detect({ 'train.py': TRAIN, 'README.md': readme })).cudaHint, '11.8');
    const both = await detect({ 'train.py': TRAIN, 'README.md': readme, 'requirements.txt': 'torch==2.4.0+cu121\n' });
    assert.equal(both.cudaHint, '12.1');
  });

  it('a project with no environment file declares the packages of its README’s and notebooks’ pip install commands', async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, {
        'train.py': TRAIN,
        'README.md': 'Install:\n\n```\npip install torch numpy tiktoken\n```\n',
        'docs/README.md': '```\npip install mkdocs\n```\n',
        'explore.ipynb': notebook('!pip install -q -r requirements.txt seaborn\nimport torch\n'),
      });
      const d = await detectProjectDetailed(t.dir);
      assert.deepEqual(
        d.packages.map((p) => [p.name, p.file, p.line]),
        [
          ['torch', 'README.md', 4],
          ['numpy', 'README.md', 4],
          ['tiktoken', 'README.md', 4],
          ['seaborn', 'explore.ipynb', 1],
        ],
      );
      writeTree(t.dir, { 'requirements.txt': 'torch\n' });
      const withFile = await detectProjectDetailed(t.dir);
      assert.deepEqual(
        withFile.packages.map((p) => [p.name, p.file]),
        [['torch', 'requirements.txt']],
      );
    } finally {
      t.cleanup();
    }
  });
});
