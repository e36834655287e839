import * as assert from 'node:assert/strict';
import {
  CUDA_RANK,
  PYTHON_RANK,
  parseCondaEnvironment,
  parseDockerfile,
  parseLockFile,
  parsePipfile,
  parsePyproject,
  parseInstallCommands,
  parseRequirementsTxt,
  parseSetupCfg,
  parseSetupPy,
} from '../../src/core/detect/declarations';

const names = (d: { packages: { name: string }[] }): string[] => d.packages.map((p) => p.name);

describe('environment files', () => {
  it('requirements.txt: options, includes, continuations, extras, markers, hashes, comments', () => {
    const d = parseRequirementsTxt(
      'requirements.txt',
      [
        '# comment',
        '-i https://download.pytorch.org/whl/cu118',
        '-r base.txt',
        '--requirement=more.txt',
        '-c constraints.txt',
        'Torch_Vision==0.18.1+cu118 ; python_version > "3.8"  # trailing comment',
        'transformers[torch] >= 4.30 \\',
        '    --hash=sha256:abc',
        '-e .',
        'git+https://github.com/org/repo.git#egg=thing',
        './local/pkg',
        '--pre',
      ].join('\n'),
    );
    // a requirement from version control names its package (#egg=), so that the image gets git to install it
    assert.deepEqual(names(d), ['torch-vision', 'transformers', 'thing']);
    assert.equal(d.packages[2]?.vcs, 'git+https://github.com/org/repo.git#egg=thing');
    assert.deepEqual(d.packages[1]?.extras, ['torch']);
    assert.equal(d.packages[1]?.line, 7);
    assert.deepEqual(
      d.includes.map((i) => i.text),
      ['base.txt', 'more.txt'],
    );
    assert.deepEqual(
      d.cuda.map((c) => [c.version, c.line]),
      [
        ['11.8', 2],
        ['11.8', 6],
      ],
    );
    assert.deepEqual(d.warnings, []);
  });

  it('requirements.txt: a line that is no requirement is a warning, not an error', () => {
    const d = parseRequirementsTxt('r.txt', 'numpy\nthis is not valid !!\n');
    assert.deepEqual(names(d), ['numpy']);
    assert.equal(d.warnings.length, 1);
    assert.match(d.warnings[0]!.message, /line 2/);
  });

  it('pyproject.toml: PEP 621, optional dependencies, groups, requires-python, uv indexes', () => {
    const d = parsePyproject(
      'pyproject.toml',
      [
        '[project]',
        'name = "x"',
        'requires-python = ">=3.10"',
        'dependencies = ["torch==2.4.0", "numpy"]',
        '[project.optional-dependencies]',
        'tf = ["tensorflow>=2.15"]',
        '[dependency-groups]',
        'dev = ["pytest"]',
        '[[tool.uv.index]]',
        'name = "pytorch"',
        'url = "https://download.pytorch.org/whl/cu124"',
      ].join('\n'),
    );
    assert.deepEqual(names(d), ['torch', 'numpy', 'tensorflow', 'pytest']);
    assert.deepEqual(
      d.python.map((p) => [p.version, p.line]),
      [['3.10', 3]],
    );
    assert.deepEqual(
      d.cuda.map((c) => [c.version, c.line]),
      [['12.4', 11]],
    );
  });

  it('pyproject.toml: Poetry dependencies, groups, python and sources', () => {
    const d = parsePyproject(
      'pyproject.toml',
      [
        '[tool.poetry.dependencies]',
        'python = ">=3.9,<3.13"',
        'torch = { version = "^2.2", source = "torch" }',
        '[tool.poetry.group.dev.dependencies]',
        'black = "*"',
        '[[tool.poetry.source]]',
        'name = "torch"',
        'url = "https://download.pytorch.org/whl/cu121"',
      ].join('\n'),
    );
    assert.deepEqual(names(d), ['torch', 'black']);
    assert.equal(d.python[0]?.version, '3.9');
    assert.equal(d.cuda[0]?.version, '12.1');
  });

  it('pyproject.toml and Pipfile: malformed TOML is a warning naming the file', () => {
    for (const [parse, file] of [
      [parsePyproject, 'pyproject.toml'],
      [parsePipfile, 'Pipfile'],
    ] as const) {
      const d = parse(file, '[broken\nx = ');
      assert.equal(d.packages.length, 0);
      assert.equal(d.warnings[0]?.file, file);
      assert.match(d.warnings[0]!.message, /not valid TOML/);
    }
  });

  it('environment.yml: conda specs, channels, pins, and the pip section', () => {
    const d = parseCondaEnvironment(
      'environment.yml',
      [
        'name: t',
        'dependencies:',
        '  - python=3.11',
        '  - pytorch::pytorch=2.3.1',
        '  - pytorch-cuda=12.1',
        '  - pip:',
        '      - --extra-index-url https://download.pytorch.org/whl/cu121',
        '      - lightning>=2.2',
      ].join('\n'),
    );
    assert.deepEqual(names(d), ['pytorch', 'pytorch-cuda', 'lightning']);
    assert.equal(d.python[0]?.version, '3.11');
    assert.deepEqual(
      d.cuda.map((c) => [c.version, c.line]),
      [
        ['12.1', 5],
        ['12.1', 7],
      ],
    );
    assert.equal(d.packages[2]?.line, 8);
  });

  it('environment.yml: malformed YAML is a warning', () => {
    const d = parseCondaEnvironment('environment.yml', 'dependencies:\n  - a\n - b: [\n');
    assert.match(d.warnings[0]!.message, /not valid YAML/);
  });

  it('Pipfile: packages, python_version, sources', () => {
    const d = parsePipfile(
      'Pipfile',
      '[[source]]\nurl = "https://download.pytorch.org/whl/cu118"\n[packages]\ntorch = "*"\njax = {version = "==0.4.30", extras = ["cuda12"]}\n[requires]\npython_version = "3.10"\n',
    );
    assert.deepEqual(names(d), ['torch', 'jax']);
    assert.deepEqual(d.packages[1]?.extras, ['cuda12']);
    assert.equal(d.python[0]?.version, '3.10');
    assert.equal(d.cuda[0]?.version, '11.8');
  });

  it('setup.py: install_requires and python_requires read without running it; comments ignored', () => {
    const d = parseSetupPy(
      'setup.py',
      '# install_requires=["tensorflow"]\nsetup(\n  python_requires=">=3.8",\n  install_requires=[\n    "torch>=2",  # why\n    \'xgboost\',\n  ],\n)\n',
    );
    assert.deepEqual(names(d), ['torch', 'xgboost']);
    assert.equal(d.packages[0]?.line, 5);
    assert.equal(d.python[0]?.version, '3.8');
  });

  it('setup.cfg: multi-line values and extras', () => {
    const d = parseSetupCfg(
      'setup.cfg',
      '[options]\npython_requires = >=3.10\ninstall_requires =\n    torch>=2.1\n    numpy\n[options.extras_require]\ngpu =\n    cupy-cuda12x\n',
    );
    assert.deepEqual(names(d), ['torch', 'numpy', 'cupy-cuda12x']);
    assert.equal(d.python[0]?.version, '3.10');
  });

  it('Dockerfile: FROM with ARG defaults, pip installs with an index, and launch commands', () => {
    const d = parseDockerfile(
      'Dockerfile',
      [
        'ARG CUDA=12.4.1',
        'FROM nvidia/cuda:${CUDA}-cudnn-devel-ubuntu22.04 AS base',
        'RUN pip install --no-cache-dir torch==2.4.0 --index-url https://download.pytorch.org/whl/cu124 \\',
        '    && pip install -r requirements.txt',
        'ENTRYPOINT ["torchrun", "--nproc_per_node=4", "train.py"]',
      ].join('\n'),
    );
    assert.deepEqual(names(d), ['torch']);
    assert.deepEqual(
      d.cuda.map((c) => [c.version, c.line]),
      [
        ['12.4', 2],
        ['12.4', 3],
      ],
    );
    assert.ok(d.commands.some((c) => c.command === 'torchrun --nproc_per_node=4 train.py' && c.line === 5));
  });

  it('Dockerfile: the Python it installs, runs or starts from is a pin, the weakest of them', () => {
    const python = (text: string): unknown[] =>
      parseDockerfile('Dockerfile', text).python.map((p) => [p.version, p.line, p.rank]);
    const deadsnakes = [
      'FROM nvidia/cuda:11.8.0-devel-ubuntu22.04',
      'RUN add-apt-repository ppa:deadsnakes/ppa \\',
      '    && apt install -y python3.10',
      'RUN python3.10 -m pip install -r requirements.txt',
      'ENTRYPOINT [ "python3.10"]',
    ].join('\n');
    assert.deepEqual(python(deadsnakes), [['3.10', 3, PYTHON_RANK.dockerfile]]); // the line that names it
    assert.deepEqual(python('FROM python:3.11-slim\nRUN pip install torch\n'), [['3.11', 1, PYTHON_RANK.dockerfile]]);
    assert.deepEqual(python('FROM continuumio/miniconda3\nRUN conda install -y python=3.9\n'), [['3.9', 2, 7]]);
    assert.deepEqual(python('FROM ubuntu:22.04\nRUN apt-get install -y python3 python3-pip\n'), []);
    assert.deepEqual(python('FROM ubuntu:22.04\nRUN ln -s /usr/lib/cpython3.8 /x\n'), []);
  });

  it('pyproject.toml and setup.cfg that only configure tools are marked, those that declare a project are not', () => {
    assert.deepEqual(parsePyproject('pyproject.toml', '[tool.black]\nline-length = 79\n').toolConfigOnly, [
      'pyproject.toml',
    ]);
    for (const declares of [
      '[project]\nname = "x"\n',
      '[build-system]\nrequires = ["setuptools"]\n',
      '[tool.poetry]\nname = "x"\n',
      '[dependency-groups]\ndev = ["pytest"]\n',
    ]) {
      assert.deepEqual(
        parsePyproject('pyproject.toml', `${declares}[tool.isort]\nprofile = "black"\n`).toolConfigOnly,
        [],
      );
    }
    assert.deepEqual(parsePyproject('pyproject.toml', '[tool.black\n').toolConfigOnly, [], 'unreadable: not known');
    const tools = '[flake8]\nmax-line-length = 120\n[metadata]\nlicense_file = LICENSE\n';
    assert.deepEqual(parseSetupCfg('setup.cfg', tools).toolConfigOnly, ['setup.cfg']);
    assert.deepEqual(parseSetupCfg('setup.cfg', `${tools}[options]\npackages = find:\n`).toolConfigOnly, []);
  });

  it("CUDA from jaxlib's build label and from NVIDIA's CUDA runtime wheel in a lock file", () => {
    const req = parseRequirementsTxt('requirements.txt', 'jax==0.3.4\njaxlib==0.3.2+cuda11.cudnn82\n');
    assert.deepEqual(
      req.cuda.map((c) => [c.version, c.line, c.rank]),
      [['11', 2, CUDA_RANK.wheel]],
    );
    const lock = parseLockFile(
      'uv.lock',
      [
        'version = 1',
        '[[package]]',
        'name = "torch"',
        'version = "2.5.0"',
        '[[package]]',
        'name = "nvidia-cuda-runtime-cu12"',
        'version = "12.4.127"',
      ].join('\n'),
      false,
    );
    assert.deepEqual(
      lock.cuda.map((c) => [c.version, c.line, c.rank]),
      [['12.4', 6, CUDA_RANK.lock]],
    );
  });

  it('README: pip install commands in code (not prose), their packages and CUDA builds at the weakest rank', () => {
    const d = parseInstallCommands(
      'README.md',
      [
        'You can pip install the dependencies below.',
        '```bash',
        'pip install torch==2.1.0 torchvision --index-url https://download.pytorch.org/whl/cu118',
        'pip install -r requirements.txt -e . && python train.py',
        'pip install numpy \\',
        '    "transformers>=4.30"',
        '```',
        'Then (`pip install submitit`) for clusters, and:',
        '$ python -m pip install -U tqdm git+https://github.com/org/repo.git',
      ].join('\n'),
    );
    assert.deepEqual(
      d.packages.map((p) => [p.name, p.spec, p.line]),
      [
        ['torch', '==2.1.0', 3],
        ['torchvision', '', 3],
        ['numpy', '', 5],
        ['transformers', '>=4.30', 5],
        ['submitit', '', 8],
        ['tqdm', '', 9],
      ],
    );
    assert.deepEqual(
      d.cuda.map((c) => [c.version, c.line, c.rank]),
      [['11.8', 3, CUDA_RANK.command]],
    );
    assert.ok(
      CUDA_RANK.command > Math.max(CUDA_RANK.wheel, CUDA_RANK.lock, CUDA_RANK.dockerfile, CUDA_RANK.devcontainer),
    );
    assert.deepEqual(
      parseInstallCommands('README.md', 'pip install torch==2.1.0+cu121\n').cuda.map((c) => c.version),
      ['12.1'],
    );
  });
});

describe('declarations: requirements from version control', () => {
  it('name the package (#egg= or the repository) and keep the URL, editable or not', () => {
    const d = parseRequirementsTxt(
      'requirements.txt',
      'git+https://github.com/huggingface/peft.git\n-e git+https://github.com/CompVis/taming-transformers.git@master#egg=taming-transformers\ntorch\n',
    );
    assert.deepEqual(
      d.packages.map((p) => [p.name, p.vcs ?? null, p.line]),
      [
        ['peft', 'git+https://github.com/huggingface/peft.git', 1],
        [
          'taming-transformers',
          'git+https://github.com/CompVis/taming-transformers.git@master#egg=taming-transformers',
          2,
        ],
        ['torch', null, 3],
      ],
    );
    assert.deepEqual(d.warnings, []);
  });
});
