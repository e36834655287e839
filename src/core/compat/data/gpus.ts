/**
 * GPU name (as nvidia-smi prints it) -> compute capability and market segment. Patterns are tried in order; the
 * first match wins. Segment matters: forward compatibility (cuda-compat) works only on data-center GPUs.
 */
import type { SourceId } from './sources';

export type Segment = 'datacenter' | 'workstation' | 'consumer' | 'jetson';

export interface GpuModel {
  re: RegExp;
  model: string;
  cc: string;
  segment: Segment;
  sources: readonly SourceId[];
}

export const GPU_MODELS: readonly GpuModel[] = [
  // data center
  {
    re: /\bGB?300\b|\bB300\b/i,
    model: 'B300 / GB300',
    cc: '10.3',
    segment: 'datacenter',
    sources: ['cuda_gpus', 'cutlass_readme'],
  },
  {
    re: /\bGB200\b|\bB200\b|\bB100\b/i,
    model: 'B200 / GB200',
    cc: '10.0',
    segment: 'datacenter',
    sources: ['cuda_gpus', 'mig_guide'],
  },
  { re: /\bGH200\b/i, model: 'GH200', cc: '9.0', segment: 'datacenter', sources: ['cuda_gpus'] },
  { re: /\bH200\b/i, model: 'H200', cc: '9.0', segment: 'datacenter', sources: ['cuda_gpus', 'mig_guide'] },
  { re: /\bH100\b|\bH800\b/i, model: 'H100', cc: '9.0', segment: 'datacenter', sources: ['cuda_gpus', 'mig_guide'] },
  { re: /\bL40S?\b/i, model: 'L40 / L40S', cc: '8.9', segment: 'datacenter', sources: ['cuda_gpus'] },
  { re: /\bL4\b/i, model: 'L4', cc: '8.9', segment: 'datacenter', sources: ['cuda_gpus'] },
  {
    re: /\bA100\b|\bA800\b/i,
    model: 'A100',
    cc: '8.0',
    segment: 'datacenter',
    sources: ['cutlass_readme', 'mig_guide'],
  },
  { re: /\bA30\b/i, model: 'A30', cc: '8.0', segment: 'datacenter', sources: ['cuda_gpus_old_copy'] },
  {
    re: /\bA(?:10G?|40|16|2)\b/i,
    model: 'A10 / A40 / A16 / A2',
    cc: '8.6',
    segment: 'datacenter',
    sources: ['cuda_gpus', 'cutlass_readme'],
  },
  {
    re: /RTX PRO 6000 Blackwell Server/i,
    model: 'RTX PRO 6000 Blackwell Server Edition',
    cc: '12.0',
    segment: 'datacenter',
    sources: ['cuda_gpus', 'mig_guide'],
  },
  { re: /\bT4\b/i, model: 'T4', cc: '7.5', segment: 'datacenter', sources: ['cutlass_readme', 'cuda_gpus_old_copy'] },
  { re: /\bV100\b/i, model: 'V100', cc: '7.0', segment: 'datacenter', sources: ['cuda_legacy_gpus', 'cutlass_readme'] },
  { re: /\bP100\b/i, model: 'P100', cc: '6.0', segment: 'datacenter', sources: ['cuda_legacy_gpus'] },
  { re: /\bP40\b|\bTesla P4\b/i, model: 'P40 / P4', cc: '6.1', segment: 'datacenter', sources: ['cuda_legacy_gpus'] },
  { re: /\bK80\b/i, model: 'K80', cc: '3.7', segment: 'datacenter', sources: ['cuda_gpus_old_copy'] },
  // workstation
  {
    re: /RTX PRO \d+.*Blackwell/i,
    model: 'RTX PRO Blackwell',
    cc: '12.0',
    segment: 'workstation',
    sources: ['cuda_gpus', 'mig_guide'],
  },
  { re: /RTX \d+(?: SFF)? Ada/i, model: 'RTX Ada', cc: '8.9', segment: 'workstation', sources: ['cuda_gpus'] },
  { re: /RTX A\d{4}\b/i, model: 'RTX A-series', cc: '8.6', segment: 'workstation', sources: ['cuda_gpus'] },
  { re: /Quadro GV100/i, model: 'Quadro GV100', cc: '7.0', segment: 'workstation', sources: ['cuda_legacy_gpus'] },
  {
    re: /Quadro RTX \d{4}|\bT(?:1000|600|400)\b/i,
    model: 'Quadro RTX / T-series',
    cc: '7.5',
    segment: 'workstation',
    sources: ['cuda_gpus_old_copy'],
  },
  {
    re: /\bGB10\b/i,
    model: 'GB10 (DGX Spark)',
    cc: '12.1',
    segment: 'workstation',
    sources: ['cuda_gpus', 'cutlass_readme'],
  },
  // Jetson
  {
    re: /\bThor\b|\bT[45]000\b/i,
    model: 'Jetson Thor',
    cc: '11.0',
    segment: 'jetson',
    sources: ['cuda_gpus', 'cutlass_readme'],
  },
  { re: /\bOrin\b/i, model: 'Jetson Orin', cc: '8.7', segment: 'jetson', sources: ['cuda_gpus'] },
  // consumer
  {
    re: /RTX 50\d0/i,
    model: 'GeForce RTX 50 series',
    cc: '12.0',
    segment: 'consumer',
    sources: ['cuda_gpus', 'cutlass_readme'],
  },
  {
    re: /RTX 40\d0/i,
    model: 'GeForce RTX 40 series',
    cc: '8.9',
    segment: 'consumer',
    sources: ['cuda_gpus', 'cutlass_readme'],
  },
  {
    re: /RTX 30\d0/i,
    model: 'GeForce RTX 30 series',
    cc: '8.6',
    segment: 'consumer',
    sources: ['cutlass_readme', 'cuda_gpus'],
  },
  { re: /RTX 20\d0/i, model: 'GeForce RTX 20 series', cc: '7.5', segment: 'consumer', sources: ['cutlass_readme'] },
  { re: /TITAN V\b/i, model: 'TITAN V', cc: '7.0', segment: 'consumer', sources: ['cuda_legacy_gpus'] },
  {
    re: /GTX 10\d0|TITAN Xp|TITAN X \(Pascal\)/i,
    model: 'GeForce GTX 10 series',
    cc: '6.1',
    segment: 'consumer',
    sources: ['cuda_legacy_gpus'],
  },
  {
    re: /GTX 9\d0|GTX TITAN X\b/i,
    model: 'GeForce GTX 900 series',
    cc: '5.2',
    segment: 'consumer',
    sources: ['cuda_legacy_gpus'],
  },
];

export interface GpuLookup {
  model: string;
  cc: string;
  segment: Segment;
  sources: readonly SourceId[];
}

/** The model facts for a GPU name as nvidia-smi prints it, or null when the name is not in the table. */
export function lookupGpu(name: string): GpuLookup | null {
  const m = GPU_MODELS.find((g) => g.re.test(name));
  return m ? { model: m.model, cc: m.cc, segment: m.segment, sources: m.sources } : null;
}
