/**
 * The compatibility rules: host driver vs the image's CUDA (toolkit minimum, minor-version and forward
 * compatibility, the NVIDIA Container Toolkit's NVIDIA_REQUIRE_CUDA gate), GPU architecture vs the framework
 * build's kernels (PyTorch's own binary-compatibility rules, PTX), architectures a CUDA release removed, whether
 * the engine can attach GPUs at all, and /dev/shm for DataLoader workers. Pure: facts in, findings out.
 */
import {
  ARCH_FIRST_CUDA,
  ARCH_REMOVALS,
  MINOR_VERSION_FLOOR,
  NVIDIA_CUDA_SUGGESTED_TAGS,
  TOOLKIT_DRIVERS,
} from './data/cuda';
import { JAX_EXTRAS, TF_MIN_CC, TORCH_ARCH_LISTS, TORCH_DEVICE_REQUIREMENT, TORCH_RELEASES } from './data/frameworks';
import { lookupGpu } from './data/gpus';
import { type SourceId, sourceLink } from './data/sources';
import type {
  CheckInput,
  CheckResult,
  EngineFacts,
  Finding,
  HostFacts,
  HostGpu,
  ImageFacts,
  Severity,
  Verdict,
} from './types';
import { compareVersions, cudaFromVariant, driverBranch, majorMinorOf, majorOf, versionAtLeast } from './versions';

function finding(id: string, severity: Severity, message: string, fix: string, sources: readonly SourceId[]): Finding {
  return { id, severity, message, fix, source: sources.map(sourceLink).join(' ; '), sourceIds: sources };
}

// ---------------------------------------------------------------------------------------------------------------
// driver <-> CUDA

/** The minimum Linux driver of a CUDA release (`12.8` = GA, `12.8.1` = Update 1), or null when not in the table. */
export function minDriverFor(cuda: string): { driver: string; source: SourceId } | null {
  const mm = majorMinorOf(cuda);
  const row = TOOLKIT_DRIVERS.find((r) => r.cuda === mm);
  if (!row) return null;
  const update = Number.parseInt(cuda.split('.')[2] ?? '0', 10) || 0;
  return { driver: row.minDriver[Math.min(update, row.minDriver.length - 1)]!, source: row.source };
}

/** The newest CUDA (major.minor) a driver supports natively: the newest release whose GA minimum it meets. */
export function cudaForDriver(driver: string): string | null {
  for (const row of TOOLKIT_DRIVERS) if (versionAtLeast(driver, row.minDriver[0]!)) return row.cuda;
  return null;
}

/** Evaluates an NVIDIA_REQUIRE_CUDA expression as the NVIDIA Container Toolkit does (space = OR, comma = AND). */
export function requirementSatisfied(
  expr: string,
  facts: { cuda: string | null; driver: string | null; brand: string | null; cc: string | null },
): { ok: boolean; firstTerm: string } {
  const alternatives = expr.trim().split(/\s+/).filter(Boolean);
  const firstTerm = alternatives[0] ?? '';
  const holds = (cond: string): boolean => {
    const m = /^(cuda|driver|arch|brand)(>=|<=|=|>|<)(.+)$/.exec(cond.trim());
    if (!m) return true;
    const [, key, op, value] = m as unknown as [string, string, string, string];
    const have =
      key === 'cuda' ? facts.cuda : key === 'driver' ? facts.driver : key === 'arch' ? facts.cc : facts.brand;
    if (have === null) return true; // unknown values pass, as in the toolkit
    if (key === 'brand') return op === '=' ? have === value.toLowerCase() : true;
    const c = compareVersions(have, value);
    return op === '>=' ? c >= 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : op === '<' ? c < 0 : c === 0;
  };
  const ok = alternatives.length === 0 || alternatives.some((alt) => alt.split(',').every(holds));
  return { ok, firstTerm };
}

function brandOf(gpu: HostGpu): string | null {
  if (gpu.datacenter) return 'tesla';
  if (/geforce|titan/i.test(gpu.name)) return /rtx/i.test(gpu.name) ? 'geforcertx' : 'geforce';
  if (/quadro/i.test(gpu.name)) return /rtx/i.test(gpu.name) ? 'quadrortx' : 'quadro';
  if (/\bRTX\b/i.test(gpu.name)) return 'nvidiartx';
  return gpu.datacenter === false ? 'nvidia' : null;
}

