/**
 * Explains the differences between two fingerprints that matter for GPU training, most consequential first:
 * "works on my machine" usually comes down to the driver branch, the GPU architecture, the CUDA runtime or the
 * framework build inside the image.
 */
import { cudaForDriver } from '../compat/rules';
import { driverBranch, majorOf } from '../compat/versions';
import type { ContainerReport, DiffImpact, Fingerprint, FingerprintDifference } from './types';

const RANK: Record<DiffImpact, number> = { breaking: 0, significant: 1, minor: 2 };
const show = (v: unknown): string =>
  v === null || v === undefined || v === '' ? 'none' : Array.isArray(v) ? v.join(' ') || 'none' : String(v);

/**
 * What a difference in each compared value means, by impact, in report order. A key is the value's dotted path, its
 * name in the report: `container` stands for the image's container report, a path through a list (`host.gpus`) reads
 * each item, and `container.frameworks` holds the rows of each framework either container reports (by name), `*`
 * standing for its name.
 */
const WHY: Readonly<Record<DiffImpact, Readonly<Record<string, string | Readonly<Record<string, string>>>>>> = {
  breaking: {
    'host.gpus.computeCapability':
      'Different GPU architectures need different kernels: a framework build without kernels (or PTX) for one of them fails with "no kernel image is available".',
    'host.engine.nvidiaRuntime': 'Only an engine with the NVIDIA runtime or CDI GPU devices can give containers a GPU.',
    'container.cudaRuntime': 'The framework runs on a different CUDA runtime, which needs a different minimum driver.',
    'container.frameworks': { cuda: '* is built for a different CUDA version.' },
  },
  significant: {
    'host.cudaDriverVersion': 'The newest CUDA the driver runs natively differs.',
    'host.gpus.name': 'Different GPU models: memory, speed and supported precisions (bf16, fp8) differ.',
    'host.gpus.count':
      'A different number of GPUs changes the world size of distributed runs and the batch size per step.',
    'host.gpus.memoryTotalMiB':
      'Different GPU memory: a batch that fits on one machine can run out of memory on the other.',
    'host.gpus.migMode': 'MIG splits a GPU into instances: a process sees only a slice of its memory and compute.',
    'image.repoDigests':
      'Different image digests: the two machines do not run the same image bits, even if the tag is the same.',
    'image.env.CUDA_VERSION': "The images' CUDA toolkits differ.",
    'container.cudnn': 'Different cuDNN versions pick different convolution algorithms: results and speed can differ.',
    'container.frameworks': {
      version: 'Different * versions.',
      archList: '* carries kernels for different GPU architectures.',
    },
    'container.python': 'Different Python versions.',
  },
  minor: {
    'host.engine.engineVersion': 'Different Docker engine versions.',
    'container.pipFreezeSha256': 'The installed Python packages differ (pip freeze).',
    'host.os.distro': 'Different host operating systems.',
    'host.os.kernel': 'Different host kernels.',
  },
};

/** Values the report names by what they mean rather than where they are. */
const DERIVED: Readonly<Record<string, (fp: Fingerprint) => unknown>> = {
  'host.gpus.count': (fp) => fp.host.gpus.length,
  'host.engine.nvidiaRuntime': ({ host: { engine } }) =>
    engine ? engine.nvidiaRuntime || engine.cdiGpuDevices.length > 0 : null,
};

function containerOf(fp: Fingerprint): ContainerReport | undefined {
  const c = fp.image?.container;
  return c && 'python' in c ? c : undefined;
}

/** The value a check's path names (see WHY). */
function valueOf(fp: Fingerprint, path: readonly string[]): unknown {
  const derived = DERIVED[path.join('.')];
  if (derived) return derived(fp);
  let v: unknown = { host: fp.host, image: fp.image, container: containerOf(fp) };
  const step = (x: unknown, key: string): unknown =>
    typeof x === 'object' && x !== null ? (x as Record<string, unknown>)[key] : undefined;
  for (const key of path) v = Array.isArray(v) ? v.map((x) => step(x, key)) : step(v, key);
  return v;
}

interface Check {
  path: string[];
  impact: DiffImpact;
  why: string;
}

/** The checks of one impact, in WHY's order. */
function checksOf(impact: DiffImpact, frameworks: readonly string[]): Check[] {
  return Object.entries(WHY[impact]).flatMap(([what, why]) =>
    typeof why === 'string'
      ? [{ path: what.split('.'), impact, why }]
      : frameworks.flatMap((name) =>
          Object.entries(why).map(([key, text]) => ({
            path: [...what.split('.'), name, key],
            impact,
            why: text.replace('*', () => name),
          })),
        ),
  );
}

/** The driver's difference: a different branch changes which CUDA versions run; a different major CUDA breaks images. */
function driverDifference(a: Fingerprint['host'], b: Fingerprint['host']): FingerprintDifference | null {
  if (show(a.driverVersion) === show(b.driverVersion)) return null;
  const ca = a.cudaDriverVersion ?? (a.driverVersion ? cudaForDriver(a.driverVersion) : null);
  const cb = b.cudaDriverVersion ?? (b.driverVersion ? cudaForDriver(b.driverVersion) : null);
  const missing = !a.driverVersion || !b.driverVersion;
  const crossMajor = ca && cb && majorOf(ca) !== majorOf(cb);
  const branchChange = !missing && driverBranch(a.driverVersion!) !== driverBranch(b.driverVersion!);
  const [impact, why]: readonly [DiffImpact, string] = missing
    ? ['breaking', 'One machine has no NVIDIA driver: nothing runs on a GPU there.']
    : crossMajor
      ? [
          'breaking',
          `The drivers support different CUDA majors (${ca} vs ${cb}): images built for the newer one fail on the older driver.`,
        ]
      : branchChange
        ? [
            'significant',
            `Different driver branches support different newest CUDA versions (${show(ca)} vs ${show(cb)}).`,
          ]
        : ['minor', 'Same driver branch: a patch-level difference.'];
  return { what: 'host.driverVersion', a: show(a.driverVersion), b: show(b.driverVersion), impact, why };
}

export function diffFingerprints(a: Fingerprint, b: Fingerprint): FingerprintDifference[] {
  const driver = driverDifference(a.host, b.host);
  const out: FingerprintDifference[] = driver ? [driver] : [];
  const frameworks = [...new Set([a, b].flatMap((fp) => Object.keys(containerOf(fp)?.frameworks ?? {})))].sort();
  for (const { path, impact, why } of (Object.keys(WHY) as DiffImpact[]).flatMap((i) => checksOf(i, frameworks))) {
    const [va, vb] = [show(valueOf(a, path)), show(valueOf(b, path))];
    if (va !== vb) out.push({ what: path.join('.'), a: va, b: vb, impact, why });
  }
  return out.sort((x, y) => RANK[x.impact] - RANK[y.impact]);
}

export function diffText(diffs: readonly FingerprintDifference[]): string {
  if (diffs.length === 0) return 'No differences that matter for GPU training.';
  const lines = [`${diffs.length} difference${diffs.length > 1 ? 's' : ''}, most consequential first:`, ''];
  for (const d of diffs) lines.push(`[${d.impact}] ${d.what}: ${d.a} -> ${d.b}`, `    ${d.why}`);
  return lines.join('\n');
}
