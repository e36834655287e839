/**
 * Choosing the base image and framework build from facts: the project's own pins first (a +cuXYZ wheel, a cuXYZ
 * index, pytorch-cuda=, cudatoolkit=, its Python), then the newest release the data tables mark as supported, in
 * the build that runs on the widest range of drivers.
 * Every choice carries its reason, written as a comment into the generated files.
 */
import { NVIDIA_CUDA_SUGGESTED_TAGS, TOOLKIT_DRIVERS } from '../compat/data/cuda';
import { JAX_EXTRAS, TF_BUILDS, TORCH_RELEASES } from '../compat/data/frameworks';
import { minDriverFor } from '../compat/rules';
import { compareVersions, cudaFromVariant, majorMinorOf, majorOf, variantFromCuda } from '../compat/versions';
import type { DeclaredPackage } from '../detect/declarations';
import { pythonsAllowed } from '../detect/versions';
import { FRAMEWORKS, type Framework, type ProjectProfile } from '../detect/types';
import { isImageReference } from '../docker/reference';
import { json } from '../util/encode';
import { ScaffoldOptionError } from './types';

export type ComputeFramework = 'pytorch' | 'tensorflow' | 'jax';

export interface StackOptions {
  framework?: Framework;
  cuda?: string;
  python?: string;
  baseImage?: string;
}

export interface StackChoice {
  baseImage: string;
  /** The framework that decides the CUDA stack, or null for a CPU-only project. */
  framework: ComputeFramework | null;
  frameworkVersion: string | null;
  /** major.minor of the framework's CUDA build, null for CPU. */
  cuda: string | null;
  /** major.minor of the Python the environment uses. */
  python: string;
  /**
   * Nothing asks for a particular Python (no pin, range or --python): the base image's own is used, whichever it is
   * (PYTHON_VERSION is left empty), so another base image (--base-image, a BASE_IMAGE build argument) keeps its own.
   */
  pythonFromImage: boolean;
  /** Extra index for the framework's CUDA wheels (PyTorch's cuXYZ index). */
  extraIndexUrl: string | null;
  /** A requirement to install when the project's own files do not declare the framework. */
  frameworkRequirement: string | null;
  /** Why, one line each; written as comments. */
  why: string[];
}

/** The Python of each Ubuntu release the nvidia/cuda images are built on. */
const UBUNTU_PYTHON: Record<string, string> = { '22.04': '3.10', '24.04': '3.12' };
const DEFAULT_CPU_PYTHON = '3.12';

function computeFramework(profile: ProjectProfile, option?: Framework): ComputeFramework | null {
  const fw = option ?? profile.primaryFramework;
  const has = (f: Framework): boolean => profile.frameworks.includes(f) || fw === f;
  if (fw === 'pytorch' || fw === 'lightning' || (fw === 'transformers' && !has('tensorflow'))) return 'pytorch';
  if (fw === 'tensorflow' || fw === 'keras') return has('jax') && !has('tensorflow') ? 'jax' : 'tensorflow';
  if (fw === 'jax') return 'jax';
  if (has('pytorch')) return 'pytorch';
  if (has('tensorflow')) return 'tensorflow';
  if (has('jax')) return 'jax';
  return null;
}

/** A release version as PEP 440 writes it (no epoch, no local part): what may be written into the files. */
const RELEASE_VERSION = /^\d{1,6}(?:\.\d{1,6}){0,5}(?:(?:a|b|rc)\d{1,6})?(?:\.post\d{1,6})?(?:\.dev\d{1,6})?$/;

/** The version the project pins a package to, or null (nothing pinned, or a pin that is not a plain version). */
function pinnedVersion(packages: readonly DeclaredPackage[], names: readonly string[]): string | null {
  const p = packages.find((x) => names.includes(x.name) && /^(?:==|===)\s*\d/.test(x.spec));
  const version = p
    ? p.spec
        .replace(/^={2,3}\s*/, '')
        .split(',')[0]!
        .replace(/\+.*$/s, '')
        .replace(/\.\*$/, '')
    : null;
  return version !== null && RELEASE_VERSION.test(version) ? version : null;
}

function nvidiaCudaImage(cuda: string): string | null {
  const tag = NVIDIA_CUDA_SUGGESTED_TAGS[majorMinorOf(cuda)];
  return tag ? `nvidia/cuda:${tag}` : null;
}

/**
 * The nvidia/cuda image for `cuda`, else the newest one of the same major below it, else the oldest one of the same
 * major above it (NVIDIA deletes the tags of older updates: 11.0 to 11.7 are gone, 11.8 stays), else null.
 */
