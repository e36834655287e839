/** A sweep's actions in the Training Runs view: its summary, and stopping it. */
import * as vscode from 'vscode';
import { heavy } from '../../heavy';
import type { RunsViewNode } from '../../views/runsView';
import { command } from '../command';
import { sweepOf } from './pick';

/** Sweep Summary: each variant's parameters, state, exit code and last metric line, in a text document. */
export const sweepSummaryCommand = command<'runs'>(
  'mlContainers.runs.sweepSummary',
  (ctx) => async (arg?: RunsViewNode | string) => {
    const s = sweepOf(ctx, arg);
    if (!s) return undefined;
    const text = await heavy().sweepSummaryText(s, ctx.runs.runner(s.project));
    const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc;
  },
);

/** Stop Sweep: stops a sweep this window supervises (its runs stopped, the queued ones never started). */
export const stopSweepCommand = command<'runs'>(
  'mlContainers.runs.stopSweep',
  (ctx) => (arg?: RunsViewNode | string) => {
    const s = sweepOf(ctx, arg);
    if (!s) return false;
    if (!ctx.runs.cancelSweep(s.id)) {
      void vscode.window.showInformationMessage(`Sweep ${s.id} is not running in this window.`);
      return false;
    }
    return true;
  },
);
