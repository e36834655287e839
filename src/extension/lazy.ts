/**
 * The heavy half of the extension: the parsers, rules and clients behind detection, checks, fingerprints and
 * scaffolding. Bundled separately (dist/lazy.js) and loaded on first use through heavy(), so activation only loads
 * the small part that registers commands and views.
 */
export { detectProject, detectProjectDetailed } from '../core/detect/detect';
export { gatherAndCheck } from '../core/compat/gather';
export { realProbes } from '../core/compat/probes';
export { checkReportMarkdown } from '../core/compat/report';
export { takeFingerprint } from '../core/fingerprint/fingerprint';
export { diffFingerprints } from '../core/fingerprint/diff';
export { fingerprintFromText, parseFingerprint } from '../core/fingerprint/parse';
export { diffReportMarkdown } from '../core/fingerprint/report';
export { detectForScaffold, generateScaffold } from '../core/scaffold/generate';
export { ScaffoldWriteError, applyPlan, needsConsent, planScaffold, unsafeSentence } from '../core/scaffold/plan';
export { connectEngine } from '../core/docker/engine';
export { launcherCommand } from '../core/scaffold/generate';
export { describeRunHost, resolveImage, runSpecFor, sweepSpecFor } from '../core/runs/prepare';
export { Runner } from '../core/runs/runner';
export { RunStore } from '../core/runs/store';
export { imageRefProblem, parseGpuSelection } from '../core/runs/spec';
export { defaultTarget, hasBuildSetup, imageSourceFor, sweepGpuPool } from '../core/runs/request';
export { runTraining } from '../core/operations/runTraining';
export {
  formatSweepSummary,
  listSweeps,
  newSweep,
  ownerAlive,
  parseSweepFile,
  readSweep,
  readSweepFileText,
  runSweep,
  splitCommandLine,
  summarizeSweep,
  sweepMountsWorkspace,
} from '../core/runs/sweep';
export { watchRunEvents } from '../core/runs/events';
export { openShell } from '../core/runs/exec';
export { GpuMonitor } from '../core/gpu/monitor';
export { IdleGpuDetector, idleHintMessage, statusBarView } from '../core/gpu/status';
export { checkRepository, gitCommitTag, pushImage, recordPush } from '../core/registry/push';
export { buildTarget } from '../core/runs/build';
export { applyManifests, followJobLogs, jobPodProblems } from '../core/k8s/cluster';
export { clusterManifests, manifestsToYaml } from '../core/k8s/manifests';
export { lastPushed, planClusterJob } from '../core/k8s/plan';
export { readClusterJobs, recordClusterJobs } from '../core/k8s/records';