function nearestCudaImage(cuda: string): { image: string; cuda: string } | null {
  const exact = nvidiaCudaImage(cuda);
  if (exact) return { image: exact, cuda: majorMinorOf(cuda) };
  const sameMajor = Object.keys(NVIDIA_CUDA_SUGGESTED_TAGS)
    .filter((c) => majorOf(c) === majorOf(cuda))
    .sort(compareVersions);
  const below = sameMajor.filter((c) => compareVersions(c, cuda) <= 0).pop();
  const pick = below ?? sameMajor[0];
  return pick ? { image: nvidiaCudaImage(pick)!, cuda: pick } : null;
}

/**
 * The framework build that runs on the widest range of drivers: the newest CUDA 12.x build (CUDA 12 runs on every
 * driver from 525 on through minor-version compatibility; CUDA 13 needs 580), else the oldest build offered. With the
 * newer builds the release also has, for the comment.
 */
export function widestDriverBuild(
  variants: readonly string[],
): { cuda: string; major12: boolean; newer: string[] } | null {
  const cudas = variants.map((v) => cudaFromVariant(v)).filter((c): c is string => c !== null);
  const sorted = [...new Set(cudas)].sort(compareVersions);
  const twelve = sorted.filter((c) => majorOf(c) === 12);
  const cuda = twelve[twelve.length - 1] ?? sorted[0];
  if (!cuda) return null;
  return { cuda, major12: twelve.length > 0, newer: sorted.filter((c) => compareVersions(c, cuda) > 0) };
}

const FALLBACK_CUDA_IMAGE = 'nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04';

/** Why the base image is the one chosen for `cuda`, true to the image's own CUDA version. */
function cudaImageWhy(cuda: string, baseImage: string, nearest: { image: string; cuda: string } | null): string {
  const mm = majorMinorOf(cuda);
  if (nearest && nearest.cuda === mm) {
    return `Base image ${baseImage}: NVIDIA's image for CUDA ${mm} (cuDNN, runtime libraries, NVIDIA_REQUIRE_CUDA).`;
  }
  if (nearest && compareVersions(nearest.cuda, mm) < 0) {
    return `Base image ${baseImage}: NVIDIA's image for CUDA ${nearest.cuda}, the newest known one at or below CUDA ${mm} (pass --base-image to choose another).`;
  }
  if (nearest) {
    return `Base image ${baseImage}: NVIDIA's image for CUDA ${nearest.cuda}, the oldest CUDA ${majorOf(mm)} image NVIDIA still publishes (tags for CUDA ${mm} are end-of-life); the project's CUDA ${mm} packages bring their own runtime, and the image needs driver ${minDriverFor(nearest.cuda)?.driver ?? `for CUDA ${nearest.cuda}`} or newer (pass --base-image to choose another).`;
  }
  return `Base image ${baseImage}: NVIDIA's image for CUDA 12.8; no nvidia/cuda image is known for CUDA ${mm} (pass --base-image to choose one).`;
}

/** The newest CUDA release of `major` that NVIDIA publishes an image for (11: 11.8), or null. */
export function newestCudaOfMajor(major: number): string | null {
  return (
    Object.keys(NVIDIA_CUDA_SUGGESTED_TAGS)
      .filter((c) => majorOf(c) === major)
      .sort(compareVersions)
      .pop() ?? null
  );
}

/** The CUDA versions --cuda accepts: those the compatibility data knows, oldest first. */
export const KNOWN_CUDA_VERSIONS: readonly string[] = [
  ...new Set([...TOOLKIT_DRIVERS.map((r) => r.cuda), ...Object.keys(NVIDIA_CUDA_SUGGESTED_TAGS)]),
].sort(compareVersions);

/**
 * Refuses stack options that cannot be written into the generated files as they are: a framework detection does
 * not know, a CUDA version the compatibility data does not know, a Python that is not 3.X, a base image that is not
 * a Docker image reference. Throws a ScaffoldOptionError with one sentence.
 */
