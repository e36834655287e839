import * as vscode from 'vscode';
import { errorMessage, isCancellation, isProblem, type Problem } from '../../core/util/errors';
import type { Ctx } from '../ctx';
import type { ErrorAction } from '../log';

const openDoctor: ErrorAction = {
  label: 'Check GPU Compatibility',
  run: () => vscode.commands.executeCommand('mlContainers.checkGpuCompatibility'),
};

/**
 * The action that fixes each kind of problem (by its id), offered wherever one is shown. Problems whose fix depends on
 * what the command was doing (an image to build) get their action from that command (`showProblem`'s `actions`).
 */
const PROBLEM_ACTIONS: Readonly<Record<string, readonly ErrorAction[]>> = {
  'no-container-gpu-runtime': [openDoctor],
  'no-nvidia-runtime': [openDoctor],
  'cdi-not-enabled': [openDoctor],
  'cdi-device-unresolvable': [openDoctor],
};

/** The buttons a problem's notification offers: the command's own first, then those of its kind. */
export function problemActions(problem: Problem, actions: readonly ErrorAction[] = []): ErrorAction[] {
  const all = [...actions, ...(PROBLEM_ACTIONS[problem.id] ?? [])];
  return all.filter((a, i) => all.findIndex((b) => b.label === a.label) === i);
}

/** Shows a problem's sentence with the actions that fix it (see problemActions) and View Logs. */
export function showProblem(
  ctx: Pick<Ctx, 'log'>,
  problem: Problem,
  actions: readonly ErrorAction[] = [],
): Promise<void> {
  return ctx.log.showError(problem.message, problem, problemActions(problem, actions));
}

/**
 * Registers a command whose failures become one actionable sentence with "View Logs" (and whose cancellation is
 * silent). A Problem is shown as its own sentence with the actions of its kind; other errors through
 * `describeFailure`. Handlers may return a value: tests and other extensions read it through executeCommand.
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
        // the core's errors come from the other bundle (dist/lazy.js): recognised by their marks, not by instanceof
        if (isCancellation(err)) return undefined;
        if (isProblem(err)) void showProblem(ctx, err);
        else void ctx.log.showError(describeFailure(err), err);
        return undefined;
      }
    }),
  );
}

/**
 * A token cancelled when `a` or `b` is: a progress notification's Cancel button, or the token a caller passed to the
 * command (tests, other extensions). `a` itself when there is no `b`.
 */
export function eitherToken(a: vscode.CancellationToken, b?: vscode.CancellationToken): vscode.CancellationToken {
  if (!b) return a;
  const source = new vscode.CancellationTokenSource();
  if (a.isCancellationRequested || b.isCancellationRequested) source.cancel();
  const cancel = (): void => {
    source.cancel();
    for (const l of listeners) l.dispose();
  };
  const listeners = [a.onCancellationRequested(cancel), b.onCancellationRequested(cancel)];
  return source.token;
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
