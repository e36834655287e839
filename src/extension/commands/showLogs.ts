import { command } from './command';

/** Shows the ML Containers output channel (the log every error notification's "View Logs" opens). */
export const showLogsCommand = command<'log'>(
  'mlContainers.showLogs',
  ({ log }) =>
    () =>
      log.channel.show(),
);
