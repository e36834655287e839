/**
 * What detection knows about the Python ML ecosystem, as data: which import names and which distribution names
 * mean which framework, which code patterns mean "this trains a model", "this needs a GPU", "this falls back to the
 * CPU", and which launchers start distributed training. Each pattern runs over Python source whose comments and
 * string contents have been blanked (see python.ts), unless it says `withStrings`.
 */
import type { Framework, Launcher } from './types';

/** A name's framework (`is`) and the frameworks it cannot run without (`implies`, weaker evidence). */
export interface FrameworkRef {
  is?: Framework;
  implies?: readonly Framework[];
}

/**
 * The names that mean each framework: `both` are import names that are also their distribution's (PEP 503) name,
 * `imports` and `packages` the names that are only one of the two (conda's distribution names included).
 */
const FRAMEWORK_NAMES: readonly { ref: FrameworkRef; both?: string[]; imports?: string[]; packages?: string[] }[] = [
  {
    ref: { is: 'pytorch' },
    both: ['torch', 'torchvision', 'torchaudio', 'torchtext'],
    packages: ['pytorch', 'pytorch-cuda', 'pytorch-gpu'],
  },
  {
    ref: { implies: ['pytorch'] },
    both: ['timm', 'accelerate', 'deepspeed', 'fastai', 'ultralytics', 'torchmetrics', 'torch_geometric', 'diffusers'],
  },
  {
    ref: { is: 'tensorflow' },
    both: ['tensorflow'],
    packages: [
      'tensorflow-gpu',
      'tensorflow-cpu',
      'tensorflow-macos',
      'tensorflow-intel',
      'intel-tensorflow',
      'tf-nightly',
    ],
  },
  { ref: { is: 'keras', implies: ['tensorflow'] }, both: ['tf_keras'] },
  { ref: { is: 'keras' }, both: ['keras'] },
  {
    ref: { is: 'jax' },
    both: ['jax', 'jaxlib', 'flax', 'optax', 'equinox'],
    imports: ['haiku'],
    packages: ['dm-haiku'],
  },
  { ref: { is: 'lightning', implies: ['pytorch'] }, both: ['lightning', 'pytorch_lightning', 'lightning_fabric'] },
  { ref: { is: 'transformers' }, both: ['transformers'] },
  { ref: { implies: ['transformers', 'pytorch'] }, both: ['peft', 'trl', 'sentence_transformers'] },
  { ref: { is: 'sklearn' }, both: ['sklearn'], packages: ['scikit-learn'] },
  { ref: { is: 'xgboost' }, both: ['xgboost'], packages: ['py-xgboost', 'py-xgboost-gpu'] },
  { ref: { is: 'lightgbm' }, both: ['lightgbm'] },
];

/** Top-level import name -> the framework it is and the frameworks it implies. */
export const IMPORT_FRAMEWORKS: Readonly<Record<string, FrameworkRef>> = Object.fromEntries(
  FRAMEWORK_NAMES.flatMap(({ ref, both = [], imports = [] }) => [...both, ...imports].map((n) => [n, ref])),
);

/** Normalised distribution name (PEP 503) -> the framework it installs and those it pulls in. Conda names included. */
export const PACKAGE_FRAMEWORKS: Readonly<Record<string, FrameworkRef>> = Object.fromEntries(
  FRAMEWORK_NAMES.flatMap(({ ref, both = [], packages = [] }) =>
    [...both.map(normalizePackageName), ...packages].map((n) => [n, ref]),
  ),
);

/**
 * The distributions that are each framework itself (not an add-on such as torchvision or flax): their pin is the
 * framework's version, so they are the evidence a declaration gives for the framework. Conda names included.
 */
export const FRAMEWORK_DISTRIBUTIONS: Readonly<Record<Framework, readonly string[]>> = {
  pytorch: ['torch', 'pytorch'],
  tensorflow: ['tensorflow', 'tensorflow-gpu', 'tensorflow-cpu', 'tensorflow-macos', 'tensorflow-intel'],
  jax: ['jax'],
  keras: ['keras', 'tf-keras'],
  lightning: ['lightning', 'pytorch-lightning'],
  transformers: ['transformers'],
  xgboost: ['xgboost', 'py-xgboost'],
  lightgbm: ['lightgbm'],
  sklearn: ['scikit-learn'],
};

/** Frameworks whose presence alone does not make a GPU useful (their GPU builds are the exception). */
export const CPU_FIRST: ReadonlySet<Framework> = new Set<Framework>(['xgboost', 'lightgbm', 'sklearn']);

