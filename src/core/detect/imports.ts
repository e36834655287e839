/**
 * Which distributions a project's code imports: the top-level import names that are neither the standard library
 * nor the project's own modules, each mapped to the name pip installs (`cv2` is opencv-python-headless, `sklearn` is
 * scikit-learn). Used where a project declares no environment at all: the scaffold installs what the code imports,
 * and says so.
 */

/** Python's standard library (sys.stdlib_module_names of CPython 3.11, private names left out). */
const STDLIB = new Set(
  (
    'abc aifc antigravity argparse array ast asynchat asyncio asyncore atexit audioop base64 bdb binascii bisect ' +
    'builtins bz2 cProfile calendar cgi cgitb chunk cmath cmd code codecs codeop collections colorsys compileall ' +
    'concurrent configparser contextlib contextvars copy copyreg crypt csv ctypes curses dataclasses datetime dbm ' +
    'decimal difflib dis distutils doctest email encodings ensurepip enum errno faulthandler fcntl filecmp fileinput ' +
    'fnmatch fractions ftplib functools gc genericpath getopt getpass gettext glob graphlib grp gzip hashlib heapq ' +
    'hmac html http idlelib imaplib imghdr imp importlib inspect io ipaddress itertools json keyword lib2to3 ' +
    'linecache locale logging lzma mailbox mailcap marshal math mimetypes mmap modulefinder msilib msvcrt ' +
    'multiprocessing netrc nis nntplib nt ntpath nturl2path numbers opcode operator optparse os ossaudiodev pathlib ' +
    'pdb pickle pickletools pipes pkgutil platform plistlib poplib posix posixpath pprint profile pstats pty pwd ' +
    'py_compile pyclbr pydoc pydoc_data pyexpat queue quopri random re readline reprlib resource rlcompleter runpy ' +
    'sched secrets select selectors shelve shlex shutil signal site smtpd smtplib sndhdr socket socketserver spwd ' +
    'sqlite3 sre_compile sre_constants sre_parse ssl stat statistics string stringprep struct subprocess sunau ' +
    'symtable sys sysconfig syslog tabnanny tarfile telnetlib tempfile termios textwrap this threading time timeit ' +
    'tkinter token tokenize tomllib trace traceback tracemalloc tty turtle turtledemo types typing unicodedata ' +
    'unittest urllib uu uuid venv warnings wave weakref webbrowser winreg winsound wsgiref xdrlib xml xmlrpc zipapp ' +
    'zipfile zipimport zlib zoneinfo __future__ typing_extensions'
  ).split(' '),
);

/** Import names whose distribution has another name (the common ones of ML code). */
const DISTRIBUTION_OF: Readonly<Record<string, string>> = {
  sklearn: 'scikit-learn',
  skimage: 'scikit-image',
  cv2: 'opencv-python-headless',
  PIL: 'pillow',
  yaml: 'pyyaml',
  bs4: 'beautifulsoup4',
  dateutil: 'python-dateutil',
  dotenv: 'python-dotenv',
  hydra: 'hydra-core',
  attr: 'attrs',
  Crypto: 'pycryptodome',
  jwt: 'pyjwt',
  serial: 'pyserial',
  usb: 'pyusb',
  magic: 'python-magic',
  tf_keras: 'tf-keras',
  pytorch_lightning: 'pytorch-lightning',
  lightning_fabric: 'lightning-fabric',
  sentence_transformers: 'sentence-transformers',
  torch_geometric: 'torch-geometric',
  haiku: 'dm-haiku',
  gym_super_mario_bros: 'gym-super-mario-bros',
  IPython: 'ipython',
  OpenGL: 'pyopengl',
  fitz: 'pymupdf',
  docx: 'python-docx',
  pptx: 'python-pptx',
  Levenshtein: 'levenshtein',
};

/** Import names that are no distribution of their own to install: namespaces (google.*), build tooling, jaxlib (jax brings it). */
const NOT_A_DISTRIBUTION = new Set(['google', 'jaxlib', 'pkg_resources', 'setuptools', 'pip', 'wheel', 'distutils']);

/** Modules of one distribution that need another installed (PyTorch's TensorBoard writer needs tensorboard). */
const SUBMODULE_NEEDS: Readonly<Record<string, string>> = {
  'torch.utils.tensorboard': 'tensorboard',
  tensorflow_datasets: 'tensorflow-datasets',
};

/**
 * The distributions installed from a bare import (no environment file says so): well-known ones only, since an
 * import name that is not a PyPI name (or a GPU-only package such as cupy) would break the whole build. The compute
 * frameworks (torch, tensorflow, jax) are not here: the scaffold chooses their build for the CUDA it picks.
 */
const KNOWN_DISTRIBUTIONS = new Set(
  (
    'numpy pandas scipy matplotlib seaborn plotly tqdm requests tiktoken datasets wandb tensorboard einops omegaconf ' +
    'hydra-core pyyaml pillow opencv-python-headless h5py scikit-image scikit-learn xgboost lightgbm catboost gym ' +
    'gymnasium networkx sympy sentencepiece tokenizers accelerate timm transformers peft trl diffusers evaluate ' +
    'torchvision torchaudio torchmetrics lightning pytorch-lightning keras tf-keras flax optax chex orbax ' +
    'tensorflow-datasets optuna shap jsonlines rich typer click fire absl-py ml-collections safetensors ' +
    'huggingface-hub nltk spacy gensim statsmodels polars pyarrow joblib numba ipython jupyter ipywidgets ' +
    'mlflow sentence-transformers faiss-cpu umap-learn imageio librosa soundfile albumentations kornia pytest'
  ).split(' '),
);

/** The distribution pip installs for an import name (`a.b.c`: its top level, or what the submodule needs). */
export function distributionFor(importName: string): string {
  const needs = Object.entries(SUBMODULE_NEEDS).find(([m]) => importName === m || importName.startsWith(`${m}.`));
  if (needs) return needs[1];
  const top = importName.split('.')[0]!;
  return DISTRIBUTION_OF[top] ?? top.replace(/_/g, '-').toLowerCase();
}

/**
 * The distributions `imports` (import names, dotted or not, in the order first seen) need, leaving out the standard
 * library, the project's own modules and packages (`local`: top-level module file names without `.py` and package
 * folder names, anywhere a script could import them from) and names that are not a distribution of their own:
 * `known` are safe to install, `unknown` are for the user to declare (the compute frameworks are in neither).
 */
export function thirdPartyDistributions(
  imports: Iterable<string>,
  local: ReadonlySet<string>,
): { known: string[]; unknown: string[] } {
  const out: string[] = [];
  for (const name of imports) {
    if (!/^[A-Za-z_]\w{0,100}(?:\.[A-Za-z_]\w{0,100}){0,10}$/.test(name)) continue;
    const top = name.split('.')[0]!;
    if (STDLIB.has(top) || local.has(top) || NOT_A_DISTRIBUTION.has(top)) continue;
    for (const dist of new Set([distributionFor(top), distributionFor(name)])) if (!out.includes(dist)) out.push(dist);
  }
  const compute = new Set(['torch', 'tensorflow', 'jax']);
  return {
    known: out.filter((d) => KNOWN_DISTRIBUTIONS.has(d)),
    unknown: out.filter((d) => !KNOWN_DISTRIBUTIONS.has(d) && !compute.has(d)),
  };
}
