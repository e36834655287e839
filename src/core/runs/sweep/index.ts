/**
 * Sweeps: a command template and a grid of parameters become runs, queued over the free GPUs (gpusPerRun each, never
 * two runs on one GPU unless runsPerGpu says so), started as GPUs free up. The queue is persisted in
 * `.ml-containers/sweeps/<id>/sweep.json` after every change, so a new window (or process) resumes it.
 *
 * - `file`: the sweep file (parse, limits, grid expansion, argv substitution)
 * - `pool`: the GPU pool
 * - `store`: the recorded state (new, read, list) and `lock`: one supervisor per sweep
 * - `supervisor`: the run loop and resuming
 * - `summary`: how a sweep is said: what it runs, its progress, its outcome, the table with each run's last metric
 */
export {
  commandFor,
  countVariants,
  DEFAULT_MAX_VARIANTS,
  expandGrid,
  type ParseSweepOptions,
  parseSweepFile,
  readSweepFileText,
  splitCommandLine,
  SWEEP_FILE_CAP,
  type SweepFile,
  SweepFileError,
  type Variant,
} from './file';
export { ownerAlive } from './lock';
export { GpuPool } from './pool';
export {
  listSweeps,
  newSweep,
  readSweep,
  type SweepState,
  type SweepVariantState,
  sweepMountsWorkspace,
  type VariantState,
} from './store';
export { runSweep, type SweepRunOptions } from './supervisor';
export {
  describeSweep,
  formatSweepSummary,
  stateWithExit,
  summarizeSweep,
  sweepOutcome,
  sweepSummaryText,
  type SweepSummaryRow,
  variantProgress,
} from './summary';
