export * from './types';
export {
  DEFAULT_PROBE_TIMEOUT_MS,
  GPU_QUERY_FIELDS,
  locateNvidiaSmi,
  NO_NVIDIA_SMI_REASON,
  NVIDIA_SMI_FALLBACKS,
  NvidiaSmiOutputError,
  parseQueryGpuCsv,
  parseQueryGpuRows,
  parseSmiXml,
  probeHost,
  type ProbeOptions,
  queryGpuArgs,
  type SmiXmlGpu,
  type SmiXmlInfo,
} from './nvidiaSmi';
export { formatHostGpuState, type GpuJson, type GpusJson, toGpusJson } from './format';
