import type { RunsViewNode } from '../../views/runsView';
import { command } from '../command';
import { recordOf } from './pick';

/** Training Runs: Refresh: reads every folder's runs and sweeps again. */
export const refreshRunsCommand = command<'runs'>('mlContainers.runs.refresh', (ctx) => () => ctx.runs.refresh());

/** View Logs: the saved log of a finished run, or the live stream of a running one, in a terminal. */
export const viewLogsCommand = command<'runs'>('mlContainers.runs.viewLogs', (ctx) => (arg?: RunsViewNode | string) => {
  const r = recordOf(ctx, arg);
  return r ? ctx.runs.showLogs(r) : undefined;
});
