import * as vscode from 'vscode';
import type { CheckResult } from '../../../core/compat/types';
import { errorMessage } from '../../../core/util/errors';
import { heavy } from '../../heavy';
import { command } from '../command';
import { eitherToken, pickFolder } from '../register';

/** "Check GPU Compatibility": the project against this host's driver, GPUs and engine; a report and diagnostics. */
export const checkCommand = command<'doctor'>(
  'mlContainers.checkGpuCompatibility',
  ({ doctor }) =>
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
        (_progress, token) => doctor.check(folder, eitherToken(token, options?.cancellation)),
      );
      const report = await doctor.showReport(folder, result);
      // the report is open beside: the notification only says how bad it is, it does not repeat (and cover) the findings
      const notice = options?.silent ? undefined : heavy().checkNotice(result);
      if (notice?.severity === 'error') void vscode.window.showErrorMessage(notice.message);
      else if (notice) void vscode.window.showWarningMessage(notice.message);
      return { result, report };
    },
  (err) =>
    `The GPU compatibility check failed (${errorMessage(err)}). Check that nvidia-smi and the Docker engine respond, then run it again.`,
);
