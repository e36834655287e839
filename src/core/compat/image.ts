/**
 * What an image carries, from what we can see of it: its reference's tag (nvidia/cuda, pytorch/pytorch,
 * nvcr.io/nvidia/*, tensorflow/tensorflow:*-gpu), a local image's environment and labels, a Dockerfile (FROM with ARG
 * defaults, pip installs of torch/tensorflow/jax with versions and CUDA index URLs), or a `--torch` version.
 */
import { DockerfileParser } from 'dockerfile-ast';
import { expandArgs } from '../detect/declarations';
import { cudaFromIndexUrl, cudaFromLocalVersion } from '../detect/versions';
import { NVIDIA_CUDA_REQUIRE_EXCEPTIONS } from './data/cuda';
import { NGC_PYTORCH, TF_BUILDS, TORCH_ARCH_LISTS, TORCH_RELEASES } from './data/frameworks';
import type { ImageFacts } from './types';
import { compareVersions, cudaFromVariant, majorMinorOf, variantFromCuda } from './versions';

export function emptyImageFacts(ref: string | null = null): ImageFacts {
  return {
    ref,
    cudaVersion: null,
    framework: null,
    frameworkVersion: null,
    frameworkCuda: null,
    archList: null,
    requireCuda: null,
    cudaCompat: null,
    kind: null,
    notes: [],
  };
}

/** Splits `registry/repo/name:tag@digest` into repository and tag. */
export function parseImageRef(ref: string): { repo: string; tag: string | null } {
  const noDigest = ref.trim().split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', slash + 1);
  if (colon === -1) return { repo: noDigest.toLowerCase(), tag: null };
  return { repo: noDigest.slice(0, colon).toLowerCase(), tag: noDigest.slice(colon + 1) };
}

/** The NVIDIA_REQUIRE_CUDA an `nvidia/cuda:<x.y.z>` image sets: `cuda>=x.y` plus its driver-branch exceptions. */
export function nvidiaCudaRequirement(cuda: string): string {
  const base = `cuda>=${majorMinorOf(cuda)}`;
  const row = NVIDIA_CUDA_REQUIRE_EXCEPTIONS.find(
    (r) => compareVersions(cuda, r.from) >= 0 && compareVersions(cuda, r.to) <= 0,
  );
  if (!row) return base;
  const brands = row.consumerBrands
    ? ['tesla', 'unknown', 'nvidia', 'nvidiartx', 'geforce', 'geforcertx', 'quadro', 'quadrortx', 'titan', 'titanrtx']
    : [
        'grid',
        'tesla',
        'nvidia',
        'quadro',
        'quadrortx',
        'nvidiartx',
        'vapps',
        'vpc',
        'vcs',
        'vws',
        'cloudgaming',
        'unknown',
      ];
  const terms = row.branches.flatMap((b) => brands.map((brand) => `brand=${brand},driver>=${b},driver<${b + 1}`));
  return [base, ...terms].join(' ');
}

/** The arch list of a PyTorch release (major.minor) and wheel variant, if known. */
export function torchArchList(torch: string, variant: string): string | null {
  const mm = majorMinorOf(torch);
  return TORCH_ARCH_LISTS.find((r) => r.torch.includes(mm) && r.variant === variant)?.archList ?? null;
}