/**
 * Frameworks that put the work on a GPU by themselves when there is one, without device code: TensorFlow and Keras
 * place ops on the first GPU, JAX's default backend is the GPU, Lightning's Trainer picks `accelerator="auto"`.
 * PyTorch and Transformers models stay on the CPU unless code moves them (a Transformers `Trainer` does: see
 * GPU_USE_PATTERNS).
 */
export const GPU_BY_ITSELF: ReadonlySet<Framework> = new Set<Framework>(['tensorflow', 'keras', 'jax', 'lightning']);

/** Frameworks whose estimators fall back to the CPU (with a warning) when asked for a GPU that is not there. */
export const GPU_REQUEST_FALLS_BACK: ReadonlySet<Framework> = new Set<Framework>(['xgboost', 'lightgbm']);

/** PEP 503 normalisation of a distribution name. */
export function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export interface CodePattern {
  id: string;
  re: RegExp;
  /** Substrings (any of them) every match contains: files without one skip the regex, so detection stays fast. */
  needle?: string | readonly string[];
  /** Run over the view that keeps single-line string contents (e.g. `device="cuda"`). */
  withStrings?: boolean;
}

/** A Hugging Face trainer (or Lightning's `Trainer(`): it trains, and on a GPU when there is one. */
const HF_TRAINER: CodePattern = {
  id: 'hf-trainer',
  needle: 'Trainer',
  re: /\b(?:Trainer|Seq2SeqTrainer|SFTTrainer|DPOTrainer|RewardTrainer|PPOTrainer)\s*\(/,
};

/** Code that trains or fine-tunes a model (not inference). */
export const TRAINING_PATTERNS: readonly CodePattern[] = [
  { id: 'backward', needle: '.backward', re: /\.backward\s*\(/ },
  { id: 'optimizer-step', needle: '.step', re: /\b\w*(?:optim|opt|optimizer)\w*\.step\s*\(/ },
  { id: 'zero-grad', needle: '.zero_grad', re: /\.zero_grad\s*\(/ },
  {
    id: 'torch-optim',
    needle: 'optim.',
    re: /\boptim\.(?:SGD|Adam|AdamW|RMSprop|Adagrad|Adadelta|LBFGS|Adamax|NAdam|RAdam)\s*\(/,
  },
  { id: 'model-train-mode', needle: '.train', re: /\.train\s*\(\s*(?:True\s*)?\)/ },
  { id: 'fit', needle: '.fit', re: /\.fit\s*\(/ },
  {
    id: 'fit-generator',
    needle: ['fit_generator', 'partial_fit', 'train_on_batch'],
    re: /\.(?:fit_generator|partial_fit|train_on_batch)\s*\(/,
  },
  HF_TRAINER,
  {
    id: 'hf-training-args',
    needle: ['Arguments', 'SFTConfig'],
    re: /\b(?:TrainingArguments|Seq2SeqTrainingArguments|SFTConfig)\s*\(/,
  },
  { id: 'trainer-train', needle: 'trainer.train', re: /\btrainer\.train\s*\(/ },
  { id: 'gradient-tape', needle: 'GradientTape', re: /\bGradientTape\s*\(/ },
  { id: 'apply-gradients', needle: '.apply_gradients', re: /\.apply_gradients\s*\(/ },
  { id: 'jax-grad', needle: 'grad', re: /\b(?:jax\.)?(?:value_and_grad|grad)\s*\(/ },
  { id: 'optax', needle: 'optax.', re: /\boptax\.\w+\s*\(/ },
  { id: 'booster-train', needle: ['.train', '.cv'], re: /\b(?:xgb|xgboost|lgb|lightgbm)\.(?:train|cv)\s*\(/ },
  {
    id: 'cross-validation',
    needle: ['cross_val', 'learning_curve', 'validation_curve'],
    re: /\b(?:cross_val_score|cross_validate|cross_val_predict|learning_curve|validation_curve)\s*\(/,
  },
  { id: 'lightning-module', needle: 'LightningModule', re: /\bclass\s+\w+\s*\(\s*(?:\w+\.)*LightningModule\s*\)/ },
  { id: 'deepspeed-initialize', needle: 'deepspeed.initialize', re: /\bdeepspeed\.initialize\s*\(/ },
];

/** Code that insists on a GPU: it fails without one unless the same file also has a CPU fallback. */
export const GPU_REQUIRED_PATTERNS: readonly CodePattern[] = [
  { id: 'cuda-call', needle: '.cuda', re: /\.cuda\s*\(\s*\d*\s*\)/ },
  {
    id: 'cuda-device-literal',
    needle: 'cuda',
    re: /(?:\bdevice\s*=\s*|torch\.device\s*\(\s*|\.to\s*\(\s*)(['"])cuda(?::\d+)?\1\s*(?=[,)\]\n#]|$)/m,
    withStrings: true,
  },
  { id: 'cuda-set-device', needle: 'set_device', re: /\btorch\.cuda\.set_device\s*\(/ },
  {
    id: 'nccl-backend',
    needle: 'nccl',
    re: /(?:\bbackend\s*=\s*|init_process_group\s*\(\s*)(['"])nccl\1/,
    withStrings: true,
  },
  { id: 'lightning-gpu', needle: 'accelerator', re: /\baccelerator\s*=\s*(['"])(?:gpu|cuda)\1/, withStrings: true },
  { id: 'xgboost-gpu', needle: 'gpu_hist', re: /\btree_method\s*=\s*(['"])gpu_hist\1/, withStrings: true },
  { id: 'tf-gpu-device', needle: 'device', re: /\btf\.device\s*\(\s*(['"])\/(?:device:)?GPU/i, withStrings: true },
];

/** Code that checks for a GPU or lets a library choose the device: it also runs on the CPU. */
export const GPU_FALLBACK_PATTERNS: readonly CodePattern[] = [
  { id: 'cuda-is-available', needle: 'is_available', re: /\bcuda\.is_available\s*\(/ },
  {
    id: 'tf-list-devices',
    needle: ['list_physical_devices', 'is_gpu_available', 'list_logical_devices'],
    re: /\b(?:list_physical_devices|is_gpu_available|list_logical_devices)\s*\(/,
  },
  { id: 'jax-backend', needle: 'jax.', re: /\bjax\.(?:default_backend|devices|device_count)\s*\(/ },
  { id: 'accelerator-object', needle: 'Accelerator', re: /\bAccelerator\s*\(/ },
  {
    id: 'auto-device',
    needle: 'auto',
    re: /\b(?:accelerator|device_map|device)\s*=\s*(['"])auto\1/,
    withStrings: true,
  },
  { id: 'mps-available', needle: 'mps.is_available', re: /\bmps\.is_available\s*\(/ },
];

/**
 * Code that cannot run without a GPU, whatever CPU fallback the rest of the file has: 8-bit and 4-bit quantized
 * loading runs on bitsandbytes' CUDA kernels (`device_map="auto"` cannot place such a model on the CPU).
 */
export const GPU_ONLY_PATTERNS: readonly CodePattern[] = [
  { id: 'quantized-load', needle: ['load_in_8bit', 'load_in_4bit'], re: /\bload_in_[48]bit\s*=\s*True\b/ },
];

/** Device-aware code: it puts work on whatever device it is given, a GPU when there is one. */
export const GPU_USE_PATTERNS: readonly CodePattern[] = [
  {
    id: 'to-device',
    needle: 'device',
    re: /\.to\s*\(\s*(?:[\w.]*\.)?device\b|\bdevice\s*=\s*(?:[\w.]*\.)?device\b/,
  },
  { id: 'torch-device', needle: 'torch.device', re: /\btorch\.device\s*\(/ },
  { id: 'torch-cuda', needle: 'torch.cuda.', re: /\btorch\.cuda\.\w+/ },
  HF_TRAINER,
];

/**
 * The condition of an `if` whose body runs only in distributed (multi-process, NCCL) training: `if args.distributed:`,
 * `if ddp:`, `if world_size > 1:`, `if args.local_rank != -1:`. GPU-only code there leaves the single-process path
 * to whatever device the rest of the code picks.
 */
export const DISTRIBUTED_CONDITION =
  /distributed|\bddp\b|\bmulti_?gpu\b|\bworld_size\s*>=?\s*[12]\b|\bWORLD_SIZE\b|\bLOCAL_RANK\b|\blocal_rank\s*(?:!=\s*-1|>=?\s*0)|\b(?:n|num)_?gpus?\s*>\s*1\b|\bdevice_count\s*\(\s*\)\s*>\s*1\b/i;

/** A command-line flag that runs a script on the CPU (`--device cpu`, `--no-cuda`, `CUDA_VISIBLE_DEVICES=""`). */
export const CPU_RUN_FLAG =
  /--device[= ]+['"]?cpu\b|--(?:use[-_])?cpu\b|--no[-_](?:cuda|gpu)\b|--accelerator[= ]+['"]?cpu\b|CUDA_VISIBLE_DEVICES=(?:\s|$|""|''|-1\b)/;

/** Uses of one framework through another's import: Keras code reached as `tensorflow.keras` is Keras code. */
export const FRAMEWORK_USE_PATTERNS: readonly (CodePattern & { framework: Framework })[] = [
  {
    id: 'keras',
    framework: 'keras',
    needle: 'keras',
    re: /^[ \t]*from[ \t]+tensorflow(?:\.python)?[ \t]+import[ \t(]+(?:[\w \t,]*,[ \t]*)?keras\b|^[ \t]*(?:from|import)[ \t]+tensorflow(?:\.python)?\.keras\b|\btf\.keras\./m,
  },
];

/**
 * Uses of a framework module that do not make the framework the project's: hiding TensorFlow's GPUs so that it
 * leaves them to JAX or PyTorch (`tf.config.set_visible_devices([], "GPU")`, the usual notebook workaround), or
 * saving a model in its formats. The attribute path after the module's name, per import name.
 */
export const UTILITY_USES: Readonly<Record<string, RegExp>> = {
  tensorflow: /^(?:config|saved_model|lite)\b/,
};

/** Imports that convert a model into another framework's format: that framework is an export target there. */
export const EXPORT_MODULES: Readonly<Record<string, string>> = {
  onnx_tf: 'tensorflow',
  onnx2tf: 'tensorflow',
  tf2onnx: 'tensorflow',
};

/** Folders of examples, demos and tutorials: code beside the project's main path. */
export const EXAMPLE_FOLDER = /(?:^|\/)(?:examples?|demos?|samples?|tutorials?|notebooks?)\//i;

/** Usage facts later checks need: DataLoader worker processes share batches through /dev/shm. */
export const USAGE_PATTERNS: readonly CodePattern[] = [
  { id: 'dataloader-workers', needle: 'num_workers', re: /\bnum_workers\s*=\s*(?!0\b)[\w(]/ },
];

/** In-code hints of how distributed training is launched (weaker than an explicit launch command). */
export const LAUNCHER_CODE_PATTERNS: readonly (CodePattern & { launcher: Launcher })[] = [
  { id: 'horovod-init', needle: '.init', re: /\bhvd\.init\s*\(|\bhorovod\.\w+\.init\s*\(/, launcher: 'horovod' },
  {
    id: 'deepspeed-initialize',
    needle: 'deepspeed.initialize',
    re: /\bdeepspeed\.initialize\s*\(/,
    launcher: 'deepspeed',
  },
  { id: 'accelerator-object', needle: 'Accelerator', re: /\bAccelerator\s*\(/, launcher: 'accelerate' },
  {
    id: 'torch-distributed',
    needle: ['init_process_group', 'DistributedDataParallel', 'LOCAL_RANK'],
    re: /\binit_process_group\s*\(|\bDistributedDataParallel\s*\(|\bLOCAL_RANK\b/,
    launcher: 'torchrun',
    withStrings: true,
  },
  // a program of the project that starts training through a launcher's own API (a CLI such as `trl sft`)
  {
    id: 'accelerate-launch-api',
    needle: 'accelerate.commands.launch',
    re: /\baccelerate\.commands\.launch\b/,
    launcher: 'accelerate',
  },
  {
    id: 'torchrun-api',
    needle: 'torch.distributed.',
    re: /\btorch\.distributed\.(?:run|launch)\b/,
    launcher: 'torchrun',
  },
  { id: 'deepspeed-launcher-api', needle: 'deepspeed.launcher', re: /\bdeepspeed\.launcher\b/, launcher: 'deepspeed' },
];

/** The launcher a command line starts, from the command word(s). */
export const LAUNCH_COMMANDS: readonly { re: RegExp; launcher: Launcher | 'python' }[] = [
  { re: /^torchrun$/, launcher: 'torchrun' },
  { re: /^python[\d.]*\s+-m\s+torch\.distributed\.(?:run|launch)$/, launcher: 'torchrun' },
  { re: /^accelerate\s+launch$/, launcher: 'accelerate' },
  { re: /^deepspeed$/, launcher: 'deepspeed' },
  { re: /^horovodrun$/, launcher: 'horovod' },
  { re: /^python[\d.]*$/, launcher: 'python' },
];

/** File names that say "this is a training script". */
export const TRAINING_SCRIPT_NAME =
  /^(?:train|training|finetune|fine_tune|fine-tune|pretrain|sft)(?:[_-][\w-]*)?\.py$/i;

/** Python files that are never entry points. */
export const NOT_ENTRYPOINT =
  /(?:^|\/)(?:tests?\/|test_[^/]*\.py$|[^/]*_test\.py$|conftest\.py$|setup\.py$|__init__\.py$|__main__\.py$|noxfile\.py$)/;
