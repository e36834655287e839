/**
 * Run Training, the one home of the action behind `ml-containers run` and the editor's Run Training: the image built
 * (or checked), the run's spec made from the project (.env, shm), and the run started. Plain options in, the started
 * run out; a face only asks (flags, quick picks) and shows (stdout, a terminal) through the port.
 */
import type { EngineClient } from '../docker/engine';
import { resolveImage, runSpecFor } from '../runs/prepare';
import type { GpuSelection, ImageSource, RunRecord, RunSpec } from '../runs/types';

export interface RunTrainingOptions {
  projectRoot: string;
  /** argv; [] runs the image's own entry point. */
  command: string[];
  source: ImageSource;
  gpus: GpuSelection;
  /** Overrides of the build arguments (e.g. BASE_IMAGE), for a scaffold target. */
  buildArgs?: Record<string, string>;
  /** Extra environment (wins over the project's .env). */
  env?: Record<string, string>;
  ports?: number[];
  memoryBytes?: number;
}

/** What the face does while the operation goes: each step is reported before the next begins. */
export interface RunTrainingPort {
  /** Each line the image build prints. */
  buildLine?(line: string): void;
  /** The image is ready (built, or the reference checked); the run's spec is made next. */
  built?(image: { image: string; mountWorkspace: boolean }): void;
  /** Starts the run as the face follows it (its runner: the output to stdout or a terminal). */
  start(spec: RunSpec): Promise<{ record: RunRecord; done: Promise<RunRecord> }>;
}

/**
 * Builds or checks the image, makes the run's spec and starts the run. Throws what each step throws, unchanged (a
 * BuildError, a CancellationError when `signal` fires during the build, the engine's Problem when the run cannot
 * start), so that a face can tell the step from its port's calls and offer the action that fixes it.
 */
export async function runTraining(
  client: EngineClient,
  opts: RunTrainingOptions,
  signal: AbortSignal | undefined,
  port: RunTrainingPort,
): Promise<{ record: RunRecord; done: Promise<RunRecord> }> {
  const image = await resolveImage(client, opts.projectRoot, opts.source, {
    buildArgs: opts.buildArgs,
    signal,
    onProgress: port.buildLine && ((line) => port.buildLine!(line)),
  });
  port.built?.({ image: image.image, mountWorkspace: image.mountWorkspace });
  const spec = await runSpecFor(
    {
      projectRoot: opts.projectRoot,
      command: opts.command,
      gpus: opts.gpus,
      env: opts.env,
      ports: opts.ports,
      memoryBytes: opts.memoryBytes,
    },
    image,
  );
  return port.start(spec);
}
