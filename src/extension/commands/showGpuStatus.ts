import { command } from './command';

/** The GPU status bar item's click: the Training Runs view, and the failed runs it warned of count as seen. */
export const showGpuStatusCommand = command<'statusBar'>(
  'mlContainers.statusBar.show',
  ({ statusBar }) =>
    () =>
      statusBar.show(),
);
