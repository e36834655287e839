import * as vscode from 'vscode';
import type { CheckResult } from '../../core/compat/types';
import type { Fingerprint, FingerprintDifference } from '../../core/fingerprint/types';
import { errorMessage } from '../../core/util/errors';
import type { Ctx } from '../ctx';
import { heavy } from '../heavy';
import { eitherToken, pickFolder, registerCommand } from './register';

/** "Check GPU Compatibility": the project against this host's driver, GPUs and engine; a report and diagnostics. */
export function registerCheckCommand(ctx: Ctx): void {
  registerCommand(
    ctx,
    'mlContainers.checkGpuCompatibility',
    async (
      target?: vscode.Uri,
      /** `cancellation` cancels the check like the notification's Cancel button (tests, other extensions). */
      options?: { silent?: boolean; cancellation?: vscode.CancellationToken },
    ): Promise<{ result: CheckResult; report: vscode.Uri } | undefined> => {
      const folder = await pickFolder(target, 'Which project should be checked?');
      if (!folder) {
        void vscode.window.showInformationMessage(
          'Open a folder with a machine-learning project first, then run Check GPU Compatibility.',
        );
        return undefined;
      }
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Checking GPU compatibility', cancellable: true },
        (_progress, token) => ctx.doctor.check(folder, eitherToken(token, options?.cancellation)),
      );
      const report = await ctx.doctor.showReport(folder, result);
      if (!options?.silent && result.verdict !== 'ok') {
        // the report is open beside: the toast only says how bad it is, it does not repeat (and cover) the findings
        const problems = result.findings.filter((f) => f.severity !== 'info');
        const errors = problems.filter((f) => f.severity === 'error').length;
        const msg =
          result.verdict === 'error'
            ? `GPU check: ${errors} problem${errors === 1 ? '' : 's'} that will stop the container from using the GPU; the report says how to fix ${errors === 1 ? 'it' : 'them'}.`
            : `GPU check: ${problems.length} warning${problems.length === 1 ? '' : 's'}; see the report.`;
        if (result.verdict === 'error') void vscode.window.showErrorMessage(msg);
        else void vscode.window.showWarningMessage(msg);
      }
      return { result, report };
    },
    (err) =>
      `The GPU compatibility check failed (${errorMessage(err)}). Check that nvidia-smi and the Docker engine respond, then run it again.`,
  );
}

/** "Compare Environments": two fingerprint files (or this machine now vs. one file), differences ranked. */
export function registerCompareCommand(ctx: Ctx): void {
  registerCommand(
    ctx,
    'mlContainers.compareEnvironments',
    async (
      a?: vscode.Uri,
      b?: vscode.Uri,
    ): Promise<{ differences: FingerprintDifference[]; report: vscode.Uri } | undefined> => {
      const filters = { 'Fingerprints (JSON)': ['json'] };
      const first =
        a ??
        (
          await vscode.window.showOpenDialog({
            canSelectMany: false,
            filters,
            title: 'Fingerprint A (e.g. the machine where it works)',
          })
        )?.[0];
      if (!first) return undefined;
      let second = b;
      let secondFp: Fingerprint | undefined;
      if (!second) {
        const choice = await vscode.window.showQuickPick(['This machine, now', 'Another fingerprint file…'], {
          title: 'Compare with',
        });
        if (!choice) return undefined;
        if (choice.startsWith('This machine')) secondFp = await ctx.doctor.fingerprint();
        else {
          second = (await vscode.window.showOpenDialog({ canSelectMany: false, filters, title: 'Fingerprint B' }))?.[0];
        }
        if (!second && !secondFp) return undefined;
      }
      const { diffFingerprints, diffReportMarkdown, fingerprintFromText } = heavy();
      const load = async (uri: vscode.Uri): Promise<Fingerprint> =>
        fingerprintFromText(
          new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)),
          vscode.workspace.asRelativePath(uri),
        );
      const fa = await load(first);
      const fb = secondFp ?? (await load(second!));
      const differences = diffFingerprints(fa, fb);
      const report = await ctx.doctor.reports.show(
        'Environment comparison',
        diffReportMarkdown(
          vscode.workspace.asRelativePath(first),
          second ? vscode.workspace.asRelativePath(second) : 'this machine, now',
          differences,
        ),
      );
      return { differences, report };
    },
    (err) =>
      `Comparing the environments failed: ${errorMessage(err)}. Pick two files made by "Save Environment Fingerprint" or \`ml-containers fingerprint --out\`.`,
  );
}

/** "Save Environment Fingerprint": this machine's fingerprint as a JSON file, to compare with a colleague's. */
export function registerSaveFingerprintCommand(ctx: Ctx): void {
  registerCommand(
    ctx,
    'mlContainers.saveFingerprint',
    async (target?: vscode.Uri): Promise<vscode.Uri | undefined> => {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const uri =
        target ??
        (await vscode.window.showSaveDialog({
          filters: { 'Fingerprints (JSON)': ['json'] },
          ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, 'environment-fingerprint.json') } : {}),
        }));
      if (!uri) return undefined;
      const fp = await ctx.doctor.fingerprint();
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(`${JSON.stringify(fp, null, 2)}\n`));
      void vscode.window.showInformationMessage(
        `Saved this machine's environment fingerprint to ${vscode.workspace.asRelativePath(uri)}.`,
      );
      return uri;
    },
    (err) => `Saving the environment fingerprint failed: ${errorMessage(err)}. Choose a folder you can write to.`,
  );
}
