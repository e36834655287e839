/**
 * The files a scaffold writes, as text: `.devcontainer/devcontainer.json` (JSON with comments explaining each GPU
 * choice), a two-stage Dockerfile (`dev`: dependencies only, code mounted; `train`: the code and the launcher as entry
 * point) and `.dockerignore`. Pure: profile and choices in, file contents out.
 */
import * as path from 'node:path';
import type { DeclaredPackage } from '../detect/declarations';
import { type ProjectDetails, detectProjectDetailed } from '../detect/detect';
import type { Framework, ProjectProfile } from '../detect/types';
import { readRegularFile } from '../util/safeFs';
import {
  commentText,
  dockerCopy,
  dockerQuoted,
  hasUnsafeChars,
  isCopyableName,
  json,
  mountField,
  shellQuote,
  visible,
} from '../util/encode';
import { type StackChoice, type StackOptions, chooseStack, newestCudaOfMajor, validateStackOptions } from './stack';
import { type DevcontainerGpuSettings, ENV_GROUP, ScaffoldOptionError } from './types';

export { ScaffoldOptionError } from './types';

export type ScaffoldMode = 'dev' | 'train' | 'both';

export interface ScaffoldOptions extends StackOptions {
  mode?: ScaffoldMode;
  /** A host folder of datasets, bind-mounted at /datasets (setting mlContainers.datasetsPath). */
  datasetsPath?: string;
  /** Host memory in bytes, to size /dev/shm (half of it, at most 16 GiB, at least 1 GiB). */
  hostMemBytes?: number;
  /** Where the Dockerfile goes: next to devcontainer.json (default) or at the project root. */
  dockerfileAt?: 'devcontainer' | 'root';
}

export interface GeneratedFile {
  /** Relative to the project root, with `/`. */
  path: string;
  content: string;
}

export interface Scaffold {
  stack: StackChoice;
  settings: DevcontainerGpuSettings;
  files: GeneratedFile[];
  /** The environment installer the dev stage uses. */
  installer: 'pip' | 'uv' | 'poetry' | 'conda' | 'pipenv' | 'setup' | 'none';
  /**
   * What the project had that could not be written safely and was left out (a requirements file whose name has a
   * line break, a Python pin that is not a version), one sentence each; also written as comments.
   */
  warnings: string[];
}

/**
 * Refuses options that cannot be written safely into the generated files, with a ScaffoldOptionError of one
 * sentence: see validateStackOptions, and the datasets folder must be an absolute path without control characters
 * (it becomes a `--mount` value).
 */
export function validateScaffoldOptions(opts: ScaffoldOptions): void {
  validateStackOptions(opts);
  if (opts.mode !== undefined && !['dev', 'train', 'both'].includes(opts.mode)) {
    throw new ScaffoldOptionError('mode', `--mode must be dev, train or both, got ${json(opts.mode)}.`);
  }
  if (opts.dockerfileAt !== undefined && !['devcontainer', 'root'].includes(opts.dockerfileAt)) {
    throw new ScaffoldOptionError('dockerfile-at', `--dockerfile-at must be devcontainer or root.`);
  }
  const d = opts.datasetsPath;
  if (d !== undefined && d !== '' && (!isAbsolutePath(d) || hasUnsafeChars(d) || d.includes('\ufffd'))) {
    throw new ScaffoldOptionError(
      'datasets',
      `The datasets folder (--datasets, setting mlContainers.datasetsPath) must be an absolute path without control characters, got ${json(d)}.`,
    );
  }
}

/** A POSIX absolute path, or a Windows one (`C:\data`, `\\server\share`) for Docker Desktop. */
function isAbsolutePath(p: string): boolean {
  return path.posix.isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p) || /^\\\\[^\\]/.test(p);
}

const PLAIN_VERSION = /^\d{1,2}\.\d{1,3}$/;

/**
 * The profile with the values that cannot be written safely left out (a Python or CUDA pin that is not X.Y), and
 * why, one sentence each.
 */
function safeProfile(profile: ProjectProfile): { profile: ProjectProfile; warnings: string[] } {
  const warnings: string[] = [];
  let safe = profile;
  if (profile.pythonVersion !== null && !PLAIN_VERSION.test(profile.pythonVersion)) {
    warnings.push(`The project's Python pin ${json(profile.pythonVersion)} is not X.Y, so it was ignored.`);
    safe = { ...safe, pythonVersion: null };
  }
  // a CUDA major alone (`jaxlib…+cuda11`): the newest release of that major an image is known for
  const major = profile.cudaHint !== null && /^\d{1,2}$/.test(profile.cudaHint) ? profile.cudaHint : null;
  const newest = major ? newestCudaOfMajor(Number(major)) : null;
  if (newest) safe = { ...safe, cudaHint: newest };
  else if (profile.cudaHint !== null && !PLAIN_VERSION.test(profile.cudaHint)) {
    warnings.push(`The project's CUDA pin ${json(profile.cudaHint)} is not X.Y, so it was ignored.`);
    safe = { ...safe, cudaHint: null };
  }
  return { profile: safe, warnings };
}

