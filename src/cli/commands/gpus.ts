import { DEFAULT_PROBE_TIMEOUT_MS, formatHostGpuState, probeHost, toGpusJson } from '../../core/gpu';
import { defineCommand, JSON_OPTION } from '../args';
import { EXIT, UsageError } from '../usage';

export const gpusCommand = defineCommand({
  name: 'gpus',
  summary: "List this machine's NVIDIA GPUs and driver as nvidia-smi reports them (CUDA version, compute capability).",
  usage: `ml-containers gpus [--json] [--timeout SECONDS]

  --json              print {"driverVersion", "cudaDriverVersion", "gpus": [...]} (null where unknown; "gpus": []
                      and a "reason" when there is no working NVIDIA driver)
  --timeout SECONDS   give up on a hung nvidia-smi after this long (default ${DEFAULT_PROBE_TIMEOUT_MS / 1000})

Exits 0 also when there is no NVIDIA driver or GPU: the output says why.`,
  options: { ...JSON_OPTION, timeout: { type: 'string' } },
  async run({ values }, io) {
    const timeoutS = values.timeout === undefined ? undefined : Number(values.timeout);
    if (timeoutS !== undefined && !(Number.isFinite(timeoutS) && timeoutS > 0)) {
      throw new UsageError(`--timeout needs a positive number of seconds, got "${values.timeout}".`);
    }
    const state = await probeHost(timeoutS !== undefined ? { timeoutMs: Math.round(timeoutS * 1000) } : {});
    io.out(values.json ? JSON.stringify(toGpusJson(state), null, 2) : formatHostGpuState(state));
    return EXIT.ok;
  },
});