/** Facts from an image reference alone. */
export function factsFromImageRef(ref: string): ImageFacts {
  const f = emptyImageFacts(ref);
  const { repo, tag } = parseImageRef(ref);
  const name = repo.replace(/^(?:docker\.io\/|index\.docker\.io\/)/, '').replace(/^library\//, '');
  if (!tag) {
    f.notes.push(`${ref} has no tag, so nothing can be read from it.`);
    return f;
  }
  if (name === 'nvidia/cuda' || name === 'nvcr.io/nvidia/cuda') {
    const m = /^(\d+\.\d+(?:\.\d+)?)-/.exec(tag);
    if (m) {
      f.kind = 'nvidia-cuda';
      f.cudaVersion = m[1]!;
      f.requireCuda = nvidiaCudaRequirement(m[1]!);
      f.cudaCompat = true;
      f.notes.push(
        `nvidia/cuda tag: CUDA ${m[1]}, NVIDIA_REQUIRE_CUDA and cuda-compat as NVIDIA's base images set them.`,
      );
    }
    return f;
  }
  if (name === 'pytorch/pytorch') {
    const m = /^(\d+\.\d+(?:\.\d+)?)-cuda(\d+\.\d+)-cudnn(\d+)-(runtime|devel)$/.exec(tag);
    if (m) {
      f.kind = 'pytorch';
      f.framework = 'pytorch';
      f.frameworkVersion = m[1]!;
      f.frameworkCuda = m[2]!;
      f.cudaVersion = m[2]!;
      f.archList = torchArchList(m[1]!, variantFromCuda(m[2]!));
      f.cudaCompat = false;
      f.notes.push(
        `pytorch/pytorch tag: PyTorch ${m[1]} built for CUDA ${m[2]}; its runtime stage starts from plain Ubuntu (no NVIDIA_REQUIRE_CUDA, no cuda-compat).`,
      );
    } else if (/^(\d+\.\d+(?:\.\d+)?)-runtime$/.test(tag)) {
      f.kind = 'pytorch';
      f.framework = 'pytorch';
      f.frameworkVersion = tag.replace(/-runtime$/, '');
      f.notes.push('pytorch/pytorch CPU image: no CUDA.');
    }
    return f;
  }
  const ngc = /^nvcr\.io\/nvidia\/(pytorch|tensorflow|jax)$/.exec(name);
  if (ngc) {
    const m = /^(\d\d\.\d\d)-/.exec(tag);
    f.kind = 'ngc';
    f.cudaCompat = true;
    f.framework = ngc[1] as ImageFacts['framework'];
    const row = m && ngc[1] === 'pytorch' ? NGC_PYTORCH.find((r) => r.tag === m[1]) : undefined;
    if (row) {
      f.cudaVersion = row.cuda;
      f.frameworkCuda = majorMinorOf(row.cuda);
      f.frameworkVersion = row.torch;
      f.archList = row.archList;
      f.notes.push(
        `NGC ${m![1]} release notes: CUDA ${row.cuda}${row.torch ? `, PyTorch ${row.torch}` : ''} (${row.status}).`,
      );
    } else {
      f.notes.push(
        `NGC ${tag}: its CUDA version is not in our table; run the check on the pulled image for its real contents.`,
      );
    }
    return f;
  }
  if (name === 'tensorflow/tensorflow') {
    const m = /^(\d+\.\d+)(?:\.\d+)?-gpu/.exec(tag);
    if (m) {
      f.kind = 'tensorflow';
      f.framework = 'tensorflow';
      f.frameworkVersion = tag.split('-')[0]!;
      const row = TF_BUILDS.find((r) => r.tf === m[1]);
      if (row) {
        f.frameworkCuda = row.cuda;
        f.cudaVersion = row.cuda;
        f.notes.push(`TensorFlow ${m[1]} is tested with CUDA ${row.cuda} and cuDNN ${row.cudnn}.`);
      }
    }
    return f;
  }
  f.kind = 'other';
  const cuda = /(?:^|[-_])cuda[-_]?(\d+\.\d+(?:\.\d+)?)/.exec(tag);
  if (cuda) {
    f.cudaVersion = cuda[1]!;
    f.notes.push(`the tag names CUDA ${cuda[1]}.`);
  }
  return f;
}

/** Facts from a local image's configuration (docker inspect: Config.Env and Config.Labels). */
export function factsFromImageConfig(
  ref: string,
  env: readonly string[],
  labels: Record<string, string> = {},
): ImageFacts {
  const f = factsFromImageRef(ref);
  const vars = new Map(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const));
  const cuda = vars.get('CUDA_VERSION');
  if (cuda) f.cudaVersion = cuda;
  const req = vars.get('NVIDIA_REQUIRE_CUDA');
  if (req !== undefined) f.requireCuda = req;
  else if (cuda) f.requireCuda = `cuda>=${majorMinorOf(cuda)}`; // legacy images: the toolkit adds cuda>=major.minor
  if (/^(?:1|true|yes)$/i.test(vars.get('NVIDIA_DISABLE_REQUIRE') ?? '')) f.requireCuda = null;
  if (vars.has('NV_CUDA_COMPAT_PACKAGE') || vars.has('CUDA_DRIVER_VERSION')) f.cudaCompat = true;
  const torch = vars.get('PYTORCH_VERSION') ?? labels['org.ml-containers.framework-version'];
  if (torch) {
    f.framework = 'pytorch';
    f.frameworkVersion = torch;
  }
  const fw = labels['org.ml-containers.framework'];
  if (fw === 'pytorch' || fw === 'tensorflow' || fw === 'jax') f.framework = fw;
  const fwCuda = labels['org.ml-containers.cuda'];
  if (fwCuda) f.frameworkCuda = fwCuda;
  const arch = labels['org.ml-containers.arch-list'] ?? vars.get('TORCH_CUDA_ARCH_LIST');
  if (arch) f.archList = arch.replace(/\s+/g, ';');
  f.kind = f.kind ?? 'local';
  f.notes.push(`the local image's environment${Object.keys(labels).length ? ' and labels' : ''}.`);
  return f;
}

