/**
 * The heavy half of the extension: the parsers, rules and clients behind detection, checks, fingerprints and
 * scaffolding. Bundled separately (dist/lazy.js) and loaded on first use through heavy(), so activation only loads
 * the small part that registers commands and views.
 */
export { detectProject } from '../core/detect/detect';
export { ScaffoldWriteError } from '../core/scaffold/plan';
export { connectEngine } from '../core/docker/engine';
export { launcherCommand } from '../core/scaffold/generate';
export { describeRunHost } from '../core/runs/prepare';
export { Runner } from '../core/runs/runner';
export { RunStore } from '../core/runs/store';
export { imageRefProblem, parseGpuSelection } from '../core/runs/spec';
export { canBuildInstead, defaultTarget, hasBuildSetup, imageSourceFor } from '../core/runs/request';
export { runTraining } from '../core/operations/runTraining';
export {
  checkGpuCompatibility,
  checkNotice,
  checkReport,
  hostProbes,
  probeEnvironment,
} from '../core/operations/check';
export {
  compareEnvironments,
  fingerprintEnvironment,
  fingerprintFileText,
  hostChangeNotice,
  hostChangesSince,
} from '../core/operations/fingerprint';
export { pushTrainingImage } from '../core/operations/pushImage';
export { followClusterJob, generateClusterJob } from '../core/operations/clusterJob';
export { readSweepRequest, startSweep, superviseSweep } from '../core/operations/runSweep';
export { restartRun } from '../core/operations/restartRun';
export {
  describeSweep,
  listSweeps,
  ownerAlive,
  splitCommandLine,
  sweepOutcome,
  sweepSummaryText,
} from '../core/runs/sweep';
export { scaffoldProject } from '../core/operations/scaffold';
export { watchRunEvents } from '../core/runs/events';
export { openShell } from '../core/runs/exec';
export { GpuMonitor } from '../core/gpu/monitor';
export { IdleGpuDetector, idleHintMessage, statusBarView } from '../core/gpu/status';
export { checkRepository } from '../core/registry/push';
export { lastPushed } from '../core/k8s/plan';
export { readClusterJobs } from '../core/k8s/records';
// not used by the extension itself: the cross-bundle error tests (test/unit/problems.test.ts) build with it
export { buildTarget } from '../core/runs/build';
