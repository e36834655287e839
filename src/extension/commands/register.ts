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