/** The CUDA a framework build runs on, as pip/torch version advice for a driver that supports `maxCuda`. */
function torchAdviceFor(maxCuda: string | null, cc: string | null): string | null {
  const releases = [...TORCH_RELEASES].reverse();
  for (const rel of releases) {
    for (const variant of [...rel.variants].reverse()) {
      const cuda = cudaFromVariant(variant);
      if (!cuda) continue;
      if (maxCuda && compareVersions(cuda, maxCuda) > 0) continue;
      const arch = TORCH_ARCH_LISTS.find((r) => r.torch.includes(rel.torch) && r.variant === variant)?.archList;
      if (cc && (!arch || !archListRuns(arch, cc).runs)) continue;
      return `PyTorch ${rel.torch} built for CUDA ${cuda} (pip install "torch==${rel.torch}.*" --index-url https://download.pytorch.org/whl/${variant})`;
    }
  }
  return null;
}

/**
 * Advice for a GPU no build within the host's CUDA supports: the build that needs the smallest driver upgrade (the
 * lowest CUDA with kernels for it, newest release of that variant), and that driver.
 */
function withDriverUpgrade(cc: string): string | null {
  const cudas = [...new Set(TORCH_RELEASES.flatMap((r) => r.variants.map(cudaFromVariant)))]
    .filter((c): c is string => c !== null)
    .sort(compareVersions);
  for (const cuda of cudas) {
    const advice = torchAdviceFor(cuda, cc);
    if (!advice || !advice.includes(`CUDA ${cuda} `)) continue;
    const min = minDriverFor(cuda);
    return min ? `${advice}, which needs driver ≥ ${min.driver}` : advice;
  }
  return null;
}

function suggestedBaseImage(maxCuda: string): string | null {
  const candidates = Object.keys(NVIDIA_CUDA_SUGGESTED_TAGS).filter((c) => compareVersions(c, maxCuda) <= 0);
  candidates.sort(compareVersions);
  const best = candidates[candidates.length - 1];
  return best ? `nvidia/cuda:${NVIDIA_CUDA_SUGGESTED_TAGS[best]}` : null;
}

function driverFindings(host: HostFacts, image: ImageFacts, out: Finding[]): void {
  const need = image.frameworkCuda ?? image.cudaVersion;
  if (!need || (!host.driverVersion && !host.cudaDriverVersion)) return;
  const needMM = majorMinorOf(need);
  const what = image.frameworkCuda
    ? `${frameworkLabel(image, false)} is built for CUDA ${image.frameworkCuda}`
    : `the image's CUDA is ${image.cudaVersion}`;
  const driverCuda = host.cudaDriverVersion ?? (host.driverVersion ? cudaForDriver(host.driverVersion) : null);
  const driverText = host.driverVersion
    ? `driver ${host.driverVersion}${driverCuda ? ` (CUDA ${driverCuda})` : ''}`
    : `a driver for CUDA ${driverCuda}`;
  const min = minDriverFor(need);
  const meetsMinimum =
    host.driverVersion && min
      ? versionAtLeast(host.driverVersion, min.driver)
      : driverCuda
        ? versionAtLeast(driverCuda, needMM)
        : false;

  if (meetsMinimum) return;

  const sameMajor = driverCuda !== null && majorOf(driverCuda) === majorOf(need);
  const floor = MINOR_VERSION_FLOOR[majorOf(need)];
  const minorCompatible = host.driverVersion && floor ? versionAtLeast(host.driverVersion, floor.driver) : sameMajor;
  const datacenter = host.gpus.length > 0 && host.gpus.every((g) => g.datacenter === true);
  const advice = torchAdviceFor(driverCuda, host.gpus[0]?.computeCapability ?? null);
  const base = driverCuda ? suggestedBaseImage(driverCuda) : null;
  const lower =
    advice ?? (base ? `an image with CUDA ≤ ${driverCuda} such as ${base}` : `an image built for CUDA ≤ ${driverCuda}`);

  if (sameMajor && minorCompatible) {
    out.push(
      finding(
        'driver-below-toolkit-minimum',
        'warning',
        `${cap(what)}, whose toolkit wants driver ≥ ${min?.driver ?? `CUDA ${needMM}`}, but the host has ${driverText}: it runs under CUDA minor-version compatibility, with a limited feature set (PTX JIT compilation of newer code fails).`,
        `Upgrade the driver to ≥ ${min?.driver ?? `a CUDA ${needMM} driver`}, or use ${lower}.`,
        [min?.source ?? 'cuda_rn_13_2', 'cuda_compat_minor'],
      ),
    );
    return;
  }

  // a different major (or below the major's floor): only forward compatibility can help
  const branch = host.driverVersion ? driverBranch(host.driverVersion) : null;
  const branchAccepted =
    image.requireCuda && branch !== null
      ? new RegExp(`driver>=${branch},driver<${branch + 1}\\b`).test(image.requireCuda)
      : false;
  if (image.cudaCompat && datacenter && branchAccepted) {
    out.push(
      finding(
        'forward-compatibility',
        'info',
        `${cap(what)} and the host has ${driverText}: it runs through CUDA forward compatibility (the image's cuda-compat package on a data-center GPU, driver branch R${branch} accepted by the image).`,
        `Nothing to do; to run without cuda-compat, upgrade the driver to ≥ ${min?.driver ?? `a CUDA ${needMM} driver`}.`,
        ['cuda_compat_fwd', 'nv_cuda_images'],
      ),
    );
    return;
  }
  let why = '';
  if (image.cudaCompat && !datacenter && branchAccepted) {
    why = ` The container may start (the image accepts R${branch}), but forward compatibility (cuda-compat) works only on data-center GPUs: CUDA fails with "forward compatibility was attempted on non supported HW".`;
  } else if (image.cudaCompat && datacenter && !branchAccepted && branch !== null) {
    why = ` Forward compatibility does not cover driver branch R${branch} for this image.`;
  } else if (!image.cudaCompat && datacenter) {
    why = ' The image has no cuda-compat package, so forward compatibility cannot help.';
  }
  out.push(
    finding(
      'driver-too-old',
      'error',
      `${cap(what)}, which needs driver ≥ ${min?.driver ?? `a CUDA ${needMM} driver`}, but the host has ${driverText}.${why}`,
      `Upgrade the driver to ≥ ${min?.driver ?? `one for CUDA ${needMM}`}, or use ${lower}.`,
      [min?.source ?? 'cuda_rn_13_2', 'cuda_compat_minor', 'cuda_compat_fwd'],
    ),
  );
}

