import * as vscode from 'vscode';
import type { GpuMonitor, MonitorState } from '../../core/gpu/monitor';
import type { IdleGpuDetector, RunOnGpus } from '../../core/gpu/status';
import { paramsLabel } from '../../core/runs/format';
import type { RunRecord } from '../../core/runs/types';
import type { Config } from '../config';
import type { Doctor } from '../doctor/doctor';
import { heavy } from '../heavy';
import type { Log } from '../log';
import type { RunsModel } from '../runs/runsModel';

const ACK_KEY = 'mlContainers.statusBar.failuresSeenAt';
const LINKS =
  '[Check GPU Compatibility](command:mlContainers.checkGpuCompatibility) · [Training Runs](command:mlContainers.runs.focus)';

/** What the status bar item uses of the extension: its settings, the runs, the probes' environment, the log. */
export interface StatusBarDeps {
  readonly config: Pick<Config, 'statusBar' | 'onDidChange'>;
  readonly runs: Pick<RunsModel, 'folders' | 'onDidChange'>;
  readonly doctor: Pick<Doctor, 'probeEnv'>;
  readonly log: Pick<Log, 'debug' | 'info'>;
  /** Its workspace state: when the user last looked at the failed runs. */
  readonly extension: Pick<vscode.ExtensionContext, 'workspaceState'>;
}

/**
 * The GPU indicator: `$(pulse) GPU 87% · 61/140 GiB`, a tooltip table per GPU with the runs on it, a warning background
 * when memory is above 90% or a run failed, "No GPU" with a link to the doctor without a driver. Fed by one long-lived
 * nvidia-smi (GpuMonitor), paused while the window is not focused. Also says once when a run's GPUs stay idle.
 */
export class GpuStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private monitor: GpuMonitor | undefined;
  private idle: IdleGpuDetector | undefined;
  private state: MonitorState = { kind: 'starting' };
  private readonly disposables: vscode.Disposable[] = [];
  /** Idle hints shown (run id -> message), for tests and the log. */
  readonly hints = new Map<string, string>();

  constructor(private readonly deps: StatusBarDeps) {
    this.item = vscode.window.createStatusBarItem('mlContainers.gpu', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'ML Containers GPU';
    this.item.command = 'mlContainers.statusBar.show';
    this.disposables.push(
      this.item,
      deps.config.onDidChange('statusBar', () => this.restart()),
      deps.config.onDidChange('gpu.nvidiaSmiPath', () => this.restart()),
      vscode.window.onDidChangeWindowState((s) => (s.focused ? this.monitor?.resume() : this.monitor?.pause())),
      deps.runs.onDidChange(() => this.render()),
    );
  }

  get current(): MonitorState {
    return this.state;
  }

  /** Starts watching (after activation; loads the monitor then). */
  start(): void {
    const settings = this.deps.config.statusBar;
    if (!settings.enabled) {
      this.item.hide();
      return;
    }
    const { GpuMonitor: Monitor, IdleGpuDetector: Idle } = heavy();
    this.idle ??= new Idle(settings.idleThresholdPct, settings.idleMinutes * 60_000);
    this.monitor = new Monitor({
      intervalMs: settings.intervalMs,
      env: this.deps.doctor.probeEnv(),
      onUpdate: (s) => this.update(s),
      log: (m) => this.deps.log.debug(m),
    });
    this.item.text = '$(loading~spin) GPU';
    this.item.tooltip = 'Reading the GPUs…';
    this.item.show();
    if (vscode.window.state.focused) this.monitor.resume();
  }

  private restart(): void {
    this.monitor?.dispose();
    this.monitor = undefined;
    this.idle = undefined;
    this.start();
  }

  /** Our running runs that have GPUs. */
  private gpuRuns(): (RunOnGpus & { record: RunRecord })[] {
    return this.deps.runs.folders
      .flatMap((f) => f.runs)
      .filter((r) => r.state === 'running' && r.gpus.kind !== 'none')
      .map((r) => ({
        id: r.id,
        label: paramsLabel(r.params) || r.id,
        gpus: r.gpus.kind === 'devices' ? r.gpus.ids : 'all',
        record: r,
      }));
  }

  /** Runs that failed since the user last looked (clicking the item marks them seen). */
  private unseenFailures(): RunRecord[] {
    const seen = this.deps.extension.workspaceState.get<string>(ACK_KEY) ?? '';
    return this.deps.runs.folders
      .flatMap((f) => f.runs)
      .filter((r) => r.state === 'failed' && (r.finishedAt ?? '') > seen);
  }

  private update(state: MonitorState): void {
    this.state = state;
    this.render();
    if (state.kind !== 'ok' || !this.idle || !this.deps.config.statusBar.idleHint) return;
    const runs = this.gpuRuns();
    for (const hint of this.idle.observe(state.snapshot, runs)) {
      const run = runs.find((r) => r.id === hint.runId);
      if (!run) continue;
      const { idleHintMessage } = heavy();
      const message = idleHintMessage(run.label, hint, this.idle.thresholdPct);
      this.hints.set(hint.runId, message);
      this.deps.log.info(message);
      void vscode.window.showInformationMessage(message, 'View Run Logs').then((choice) => {
        if (choice) void vscode.commands.executeCommand('mlContainers.runs.viewLogs', hint.runId);
      });
    }
  }

  private render(): void {
    if (!this.deps.config.statusBar.enabled) return;
    const state = this.state;
    const failures = this.unseenFailures();
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: ['mlContainers.checkGpuCompatibility', 'mlContainers.runs.focus'] };
    let warning = failures.length > 0;
    switch (state.kind) {
      case 'starting':
        return;
      case 'no-gpu':
        this.item.text = '$(circle-slash) No GPU';
        this.item.command = 'mlContainers.checkGpuCompatibility';
        md.appendMarkdown(`**No GPU on this machine.** ${state.reason}\n\n${LINKS}`);
        break;
      case 'error':
        this.item.text = '$(warning) GPU';
        this.item.command = 'mlContainers.statusBar.show';
        md.appendMarkdown(
          `**nvidia-smi stopped:** ${state.reason}. Trying again in ${Math.round(state.retryInMs / 1000)} s.\n\n${LINKS}`,
        );
        warning = true;
        break;
      case 'ok': {
        const { statusBarView } = heavy();
        const view = statusBarView(state.snapshot, this.gpuRuns(), this.deps.config.statusBar.multiGpu);
        this.item.text = view.text;
        this.item.command = 'mlContainers.statusBar.show';
        md.appendMarkdown(`**GPUs** (every ${this.deps.config.statusBar.intervalMs / 1000} s)\n\n${view.tooltip}\n\n`);
        if (view.memoryWarning) md.appendMarkdown('$(warning) GPU memory is above 90%.\n\n');
        warning ||= view.memoryWarning;
        md.appendMarkdown(LINKS);
        break;
      }
    }
    if (failures.length > 0) {
      md.appendMarkdown(
        `\n\n$(error) ${failures.length} run${failures.length > 1 ? 's' : ''} failed: ${failures
          .slice(0, 3)
          .map((r) => r.explanation ?? r.id)
          .join(' ')}`,
      );
    }
    this.item.tooltip = md;
    this.item.backgroundColor = warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  /** The item's click (mlContainers.statusBar.show): the Training Runs view, and failures count as seen. */
  async show(): Promise<void> {
    await this.deps.extension.workspaceState.update(ACK_KEY, new Date().toISOString());
    this.render();
    await vscode.commands.executeCommand('mlContainers.runs.focus');
  }

  dispose(): void {
    this.monitor?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
