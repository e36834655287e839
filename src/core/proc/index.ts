export {
  CancellationError,
  ChildProcessError,
  CommandNotFoundError,
  ProcessStartError,
  ProcessTimeoutError,
} from './errors';
export {
  DEFAULT_MAX_OUTPUT_BYTES,
  type LineStream,
  type RunOptions,
  type RunResult,
  runProcess,
  type StreamEnd,
  type StreamLinesOptions,
  streamLines,
} from './run';
