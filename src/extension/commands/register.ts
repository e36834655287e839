import * as vscode from 'vscode';
import { CancellationError, errorMessage } from '../../core/util/errors';
import type { Ctx } from '../ctx';

/**
 * Registers a command whose failures become one actionable sentence with "View Logs" (and whose cancellation is
 * silent). Handlers may return a value: tests and other extensions read it through executeCommand.
 */
export function registerCommand(
  ctx: Ctx,
  id: string,
  handler: (...args: never[]) => unknown,
  describeFailure: (err: unknown) => string = (err) => `${id} failed: ${errorMessage(err)}. See the logs for details.`,
): void {
  ctx.subscriptions.push(
    vscode.commands.registerCommand(id, async (...args: never[]) => {
      ctx.log.debug(`command ${id}`);
      try {
        return await handler(...args);
      } catch (err) {
        if (err instanceof CancellationError) return undefined;
        void ctx.log.showError(describeFailure(err), err);
        return undefined;
      }
    }),
  );
}

/** For commands whose errors already are one sentence (what happened and what to do): shown as they are. */
export const asSentence = (err: unknown): string => errorMessage(err);

/** The workspace folder a command works on: the one of `target`, the only one, or the one the user picks. */
export async function pickFolder(
  target?: vscode.Uri,
  placeHolder = 'Which project?',
): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (target) return vscode.workspace.getWorkspaceFolder(target) ?? folders[0];
  if (folders.length <= 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder });
}

/** True in a trusted workspace; otherwise says how to trust it before ML Containers does `what`. */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(
    `This folder is not trusted: trust it (Manage Workspace Trust) before ML Containers ${what}.`,
  );
  return false;
}
