/**
 * Takes a fingerprint of this machine (driver, GPUs, engine, OS) and, when asked, of an image on it: its digest and
 * environment, and what the container itself reports when a short Python script runs inside it.
 */
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import type { EngineFacts } from '../compat/types';
import type { HostGpuState } from '../gpu/types';
import { type ContainerReport, FINGERPRINT_SCHEMA, type Fingerprint, type FingerprintImage } from './types';

/** Runs inside the image (`python3 -c`): prints one JSON object. Works without a GPU; never imports what is missing. */
export const CONTAINER_REPORT_SCRIPT = `
import hashlib, importlib, json, subprocess, sys
out = {"python": sys.version.split()[0], "cudaRuntime": None, "cudnn": None, "frameworks": {}, "pipFreezeSha256": None, "pipPackages": None}
def have(name):
    try:
        return importlib.import_module(name)
    except Exception:
        return None
torch = have("torch")
if torch:
    arch = None
    try:
        arch = torch._C._cuda_getArchFlags().split() if torch.version.cuda else []
    except Exception:
        arch = None
    out["frameworks"]["torch"] = {"version": torch.__version__, "cuda": torch.version.cuda, "archList": arch}
    out["cudaRuntime"] = torch.version.cuda
    try:
        out["cudnn"] = str(torch.backends.cudnn.version()) if torch.backends.cudnn.is_available() else None
    except Exception:
        pass
tf = have("tensorflow")
if tf:
    info = {}
    try:
        info = tf.sysconfig.get_build_info()
    except Exception:
        pass
    out["frameworks"]["tensorflow"] = {"version": tf.__version__, "cuda": info.get("cuda_version"), "archList": None}
    out["cudaRuntime"] = out["cudaRuntime"] or info.get("cuda_version")
    out["cudnn"] = out["cudnn"] or info.get("cudnn_version")
jax = have("jax")
if jax:
    out["frameworks"]["jax"] = {"version": jax.__version__, "cuda": None, "archList": None}
try:
    freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, timeout=60).stdout
    lines = sorted(l for l in freeze.splitlines() if l.strip())
    out["pipFreezeSha256"] = hashlib.sha256("\\n".join(lines).encode()).hexdigest()
    out["pipPackages"] = len(lines)
except Exception:
    pass
print(json.dumps(out))
`;

/** What a fingerprint needs from the machine: injected so the CLI, the editor and tests use the real probes. */
export interface FingerprintProbes {
  probeHost(signal?: AbortSignal): Promise<HostGpuState>;
  probeEngine(signal?: AbortSignal): Promise<EngineFacts | null>;
  inspectImage(
    ref: string,
    signal?: AbortSignal,
  ): Promise<{ id: string; repoDigests: string[]; env: string[]; labels: Record<string, string> } | null>;
  /** Runs argv in a new container of the image (no network, removed afterwards) and returns its stdout. */
  runInImage(
    ref: string,
    argv: string[],
    signal?: AbortSignal,
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

const INTERESTING_ENV =
  /^(CUDA_VERSION|NVIDIA_REQUIRE_CUDA|NV_CUDA_\w+|NVIDIA_\w+|NCCL_VERSION|NV_CUDNN_VERSION|CUDNN_VERSION|PYTORCH_VERSION|TORCH_CUDA_ARCH_LIST|CUDA_DRIVER_VERSION|TF_\w*VERSION|JAX_\w+)$/;

async function distro(): Promise<string | null> {
  try {
    const text = await readFile('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? null;
  } catch {
    return null;
  }
}

export async function takeFingerprint(
  probes: FingerprintProbes,
  options: { image?: string; signal?: AbortSignal } = {},
): Promise<Fingerprint> {
  const [state, engine, osName] = await Promise.all([
    probes.probeHost(options.signal),
    probes.probeEngine(options.signal),
    distro(),
  ]);
  const fp: Fingerprint = {
    schema: FINGERPRINT_SCHEMA,
    takenAt: new Date().toISOString(),
    host: {
      hostname: os.hostname(),
      os: { platform: process.platform, distro: osName, kernel: os.release(), arch: process.arch },
      driverVersion: state.driverVersion,
      cudaDriverVersion: state.cudaDriverVersion,
      gpus: state.gpus.map((g) => ({
        index: g.index,
        name: g.name,
        uuid: g.uuid,
        computeCapability: g.computeCapability,
        memoryTotalMiB: g.memoryTotalMiB,
        migMode: g.migMode,
        eccMode: g.eccMode,
      })),
      ...(state.reason ? { reason: state.reason } : {}),
      engine: engine
        ? {
            reachable: engine.reachable,
            ...(engine.reason ? { reason: engine.reason } : {}),
            engineVersion: engine.engineVersion ?? null,
            apiVersion: engine.apiVersion ?? null,
            runtimes: engine.runtimes ?? [],
            nvidiaRuntime: engine.nvidiaRuntime,
            cdiGpuDevices: engine.cdiGpuDevices,
          }
        : null,
    },
  };
  if (options.image) fp.image = await imageFingerprint(probes, options.image, engine, options.signal);
  return fp;
}

async function imageFingerprint(
  probes: FingerprintProbes,
  ref: string,
  engine: EngineFacts | null,
  signal?: AbortSignal,
): Promise<FingerprintImage> {
  const image: FingerprintImage = { ref, id: null, repoDigests: [], env: {}, labels: {}, container: null };
  if (!engine?.reachable) {
    image.container = { error: engine?.reason ?? 'No container engine: the image could not be inspected or run.' };
    return image;
  }
  const inspected = await probes.inspectImage(ref, signal);
  if (!inspected) {
    image.container = { error: `The engine has no image ${ref}: pull or build it first.` };
    return image;
  }
  image.id = inspected.id;
  image.repoDigests = inspected.repoDigests;
  image.labels = inspected.labels;
  for (const e of inspected.env) {
    const k = e.slice(0, e.indexOf('='));
    if (INTERESTING_ENV.test(k)) image.env[k] = e.slice(k.length + 1);
  }
  image.container = await containerReport(probes, ref, signal);
  return image;
}

async function containerReport(
  probes: FingerprintProbes,
  ref: string,
  signal?: AbortSignal,
): Promise<ContainerReport | { error: string }> {
  for (const python of ['python3', 'python']) {
    let r;
    try {
      r = await probes.runInImage(ref, [python, '-c', CONTAINER_REPORT_SCRIPT], signal);
    } catch (err) {
      const msg = (err as Error).message;
      if (/executable file not found|no such file or directory|not found/i.test(msg)) continue;
      return { error: `The container could not run ${python}: ${msg}` };
    }
    if (r.exitCode === 127 || /not found/.test(r.stderr)) continue;
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as ContainerReport;
    } catch {
      return {
        error: `${python} in the image exited ${r.exitCode} without a report: ${(r.stderr || r.stdout).trim().slice(0, 300)}`,
      };
    }
  }
  return { error: 'The image has no python3 or python, so it cannot report its frameworks.' };
}
