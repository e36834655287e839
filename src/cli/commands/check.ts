import { DetectRootError } from '../../core/detect';
import { CheckUsageError, checkGpuCompatibility, checkReport } from '../../core/operations/check';
import { defineCommand, JSON_OPTION } from '../args';
import { EXIT, UsageError } from '../usage';

export const checkCommand = defineCommand({
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
  options: {
    ...JSON_OPTION,
    project: { type: 'string' },
    image: { type: 'string' },
    dockerfile: { type: 'string' },
    torch: { type: 'string' },
    driver: { type: 'string' },
    gpu: { type: 'string', multiple: true },
    'compute-capability': { type: 'string' },
    'no-engine': { type: 'boolean', default: false },
  },
  async run({ values: v }, io) {
    try {
      const result = await checkGpuCompatibility({
        projectDir: v.project,
        image: v.image,
        dockerfile: v.dockerfile,
        torch: v.torch,
        driver: v.driver,
        gpus: v.gpu,
        computeCapability: v['compute-capability'],
        noEngine: v['no-engine'],
      });
      io.out(v.json ? JSON.stringify(result, null, 2) : checkReport(result).text);
      return result.verdict === 'error' ? EXIT.failure : EXIT.ok;
    } catch (err) {
      if (err instanceof CheckUsageError) throw new UsageError(err.message);
      if (err instanceof DetectRootError) throw new UsageError(`--project: ${err.message}`);
      throw err;
    }
  },
});
