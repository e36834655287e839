import * as vscode from 'vscode';
import type { CheckResult } from '../../core/compat/types';
import type { HostProbes, ProbeOptions } from '../../core/operations/check';
import type { Fingerprint } from '../../core/fingerprint/types';
import type { Config } from '../config';
import { heavy } from '../heavy';
import type { Log } from '../log';
import type { ProjectModel } from '../project/projectModel';
import { updateDiagnostics } from './diagnostics';
import { ReportProvider, REPORT_SCHEME } from './reportProvider';

const HOST_KEY = 'mlContainers.hostFingerprint';

/** What the doctor uses of the extension: two settings, the log, the project model and the state kept across sessions. */
export interface DoctorDeps {
  readonly config: Pick<Config, 'nvidiaSmiPath' | 'dockerHost'>;
  readonly log: Pick<Log, 'info'>;
  readonly project: Pick<ProjectModel, 'ensure'>;
  /** Its global state: where the last session's host is remembered. */
  readonly extension: Pick<vscode.ExtensionContext, 'globalState'>;
}

/** The GPU doctor in the editor: checks, the report, diagnostics, and noticing driver or GPU changes. */
export class Doctor implements vscode.Disposable {
  readonly reports = new ReportProvider();
  readonly diagnostics = vscode.languages.createDiagnosticCollection('ML Containers GPU');
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly deps: DoctorDeps) {
    this.disposables.push(
      this.reports,
      this.diagnostics,
      vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this.reports),
    );
  }

  /** Where the probes reach the machine: the configured nvidia-smi and engine, read fresh each time. */
  private probeOptions(): ProbeOptions {
    return { nvidiaSmiPath: this.deps.config.nvidiaSmiPath, dockerHost: this.deps.config.dockerHost };
  }

  /** The environment the probes see: the configured nvidia-smi's folder first on PATH, the configured engine. */
  probeEnv(): NodeJS.ProcessEnv {
    return heavy().probeEnvironment(this.probeOptions());
  }

  /** The real probes (nvidia-smi, the engine); loaded on first use, never during activation. */
  async probes(): Promise<HostProbes> {
    return heavy().hostProbes(this.probeOptions());
  }

  /** Checks a workspace folder's project against this host, updates diagnostics, and returns the result. */
  async check(folder: vscode.WorkspaceFolder, token?: vscode.CancellationToken): Promise<CheckResult> {
    const ac = new AbortController();
    token?.onCancellationRequested(() => ac.abort());
    const t0 = Date.now();
    const opts = { projectDir: folder.uri.fsPath, ...this.probeOptions() };
    const result = await heavy().checkGpuCompatibility(opts, ac.signal);
    this.deps.log.info(
      `GPU check of ${folder.name}: ${result.verdict} (${result.findings.map((f) => f.id).join(', ') || 'no findings'}) in ${Date.now() - t0} ms`,
    );
    const profile = (await this.deps.project.ensure()).find(
      (p) => p.folder.uri.toString() === folder.uri.toString(),
    )?.profile;
    await updateDiagnostics(this.diagnostics, folder.uri, profile?.envFiles ?? [], result);
    return result;
  }

  /** Opens the report of a folder's check beside the editor. */
  async showReport(folder: vscode.WorkspaceFolder, result: CheckResult): Promise<vscode.Uri> {
    const { title, markdown } = heavy().checkReport(result, folder.name);
    return this.reports.show(title, markdown);
  }

  /**
   * Compares this host's driver and GPUs with the last session's; when they changed, says so and checks the
   * project again (diagnostics refresh). Runs after activation, never during it.
   */
  async noticeHostChanges(): Promise<string[]> {
    const { hostChangesSince, hostChangeNotice } = heavy();
    const { now, changes } = await hostChangesSince(this.deps.extension.globalState.get(HOST_KEY), this.probeOptions());
    await this.deps.extension.globalState.update(HOST_KEY, now);
    if (changes.length === 0) return [];
    this.deps.log.info(`Host changed since the last session: ${changes.join('; ')}`);
    const folder = vscode.workspace.workspaceFolders?.[0];
    const result = folder ? await this.check(folder) : undefined;
    // not awaited: the message stays until the user answers
    void vscode.window
      .showInformationMessage(hostChangeNotice(changes, result?.verdict), 'Show Report')
      .then((choice) => (choice === 'Show Report' && folder && result ? this.showReport(folder, result) : undefined));
    return changes;
  }

  /** Fingerprint of this host (and an image), for saving or comparing. */
  fingerprint(image?: string): Promise<Fingerprint> {
    return heavy().fingerprintEnvironment({ ...this.probeOptions(), image });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
