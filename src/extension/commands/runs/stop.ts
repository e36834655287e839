import type { RunsViewNode } from '../../views/runsView';
import { command } from '../command';
import { asSentence } from '../register';
import { recordOf } from './pick';

/** Stop: stops a run (its log and record are kept); returns its record as it ended. */
export const stopRunCommand = command<'runs'>(
  'mlContainers.runs.stop',
  (ctx) => async (arg?: RunsViewNode | string) => {
    const r = recordOf(ctx, arg);
    if (!r) return undefined;
    const final = await ctx.runs.runner(r.project).stop(r.id);
    await ctx.runs.refresh();
    return final;
  },
  asSentence,
);
