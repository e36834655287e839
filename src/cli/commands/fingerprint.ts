import { realProbes } from '../../core/compat/probes';
import { takeFingerprint } from '../../core/fingerprint/fingerprint';
import { type CliCommand, type CliOptions, EXIT, parseCommandArgs } from '../usage';

const fingerprintOptions = {
  json: { type: 'boolean', default: false },
  image: { type: 'string' },
  out: { type: 'string' },
} satisfies CliOptions;

export const fingerprintCommand: CliCommand = {
  name: 'fingerprint',
  summary: 'Record this machine (driver, GPUs, engine, OS) and optionally an image and what runs inside it.',
  usage: `ml-containers fingerprint [--json] [--image REF] [--out FILE]

  --json        print the fingerprint as JSON (also when --out writes it to a file)
  --image REF   also inspect this local image and run a short Python report inside it (CUDA runtime, cuDNN,
                framework versions and architectures, pip freeze digest)
  --out FILE    write the JSON to FILE (compare two with: ml-containers diff A.json B.json)`,
  options: fingerprintOptions,
  async run(argv, io) {
    const { values } = parseCommandArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: fingerprintOptions,
    });
    const fp = await takeFingerprint(realProbes(), values.image ? { image: values.image } : {});
    const json = JSON.stringify(fp, null, 2);
    if (values.out) {
      const { writeFileAtomic } = await import('../../core/util/atomic');
      await writeFileAtomic(values.out, `${json}\n`);
      io.err(`fingerprint written to ${values.out}`);
    }
    if (values.json || !values.out) io.out(values.json ? json : fingerprintSummary(fp));
    return EXIT.ok;
  },
};

function fingerprintSummary(fp: Awaited<ReturnType<typeof takeFingerprint>>): string {
  const h = fp.host;
  const lines = [
    `Host ${h.hostname}: ${h.os.distro ?? h.os.platform}, kernel ${h.os.kernel}`,
    `Driver: ${h.driverVersion ?? 'none'}${h.cudaDriverVersion ? ` (CUDA ${h.cudaDriverVersion})` : ''}${h.reason ? ` - ${h.reason}` : ''}`,
    ...h.gpus.map(
      (g) =>
        `GPU ${g.index}: ${g.name ?? '?'} (compute capability ${g.computeCapability ?? '?'}, ${g.memoryTotalMiB ?? '?'} MiB)`,
    ),
    `Engine: ${h.engine ? (h.engine.reachable ? `Docker ${h.engine.engineVersion} (API ${h.engine.apiVersion}), NVIDIA runtime ${h.engine.nvidiaRuntime ? 'yes' : 'no'}` : `unreachable: ${h.engine.reason}`) : 'not checked'}`,
  ];
  if (fp.image) {
    lines.push(`Image ${fp.image.ref}: ${fp.image.id ?? 'not found'}`);
    const c = fp.image.container;
    if (c && 'error' in c) lines.push(`  ${c.error}`);
    else if (c) {
      lines.push(`  Python ${c.python ?? '?'}, CUDA runtime ${c.cudaRuntime ?? 'none'}, cuDNN ${c.cudnn ?? 'none'}`);
      for (const [n, f] of Object.entries(c.frameworks)) {
        lines.push(`  ${n} ${f.version}${f.cuda ? ` (CUDA ${f.cuda})` : ''}`);
      }
      lines.push(`  pip freeze: ${c.pipPackages ?? '?'} packages, sha256 ${c.pipFreezeSha256 ?? '?'}`);
    }
  }
  return lines.join('\n');
}