const USER = 'vscode';
/** Build steps that write the environment leave it group-writable (see ENV_GROUP). */
const GROUP_WRITABLE = 'umask 0002 &&';
const GIB = 1024 ** 3;

export function shmSizeFor(hostMemBytes: number | undefined): string {
  if (!hostMemBytes || !Number.isFinite(hostMemBytes) || hostMemBytes <= 0) return '16g';
  const gib = Math.max(1, Math.min(16, Math.floor(hostMemBytes / 2 / GIB)));
  return `${gib}g`;
}

const REQUIREMENTS = /^requirements[^/]*\.txt$/i;

/** An editable line of a conda environment's pip section (`    - -e .`, `- -e git+https://…`), as grep -E reads it. */
const CONDA_EDITABLE = '^[[:space:]]*-[[:space:]]+-e[[:space:]]+';

/**
 * The project's top-level requirements files: those a COPY line and a shell command can name exactly, and those
 * they cannot (a line break, a control or glob character in the name), which are left out.
 */
function requirementFiles(profile: ProjectProfile): { usable: string[]; skipped: string[] } {
  const all = profile.envFiles.filter((f) => !f.includes('/') && REQUIREMENTS.test(f));
  return { usable: all.filter(isCopyableName), skipped: all.filter((f) => !isCopyableName(f)) };
}

/** The warning for a requirements file left out because of its name. */
export function skippedRequirementsWarning(file: string): string {
  return `The requirements file ${json(file)} was left out: its name has a line break, a control or a glob character that the Dockerfile cannot name exactly; rename it to install it.`;
}

function installerFor(profile: ProjectProfile): Scaffold['installer'] {
  const top = new Set(profile.envFiles.filter((f) => !f.includes('/')));
  if (top.has('environment.yml') || top.has('environment.yaml')) return 'conda';
  if (top.has('poetry.lock')) return 'poetry';
  if (top.has('uv.lock')) return 'uv';
  if (requirementFiles(profile).usable.length > 0) return 'pip';
  if (top.has('pyproject.toml')) return 'uv';
  if (top.has('Pipfile')) return 'pipenv';
  if (top.has('setup.py') || top.has('setup.cfg')) return 'setup';
  return 'none';
}

function condaEnvFile(profile: ProjectProfile): string {
  return profile.envFiles.find((f) => /^environment\.ya?ml$/.test(f)) ?? 'environment.yml';
}

function mainRequirements(profile: ProjectProfile): string[] {
  const reqs = requirementFiles(profile).usable;
  const main = reqs.filter((f) => /^requirements\.txt$/i.test(f));
  return main.length ? main : reqs;
}

export function gpuSettings(
  profile: ProjectProfile,
  stack: StackChoice,
  opts: ScaffoldOptions,
): DevcontainerGpuSettings {
  const home = `/home/${USER}`;
  const shm = shmSizeFor(opts.hostMemBytes);
  const mounts = [
    `source=mlc-pip-cache,target=${home}/.cache/pip,type=volume`,
    `source=mlc-hf-cache,target=${home}/.cache/huggingface,type=volume`,
    `source=mlc-torch-cache,target=${home}/.cache/torch,type=volume`,
  ];
  if (opts.datasetsPath) {
    // Docker reads --mount as one CSV record: a comma or quote in the path is quoted, never a field of its own
    mounts.unshift(`${mountField(`source=${opts.datasetsPath}`)},target=/datasets,type=bind,consistency=cached`);
  }
  const containerEnv: Record<string, string> = {
    PIP_CACHE_DIR: `${home}/.cache/pip`,
    HF_HOME: `${home}/.cache/huggingface`,
    TORCH_HOME: `${home}/.cache/torch`,
  };
  if (opts.datasetsPath) containerEnv.DATASETS_DIR = '/datasets';
  return {
    gpu: profile.needsGpu === 'yes' ? true : 'optional',
    runArgs: [`--shm-size=${shm}`, '--ulimit', 'stack=67108864'],
    mounts,
    containerEnv,
    extensions: ['ms-python.python', 'ms-toolsai.jupyter'],
    why: {
      hostRequirements:
        profile.needsGpu === 'yes'
          ? 'GPU required: the code uses CUDA without a CPU fallback. Requested here, never as "--gpus all" in runArgs, which fails on machines without an NVIDIA runtime.'
          : 'GPU "optional": the container gets the GPUs when the host has them and still opens on a laptop without one (a hard-coded "--gpus all" in runArgs would fail there).',
      runArgs: `Docker's default /dev/shm is 64 MB: PyTorch DataLoader workers and NCCL crash with "Bus error" when it fills (${shm} = half the host's memory, at most 16g). A 64 MB stack, as NVIDIA recommends for CUDA containers; memlock stays at the engine's limit (rootless and restricted engines cannot raise it, and the container would not start): add "--ulimit", "memlock=-1" for RDMA/InfiniBand. One token per element.`,
      mounts: `${opts.datasetsPath ? 'Datasets from the host at /datasets (setting mlContainers.datasetsPath); ' : 'Set mlContainers.datasetsPath to mount a datasets folder at /datasets. '}Named volumes keep pip, Hugging Face and torch hub downloads across rebuilds.`,
      containerEnv: 'Cache locations inside the named volumes.',
    },
  };
}