/** Applies a PyTorch pin (`2.7.1`, `2.7.1+cu128`, or a version plus an index URL's CUDA) to the facts. */
export function applyTorchPin(f: ImageFacts, version: string, cuda: string | null, note: string): void {
  f.framework = 'pytorch';
  f.frameworkVersion = version.replace(/\+.*$/, '');
  const wheelCuda = cudaFromLocalVersion(version) ?? cuda;
  if (wheelCuda) {
    f.frameworkCuda = wheelCuda;
    f.archList = torchArchList(f.frameworkVersion, variantFromCuda(wheelCuda));
  } else {
    f.frameworkCuda = null;
    f.archList = null;
  }
  f.notes.push(note);
}

/** The wheel variants of a PyTorch release (major.minor), newest CUDA last. */
export function torchVariants(torch: string): readonly string[] {
  return TORCH_RELEASES.find((r) => r.torch === majorMinorOf(torch))?.variants ?? [];
}

export { cudaFromVariant };

/**
 * Facts from a Dockerfile: the last stage's base image (following `FROM stage` chains and ARG defaults, or a
 * `--build-arg`-style override), then framework installs in RUN lines, which win over what the base image has.
 */
export function factsFromDockerfile(
  text: string,
  ref: string | null,
  buildArgs: Record<string, string> = {},
): ImageFacts {
  const instructions = DockerfileParser.parse(text).getInstructions();
  const args = new Map<string, string>();
  const stages = new Map<string, ImageFacts>();
  let current: ImageFacts = emptyImageFacts(ref);
  for (const ins of instructions) {
    const kw = ins.getKeyword().toUpperCase();
    const content = ins.getArgumentsContent() ?? '';
    if (kw === 'ARG') {
      const m = /^(\w+)(?:=("?)([^"\s]*)\2)?/.exec(content.trim());
      if (m) args.set(m[1]!, buildArgs[m[1]!] ?? expandArgs(m[3] ?? '', args));
    } else if (kw === 'FROM') {
      const words = content
        .trim()
        .split(/\s+/)
        .filter((w) => !w.startsWith('--'));
      const base = expandArgs(words[0] ?? '', args);
      const alias = words[1]?.toLowerCase() === 'as' ? words[2]?.toLowerCase() : undefined;
      const fromStage = stages.get(base.toLowerCase());
      current = fromStage ? { ...fromStage, notes: [...fromStage.notes] } : factsFromImageRef(base);
      // `FROM dev AS train` names an earlier stage: the image is still that stage's base
      current.ref = ref ?? (fromStage ? fromStage.ref : base);
      if (!fromStage) current.notes.unshift(`Dockerfile FROM ${base}.`);
      if (alias) stages.set(alias, current);
    } else if (kw === 'RUN') {
      const cmd = expandArgs(content, args);
      const index = /--(?:extra-)?index-url[ =](\S+)/.exec(cmd);
      const indexCuda = index ? cudaFromIndexUrl(index[1]!) : null;
      const torch = /\btorch(?:==|===)([\w.+]+)/.exec(cmd);
      if (torch) {
        applyTorchPin(
          current,
          torch[1]!,
          indexCuda,
          `Dockerfile RUN pip install torch==${torch[1]}${indexCuda ? ` from the cu${indexCuda.replace('.', '')} index` : ''}.`,
        );
      } else if (/\bpip3?\s+install\b[^&;|]*\btorch\b/.test(cmd) && indexCuda) {
        current.framework = 'pytorch';
        current.frameworkCuda = indexCuda;
        current.notes.push(`Dockerfile RUN pip install torch from the CUDA ${indexCuda} index.`);
      }
      const tf = /\btensorflow(?:\[and-cuda\])?==([\d.]+)/.exec(cmd);
      if (tf) {
        current.framework = 'tensorflow';
        current.frameworkVersion = tf[1]!;
        const row = TF_BUILDS.find((r) => r.tf === majorMinorOf(tf[1]!));
        current.frameworkCuda = row?.cuda ?? null;
        current.notes.push(`Dockerfile RUN pip install tensorflow==${tf[1]}.`);
      }
      const jax = /\bjax\[(cuda\d+)[\w-]*\](?:==([\d.]+))?/.exec(cmd);
      if (jax) {
        current.framework = 'jax';
        current.frameworkVersion = jax[2] ?? null;
        current.frameworkCuda = jax[1]!.replace('cuda', '');
        current.notes.push(`Dockerfile RUN pip install jax[${jax[1]}].`);
      }
    } else if (kw === 'ENV') {
      const m = /\bNVIDIA_DISABLE_REQUIRE[= ]+"?(1|true)/i.exec(content);
      if (m) current.requireCuda = null;
    }
  }
  current.kind = current.kind ?? 'dockerfile';
  return current;
}
