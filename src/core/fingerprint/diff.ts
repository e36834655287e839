/**
 * Explains the differences between two fingerprints that matter for GPU training, most consequential first:
 * "works on my machine" usually comes down to the driver branch, the GPU architecture, the CUDA runtime or the
 * framework build inside the image.
 */
import { cudaForDriver } from '../compat/rules';
import { driverBranch, majorOf } from '../compat/versions';
import type { DiffImpact, Fingerprint, FingerprintDifference } from './types';

const RANK: Record<DiffImpact, number> = { breaking: 0, significant: 1, minor: 2 };
const show = (v: unknown): string =>
  v === null || v === undefined || v === '' ? 'none' : Array.isArray(v) ? v.join(' ') || 'none' : String(v);

export function diffFingerprints(a: Fingerprint, b: Fingerprint): FingerprintDifference[] {
  const out: FingerprintDifference[] = [];
  const add = (what: string, va: unknown, vb: unknown, impact: DiffImpact, why: string): void => {
    if (show(va) === show(vb)) return;
    out.push({ what, a: show(va), b: show(vb), impact, why });
  };
  const ha = a.host;
  const hb = b.host;

  // driver: a different branch changes which CUDA versions run; a different major CUDA breaks images
  if (ha.driverVersion !== hb.driverVersion) {
    const ca = ha.cudaDriverVersion ?? (ha.driverVersion ? cudaForDriver(ha.driverVersion) : null);
    const cb = hb.cudaDriverVersion ?? (hb.driverVersion ? cudaForDriver(hb.driverVersion) : null);
    const crossMajor = ca && cb && majorOf(ca) !== majorOf(cb);
    const branchChange =
      ha.driverVersion && hb.driverVersion && driverBranch(ha.driverVersion) !== driverBranch(hb.driverVersion);
    add(
      'host.driverVersion',
      ha.driverVersion,
      hb.driverVersion,
      !ha.driverVersion || !hb.driverVersion || crossMajor ? 'breaking' : branchChange ? 'significant' : 'minor',
      !ha.driverVersion || !hb.driverVersion
        ? 'One machine has no NVIDIA driver: nothing runs on a GPU there.'
        : crossMajor
          ? `The drivers support different CUDA majors (${ca} vs ${cb}): images built for the newer one fail on the older driver.`
          : branchChange
            ? `Different driver branches support different newest CUDA versions (${show(ca)} vs ${show(cb)}).`
            : 'Same driver branch: a patch-level difference.',
    );
  }
  add(
    'host.cudaDriverVersion',
    ha.cudaDriverVersion,
    hb.cudaDriverVersion,
    'significant',
    'The newest CUDA the driver runs natively differs.',
  );

  // GPUs: architecture decides which kernels run
  const ccA = ha.gpus.map((g) => g.computeCapability);
  const ccB = hb.gpus.map((g) => g.computeCapability);
  add(
    'host.gpus.computeCapability',
    ccA,
    ccB,
    'breaking',
    'Different GPU architectures need different kernels: a framework build without kernels (or PTX) for one of them fails with "no kernel image is available".',
  );
  add(
    'host.gpus.name',
    ha.gpus.map((g) => g.name),
    hb.gpus.map((g) => g.name),
    'significant',
    'Different GPU models: memory, speed and supported precisions (bf16, fp8) differ.',
  );
  add(
    'host.gpus.count',
    ha.gpus.length,
    hb.gpus.length,
    'significant',
    'A different number of GPUs changes the world size of distributed runs and the batch size per step.',
  );
  add(
    'host.gpus.memoryTotalMiB',
    ha.gpus.map((g) => g.memoryTotalMiB),
    hb.gpus.map((g) => g.memoryTotalMiB),
    'significant',
    'Different GPU memory: a batch that fits on one machine can run out of memory on the other.',
  );
  add(
    'host.gpus.migMode',
    ha.gpus.map((g) => g.migMode),
    hb.gpus.map((g) => g.migMode),
    'significant',
    'MIG splits a GPU into instances: a process sees only a slice of its memory and compute.',
  );

  // engine
  const ea = ha.engine;
  const eb = hb.engine;
  add(
    'host.engine.nvidiaRuntime',
    ea ? ea.nvidiaRuntime || ea.cdiGpuDevices.length > 0 : null,
    eb ? eb.nvidiaRuntime || eb.cdiGpuDevices.length > 0 : null,
    'breaking',
    'Only an engine with the NVIDIA runtime or CDI GPU devices can give containers a GPU.',
  );
  add('host.engine.engineVersion', ea?.engineVersion, eb?.engineVersion, 'minor', 'Different Docker engine versions.');

  // image and what runs inside it
  const ia = a.image;
  const ib = b.image;
  if (ia || ib) {
    add(
      'image.repoDigests',
      ia?.repoDigests,
      ib?.repoDigests,
      'significant',
      'Different image digests: the two machines do not run the same image bits, even if the tag is the same.',
    );
    add(
      'image.env.CUDA_VERSION',
      ia?.env.CUDA_VERSION,
      ib?.env.CUDA_VERSION,
      'significant',
      "The images' CUDA toolkits differ.",
    );
    const ca = ia?.container && 'python' in ia.container ? ia.container : null;
    const cb = ib?.container && 'python' in ib.container ? ib.container : null;
    if (ca || cb) {
      add(
        'container.cudaRuntime',
        ca?.cudaRuntime,
        cb?.cudaRuntime,
        'breaking',
        'The framework runs on a different CUDA runtime, which needs a different minimum driver.',
      );
      add(
        'container.cudnn',
        ca?.cudnn,
        cb?.cudnn,
        'significant',
        'Different cuDNN versions pick different convolution algorithms: results and speed can differ.',
      );
      const names = new Set([...Object.keys(ca?.frameworks ?? {}), ...Object.keys(cb?.frameworks ?? {})]);
      for (const n of [...names].sort()) {
        const fa = ca?.frameworks[n];
        const fb = cb?.frameworks[n];
        add(`container.frameworks.${n}.version`, fa?.version, fb?.version, 'significant', `Different ${n} versions.`);
        add(
          `container.frameworks.${n}.cuda`,
          fa?.cuda,
          fb?.cuda,
          'breaking',
          `${n} is built for a different CUDA version.`,
        );
        add(
          `container.frameworks.${n}.archList`,
          fa?.archList,
          fb?.archList,
          'significant',
          `${n} carries kernels for different GPU architectures.`,
        );
      }
      add('container.python', ca?.python, cb?.python, 'significant', 'Different Python versions.');
      add(
        'container.pipFreezeSha256',
        ca?.pipFreezeSha256,
        cb?.pipFreezeSha256,
        'minor',
        'The installed Python packages differ (pip freeze).',
      );
    }
  }
  add('host.os.distro', ha.os.distro, hb.os.distro, 'minor', 'Different host operating systems.');
  add('host.os.kernel', ha.os.kernel, hb.os.kernel, 'minor', 'Different host kernels.');

  return out.sort((x, y) => RANK[x.impact] - RANK[y.impact]);
}

export function diffText(diffs: readonly FingerprintDifference[]): string {
  if (diffs.length === 0) return 'No differences that matter for GPU training.';
  const lines = [`${diffs.length} difference${diffs.length > 1 ? 's' : ''}, most consequential first:`, ''];
  for (const d of diffs) lines.push(`[${d.impact}] ${d.what}: ${d.a} -> ${d.b}`, `    ${d.why}`);
  return lines.join('\n');
}
