/**
 * From a project to a cluster job request: the image (the last one pushed, by digest), the launcher's command, the
 * GPUs and /dev/shm the project asks for, and a sweep's variants. Shared by `ml-containers k8s` and the editor.
 */
import * as path from 'node:path';
import { readDevcontainerOrNull, sharedMemory } from '../devcontainer';
import type { PushResult } from '../registry/push';
import { visible } from '../util/encode';
import { STATE_DIR } from '../runs/store';
import { commandFor, expandGrid, parseSweepFile, type SweepFile } from '../runs/sweep';
import { detectForScaffold, launcherCommand } from '../scaffold/generate';
import { readRegularFile, UnsafePathError } from '../util/safeFs';
import type { ClusterJobRequest } from './manifests';
import {
  checkCount,
  checkImageRef,
  checkNamespace,
  checkSecretName,
  checkShmSize,
  ClusterValueError,
  gridSize,
  MAX_GPUS_PER_POD,
  MAX_NODES,
  MAX_SWEEP_VARIANTS,
  quantityOfBytes,
  shown,
} from './validate';

/** /dev/shm for cluster pods when the project does not say (NCCL and DataLoader workers need more than 64 MB). */
export const DEFAULT_CLUSTER_SHM = '16Gi';

/**
 * The last image pushed from this project (`.ml-containers/images.json`), or undefined when none is recorded. The
 * record is project content: a reference that is not an image reference is refused (ClusterValueError), a file that
 * is not a regular file inside the project or not a list of records counts as none.
 */
