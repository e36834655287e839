import * as vscode from 'vscode';
import { registerDetectCommand } from './commands/detect';
import { registerCheckCommand, registerCompareCommand, registerSaveFingerprintCommand } from './commands/doctor';
import { registerOpenEvidenceCommand, registerShowLogsCommand } from './commands/openEvidence';
import { registerRunCommands } from './commands/runs';
import { registerScaffoldCommand } from './commands/scaffold';
import { registerShareCommands } from './commands/share';
import { Ctx } from './ctx';
import { type ProjectViewProvider, registerProjectView } from './views/projectView';
import { GpuStatusBar } from './statusBar/gpuStatusBar';
import { registerRunsView, type RunsViewProvider } from './views/runsView';

/** What activate() returns: used by the integration tests and open to other extensions. */
export interface MlContainersApi {
  readonly ctx: Ctx;
  readonly projectView: ProjectViewProvider;
  readonly runsView: RunsViewProvider;
  readonly statusBar: GpuStatusBar;
}

export function activate(context: vscode.ExtensionContext): MlContainersApi {
  const ctx = new Ctx(context);
  try {
    registerDetectCommand(ctx);
    registerOpenEvidenceCommand(ctx);
    registerShowLogsCommand(ctx);
    registerCheckCommand(ctx);
    registerCompareCommand(ctx);
    registerSaveFingerprintCommand(ctx);
    registerScaffoldCommand(ctx);
    registerRunCommands(ctx);
    registerShareCommands(ctx);
    const view = registerProjectView(ctx.project);
    const runsView = registerRunsView(ctx.runs);
    const statusBar = new GpuStatusBar(ctx);
    context.subscriptions.push(view.disposable, runsView.disposable, statusBar);
    // detection reads the disk: start it after activation has returned, never during it
    ctx.project.schedule(0);
    // has the driver or the GPU changed since the last session? (probes nvidia-smi: later, off the start-up path)
    const hostCheck = setTimeout(
      () => void ctx.doctor.noticeHostChanges().catch((err: unknown) => ctx.log.error('Host check failed', err)),
      3000,
    );
    // runs still going since the last window, orphaned sweeps, the engine's events: after start-up, not during it
    const runsStart = setTimeout(() => {
      void ctx.runs.startUp().catch((err: unknown) => ctx.log.warn(`Training runs: ${String(err)}`));
      statusBar.start();
    }, 1500);
    context.subscriptions.push({ dispose: () => clearTimeout(hostCheck) }, { dispose: () => clearTimeout(runsStart) });
    ctx.log.info(`ML Containers ${String(context.extension.packageJSON.version)} activated`);
    return { ctx, projectView: view.provider, runsView: runsView.provider, statusBar };
  } catch (err) {
    void vscode.window.showErrorMessage(
      `ML Containers could not start: ${err instanceof Error ? err.message : String(err)}`,
    );
    throw err;
  }
}

export function deactivate(): void {
  // subscriptions (log, project model, view, commands) are disposed by VS Code; the model cancels running detection
}
