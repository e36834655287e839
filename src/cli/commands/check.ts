import { CheckUsageError, gatherAndCheck } from '../../core/compat/gather';
import { realProbes } from '../../core/compat/probes';
import { checkReportText } from '../../core/compat/report';
import { DetectRootError } from '../../core/detect';
import { type CliCommand, type CliOptions, EXIT, UsageError, parseCommandArgs } from '../usage';

const checkOptions = {
  json: { type: 'boolean', default: false },
  project: { type: 'string' },
  image: { type: 'string' },
  dockerfile: { type: 'string' },
  torch: { type: 'string' },
  driver: { type: 'string' },
  gpu: { type: 'string', multiple: true },
  'compute-capability': { type: 'string' },
  'no-engine': { type: 'boolean', default: false },
} satisfies CliOptions;

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'Check driver, CUDA, GPU architecture and engine compatibility of an image or project with a GPU host.',
  usage: `ml-containers check [--json] [--project DIR] [--image REF] [--dockerfile PATH] [--torch VER[+cuXYZ]]
                    [--driver VER] [--gpu "NAME as nvidia-smi prints it"]... [--compute-capability X.Y] [--no-engine]

  --json                     print the result (verdict, facts, findings) as one JSON object
  --project DIR              check this project (its framework pins, and its image unless --image or --dockerfile)
  --image REF                check this local image (its environment and labels, as the engine reports them)
  --dockerfile PATH          check the image this Dockerfile builds (its base image and pinned versions)
  --torch VER[+cuXYZ]        check this PyTorch build, e.g. 2.7.1 or 2.7.1+cu128
  --driver VER               the host's NVIDIA driver version, e.g. 580.159.04 (default: probed with nvidia-smi)
  --gpu NAME                 a host GPU by the name nvidia-smi prints, e.g. "NVIDIA A100-SXM4-80GB" (repeatable)
  --compute-capability X.Y   the host GPUs' compute capability, e.g. 8.9
  --no-engine                do not ask the Docker engine about its GPU support

  Host facts are probed on this machine (nvidia-smi, the Docker engine) unless --driver, --gpu or
  --compute-capability describe another machine (a colleague's, a cluster node).
  Exit codes: 0 ok or warnings, 1 at least one error, 2 bad usage.`,
  options: checkOptions,
  async run(argv, io) {
    const parsed = parseCommandArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: checkOptions,
    });
    const v = parsed.values;
    if (v.driver !== undefined && !/^\d+(?:\.\d+){0,2}$/.test(v.driver)) {
      throw new UsageError(`--driver needs a driver version like 580.159.04, got "${v.driver}".`);
    }
    const cc = v['compute-capability'];
    if (cc !== undefined && !/^\d{1,2}\.\d$/.test(cc)) {
      throw new UsageError(`--compute-capability needs a value like 8.9, got "${cc}".`);
    }
    try {
      const result = await gatherAndCheck(
        {
          ...(v.project !== undefined ? { projectDir: v.project } : {}),
          ...(v.image !== undefined ? { image: v.image } : {}),
          ...(v.dockerfile !== undefined ? { dockerfile: v.dockerfile } : {}),
          ...(v.torch !== undefined ? { torch: v.torch } : {}),
          ...(v.driver !== undefined ? { driver: v.driver } : {}),
          ...(v.gpu !== undefined ? { gpus: v.gpu } : {}),
          ...(cc !== undefined ? { computeCapability: cc } : {}),
          noEngine: v['no-engine'] ?? false,
        },
        realProbes(),
      );
      io.out(v.json ? JSON.stringify(result, null, 2) : checkReportText(result));
      return result.verdict === 'error' ? EXIT.failure : EXIT.ok;
    } catch (err) {
      if (err instanceof CheckUsageError) throw new UsageError(err.message);
      if (err instanceof DetectRootError) throw new UsageError(`--project: ${err.message}`);
      throw err;
    }
  },
};
