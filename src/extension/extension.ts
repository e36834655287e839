import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { Ctx } from './ctx';
import type { GpuStatusBar } from './statusBar/gpuStatusBar';
import { type ProjectViewProvider, registerProjectView } from './views/projectView';
import { registerRunsView, type RunsViewProvider } from './views/runsView';

/** What activate() returns: used by the integration tests and open to other extensions. */
export interface MlContainersApi {
  readonly ctx: Ctx;
  readonly projectView: ProjectViewProvider;
  readonly runsView: RunsViewProvider;
  readonly statusBar: GpuStatusBar;
}

export function activate(context: vscode.ExtensionContext): MlContainersApi {
  try {
    const ctx = Ctx.create(context);
    registerCommands(ctx);
    const view = registerProjectView(ctx.project);
    const runsView = registerRunsView(ctx.runs);
    context.subscriptions.push(view.disposable, runsView.disposable, ...startAfterActivation(ctx));
    ctx.log.info(`ML Containers ${String(context.extension.packageJSON.version)} activated`);
    return { ctx, projectView: view.provider, runsView: runsView.provider, statusBar: ctx.statusBar };
  } catch (err) {
    void vscode.window.showErrorMessage(
      `ML Containers could not start: ${err instanceof Error ? err.message : String(err)}`,
    );
    throw err;
  }
}

/** What reads the disk, probes or asks the engine: scheduled once activation has returned, never during it. */
function startAfterActivation(ctx: Ctx): vscode.Disposable[] {
  ctx.project.schedule(0);
  // has the driver or the GPU changed since the last session? (probes nvidia-smi: later, off the start-up path)
  const hostCheck = setTimeout(
    () => void ctx.doctor.noticeHostChanges().catch((err: unknown) => ctx.log.error('Host check failed', err)),
    3000,
  );
  // runs still going since the last window, orphaned sweeps, the engine's events, the GPU monitor
  const runsStart = setTimeout(() => {
    void ctx.runs.startUp().catch((err: unknown) => ctx.log.warn(`Training runs: ${String(err)}`));
    ctx.statusBar.start();
  }, 1500);
  return [{ dispose: () => clearTimeout(hostCheck) }, { dispose: () => clearTimeout(runsStart) }];
}

export function deactivate(): void {
  // subscriptions (log, project model, view, commands) are disposed by VS Code; the model cancels running detection
}
