/**
 * Why a run ended the way it did, in one sentence a user can act on: the container's exit state (exit code,
 * OOMKilled) read together with the end of its log (CUDA out of memory, NCCL, shared memory). Pure.
 */

export type RunFailureId =
  | 'host-oom'
  | 'cuda-oom'
  | 'shm-exhausted'
  | 'nccl-error'
  | 'no-cuda-device'
  | 'killed'
  | 'stopped'
  | 'command-not-found'
  | 'exit-nonzero';

export interface RunFailure {
  id: RunFailureId;
  /** One sentence: what happened and what to do. */
  message: string;
}

/** Strips ANSI escape sequences (colours, cursor moves) from terminal output. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g, '');
}

/** The lines of terminal output as a user sees them: `\r` redraws count as lines, escapes removed, blanks dropped. */
export function visibleLines(text: string): string[] {
  return stripAnsi(text)
    .split(/\r\n|\r|\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
}

// `eval_loss` and `'loss': 0.69` (Hugging Face Trainer's dicts) too: a name after `_`, a quote before the colon
const METRIC =
  /(?:\b|_)(?:loss|val_loss|train_loss|acc|accuracy|val_acc|top1|top5|f1|auc|mse|mae|rmse|perplexity|ppl|bleu|rouge\w*|reward|return|score|iou|map|wer|cer)\b[\w/.-]*['"]?\s*[:=]\s*[-+]?(?:\d|\.\d|nan|inf)/i;

/** The last line of a log that looks like a metric (`loss=0.12`, `val_acc: 0.93`, `epoch 3 loss 0.2`), or null. */
export function lastMetricLine(logTail: string): string | null {
  const lines = visibleLines(logTail);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (METRIC.test(line) || /\b(?:loss|acc(?:uracy)?)\s+[-+]?\d*\.?\d+/i.test(line)) {
      return line.trim().slice(0, 200);
    }
  }
  return null;
}

const SHM_FIX =
  'give the container more shared memory (a larger --shm-size or --ipc=host in .devcontainer/devcontainer.json ' +
  "runArgs), or lower the DataLoader's num_workers";

/**
 * Explains how a run ended. `stoppedByUser`: we stopped it (exit 143/137 is then expected, not a failure).
 * Returns null for a run that succeeded.
 */
export function explainRunExit(exit: {
  exitCode: number;
  oomKilled: boolean;
  logTail: string;
  stoppedByUser?: boolean;
  memoryLimitBytes?: number;
}): RunFailure | null {
  const { exitCode, oomKilled, logTail } = exit;
  const log = stripAnsi(logTail);
  if (exit.stoppedByUser) {
    return { id: 'stopped', message: `The run was stopped (exit code ${exitCode}).` };
  }
  if (exitCode === 0) return null;
  if (oomKilled) {
    const limit = exit.memoryLimitBytes ? ` (its limit is ${formatBytes(exit.memoryLimitBytes)})` : '';
    return {
      id: 'host-oom',
      message:
        `The run was killed because the container ran out of host memory${limit} (exit ${exitCode}, OOMKilled): ` +
        'raise or remove its memory limit, or lower the batch size, the DataLoader workers or what is cached in RAM.',
    };
  }
  if (/CUDA out of memory|CUDA error: out of memory|OutOfMemoryError|RESOURCE_EXHAUSTED: Out of memory/i.test(log)) {
    return {
      id: 'cuda-oom',
      message:
        'The run failed because a GPU ran out of memory (CUDA out of memory in the log): lower the batch size, use ' +
        'mixed precision or gradient checkpointing, or give the run a GPU with more memory.',
    };
  }
  if (
    /DataLoader worker \(pid[^)]*\) is killed by signal: Bus error|insufficient shared memory \(shm\)|No space left on device.*\/dev\/shm|unable to write to file <\/torch_/i.test(
      log,
    )
  ) {
    return {
      id: 'shm-exhausted',
      message: `The run failed because /dev/shm filled up (DataLoader workers share batches through it): ${SHM_FIX}.`,
    };
  }
  if (/\bNCCL (?:error|WARN)|ncclSystemError|ncclInternalError|ncclUnhandledCudaError/.test(log)) {
    const shm = /shm|\/dev\/shm|Bus error/i.test(log);
    return {
      id: 'nccl-error',
      message: shm
        ? `The run failed in NCCL (GPU-to-GPU communication) because shared memory ran out: ${SHM_FIX}.`
        : 'The run failed in NCCL (GPU-to-GPU communication): rerun with NCCL_DEBUG=INFO in the environment to see ' +
          'which transport failed, and check that every GPU of the run is visible (`nvidia-smi` in the container).',
    };
  }
  if (/no CUDA-capable device is detected|Found no NVIDIA driver|CUDA driver version is insufficient/i.test(log)) {
    return {
      id: 'no-cuda-device',
      message:
        'The run failed because the program found no usable GPU: start it with GPUs (--gpus all), and run ' +
        '"ML Containers: Check GPU Compatibility" to check the driver against the image.',
    };
  }
  if (exitCode === 127 || /exec: "[^"]+": executable file not found|can't open file '[^']+': \[Errno 2\]/.test(log)) {
    return {
      id: 'command-not-found',
      message: `The run failed because its command was not found in the image (exit ${exitCode}): check the command and that the image installs it.`,
    };
  }
  if (exitCode === 137 || exitCode === 143) {
    return {
      id: 'killed',
      message: `The run was killed by a signal (exit ${exitCode}) without running out of memory: check whether something else stopped the container.`,
    };
  }
  return {
    id: 'exit-nonzero',
    message: `The run exited with code ${exitCode}: the end of its log says why.`,
  };
}

function formatBytes(n: number): string {
  const gib = n / 1024 ** 3;
  return gib >= 1 ? `${+gib.toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`;
}
