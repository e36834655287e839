/**
 * Every command the extension contributes, one definition each (in a file of its own), registered once at activation.
 * A command contributed in package.json and not listed here is "command not found" for the user (the unit tier checks
 * the ids against the manifest, the integration tier that each one is registered).
 */
import type { Ctx } from '../ctx';
import type { CommandDef } from './command';
import { detectCommand } from './detect';
import { checkCommand } from './doctor/check';
import { compareCommand } from './doctor/compare';
import { saveFingerprintCommand } from './doctor/saveFingerprint';
import { openEvidenceCommand } from './openEvidence';
import { registerCommand } from './register';
import { attachShellCommand, attachVsCodeCommand, openPortCommand } from './runs/attach';
import { removeRunCommand } from './runs/remove';
import { restartRunCommand } from './runs/restart';
import { runSweepCommand } from './runs/runSweep';
import { runTrainingCommand } from './runs/runTraining';
import { stopRunCommand } from './runs/stop';
import { stopSweepCommand, sweepSummaryCommand } from './runs/sweeps';
import { refreshRunsCommand, viewLogsCommand } from './runs/view';
import { addDevContainerCommand } from './scaffold';
import { followClusterJobCommand } from './share/followClusterJob';
import { generateClusterJobCommand } from './share/generateClusterJob';
import { pushImageCommand } from './share/pushImage';
import { showGpuStatusCommand } from './showGpuStatus';
import { showLogsCommand } from './showLogs';

export const COMMANDS: readonly CommandDef[] = [
  detectCommand,
  openEvidenceCommand,
  showLogsCommand,
  checkCommand,
  compareCommand,
  saveFingerprintCommand,
  addDevContainerCommand,
  runTrainingCommand,
  runSweepCommand,
  refreshRunsCommand,
  viewLogsCommand,
  stopRunCommand,
  restartRunCommand,
  removeRunCommand,
  attachShellCommand,
  attachVsCodeCommand,
  openPortCommand,
  sweepSummaryCommand,
  stopSweepCommand,
  pushImageCommand,
  generateClusterJobCommand,
  followClusterJobCommand,
  showGpuStatusCommand,
];

/** Registers every command of COMMANDS (activation calls it once). */
export function registerCommands(ctx: Ctx): void {
  for (const def of COMMANDS) registerCommand(ctx, def.id, def.make(ctx), def.describeFailure);
}
