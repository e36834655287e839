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

/** Top-level import name -> the framework it is and the frameworks it implies. */
export const IMPORT_FRAMEWORKS: Readonly<Record<string, FrameworkRef>> = {
  torch: { is: 'pytorch' },
  torchvision: { is: 'pytorch' },
  torchaudio: { is: 'pytorch' },
  torchtext: { is: 'pytorch' },
  timm: { implies: ['pytorch'] },
  accelerate: { implies: ['pytorch'] },
  deepspeed: { implies: ['pytorch'] },
  tensorflow: { is: 'tensorflow' },
  tf_keras: { is: 'keras', implies: ['tensorflow'] },
  keras: { is: 'keras' },
  jax: { is: 'jax' },
  jaxlib: { is: 'jax' },
  flax: { is: 'jax' },
  optax: { is: 'jax' },
  haiku: { is: 'jax' },
  equinox: { is: 'jax' },
  lightning: { is: 'lightning', implies: ['pytorch'] },
  pytorch_lightning: { is: 'lightning', implies: ['pytorch'] },
  lightning_fabric: { is: 'lightning', implies: ['pytorch'] },
  transformers: { is: 'transformers' },
  peft: { implies: ['transformers', 'pytorch'] },
  trl: { implies: ['transformers', 'pytorch'] },
  sentence_transformers: { implies: ['transformers', 'pytorch'] },
  sklearn: { is: 'sklearn' },
  xgboost: { is: 'xgboost' },
  lightgbm: { is: 'lightgbm' },
};

/** Normalised distribution name (PEP 503) -> the framework it installs and those it pulls in. Conda names included. */
export const PACKAGE_FRAMEWORKS: Readonly<Record<string, FrameworkRef>> = {
  torch: { is: 'pytorch' },
  pytorch: { is: 'pytorch' },
  'pytorch-cuda': { is: 'pytorch' },
  'pytorch-gpu': { is: 'pytorch' },
  torchvision: { is: 'pytorch' },
  torchaudio: { is: 'pytorch' },
  torchtext: { is: 'pytorch' },
  timm: { implies: ['pytorch'] },
  accelerate: { implies: ['pytorch'] },
  deepspeed: { implies: ['pytorch'] },
  tensorflow: { is: 'tensorflow' },
  'tensorflow-gpu': { is: 'tensorflow' },
  'tensorflow-cpu': { is: 'tensorflow' },
  'tensorflow-macos': { is: 'tensorflow' },
  'tensorflow-intel': { is: 'tensorflow' },
  'intel-tensorflow': { is: 'tensorflow' },
  'tf-nightly': { is: 'tensorflow' },
  'tf-keras': { is: 'keras', implies: ['tensorflow'] },
  keras: { is: 'keras' },
  jax: { is: 'jax' },
  jaxlib: { is: 'jax' },
  flax: { is: 'jax' },
  optax: { is: 'jax' },
  'dm-haiku': { is: 'jax' },
  equinox: { is: 'jax' },
  lightning: { is: 'lightning', implies: ['pytorch'] },
  'pytorch-lightning': { is: 'lightning', implies: ['pytorch'] },
  'lightning-fabric': { is: 'lightning', implies: ['pytorch'] },
  transformers: { is: 'transformers' },
  peft: { implies: ['transformers', 'pytorch'] },
  trl: { implies: ['transformers', 'pytorch'] },
  'sentence-transformers': { implies: ['transformers', 'pytorch'] },
  'scikit-learn': { is: 'sklearn' },
  sklearn: { is: 'sklearn' },
  xgboost: { is: 'xgboost' },
  'py-xgboost': { is: 'xgboost' },
  'py-xgboost-gpu': { is: 'xgboost' },
  lightgbm: { is: 'lightgbm' },
};

/** Frameworks whose code uses a GPU when one is present (their presence alone makes a GPU at least optional). */
export const GPU_CAPABLE: ReadonlySet<Framework> = new Set([
  'pytorch',
  'tensorflow',
  'jax',
  'keras',
  'lightning',
  'transformers',
]);

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
  {
    id: 'hf-trainer',
    needle: 'Trainer',
    re: /\b(?:Trainer|Seq2SeqTrainer|SFTTrainer|DPOTrainer|RewardTrainer|PPOTrainer)\s*\(/,
  },
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
  { id: 'booster-train', needle: '.train', re: /\b(?:xgb|xgboost|lgb|lightgbm)\.train\s*\(/ },
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