function requireCudaFindings(host: HostFacts, image: ImageFacts, out: Finding[]): void {
  if (!image.requireCuda || out.some((f) => f.id === 'driver-too-old')) return;
  const driverCuda = host.cudaDriverVersion ?? (host.driverVersion ? cudaForDriver(host.driverVersion) : null);
  for (const gpu of host.gpus.length > 0 ? host.gpus : [null]) {
    const r = requirementSatisfied(image.requireCuda, {
      cuda: driverCuda,
      driver: host.driverVersion,
      brand: gpu ? brandOf(gpu) : null,
      cc: gpu?.computeCapability ?? null,
    });
    if (r.ok) continue;
    const min = r.firstTerm.startsWith('cuda>=') ? minDriverFor(r.firstTerm.slice(6)) : null;
    out.push(
      finding(
        'require-cuda-unsatisfied',
        'error',
        `The NVIDIA Container Toolkit will refuse to start this image on ${host.driverVersion ? `driver ${host.driverVersion}` : 'this host'}: "nvidia-container-cli: requirement error: unsatisfied condition: ${r.firstTerm}" (the image's NVIDIA_REQUIRE_CUDA), even though the code could run under minor-version compatibility.`,
        `Upgrade the driver${min ? ` to ≥ ${min.driver}` : ''}, or set NVIDIA_DISABLE_REQUIRE=1 in the container's environment (containerEnv / -e) to skip the check.`,
        ['ctk_repo', 'libnvc_repo', 'nv_cuda_images'],
      ),
    );
    return;
  }
}

/**
 * A PyTorch build older than the host's driver allows (the scaffold picks the build that runs on the widest range of
 * drivers): says which newer build of the same release this driver runs, with kernels for every GPU the host has.
 */