export function launcherCommand(profile: ProjectProfile): { argv: string[]; why: string } {
  const first = profile.entrypoints[0];
  if (!first) {
    return { argv: ['bash'], why: 'No training entry script was detected: set ENTRYPOINT to your training command.' };
  }
  // a script whose name starts with "-" would be read as an option of the launcher: name it by its path
  const entry = first.startsWith('-') ? `./${first}` : first;
  const shown = visible(entry);
  // the launcher's options the project's own launch command gives (its Accelerate config file)
  const args = profile.launcherArgs ?? [];
  const at = args.indexOf('--config_file');
  const config = at >= 0 ? args[at + 1] : undefined;
  switch (profile.launcher) {
    case 'torchrun':
      return {
        argv: ['torchrun', '--nproc_per_node=gpu', ...args, entry],
        why: `torchrun starts one process per GPU (--nproc_per_node=gpu) running ${shown}.`,
      };
    case 'accelerate':
      return {
        argv: ['accelerate', 'launch', ...args, entry],
        why: `accelerate launch runs ${shown} with the project's Accelerate configuration${config ? ` (${visible(config)}, from the project's own launch command)` : ''}.`,
      };
    case 'deepspeed':
      return { argv: ['deepspeed', ...args, entry], why: `The DeepSpeed launcher runs ${shown} on every visible GPU.` };
    case 'horovod':
      return {
        argv: ['horovodrun', '-np', '1', ...args, 'python', entry],
        why: `horovodrun runs ${shown}; set -np to the number of processes.`,
      };
    default:
      return { argv: ['python', entry], why: `python ${shown} (no distributed launcher detected).` };
  }
}

const jsonStr = json;
const comment = (text: string, indent: string): string =>
  wrap(commentText(text), 110 - indent.length)
    .map((l) => `${indent}// ${l}`)
    .join('\n');

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

function postCreateCommand(installer: Scaffold['installer'], profile: ProjectProfile): string | null {
  const reqs = mainRequirements(profile);
  switch (installer) {
    case 'pip':
      return reqs.length ? reqs.map((r) => `pip install -r ${shellQuote(r)}`).join(' && ') : null;
    case 'uv':
      return profile.envFiles.includes('uv.lock')
        ? `${UV_INTO_VENV} uv sync --frozen`
        : 'uv pip install -r pyproject.toml';
    case 'poetry':
      return 'poetry install --no-root';
    case 'conda':
      return `micromamba install -y -p /opt/env -f ${condaEnvFile(profile)}`;
    case 'pipenv':
      return 'pipenv install --system --dev';
    case 'setup':
      return 'pip install -e .';
    default:
      return null;
  }
}

export function devcontainerJson(
  profile: ProjectProfile,
  stack: StackChoice,
  settings: DevcontainerGpuSettings,
  installer: Scaffold['installer'],
  dockerfilePath: string,
): string {
  const name = path.basename(profile.root);
  const fw = stack.framework
    ? `${{ pytorch: 'PyTorch', tensorflow: 'TensorFlow', jax: 'JAX' }[stack.framework]}${stack.cuda ? `, CUDA ${stack.cuda}` : ''}`
    : 'CPU';
  const i = '  ';
  const lines: string[] = [
    `// Dev container for ${commentText(name)}, made by ML Containers from the detected project (${fw}).`,
    '// Edit freely: running "Add GPU Dev Container" again merges into this file and keeps your changes and comments.',
    '{',
    `${i}"name": ${jsonStr(`${name} (${fw})`)},`,
    comment(
      `The image: the Dockerfile's "dev" stage (frameworks and dependencies only; the code is mounted, not copied). ${stack.why.join(' ')}`,
      i,
    ),
    `${i}"build": {`,
    `${i}${i}"dockerfile": ${jsonStr(dockerfilePath)},`,
    `${i}${i}"context": "..",`,
    `${i}${i}"target": "dev",`,
    `${i}${i}"args": { "BASE_IMAGE": ${jsonStr(stack.baseImage)}, "PYTHON_VERSION": ${jsonStr(pythonArg(stack))} }`,
    `${i}},`,
  ];
  if (stack.framework) {
    lines.push(
      comment(settings.why.hostRequirements!, i),
      `${i}"hostRequirements": { "gpu": ${jsonStr(settings.gpu)} },`,
    );
  }
  lines.push(
    comment(settings.why.runArgs!, i),
    `${i}"runArgs": [${settings.runArgs.map(jsonStr).join(', ')}],`,
    comment(settings.why.mounts!, i),
    `${i}"mounts": [`,
    ...settings.mounts.map((m, k) => `${i}${i}${jsonStr(m)}${k < settings.mounts.length - 1 ? ',' : ''}`),
    `${i}],`,
    comment(settings.why.containerEnv!, i),
    `${i}"containerEnv": {`,
    ...Object.entries(settings.containerEnv).map(
      ([k, v], n, all) => `${i}${i}${jsonStr(k)}: ${jsonStr(v)}${n < all.length - 1 ? ',' : ''}`,
    ),
    `${i}},`,
    comment("The code at /workspace, where the Dockerfile's WORKDIR and `ml-containers run` put it.", i),
    `${i}"workspaceMount": "source=\${localWorkspaceFolder},target=/workspace,type=bind",`,
    `${i}"workspaceFolder": "/workspace",`,
    `${i}"customizations": { "vscode": { "extensions": [${settings.extensions.map(jsonStr).join(', ')}] } },`,
    comment(
      `Work as a non-root user: uid 1000, or your own uid where the dev container changes it to match the host, so files created in the mounted project belong to you. The environment is writable by that user either way (group ${ENV_GROUP}).`,
      i,
    ),
    `${i}"remoteUser": "${USER}"`,
  );
  const post = postCreateCommand(installer, profile);
  if (post) {
    lines[lines.length - 1] += ',';
    lines.push(
      comment(
        `Re-syncs the environment (${installer}) when the container is created, so dependency changes since the image was built are picked up.`,
        i,
      ),
      `${i}"postCreateCommand": ${jsonStr(post)}`,
    );
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * uv syncs the lock into the image's venv with the venv's own Python: never a Python it downloads (uv prefers its
 * own builds, and a .python-version would make it fetch one, silently replacing the image's).
 */
const UV_INTO_VENV = 'UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON=/opt/venv/bin/python UV_PYTHON_DOWNLOADS=never';

/** The framework's wheel index as pip and uv flags: the FRAMEWORK_INDEX_URL build argument, left out when empty. */
export const FRAMEWORK_INDEX_FLAGS = '${FRAMEWORK_INDEX_URL:+--extra-index-url "$FRAMEWORK_INDEX_URL"}';
const frameworkIndex = (stack: StackChoice): string => (stack.extraIndexUrl ? ` ${FRAMEWORK_INDEX_FLAGS}` : '');

/**
 * The build's network, sourced by every step that downloads: the CA in MLC_CA_BUNDLE trusted for that step only (the
 * bundle is deleted when the step's shell exits, so no layer keeps it), and pip's index settings handed to uv.
 */
export const FETCH_SCRIPT = '/usr/local/lib/mlc-fetch.sh';
const FETCH_LINES = [
  '# Sourced by the download steps of this Dockerfile (made by ML Containers): trusts MLC_CA_BUNDLE for the step only.',
  'if [ -n "$MLC_CA_BUNDLE" ]; then',
  '  MLC_BUNDLE=$(mktemp); trap \'rm -f "$MLC_BUNDLE"\' EXIT',
  '  cat /etc/ssl/certs/ca-certificates.crt > "$MLC_BUNDLE" 2>/dev/null || true',
  '  printf "%s\\n" "$MLC_CA_BUNDLE" >> "$MLC_BUNDLE"',
  '  export SSL_CERT_FILE="$MLC_BUNDLE" PIP_CERT="$MLC_BUNDLE" REQUESTS_CA_BUNDLE="$MLC_BUNDLE" CURL_CA_BUNDLE="$MLC_BUNDLE"',
  'fi',
  'if [ -n "$PIP_INDEX_URL" ]; then export UV_INDEX_URL="$PIP_INDEX_URL"; fi',
  'if [ -n "$PIP_EXTRA_INDEX_URL" ]; then export UV_EXTRA_INDEX_URL="$PIP_EXTRA_INDEX_URL"; fi',
];
/** A RUN step that downloads: with the build's network (FETCH_SCRIPT), and group-writable where it installs. */
const fetching = (command: string, groupWritable = true): string =>
  `RUN . ${FETCH_SCRIPT} && ${groupWritable ? `${GROUP_WRITABLE} ` : ''}${command}`;

/** The build arguments of the build's network, declared in each stage that downloads. */
function networkArgs(stack: StackChoice): string[] {
  return [
    'ARG MLC_CA_BUNDLE',
    'ARG PIP_INDEX_URL',
    'ARG PIP_EXTRA_INDEX_URL',
    'ARG PIP_TRUSTED_HOST',
    ...(stack.extraIndexUrl ? [`ARG FRAMEWORK_INDEX_URL=${stack.extraIndexUrl}`] : []),
  ];
}

function envCopyAndInstall(
  installer: Scaffold['installer'],
  profile: ProjectProfile,
  stack: StackChoice,
  packages: readonly DeclaredPackage[],
): string[] {
  const extra = frameworkIndex(stack);
  const out: string[] = [];
  const top = profile.envFiles.filter((f) => !f.includes('/'));
  switch (installer) {
    case 'pip': {
      const { usable } = requirementFiles(profile);
      out.push('# Dependencies only: the requirement files, not the code (a code change does not rebuild this layer).');
      out.push(dockerCopy(usable, './'));
      out.push(
        `RUN pip install${extra} ${mainRequirements(profile)
          .map((r) => `-r ${shellQuote(r)}`)
          .join(' ')}`,
      );
      break;
    }
    case 'uv': {
      const files = top.filter((f) => f === 'pyproject.toml' || f === 'uv.lock');
      out.push(`COPY ${files.join(' ')} ./`);
      if (files.includes('uv.lock')) {
        // the lock names its own indexes: the versions it pins are the ones installed, into the image's venv
        out.push('# Dependencies only, exactly as uv.lock pins them (the project itself comes with the mounted code).');
        out.push(`RUN pip install uv && ${UV_INTO_VENV} uv sync --frozen --no-install-project`);
      } else {
        out.push(
          '# Dependencies only, with uv from pyproject.toml (the project itself is installed from the mounted code).',
        );
        out.push(`RUN pip install uv && uv pip install${extra} -r pyproject.toml`);
      }
      break;
    }
    case 'poetry': {
      out.push('# Dependencies only, with Poetry into the image environment (no virtualenv of its own).');
      out.push(`COPY ${top.filter((f) => f === 'pyproject.toml' || f === 'poetry.lock').join(' ')} ./`);
      out.push(
        'RUN pip install poetry && poetry config virtualenvs.create false && poetry install --no-root --no-interaction',
      );
      break;
    }
    case 'conda': {
      const env = condaEnvFile(profile);
      out.push(`# The conda environment from ${env}, created with micromamba at /opt/env. Its pip section's editable`);
      out.push('# lines need the code (-e .) or git (-e git+…): the code installs in the train stage and when the dev');
      out.push(
        '# container is created; a git requirement is installed here, not editable (nothing to edit in an image).',
      );
      out.push(`COPY ${env} ./`);
      out.push(
        `RUN grep -vE "${CONDA_EDITABLE}" ${env} > /tmp/environment.yml \\`,
        ' && micromamba create -y -p /opt/env -f /tmp/environment.yml && micromamba clean -a -y \\',
        ` && (grep -oE "${CONDA_EDITABLE}git\\+\\S+" ${env} | sed -E "s/${CONDA_EDITABLE}//" | xargs -r /opt/env/bin/pip install) \\`,
        ' && rm /tmp/environment.yml',
      );
      break;
    }
    case 'pipenv': {
      out.push('# Dependencies only, with Pipenv into the image environment.');
      out.push(`COPY ${top.filter((f) => f === 'Pipfile' || f === 'Pipfile.lock').join(' ')} ./`);
      out.push('RUN pip install pipenv && pipenv install --system --skip-lock');
      break;
    }
    case 'setup':
      out.push(
        '# setup.py/setup.cfg: the package and its dependencies install from the code (postCreateCommand, train stage).',
      );
      break;
    default:
      break;
  }
  const loose = installer === 'none' ? looseRequirements(profile, packages, stack) : [];
  if (stack.frameworkRequirement || loose.length) {
    out.push(
      loose.length
        ? `# No environment file: ${[stack.frameworkRequirement ? 'the framework build for this CUDA' : '', 'what the project installs in its own commands and the well-known packages its code imports'].filter(Boolean).join(', and ')}. A requirements.txt would pin them (and name what this list cannot know).`
        : `# The framework build for this CUDA (the project's files do not declare it).`,
    );
    const all = [...(stack.frameworkRequirement ? [stack.frameworkRequirement] : []), ...loose];
    out.push(`RUN pip install${extra} ${all.map(shellQuote).join(' ')}`);
  }
  return out;
}

/** Debian packages a Python package needs and its wheels do not bring (python:*-slim and CUDA runtime images lack them). */
const SYSTEM_LIBRARIES: Readonly<Record<string, readonly string[]>> = {
  lightgbm: ['libgomp1'],
  'opencv-python': ['libgl1', 'libglib2.0-0'],
  'opencv-contrib-python': ['libgl1', 'libglib2.0-0'],
};

/** The apt step for the system libraries the project's packages need, or none. */
function systemLibraries(profile: ProjectProfile, packages: readonly DeclaredPackage[]): string[] {
  const names = new Set([...packages.map((p) => p.name), ...profile.frameworks]);
  const vcs = packages.filter((p) => p.vcs).map((p) => p.name);
  const libs = [...new Set([...names].flatMap((n) => SYSTEM_LIBRARIES[n] ?? []))];
  const debs = [...libs, ...(vcs.length ? ['git'] : [])];
  if (!debs.length) return [];
  const needs = [...[...names].filter((n) => SYSTEM_LIBRARIES[n]), ...vcs.map((n) => `${n} from git`)].join(', ');
  return [
    `# System packages the project's Python packages need (${needs}): ${[libs.length ? 'their wheels do not bring these libraries' : '', vcs.length ? 'pip installs from version control with git' : ''].filter(Boolean).join('; ')}.`,
    `RUN . ${FETCH_SCRIPT} && apt-get update && apt-get install -y --no-install-recommends ${debs.join(' ')} \\`,
    ' && rm -rf /var/lib/apt/lists/*',
  ];
}

/** PyPI names of frameworks detection reports from imports, for a project that declares none of them. */
const FRAMEWORK_DISTRIBUTIONS: Partial<Record<Framework, string>> = {
  sklearn: 'scikit-learn',
  xgboost: 'xgboost',
  lightgbm: 'lightgbm',
  transformers: 'transformers',
  lightning: 'lightning',
  keras: 'keras',
};

/** A requirement as pip reads it, with nothing a shell or pip option could hide in it. */
const PLAIN_REQUIREMENT =
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}(?:\[[A-Za-z0-9._,-]{1,100}\])?(?:[=<>!~]=?[A-Za-z0-9.*+!,<>=~-]{1,100})?$/;

/**
 * For a project without an environment file: the packages its own commands install (a README's `pip install a b c`,
 * a notebook's `!pip install`) and the frameworks its code imports that nothing else brings, each once, the
 * framework build (stack.frameworkRequirement) left out. Only plain requirements (no URL, path or option).
 */
function looseRequirements(
  profile: ProjectProfile,
  packages: readonly DeclaredPackage[],
  stack: StackChoice,
): string[] {
  const frameworkName = stack.frameworkRequirement?.split(/[=<>!~[]/)[0];
  const seen = new Set([frameworkName, frameworkName === 'torch' ? 'pytorch' : undefined].filter(Boolean));
  const out: string[] = [];
  const add = (name: string, requirement: string): void => {
    if (seen.has(name) || !PLAIN_REQUIREMENT.test(requirement)) return;
    seen.add(name);
    out.push(requirement);
  };
  for (const p of packages) {
    if (p.name === 'pytorch' || p.name.startsWith('nvidia-')) continue;
    add(p.name, `${p.name}${p.extras.length ? `[${p.extras.join(',')}]` : ''}${p.spec.replace(/\s+/g, '')}`);
  }
  for (const fw of profile.frameworks) {
    const dist = FRAMEWORK_DISTRIBUTIONS[fw];
    if (dist) add(dist, dist);
  }
  return out;
}

export function dockerfile(
  profile: ProjectProfile,
  stack: StackChoice,
  installer: Scaffold['installer'],
  mode: ScaffoldMode,
  warnings: readonly string[] = [],
  packages: readonly DeclaredPackage[] = [],
): string {
  const name = path.basename(profile.root);
  const launch = launcherCommand(profile);
  const pythonSetup =
    installer === 'conda'
      ? [
          '# micromamba for the conda environment; its Python comes from environment.yml.',
          `RUN . ${FETCH_SCRIPT} && apt-get update && apt-get install -y --no-install-recommends ca-certificates curl bzip2 git \\`,
          ' && curl -fsSL https://micro.mamba.pm/api/micromamba/linux-64/latest | tar -xj -C /usr/local bin/micromamba \\',
          ' && rm -rf /var/lib/apt/lists/*',
          'ENV MAMBA_ROOT_PREFIX=/opt/micromamba PATH=/opt/env/bin:$PATH',
        ]
      : [
          "# Python: the image's own when PYTHON_VERSION is empty or names it, otherwise one installed with uv (under",
          "# /opt/python: uv's default, /root/.local/share/uv, is closed to the user); in a venv at /opt/venv that the",
          '# user and its group own, chowned while it is still small (a chown -R after the install would copy every file',
          '# into one more layer).',
          `RUN . ${FETCH_SCRIPT} && if ! command -v python3 >/dev/null 2>&1; then \\`,
          '      apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-pip ca-certificates \\',
          '      && rm -rf /var/lib/apt/lists/*; \\',
          '    fi \\',
          ' && if [ -z "$PYTHON_VERSION" ] || [ "$(python3 -c \'import sys; print("%d.%d" % sys.version_info[:2])\')" = "$PYTHON_VERSION" ]; then \\',
          '      python3 -m venv /opt/venv; \\',
          '    else \\',
          '      PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install uv \\',
          '      && UV_PYTHON_INSTALL_DIR=/opt/python uv venv --python "$PYTHON_VERSION" /opt/venv; \\',
          '    fi \\',
          ` && chown -R "$USERNAME:${ENV_GROUP}" /opt/venv && chmod -R g+w /opt/venv && find /opt/venv -type d -exec chmod g+s {} +`,
          'ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH',
        ];
  const labels = [
    `org.opencontainers.image.title=${dockerQuoted(name)}`,
    `org.ml-containers.framework=${dockerQuoted(stack.framework ?? 'none')}`,
    ...(stack.frameworkVersion ? [`org.ml-containers.framework-version=${dockerQuoted(stack.frameworkVersion)}`] : []),
    `org.ml-containers.cuda=${dockerQuoted(stack.cuda ?? 'none')}`,
    'org.ml-containers.python="${PYTHON_VERSION}"',
  ];
  const lines = [
    `# Training environment for ${commentText(name)}, made by ML Containers from the detected project.`,
    '#   dev:   frameworks and dependencies only; the dev container mounts the code (for working together)',
    '#   train: dev plus the code, started by the launcher (for clusters: docker build --target train .)',
    ...stack.why.map((w) => `# ${commentText(w)}`),
    ...warnings.map((w) => `# Warning: ${commentText(w)}`),
    `ARG BASE_IMAGE=${stack.baseImage}`,
    '',
    'FROM ${BASE_IMAGE} AS dev',
    `ARG PYTHON_VERSION=${pythonArg(stack)}`,
    `ARG USERNAME=${USER}`,
    'ARG USER_UID=1000',
    'ENV DEBIAN_FRONTEND=noninteractive PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1',
    "# No download caches in the image (build-time only: the dev container's cache volumes still work).",
    'ARG PIP_NO_CACHE_DIR=1',
    'ARG UV_NO_CACHE=1',
    '# What this image is, for later checks (ml-containers check reads these labels back).',
    `LABEL ${labels.join(' \\\n      ')}`,
    "# A non-root user with the host user's usual uid, so files in the mounted project stay yours.",
    'RUN id -u "$USERNAME" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --non-unique --uid "$USER_UID" "$USERNAME"',
    `# The environment's group (the dev container may give the user another uid), and the cache folders the dev`,
    "# container's volumes mount on, made by the user so that the volumes are the user's too.",
    `RUN (getent group ${ENV_GROUP} >/dev/null || groupadd --system ${ENV_GROUP}) && usermod -aG ${ENV_GROUP} "$USERNAME" \\`,
    ` && su "$USERNAME" -s /bin/sh -c 'mkdir -p "$HOME/.cache/pip" "$HOME/.cache/huggingface" "$HOME/.cache/torch"'`,
    `RUN printf '%s\\n' \\\n${FETCH_LINES.map((l) => `      ${shellQuote(l)} \\`).join('\n')}\n      > ${FETCH_SCRIPT}`,
    "# The build's network: ML Containers passes the host's CA and package index settings as these arguments.",
    ...networkArgs(stack),
    ...pythonSetup,
    ...(installer === 'conda' ? [] : systemLibraries(profile, packages)),
    'WORKDIR /workspace',
    ...(installer === 'conda'
      ? [
          ...envCopyAndInstall(installer, profile, stack, packages).map((l) =>
            l.startsWith('RUN ') ? fetching(l.slice(4), false) : l,
          ),
          `RUN chown -R "$USERNAME:${ENV_GROUP}" /opt/env && chmod -R g+w /opt/env && chown "$USERNAME" /workspace`,
          'USER $USERNAME',
        ]
      : [
          '# The dependencies are installed as the user, into its venv: no chown of the installed files afterwards.',
          'RUN chown "$USERNAME" /workspace',
          'USER $USERNAME',
          ...envCopyAndInstall(installer, profile, stack, packages).map((l) =>
            l.startsWith('RUN ') ? fetching(l.slice(4)) : l,
          ),
        ]),
  ];
  if (mode !== 'dev') {
    lines.push(
      '',
      'FROM dev AS train',
      `ARG USERNAME=${USER}`,
      '# The code, for running where nothing is mounted (a cluster node).',
      'COPY --chown=$USERNAME . /workspace',
      ...(installer === 'setup' || installer === 'conda' ? networkArgs(stack) : []),
      ...(installer === 'setup' ? [fetching(`pip install${frameworkIndex(stack)} .`)] : []),
      ...(installer === 'conda'
        ? [
            "# The project itself, where the environment's pip section installs it (-e .).",
            fetching(
              `if grep -qE "${CONDA_EDITABLE}\\.[[:space:]]*$" ${condaEnvFile(profile)}; then pip install --no-deps .; fi`,
            ),
          ]
        : []),
      ...(profile.entrypoints.length > 0
        ? [
            `# ${commentText(launch.why)} Arguments after the image name are passed on.`,
            `ENTRYPOINT ${json(launch.argv)}`,
          ]
        : [
            '# No training entry script was detected: run this image with your command after its name',
            '# (docker run IMAGE python train.py), or set ENTRYPOINT here. Without one it says so and fails.',
            `CMD ${json(['sh', '-c', `echo ${shellQuote(NO_COMMAND)} >&2; exit 2`])}`,
          ]),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The PYTHON_VERSION build argument: empty where the base image's own Python is the one to use. */
const pythonArg = (stack: StackChoice): string => (stack.pythonFromImage ? '' : stack.python);

const NO_COMMAND =
  'This image has no training command: run it with one after the image name (e.g. python train.py), or set ENTRYPOINT in its Dockerfile.';

/**
 * Data, not code, in the folders where projects keep datasets and experiment output: by file type, never the whole
 * folder (projects keep configs and scripts there: data/*.yaml, runs/*.sh). No `!` exceptions: below the first level
 * the Docker CLI does not apply them inside an excluded folder.
 */
const DATA_FOLDERS = ['data', 'datasets', 'runs', 'outputs'];
const DATA_FILES = ['csv', 'tsv', 'jsonl', 'txt', 'log', 'jpg', 'jpeg', 'png', 'wav', 'mp3', 'flac', 'mp4'];
/** File types that are data wherever they are. */
const DATA_ANYWHERE = ['npy', 'npz', 'parquet', 'arrow', 'feather', 'h5', 'hdf5', 'tfrecord', 'pkl', 'pickle'];
const ARCHIVES = ['zip', 'tar', 'tgz', 'gz', 'bz2', 'xz', 'zst', '7z'];
const DATA_IGNORES = [
  '# datasets, checkpoints and experiment logs (by file type: the code, configs and scripts kept beside them stay)',
  ...DATA_FOLDERS.flatMap((d) => [...DATA_FILES.map((x) => `${d}/**/*.${x}`), `${d}/**/events.out.tfevents.*`]),
  ...[...DATA_ANYWHERE, ...ARCHIVES].map((x) => `**/*.${x}`),
].join('\n');

export const DOCKERIGNORE = `# Keeps the build context small and the training image free of data and secrets (made by ML Containers).
.git
.gitignore
**/__pycache__
**/*.py[cod]
**/.ipynb_checkpoints
.venv
venv
env
.env
.mypy_cache
.pytest_cache
.ruff_cache
*.egg-info
node_modules
.ml-containers
${DATA_IGNORES}
checkpoints
**/*.ckpt
**/*.pt
**/*.pth
**/*.safetensors
**/*.bin
wandb
mlruns
lightning_logs
`;

export function generateScaffold(
  detected: ProjectProfile,
  packages: readonly DeclaredPackage[],
  opts: ScaffoldOptions = {},
): Scaffold {
  validateScaffoldOptions(opts);
  const { profile, warnings } = safeProfile(detected);
  warnings.push(...requirementFiles(profile).skipped.map(skippedRequirementsWarning));
  const stack = chooseStack(profile, packages, opts);
  const installer = installerFor(profile);
  const settings = gpuSettings(profile, stack, opts);
  const mode = opts.mode ?? 'both';
  const dockerfileRel = opts.dockerfileAt === 'root' ? 'Dockerfile' : '.devcontainer/Dockerfile';
  const files: GeneratedFile[] = [];
  if (mode !== 'train') {
    files.push({
      path: '.devcontainer/devcontainer.json',
      content: devcontainerJson(
        profile,
        stack,
        settings,
        installer,
        opts.dockerfileAt === 'root' ? '../Dockerfile' : 'Dockerfile',
      ),
    });
  }
  files.push({ path: dockerfileRel, content: dockerfile(profile, stack, installer, mode, warnings, packages) });
  files.push({ path: '.dockerignore', content: DOCKERIGNORE });
  return { stack, settings, files, installer, warnings };
}

/** The header our generated files carry: files with it are ours, and say nothing new about the project. */
export const GENERATED_MARKER = 'made by ML Containers';

/**
 * Detects the project for scaffolding: like detectProjectDetailed, but files this scaffold wrote earlier (they carry
 * GENERATED_MARKER) are not read as the project's own pins, so scaffolding twice gives the same files.
 */
export async function detectForScaffold(root: string, opts: { signal?: AbortSignal } = {}): Promise<ProjectDetails> {
  const exclude: string[] = [];
  for (const rel of ['.devcontainer/devcontainer.json', '.devcontainer/Dockerfile', 'Dockerfile']) {
    try {
      // regular files inside the project only (never a FIFO, a device or a link out), and not a huge one
      const text = await readRegularFile(path.join(root, rel), { root, cap: 1024 * 1024 });
      if (text?.includes(GENERATED_MARKER)) exclude.push(`/${rel}`);
    } catch {
      // not there, or refused: the scaffold's plan says why when it comes to write the file
    }
  }
  return detectProjectDetailed(root, { exclude, ...(opts.signal ? { signal: opts.signal } : {}) });
}
