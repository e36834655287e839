import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CheckProbes } from '../../core/compat/gather';
import type { FingerprintProbes } from '../../core/fingerprint/fingerprint';
import type { CheckResult } from '../../core/compat/types';
import type { Fingerprint } from '../../core/fingerprint/types';
import type { Ctx } from '../ctx';
import { heavy } from '../heavy';
import { updateDiagnostics } from './diagnostics';
import { ReportProvider, REPORT_SCHEME } from './reportProvider';

const HOST_KEY = 'mlContainers.hostFingerprint';

/** The GPU doctor in the editor: checks, the report, diagnostics, and noticing driver or GPU changes. */
export class Doctor implements vscode.Disposable {
  readonly reports = new ReportProvider();
  readonly diagnostics = vscode.languages.createDiagnosticCollection('ML Containers GPU');
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      this.reports,
      this.diagnostics,
      vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this.reports),
    );
  }

  /** The environment the probes see: the configured nvidia-smi's folder first on PATH. */
  probeEnv(): NodeJS.ProcessEnv {
    const smi = this.ctx.config.nvidiaSmiPath;
    const env = { ...process.env };
    if (smi) env.PATH = `${path.dirname(smi)}${path.delimiter}${env.PATH ?? ''}`;
    const dockerHost = this.ctx.config.dockerHost;
    if (dockerHost) env.DOCKER_HOST = dockerHost;
    return env;
  }

  /** The real probes (nvidia-smi, the engine); loaded on first use, never during activation. */
  async probes(): Promise<CheckProbes & FingerprintProbes> {
    const { realProbes } = heavy();
    return realProbes({ env: this.probeEnv() });
  }

  /** Checks a workspace folder's project against this host, updates diagnostics, and returns the result. */
  async check(folder: vscode.WorkspaceFolder, token?: vscode.CancellationToken): Promise<CheckResult> {
    const ac = new AbortController();
    token?.onCancellationRequested(() => ac.abort());
    const t0 = Date.now();
    const { gatherAndCheck } = heavy();
    const result = await gatherAndCheck({ projectDir: folder.uri.fsPath, signal: ac.signal }, await this.probes());
    this.ctx.log.info(
      `GPU check of ${folder.name}: ${result.verdict} (${result.findings.map((f) => f.id).join(', ') || 'no findings'}) in ${Date.now() - t0} ms`,
    );
    const profile = (await this.ctx.project.ensure()).find(
      (p) => p.folder.uri.toString() === folder.uri.toString(),
    )?.profile;
    await updateDiagnostics(this.diagnostics, folder.uri, profile?.envFiles ?? [], result);
    return result;
  }

  async showReport(folder: vscode.WorkspaceFolder, result: CheckResult): Promise<vscode.Uri> {
    const { checkReportMarkdown } = heavy();
    return this.reports.show(
      `GPU compatibility - ${folder.name}`,
      checkReportMarkdown(result, `GPU compatibility of ${folder.name}`),
    );
  }

  /**
   * Compares this host's driver and GPUs with the last session's; when they changed, says so and checks the
   * project again (diagnostics refresh). Runs after activation, never during it.
   */
  async noticeHostChanges(): Promise<string[]> {
    const state = await (await this.probes()).probeHost();
    const now = {
      driverVersion: state.driverVersion,
      gpus: state.gpus.map((g) => `${g.name ?? '?'} (${g.computeCapability ?? '?'})`),
    };
    const before = this.ctx.extension.globalState.get<typeof now>(HOST_KEY);
    await this.ctx.extension.globalState.update(HOST_KEY, now);
    if (!before) return [];
    const changes: string[] = [];
    if (before.driverVersion !== now.driverVersion) {
      changes.push(
        `the NVIDIA driver changed from ${before.driverVersion ?? 'none'} to ${now.driverVersion ?? 'none'}`,
      );
    }
    if (before.gpus.join() !== now.gpus.join()) {
      changes.push(`the GPUs changed from ${before.gpus.join(', ') || 'none'} to ${now.gpus.join(', ') || 'none'}`);
    }
    if (changes.length === 0) return [];
    this.ctx.log.info(`Host changed since the last session: ${changes.join('; ')}`);
    const folder = vscode.workspace.workspaceFolders?.[0];
    const result = folder ? await this.check(folder) : undefined;
    const verdict = result ? ` The project's GPU check now says: ${result.verdict}.` : '';
    // not awaited: the message stays until the user answers
    void vscode.window
      .showInformationMessage(`Since the last session ${changes.join(' and ')}.${verdict}`, 'Show Report')
      .then((choice) => (choice === 'Show Report' && folder && result ? this.showReport(folder, result) : undefined));
    return changes;
  }

  /** Fingerprint of this host (and an image), for saving or comparing. */
  async fingerprint(image?: string): Promise<Fingerprint> {
    const { takeFingerprint } = heavy();
    return takeFingerprint(await this.probes(), image ? { image } : {});
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
