import { CheckUsageError, gatherAndCheck } from '../../core/compat/gather';
import { realProbes } from '../../core/compat/probes';
import { checkReportText } from '../../core/compat/report';
import { DetectRootError } from '../../core/detect';
import { type CliCommand, EXIT, UsageError, parseCommandArgs } from '../usage';

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'Check driver, CUDA, GPU architecture and engine compatibility of an image or project with a GPU host.',
  usage: `ml-containers check [--json] [--project DIR] [--image REF] [--dockerfile PATH] [--torch VER[+cuXYZ]]
                    [--driver VER] [--gpu "NAME as nvidia-smi prints it"]... [--compute-capability X.Y] [--no-engine]

  Host facts are probed on this machine (nvidia-smi, the Docker engine) unless --driver, --gpu or
  --compute-capability describe another machine (a colleague's, a cluster node).
  Exit codes: 0 ok or warnings, 1 at least one error, 2 bad usage.`,
  async run(argv, io) {
    const parsed = parseCommandArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        project: { type: 'string' },
        image: { type: 'string' },
        dockerfile: { type: 'string' },
        torch: { type: 'string' },
        driver: { type: 'string' },
        gpu: { type: 'string', multiple: true },
        'compute-capability': { type: 'string' },
        'no-engine': { type: 'boolean', default: false },
      },
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
