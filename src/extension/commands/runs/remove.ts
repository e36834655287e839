import * as vscode from 'vscode';
import type { RunRecord } from '../../../core/runs/types';
import type { Ctx } from '../../ctx';
import type { RunsViewNode } from '../../views/runsView';
import { command } from '../command';
import { asSentence } from '../register';
import { recordOf } from './pick';

/** `deleteRecord` given: no question asked (tests, other extensions); absent: the user confirms each step. */
interface RemoveOptions {
  deleteRecord?: boolean;
}

/**
 * Remove: removes a run's container (its log and record kept), or, for a run without one or with `deleteRecord`, its
 * record and log too. Returns the record without its container when it is kept.
 */
export const removeRunCommand = command<'runs'>(
  'mlContainers.runs.remove',
  (ctx) => (arg?: RunsViewNode | string, options?: RemoveOptions) => {
    const r = recordOf(ctx, arg);
    return r ? removeRun(ctx, r, options) : undefined;
  },
  asSentence,
);

async function removeRun(
  ctx: Pick<Ctx, 'runs'>,
  r: RunRecord,
  options: RemoveOptions | undefined,
): Promise<RunRecord | undefined> {
  const runner = ctx.runs.runner(r.project);
  if (r.containerId) {
    if (r.state === 'running' && options === undefined) {
      const ok = await vscode.window.showWarningMessage(
        `Run ${r.id} is still running. Stop it and remove its container? Its log and record are kept.`,
        { modal: true },
        'Stop and Remove',
      );
      if (!ok) return undefined;
    }
    const after = await runner.removeContainer(r.id);
    if (!options?.deleteRecord) {
      await ctx.runs.refresh();
      return after;
    }
  }
  if (options?.deleteRecord === undefined) {
    const ok = await vscode.window.showWarningMessage(
      `Delete the record and log of run ${r.id}? This cannot be undone.`,
      { modal: true },
      'Delete',
    );
    if (!ok) return undefined;
  }
  await runner.deleteRecord(r.id);
  await ctx.runs.refresh();
  return undefined;
}