export function validateStackOptions(opts: StackOptions): void {
  if (opts.framework !== undefined && !(FRAMEWORKS as readonly string[]).includes(opts.framework)) {
    throw new ScaffoldOptionError(
      'framework',
      `--framework must be one of ${FRAMEWORKS.join(', ')}, got ${json(opts.framework)}.`,
    );
  }
  if (opts.cuda !== undefined && !KNOWN_CUDA_VERSIONS.includes(opts.cuda)) {
    throw new ScaffoldOptionError(
      'cuda',
      `--cuda must be a CUDA version ML Containers knows (${KNOWN_CUDA_VERSIONS.join(', ')}), got ${json(opts.cuda)}.`,
    );
  }
  if (opts.python !== undefined && !/^3\.\d{1,2}$/.test(opts.python)) {
    throw new ScaffoldOptionError('python', `--python needs 3.X, e.g. 3.11, got ${json(opts.python)}.`);
  }
  if (opts.baseImage !== undefined && !isImageReference(opts.baseImage)) {
    throw new ScaffoldOptionError(
      'base-image',
      `--base-image must be a Docker image reference (name[:tag][@digest], e.g. nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04), got ${json(opts.baseImage)}.`,
    );
  }
}

/** The project's Python range as PEP 440 (`>=3.8`), or null for a pin, for none, or for text unfit for a comment. */
function pythonRangeOf(profile: ProjectProfile): string | null {
  const range = profile.pythonRange;
  return range !== undefined && /^[\d.*<>=!~, |]{1,200}$/.test(range) ? range : null;
}

/**
 * The Python for a project that allows a range: the oldest one it allows that the framework release supports
 * (`support` as the data tables write it, `3.10-3.15`), else the oldest it allows, with a note. Each says why.
 */
export function pythonInRange(
  range: string,
  lowest: string,
  framework: string | null,
  support: string | undefined,
): { python: string; why: string } {
  const allowed = pythonsAllowed({ allows: range }).filter((v) => v.startsWith('3.'));
  const [from, to] = support?.split('-') ?? [];
  if (!framework || !from || !to) {
    return { python: lowest, why: `Python ${lowest}: the oldest the project allows (${range}).` };
  }
  const both = allowed.find((v) => compareVersions(v, from) >= 0 && compareVersions(v, to) <= 0);
  if (both === lowest) {
    return {
      python: lowest,
      why: `Python ${lowest}: the oldest the project allows (${range}); ${framework} supports Python ${support}.`,
    };
  }
  if (both) {
    return {
      python: both,
      why: `Python ${both}: the project allows ${range} and ${framework} supports Python ${support}; the oldest both allow.`,
    };
  }
  return {
    python: lowest,
    why: `Python ${lowest}: the oldest the project allows (${range}); note: ${framework} supports Python ${support} only.`,
  };
}

const ubuntuOf = (image: string): string | null => /ubuntu(\d+\.\d+)/.exec(image)?.[1] ?? null;

/**
 * Packages that compile CUDA code when they install or first run (nvcc and the CUDA headers needed): DeepSpeed's ops,
 * flash-attn (built with --no-build-isolation), NVIDIA Apex, and others without wheels for every CUDA build.
 */
const CUDA_EXTENSION_PACKAGES = [
  'deepspeed',
  'flash-attn',
  'apex',
  'mamba-ssm',
  'causal-conv1d',
  'pytorch3d',
  'detectron2',
  'tiny-cuda-nn',
  'gsplat',
];

/** The nvidia/cuda `devel` image instead of `runtime` when the project builds CUDA extensions, with why. */
function withDevelImage(
  choice: Omit<StackChoice, 'pythonFromImage'>,
  packages: readonly DeclaredPackage[],
): Omit<StackChoice, 'pythonFromImage'> {
  const builds = packages.filter((p) => CUDA_EXTENSION_PACKAGES.includes(p.name)).map((p) => p.name);
  if (!builds.length || !/^nvidia\/cuda:.*-runtime-/.test(choice.baseImage)) return choice;
  const baseImage = choice.baseImage.replace('-runtime-', '-devel-');
  const names = [...new Set(builds)];
  const why = `Base image ${baseImage}: the devel image (nvcc, CUDA headers), since ${names.join(', ')} ${names.length > 1 ? 'compile' : 'compiles'} CUDA code when installed or first run; the runtime image cannot build it.`;
  return { ...choice, baseImage, why: [...choice.why.filter((w) => !w.startsWith('Base image ')), why] };
}

export function chooseStack(
  profile: ProjectProfile,
  packages: readonly DeclaredPackage[],
  opts: StackOptions = {},
): StackChoice {
  const framework = chooseFrameworkStack(profile, packages, opts);
  const choice = opts.baseImage ? framework : withDevelImage(framework, packages);
  if (opts.python || profile.pythonVersion) return { ...choice, pythonFromImage: false };
  const why = `Python: the base image's own (${choice.python} on ${choice.baseImage}; nothing pins one): another base image keeps its own, and a PYTHON_VERSION build argument installs another.`;
  return { ...choice, why: [...choice.why, why], pythonFromImage: true };
}