function newerBuildFindings(host: HostFacts, image: ImageFacts, out: Finding[]): void {
  if (image.framework !== 'pytorch' || !image.frameworkCuda || !host.driverVersion) return;
  if (out.some((f) => f.severity === 'error')) return;
  // an unpinned torch from a cuXYZ index: pip installs the newest release
  const release = image.frameworkVersion
    ? TORCH_RELEASES.find((r) => r.torch === majorMinorOf(image.frameworkVersion!))
    : TORCH_RELEASES[TORCH_RELEASES.length - 1];
  const runsHere = (variant: string): boolean => {
    const cuda = cudaFromVariant(variant);
    const min = cuda ? minDriverFor(cuda) : null;
    if (!cuda || !min || compareVersions(cuda, image.frameworkCuda!) <= 0) return false;
    if (!versionAtLeast(host.driverVersion!, min.driver)) return false;
    const arch = TORCH_ARCH_LISTS.find((r) => r.torch.includes(release!.torch) && r.variant === variant)?.archList;
    return host.gpus.every(
      (g) => !g.computeCapability || (arch !== undefined && archListRuns(arch, g.computeCapability).runs),
    );
  };
  const newer = release?.variants.filter((v) => v !== release.experimental && runsHere(v)).pop();
  if (!newer) return;
  const cuda = cudaFromVariant(newer)!;
  out.push(
    finding(
      'newer-build-available',
      'info',
      `${cap(frameworkLabel(image))} runs here; driver ${host.driverVersion} also runs its CUDA ${cuda} build (newer CUDA libraries and kernels).`,
      `Optional: scaffold with --cuda ${cuda}, or install from https://download.pytorch.org/whl/${newer}; keep CUDA ${image.frameworkCuda} to run on older drivers too.`,
      [minDriverFor(cuda)!.source, 'pt_release_md'],
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// GPU architecture

/** Whether a framework arch list (`7.5;8.0;9.0+PTX`) has code this compute capability runs. */
export function archListRuns(archList: string, cc: string): { runs: boolean; viaPtx: boolean } {
  const entries = archList
    .split(/[;\s,]+/)
    .filter(Boolean)
    .map((e) => ({ arch: e.replace(/\+PTX$/i, ''), ptx: /\+PTX$/i.test(e) }));
  for (const e of entries) {
    const key = e.arch.replace('.', '');
    const rule = TORCH_DEVICE_REQUIREMENT[key];
    if (rule) {
      const inOnly = rule.only?.includes(cc) ?? false;
      const inRange =
        compareVersions(cc, rule.min) >= 0 && compareVersions(cc, rule.max) < 0 && !(rule.except ?? []).includes(cc);
      if (inOnly || (!rule.only && inRange)) return { runs: true, viaPtx: false };
    } else if (e.arch === cc) {
      return { runs: true, viaPtx: false };
    }
  }
  // PTX is compiled just in time for the same or any newer architecture
  if (entries.some((e) => e.ptx && compareVersions(cc, e.arch) >= 0)) return { runs: true, viaPtx: true };
  return { runs: false, viaPtx: false };
}

const smOf = (cc: string): string => `sm_${cc.replace('.', '')}`;

function archFindings(host: HostFacts, image: ImageFacts, out: Finding[]): void {
  const driverCuda = host.cudaDriverVersion ?? (host.driverVersion ? cudaForDriver(host.driverVersion) : null);
  const imageCuda = image.frameworkCuda ?? image.cudaVersion;
  const seen = new Set<string>();
  for (const gpu of host.gpus) {
    const cc = gpu.computeCapability;
    if (!cc || seen.has(cc)) continue;
    seen.add(cc);

    // architectures removed by the image's CUDA release
    if (imageCuda) {
      const removal = ARCH_REMOVALS.find((r) => r.ccs.includes(cc) && compareVersions(imageCuda, r.removedIn) >= 0);
      if (removal) {
        const advice = torchAdviceFor(removal.lastCuda, cc);
        const base = suggestedBaseImage(removal.lastCuda);
        out.push(
          finding(
            'gpu-arch-removed',
            'error',
            `The ${gpu.name} (${removal.family}, compute capability ${cc}) is not supported by CUDA ${majorMinorOf(imageCuda)}: CUDA ${removal.removedIn} removed ${removal.family} (${smOf(cc)}); the last CUDA for it is ${removal.lastCuda}.`,
            `Use an image built for CUDA ≤ ${removal.lastCuda}${base ? ` (e.g. ${base})` : ''}${advice ? ` with ${advice}` : ''}.`,
            removal.sources,
          ),
        );
        continue;
      }
      const first = ARCH_FIRST_CUDA[cc];
      if (first && compareVersions(majorMinorOf(imageCuda), first) < 0 && !image.archList) {
        out.push(
          finding(
            'gpu-newer-than-cuda',
            'warning',
            `The ${gpu.name} (compute capability ${cc}) needs CUDA ≥ ${first} for native kernels, but the image's CUDA is ${majorMinorOf(imageCuda)}: only libraries that ship PTX will run, after a slow just-in-time compile.`,
            `Use an image with CUDA ≥ ${first}${suggestedBaseImage(driverCuda ?? first) ? ` (e.g. ${suggestedBaseImage(driverCuda ?? first)})` : ''}.`,
            ['cmake_arch'],
          ),
        );
      }
    }

    // the framework build's kernels
    if (image.framework === 'pytorch' && image.archList) {
      const r = archListRuns(image.archList, cc);
      if (!r.runs) {
        const advice = torchAdviceFor(driverCuda, cc) ?? withDriverUpgrade(cc);
        out.push(
          finding(
            'gpu-arch-unsupported',
            'error',
            `${cap(frameworkLabel(image))} has kernels for ${image.archList
              .split(';')
              .map((a) => smOf(a.replace(/\+PTX/i, '')))
              .join(
                ' ',
              )} and no PTX the ${gpu.name} (${smOf(cc)}, compute capability ${cc}) can use: "no kernel image is available for execution on the device".`,
            advice ? `Use ${advice}.` : `Use a PyTorch build whose arch list includes ${cc}.`,
            ['pt_cuda_init', 'pt_release_md'],
          ),
        );
      } else if (r.viaPtx) {
        out.push(
          finding(
            'gpu-arch-ptx-jit',
            'warning',
            `${cap(frameworkLabel(image))} has no native kernels for the ${gpu.name} (${smOf(cc)}); it runs by compiling PTX just in time, which makes start-up slow and may be slower.`,
            `Use a PyTorch build with native ${smOf(cc)} kernels${torchAdviceFor(driverCuda, cc) ? `: ${torchAdviceFor(driverCuda, cc)}` : ''}.`,
            ['pt_cuda_init'],
          ),
        );
      }
    } else if (image.framework === 'tensorflow' && compareVersions(cc, TF_MIN_CC) < 0) {
      out.push(
        finding(
          'gpu-arch-unsupported',
          'error',
          `TensorFlow's pip packages have kernels for compute capability ${TF_MIN_CC} and newer; the ${gpu.name} is ${cc}.`,
          'Use a newer GPU, or build TensorFlow from source for this architecture.',
          ['tf_pip_md'],
        ),
      );
    } else if (image.framework === 'jax' && image.frameworkCuda) {
      const extra = JAX_EXTRAS.find((x) => String(x.cudaMajor) === String(majorOf(image.frameworkCuda!)));
      if (extra && compareVersions(cc, extra.minCc) < 0) {
        out.push(
          finding(
            'gpu-arch-unsupported',
            'error',
            `jax[${extra.extra}] needs compute capability ≥ ${extra.minCc}; the ${gpu.name} is ${cc}.`,
            extra.cudaMajor === 13
              ? 'Use jax[cuda12], which supports compute capability 5.2 and newer.'
              : 'Use a newer GPU.',
            ['jax_install'],
          ),
        );
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// engine, shm, driver presence

function engineFindings(host: HostFacts, engine: EngineFacts | null, out: Finding[]): void {
  if (!engine) return;
  if (!engine.reachable) {
    out.push(
      finding(
        'engine-unreachable',
        'warning',
        engine.reason ?? 'The container engine could not be reached.',
        'Once the engine runs (or mlContainers.docker.host / DOCKER_HOST points at one), check again to see whether it can give containers a GPU.',
        ['ctk_repo'],
      ),
    );
    return;
  }
  if (!engine.nvidiaRuntime && engine.cdiGpuDevices.length === 0) {
    const hasGpu = host.gpus.length > 0;
    out.push(
      finding(
        'no-container-gpu-runtime',
        hasGpu ? 'error' : 'info',
        `The Docker engine${engine.engineVersion ? ` ${engine.engineVersion}` : ''} has no NVIDIA runtime (runtimes: ${(engine.runtimes ?? []).join(', ') || 'none'}) and no CDI GPU devices, so containers cannot get a GPU: a GPU request fails with 'could not select device driver "" with capabilities: [[gpu]]'.`,
        'Install the NVIDIA Container Toolkit, then run `sudo nvidia-ctk runtime configure --runtime=docker` and restart Docker (or generate CDI specs with `sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`).',
        ['ctk_repo'],
      ),
    );
  }
}

const GIB = 1024 ** 3;

function shmFindings(input: CheckInput, out: Finding[]): void {
  const p = input.project;
  if (!p || !p.usesDataLoaderWorkers) return;
  const dc = p.devcontainer;
  if (dc && (dc.ipcHost || (dc.shmBytes !== null && dc.shmBytes >= GIB))) return;
  const size = dc?.shmBytes ?? 64 * 1024 * 1024;
  out.push(
    finding(
      'shm-too-small',
      'warning',
      `${dc ? dc.file : 'The container'} gives /dev/shm ${formatBytes(size)}${dc?.shmBytes == null ? " (Docker's default)" : ''}; PyTorch DataLoader workers share batches through it and crash with "Bus error" or "unable to write to file </torch_…>" when it fills.`,
      `Add "--shm-size=16g" (or "--ipc=host") to runArgs${dc ? ` in ${dc.file}` : ''}.`,
      ['pt_release_md'],
    ),
  );
}

function driverPresenceFindings(input: CheckInput, out: Finding[]): void {
  const { host } = input;
  if (host.driverVersion || host.cudaDriverVersion || host.gpus.length > 0) return;
  const optional = input.project?.needsGpu === 'optional' || input.project?.needsGpu === 'no';
  out.push(
    finding(
      'no-nvidia-driver',
      optional ? 'warning' : 'error',
      `${host.reason ?? 'No NVIDIA driver was found on this host (nvidia-smi is missing or cannot talk to the driver).'}${optional ? ' The project also runs on the CPU, so it will run without a GPU.' : ''}`,
      'Install the NVIDIA driver for your GPU (on Ubuntu: `sudo ubuntu-drivers install`), reboot, and check that `nvidia-smi` lists the GPU.',
      ['cuda_rn_13_2'],
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------

function frameworkLabel(image: ImageFacts, withCuda = true): string {
  const names = { pytorch: 'PyTorch', tensorflow: 'TensorFlow', jax: 'JAX' } as const;
  if (!image.framework) return 'the image';
  const version = image.frameworkVersion ? ` ${image.frameworkVersion}` : '';
  return `${names[image.framework]}${version}${withCuda && image.frameworkCuda ? ` (CUDA ${image.frameworkCuda} build)` : ''}`;
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function formatBytes(n: number): string {
  return n >= GIB ? `${(n / GIB).toFixed(n % GIB === 0 ? 0 : 1)} GiB` : `${Math.round(n / (1024 * 1024))} MiB`;
}

/** Fills in a GPU's compute capability and segment from its name when they are not known. */
export function completeGpu(gpu: {
  name: string;
  computeCapability?: string | null;
  datacenter?: boolean | null;
}): HostGpu {
  const known = lookupGpu(gpu.name);
  return {
    name: gpu.name,
    computeCapability: gpu.computeCapability ?? known?.cc ?? null,
    datacenter: gpu.datacenter ?? (known ? known.segment === 'datacenter' : null),
  };
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function checkCompatibility(input: CheckInput): CheckResult {
  const host: HostFacts = { ...input.host, gpus: input.host.gpus.map(completeGpu) };
  if (!host.cudaDriverVersion && host.driverVersion) host.cudaDriverVersion = cudaForDriver(host.driverVersion);
  const full = { ...input, host };
  const findings: Finding[] = [];
  driverPresenceFindings(full, findings);
  driverFindings(host, input.image, findings);
  requireCudaFindings(host, input.image, findings);
  archFindings(host, input.image, findings);
  newerBuildFindings(host, input.image, findings);
  engineFindings(host, input.engine, findings);
  shmFindings(full, findings);
  findings.push(...(input.network ?? []));
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const verdict: Verdict = findings.some((f) => f.severity === 'error')
    ? 'error'
    : findings.some((f) => f.severity === 'warning')
      ? 'warning'
      : 'ok';
  const { ref, cudaVersion, framework, frameworkVersion, frameworkCuda, archList } = input.image;
  return {
    verdict,
    host: { ...host, engine: input.engine },
    image: { ref, cudaVersion, framework, frameworkVersion, frameworkCuda, archList },
    findings: findings.map(({ sourceIds: _ids, ...f }) => f),
  };
}
