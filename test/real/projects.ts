/**
 * How each real-corpus project trains on the CPU here: the data the test writes in the project's own format (no
 * dataset downloads), the steps before training, and the command (the project's own smallest configuration, from its
 * expected.json unless said otherwise). A project absent from TRAINING is built but not trained, for the reason in
 * NOT_TRAINED (GPU-only, or data that cannot be made offline in its own format).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TrainingPlan {
  /** Writes the data the training reads into the project copy (in the project's own format). */
  prepare?(dir: string): void;
  /** Shell steps run in the container before the training command (e.g. the project's own data preparation). */
  before?: string[];
  /** Replaces expected.json's train.command (a smaller configuration the project's own flags allow). */
  command?: string[];
}

/** Deterministic pseudo-random numbers (the same data every run). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** Name-like words from syllables: makemore's own input format (one word a line). */
function names(count: number): string {
  const rnd = lcg(7);
  const syllables = ['an', 'na', 'el', 'li', 'ma', 'ri', 'so', 'ja', 'ke', 'lo', 'ta', 'ev', 'ia', 'on', 'da', 'ra'];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 2 + Math.floor(rnd() * 3);
    out.push(Array.from({ length: n }, () => syllables[Math.floor(rnd() * syllables.length)]).join(''));
  }
  return `${out.join('\n')}\n`;
}

/** Plain English-like text for a character-level model (nanoGPT's input.txt). */
function text(chars: number): string {
  const rnd = lcg(11);
  const words = ['the', 'king', 'shall', 'speak', 'of', 'love', 'and', 'war', 'my', 'lord', 'to', 'be', 'night'];
  let out = '';
  while (out.length < chars) {
    const line = Array.from({ length: 6 + Math.floor(rnd() * 6) }, () => words[Math.floor(rnd() * words.length)]);
    out += `${line.join(' ')}.\n`;
  }
  return out;
}

export const TRAINING: Readonly<Record<string, TrainingPlan>> = {
  makemore: { prepare: (dir) => fs.writeFileSync(path.join(dir, 'names.txt'), names(3000)) },
  nanogpt: {
    prepare: (dir) => fs.writeFileSync(path.join(dir, 'data', 'shakespeare_char', 'input.txt'), text(60_000)),
    before: ['python data/shakespeare_char/prepare.py'],
  },
  'optuna-sklearn': {},
  'xgboost-guide-python': {},
  'lightgbm-python-guide': {},
  // its own CartPole command with fewer steps: gym simulates the experience
  'cleanrl-poetry': {
    command: ['python', 'cleanrl/ppo.py', '--seed', '1', '--env-id', 'CartPole-v0', '--total-timesteps', '4096'],
  },
};

/**
 * Projects whose environment cannot be installed on this machine at all (not a fault of the scaffold: the build
 * gets that far and pip says why); their scaffold is still checked by the unit tier (scaffold-check, real-corpus).
 */
export const NOT_BUILT: Readonly<Record<string, string>> = {
  'alpaca-lora': 'its requirements install peft from GitHub, which this machine cannot reach',
  'deepspeed-cifar': 'it pins torchvision 0.4.0 (2019), whose wheels exist for no Python an image here has',
  'latent-diffusion':
    'its conda environment needs micromamba from micro.mamba.pm and packages from anaconda.org, which this machine cannot reach',
  'lpnu-ml-labs-uv':
    'its uv.lock needs Python 3.12 (torchaudio 2.5.0 has no wheel for 3.11 or 3.13), which no image here has',
  'flax-mnist': "it pins jaxlib 0.3.2+cuda11 from Google's release bucket, not PyPI, which this machine cannot reach",
};

export const NOT_TRAINED: Readonly<Record<string, string>> = {
  'alpaca-lora': 'GPU-only (8-bit LLaMA fine-tuning) and its model comes from the Hugging Face Hub',
  dino: 'GPU-only (its launcher and data loader need CUDA)',
  'latent-diffusion': 'GPU-only, and its Python 3.8 / PyTorch 1.7 conda environment predates every image here',
  trl: 'its model and data set come from the Hugging Face Hub, which this machine cannot reach',
  'pytorch-cifar': 'CIFAR-10 is checked against its published checksums: a file written here is not CIFAR-10',
  'deepspeed-cifar': 'CIFAR-10 is checked against its published checksums: a file written here is not CIFAR-10',
  'flax-mnist': 'tensorflow_datasets prepares MNIST from its download only',
  'keras-io-mnist-convnet': "keras.datasets.mnist checks the download's hash",
  'lpnu-ml-labs-uv': 'not built here (NOT_BUILT)',
  'denoising-diffusion': "a library: the training script is the user's own (README example)",
  'lightning-template':
    "its requirements leave pytorch-lightning unpinned, and today's release no longer has Trainer.add_argparse_args, which its code calls",
  'nn-zero-to-hero': 'notebooks read names.txt that the repository does not ship, and nbconvert prints no progress',
};