function chooseFrameworkStack(
  profile: ProjectProfile,
  packages: readonly DeclaredPackage[],
  opts: StackOptions,
): Omit<StackChoice, 'pythonFromImage'> {
  validateStackOptions(opts);
  const why: string[] = [];
  const framework = computeFramework(profile, opts.framework);
  // a range (`>=3.8`) is never called a pin: the Python is chosen inside it once the framework release is known
  const range = !opts.python && profile.pythonVersion ? pythonRangeOf(profile) : null;
  let python = opts.python ?? (range ? null : profile.pythonVersion) ?? null;
  if (opts.python) why.push(`Python ${opts.python}: chosen with --python.`);
  else if (python) why.push(`Python ${python}: the project pins it.`);
  const inRange = (framework: string | null, support: string | undefined): string => {
    const choice = pythonInRange(range!, profile.pythonVersion!, framework, support);
    why.unshift(choice.why); // first, where a pin's reason goes
    return choice.python;
  };

  if (framework === null) {
    if (range) python = inRange(null, undefined);
    python ??= DEFAULT_CPU_PYTHON;
    const baseImage = opts.baseImage ?? `python:${python}-slim-bookworm`;
    why.push(
      profile.needsGpu === 'no'
        ? `No GPU framework: a CPU image (${baseImage}) is smaller and opens everywhere.`
        : `No deep-learning framework found: ${baseImage}.`,
    );
    return {
      baseImage,
      framework,
      frameworkVersion: null,
      cuda: null,
      python,
      extraIndexUrl: null,
      frameworkRequirement: null,
      why,
    };
  }

  if (framework === 'pytorch') {
    const pinned = pinnedVersion(packages, ['torch', 'pytorch']);
    const release = pinned
      ? TORCH_RELEASES.find((r) => r.torch === majorMinorOf(pinned))
      : TORCH_RELEASES[TORCH_RELEASES.length - 1];
    const version = pinned ?? `${release?.torch ?? '2.7'}.*`;
    if (pinned) why.push(`PyTorch ${pinned}: the project pins it.`);
    else why.push(`PyTorch ${release?.torch}: the newest release in the support table (nothing pinned).`);
    const variants = (release?.variants ?? []).filter((v) => nvidiaCudaImage(cudaFromVariant(v) ?? '') !== null);
    let cuda = opts.cuda ?? profile.cudaHint;
    if (cuda) {
      why.push(`CUDA ${cuda}: ${opts.cuda ? 'chosen with --cuda' : 'the project pins it'}.`);
      if (release && !release.variants.includes(variantFromCuda(cuda))) {
        why.push(`Note: PyTorch ${release.torch} has no CUDA ${cuda} wheels (it has ${release.variants.join(', ')}).`);
      }
    } else {
      const stable = variants.filter((v) => v !== release?.experimental);
      const widest = widestDriverBuild(stable.length ? stable : variants);
      cuda = widest?.cuda ?? '12.8';
      why.push(
        widest?.major12
          ? `CUDA ${cuda}: the newest CUDA 12 build of PyTorch ${release?.torch}, which runs on the widest range of drivers (525 and newer through minor-version compatibility; CUDA 13 builds need driver 580).`
          : `CUDA ${cuda}: the oldest CUDA build of PyTorch ${release?.torch}, which runs on the widest range of drivers.`,
      );
      if (widest?.newer.length) {
        why.push(
          `Newer builds (CUDA ${widest.newer.join(', ')}) need a newer driver; Blackwell GPUs (RTX 50xx, B200) need CUDA 12.8 or newer: pass --cuda to choose one (ml-containers check says when your driver allows it).`,
        );
      }
    }
    const nearest = nearestCudaImage(cuda!);
    const baseImage = opts.baseImage ?? nearest?.image ?? FALLBACK_CUDA_IMAGE;
    if (!opts.baseImage) why.push(cudaImageWhy(cuda!, baseImage, nearest));
    if (range) python = inRange(`PyTorch ${release?.torch}`, release?.python);
    python ??= UBUNTU_PYTHON[ubuntuOf(baseImage) ?? ''] ?? DEFAULT_CPU_PYTHON;
    const declared = packages.some((p) => p.name === 'torch' || p.name === 'pytorch');
    return {
      baseImage,
      framework,
      frameworkVersion: pinned,
      cuda: majorMinorOf(cuda!),
      python,
      extraIndexUrl: `https://download.pytorch.org/whl/${variantFromCuda(cuda!)}`,
      frameworkRequirement: declared ? null : `torch==${version}`,
      why,
    };
  }

  if (framework === 'tensorflow') {
    const pinned = pinnedVersion(packages, ['tensorflow', 'tensorflow-gpu', 'tf-nightly']);
    const build = (pinned ? TF_BUILDS.find((b) => b.tf === majorMinorOf(pinned)) : undefined) ?? TF_BUILDS[0]!;
    const version = pinned ?? `${build.tf}.*`;
    why.push(
      pinned
        ? `TensorFlow ${pinned}: the project pins it.`
        : `TensorFlow ${build.tf}: the newest tested release (nothing pinned).`,
    );
    const cuda = opts.cuda ?? profile.cudaHint ?? build.cuda;
    why.push(
      `CUDA ${cuda}: ${opts.cuda ? 'chosen with --cuda' : profile.cudaHint ? 'the project pins it' : `TensorFlow ${build.tf} is tested with CUDA ${build.cuda} and cuDNN ${build.cudnn}`}.`,
    );
    const cudaImage =
      nvidiaCudaImage(cuda) ??
      Object.entries(NVIDIA_CUDA_SUGGESTED_TAGS)
        .map(([c]) => c)
        .filter((c) => compareVersions(c, cuda) <= 0 && majorOf(c) === majorOf(cuda))
        .map(nvidiaCudaImage)
        .pop();
    const baseImage = opts.baseImage ?? cudaImage ?? `tensorflow/tensorflow:${pinned ?? `${build.tf}.0`}-gpu`;
    if (range) python = inRange(`TensorFlow ${build.tf}`, build.python);
    python ??= UBUNTU_PYTHON[ubuntuOf(baseImage) ?? ''] ?? '3.11';
    const declared = packages.some((p) => p.name.startsWith('tensorflow'));
    return {
      baseImage,
      framework,
      frameworkVersion: pinned,
      cuda: majorMinorOf(cuda),
      python,
      extraIndexUrl: null,
      frameworkRequirement: declared ? null : `tensorflow[and-cuda]==${version}`,
      why,
    };
  }

  // JAX: nvidia/cuda plus jax[cudaNN] wheels
  const pinned = pinnedVersion(packages, ['jax']);
  const jaxCuda = packages
    .find((p) => p.name === 'jax' && p.extras.some((e) => /^cuda\d+/.test(e)))
    ?.extras.find((e) => /^cuda\d+/.test(e));
  const extra = JAX_EXTRAS.find((x) => jaxCuda?.startsWith(x.extra)) ?? JAX_EXTRAS.find((x) => x.extra === 'cuda12')!;
  const cuda = opts.cuda ?? profile.cudaHint ?? (extra.cudaMajor === 13 ? '13.0' : '12.8');
  // a CUDA the jax[cudaNN] extras do not cover (jaxlib's own +cuda11 wheels): the project's jaxlib, not the extra
  const ownJaxlib = !jaxCuda && majorOf(cuda) !== extra.cudaMajor;
  why.push(
    ownJaxlib
      ? `JAX${pinned ? ` ${pinned}` : ''} on CUDA ${cuda}, with the project's own CUDA ${majorOf(cuda)} jaxlib (the jax[cudaNN] extras start at CUDA 12).`
      : `JAX${pinned ? ` ${pinned}` : ''} with jax[${extra.extra}] wheels${jaxCuda ? ' (the project asks for them)' : ''} on CUDA ${cuda}.`,
  );
  const nearest = nearestCudaImage(cuda);
  const baseImage = opts.baseImage ?? nearest?.image ?? FALLBACK_CUDA_IMAGE;
  if (!opts.baseImage && nearest?.cuda !== majorMinorOf(cuda)) why.push(cudaImageWhy(cuda, baseImage, nearest));
  if (range) python = inRange(null, undefined);
  python ??= UBUNTU_PYTHON[ubuntuOf(baseImage) ?? ''] ?? DEFAULT_CPU_PYTHON;
  const declared = packages.some((p) => p.name === 'jax');
  return {
    baseImage,
    framework: 'jax',
    frameworkVersion: pinned,
    cuda: majorMinorOf(cuda),
    python,
    extraIndexUrl: null,
    frameworkRequirement: declared ? null : `jax[${extra.extra}]${pinned ? `==${pinned}` : ''}`,
    why,
  };
}
