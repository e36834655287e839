import type { RunsViewNode } from '../../views/runsView';
import { heavy } from '../../heavy';
import { OutputTerminal } from '../../runs/terminal';
import { command } from '../command';
import { asSentence, requireTrust } from '../register';
import { recordOf } from './pick';

/** Restart Run: the same run again (the core makes it from the record), its output in a new terminal. */
export const restartRunCommand = command<'runs'>(
  'mlContainers.runs.restart',
  (ctx) => async (arg?: RunsViewNode | string) => {
    const r = recordOf(ctx, arg);
    if (!r || !requireTrust('starts containers')) return undefined;
    const started = await heavy().restartRun(ctx.runs.runner(r.project), r, {
      start: (spec) => {
        const terminal = new OutputTerminal(`Run: ${r.projectName}`);
        terminal.show();
        return ctx.runs.start(r.project, spec, terminal);
      },
    });
    return started.record;
  },
  asSentence,
);
