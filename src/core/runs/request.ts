/**
 * From what the user asked (flags on the command line, answers and options in the editor) to what a run or a sweep
 * uses: the image source, the GPUs by default, and the GPUs a sweep hands out. One home for the decisions both faces
 * make; the faces only ask the questions and show the answers.
 */
import { isProblem, Problem } from '../util/errors';
import { findBuildSetup } from './build';
import { imageRefProblem } from './spec';
import type { GpuSelection, ImageSource } from './types';

/**
 * A request that cannot be run as asked (an image and a target, a target that is not one, a bad reference, a sweep
 * file that is not there, a sweep that cannot be resumed): bad usage, refused before anything starts.
 */
export class RunRequestError extends Problem<'bad-run-request'> {
  constructor(
    /** What the user gave that is wrong. */
    readonly field: 'image' | 'target' | 'file' | 'sweep',
    message: string,
  ) {
    super('bad-run-request', message);
    this.name = 'RunRequestError';
  }
}

/** How a face calls the two choices in its sentences: `--image`/`--target` on the command line. */
export interface RequestNames {
  image: string;
  target: string;
}

const PLAIN_NAMES: RequestNames = { image: 'the image', target: 'the target' };

/**
 * The scaffold target built when none is asked for: `dev` to run a command (dependencies only, the project mounted at
 * /workspace, so edits apply at once), `train` to run the image's own launcher (the code copied in, as on a cluster).
 */
export function defaultTarget(hasCommand: boolean): 'dev' | 'train' {
  return hasCommand ? 'dev' : 'train';
}

/**
 * The image a run uses: an existing image (checked against Docker's reference grammar before anything starts), a
 * scaffold target, or, when neither is given, the default target. Both at once is refused: no silent precedence.
 */
export function imageSourceFor(
  req: { image?: string; target?: string; hasCommand: boolean },
  names: RequestNames = PLAIN_NAMES,
): ImageSource {
  if (req.image !== undefined && req.target !== undefined) {
    throw new RunRequestError('image', `give ${names.image} or ${names.target}, not both.`);
  }
  if (req.image !== undefined) {
    // the engine's API takes the reference as a URL path (`..`, `/x`): refused here, never sent
    const problem = imageRefProblem(req.image);
    if (problem) throw new RunRequestError('image', `${names.image} ${problem}`);
    return { kind: 'image', ref: req.image };
  }
  if (req.target !== undefined && req.target !== 'train' && req.target !== 'dev') {
    throw new RunRequestError('target', `${names.target} must be train or dev, got "${req.target}".`);
  }
  return { kind: 'target', target: req.target ?? defaultTarget(req.hasCommand) };
}

/** Whether the project can build the scaffold's targets: its build setup finds a Dockerfile. */
export async function hasBuildSetup(projectRoot: string): Promise<boolean> {
  try {
    await findBuildSetup(projectRoot);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a run whose image is not there can build the project's own instead: the image was named (not a target), the
 * engine said it has no such image, and the project has a build setup. The face then offers to build the train target.
 */
export async function canBuildInstead(err: unknown, source: ImageSource, projectRoot: string): Promise<boolean> {
  return (
    isProblem(err) && err.id === 'image-not-found' && source.kind === 'image' && (await hasBuildSetup(projectRoot))
  );
}

/** The GPUs a run gets when the user did not say: all of them when nvidia-smi sees GPUs, else none. */
export function defaultGpuSelection(state: { gpus: readonly unknown[] } | undefined): GpuSelection {
  return state && state.gpus.length > 0 ? { kind: 'all' } : { kind: 'none' };
}

/** The GPUs a sweep hands out and how many each of its runs gets. */
export interface SweepGpuPlan {
  gpus: string[];
  gpusPerRun: number;
}

/**
 * A sweep's GPU pool from the selection and the sweep file's gpusPerRun. `none` runs every variant on the CPU,
 * whatever the file says; gpusPerRun 0 means CPU-only runs, whichever GPUs were offered (none is held for them);
 * `all` is the GPUs nvidia-smi sees on this machine (none seen: none to hand out, and the GPU pool says what to do);
 * chosen GPUs are kept in the order given, each once.
 */
export function sweepGpuPool(
  selection: GpuSelection,
  gpusPerRun: number,
  hostGpus: readonly { index: number }[] | undefined,
): SweepGpuPlan {
  if (selection.kind === 'none' || gpusPerRun === 0) return { gpus: [], gpusPerRun: 0 };
  const gpus = selection.kind === 'devices' ? selection.ids : (hostGpus ?? []).map((g) => String(g.index));
  return { gpus: [...new Set(gpus)], gpusPerRun };
}