export async function lastPushed(projectRoot: string): Promise<PushResult | undefined> {
  let list: unknown;
  try {
    const text = await readRegularFile(path.join(projectRoot, STATE_DIR, 'images.json'), {
      root: projectRoot,
      cap: 4 * 1024 * 1024,
    });
    if (text === null) return undefined;
    list = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const last = list[list.length - 1] as Partial<PushResult> | null;
  if (!last || typeof last !== 'object') return undefined;
  checkImageRef(last.reference, `The last pushed image recorded in ${STATE_DIR}/images.json`);
  const pushedAt =
    typeof last.pushedAt === 'string' && /^[\w:.+-]{1,40}$/.test(last.pushedAt) ? last.pushedAt : 'at an unknown time';
  return { ...last, pushedAt } as PushResult;
}

export interface ClusterPlanOptions {
  image?: string;
  gpus?: number;
  nodes?: number;
  command?: string[];
  sweep?: SweepFile;
  /** A sweep file to read (inside the project, a regular file), instead of `sweep`. */
  sweepFile?: string;
  /** The sweep's id in the objects' names (default: the sweep file's name, see sweepIdOf). */
  sweepId?: string;
  namespace?: string;
  imagePullSecret?: string;
  shmSize?: string;
  env?: Record<string, string>;
}

/** What each option is called where the user gave it (e.g. `--shm`), for the sentences that refuse it. */
export type ClusterOptionNames = Partial<
  Record<'image' | 'gpus' | 'nodes' | 'namespace' | 'imagePullSecret' | 'shmSize', string>
>;

/**
 * The options the user gave, checked (throws ClusterValueError naming the option as `names` says): the faces call it
 * first to refuse a bad option as bad usage, planClusterJob calls it again for whoever did not.
 */
export function checkClusterOptions(options: ClusterPlanOptions, names: ClusterOptionNames = {}): ClusterPlanOptions {
  const out = { ...options };
  if (options.image !== undefined) out.image = checkImageRef(options.image, names.image);
  if (options.gpus !== undefined) {
    out.gpus = checkCount(options.gpus, names.gpus ?? 'GPUs per pod', 0, MAX_GPUS_PER_POD);
  }
  if (options.nodes !== undefined) out.nodes = checkCount(options.nodes, names.nodes ?? 'Nodes', 1, MAX_NODES);
  if (options.namespace !== undefined) out.namespace = checkNamespace(options.namespace, names.namespace);
  if (options.imagePullSecret !== undefined) {
    out.imagePullSecret = checkSecretName(options.imagePullSecret, names.imagePullSecret);
  }
  if (options.shmSize !== undefined) out.shmSize = checkShmSize(options.shmSize, names.shmSize);
  return out;
}

/** A request with the project's defaults filled in, and notes to tell the user (one sentence each). */
export async function planClusterJob(
  projectRoot: string,
  given: ClusterPlanOptions,
  names: ClusterOptionNames = {},
): Promise<{ request: ClusterJobRequest; notes: string[] }> {
  const options = checkClusterOptions(given, names);
  const notes: string[] = [];
  let image = options.image;
  if (!image) {
    const pushed = await lastPushed(projectRoot);
    if (!pushed) {
      throw new Error(
        'No image was pushed from this project yet: push the training image first (`ml-containers push` or ' +
          '"ML Containers: Push Training Image"), or give the image to run.',
      );
    }
    image = pushed.reference;
    notes.push(`Image: ${image} (pushed ${pushed.pushedAt}), by digest so every pod runs exactly it.`);
  }
  let sweep = options.sweep;
  if (!sweep && options.sweepFile) sweep = await readSweep(projectRoot, options.sweepFile);
  const { profile } = await detectForScaffold(projectRoot);
  const launch = launcherCommand(profile);
  const gpus = options.gpus ?? (profile.needsGpu === 'no' ? 0 : 1);
  const nodes = options.nodes ?? 1;
  let command = options.command ?? [];
  let torchrunScript: string[] | undefined;
  // a detected script is a file name of the project: one that starts with '-' must not read as an option
  const entry = profile.entrypoints[0] ? asArgument(profile.entrypoints[0]) : undefined;
  if (command.length === 0 && !sweep) {
    if (!entry) {
      throw new ClusterValueError(
        `No training script was detected in ${shown(path.basename(projectRoot))} and no command was given: add the ` +
          'training script, or give the command to run (after "--", e.g. -- python train.py).',
        'The command',
      );
    }
    if (nodes > 1) {
      if (profile.launcher !== 'torchrun' && profile.launcher !== null) {
        notes.push(
          `The project starts with ${profile.launcher}; the multi-node job runs torchrun, which the training operator ` +
            'configures (PET_NNODES, PET_NODE_RANK, PET_MASTER_ADDR): give the command after "--" to use another launcher.',
        );
      }
      torchrunScript = [entry];
    } else {
      command = launch.argv.map((a) => (a === profile.entrypoints[0] ? entry : a));
      notes.push(`Command: ${launch.why}`);
    }
  }
  const shmSize = options.shmSize ?? (await projectShm(projectRoot));
  const request: ClusterJobRequest = {
    projectName: path.basename(projectRoot),
    image,
    command,
    gpus,
    nodes,
    env: options.env ?? sweep?.env ?? {},
    shmSize,
    namespace: options.namespace,
    imagePullSecret: options.imagePullSecret,
    torchrunScript,
  };
  if (sweep) {
    const count = gridSize(sweep.grid);
    if (count > MAX_SWEEP_VARIANTS) {
      throw new ClusterValueError(
        `The sweep's grid makes ${count > Number.MAX_SAFE_INTEGER ? 'more than 2^53' : count} variants, more than ` +
          `the ${MAX_SWEEP_VARIANTS} indexes an Indexed Job may have: make the grid smaller.`,
        'The sweep',
      );
    }
    const variants = expandGrid(sweep.grid).map((v) => ({
      ...v,
      command: commandFor(sweep.command, v.params),
    }));
    request.sweep = {
      id: options.sweepId ?? (options.sweepFile ? sweepIdOf(options.sweepFile) : 'sweep'),
      variants: variants.map((v) => ({
        ...v,
        state: 'queued',
        runId: null,
        gpus: [],
        exitCode: null,
        explanation: null,
      })),
      maxParallel: checkCount(
        sweep.maxParallel ?? variants.length,
        "The sweep file's maxParallel",
        1,
        Number.MAX_SAFE_INTEGER,
      ),
    };
    if (options.gpus === undefined) {
      request.gpus = checkCount(sweep.gpusPerRun, "The sweep file's gpusPerRun", 0, MAX_GPUS_PER_POD);
    }
  }
  // notes quote file names of the project: no terminal escapes reach the user's terminal
  return { request, notes: notes.map(visible) };
}

/** The id of the sweep of a sweep file: its name without the folder and `.yaml` (`grid.yaml` -> `grid`). */
export function sweepIdOf(file: string): string {
  return path.basename(file).replace(/\.ya?ml$/, '');
}

/** A project file name as an argument: `./-x.py` for `-x.py`, so that no program reads it as an option. */
function asArgument(file: string): string {
  return file.startsWith('-') ? `./${file}` : file;
}

/**
 * What the project's devcontainer.json asks for /dev/shm (not this machine's memory, which says nothing about the
 * nodes), as a quantity; the default when it says nothing, gives the host's (`--ipc=host`) or cannot be read; refused
 * when it asks for no size a pod can have.
 */
async function projectShm(projectRoot: string): Promise<string> {
  const dc = await readDevcontainerOrNull(projectRoot);
  const shm = dc ? sharedMemory(dc) : {};
  if (dc === null || shm.shm === 'host' || shm.shmSize === undefined) return DEFAULT_CLUSTER_SHM;
  // the bytes the runner gives the container, as a quantity; a value that is no size is refused as written
  const what = `The /dev/shm size that ${dc.file} asks for (--shm-size)`;
  return checkShmSize(typeof shm.shm === 'number' ? quantityOfBytes(shm.shm) : shm.shmSize, what);
}

/** A sweep file of the project: a regular file inside it, parsed (SweepFileError says what is wrong with it). */
async function readSweep(projectRoot: string, file: string): Promise<SweepFile> {
  const abs = path.resolve(projectRoot, file);
  let text: string | null;
  try {
    text = await readRegularFile(abs, { root: projectRoot, cap: 1024 * 1024 });
  } catch (err) {
    if (err instanceof UnsafePathError) throw err;
    throw new Error(`The sweep file ${file} cannot be read: check that it is a readable file.`);
  }
  if (text === null) throw new Error(`The sweep file ${file} does not exist: pick another one.`);
  return parseSweepFile(text, path.relative(projectRoot, abs) || file);
}
