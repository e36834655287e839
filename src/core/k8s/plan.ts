/**
 * From a project to a cluster job request: the image (the last one pushed, by digest), the launcher's command, the
 * GPUs and /dev/shm the project asks for, and a sweep's variants. Shared by `ml-containers k8s` and the editor.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { PushResult } from '../registry/push';
import { runtimeFromDevcontainer } from '../runs/spec';
import { STATE_DIR } from '../runs/store';
import { commandFor, expandGrid, type SweepFile } from '../runs/sweep';
import { detectForScaffold, launcherCommand } from '../scaffold/generate';
import type { ClusterJobRequest } from './manifests';

/** /dev/shm for cluster pods when the project does not say (NCCL and DataLoader workers need more than 64 MB). */
export const DEFAULT_CLUSTER_SHM = '16Gi';

/** The last image pushed from this project (`.ml-containers/images.json`), or undefined. */
export async function lastPushed(projectRoot: string): Promise<PushResult | undefined> {
  try {
    const list = JSON.parse(
      await fsp.readFile(path.join(projectRoot, STATE_DIR, 'images.json'), 'utf8'),
    ) as PushResult[];
    return list[list.length - 1];
  } catch {
    return undefined;
  }
}

export interface ClusterPlanOptions {
  image?: string;
  gpus?: number;
  nodes?: number;
  command?: string[];
  sweep?: SweepFile;
  sweepId?: string;
  namespace?: string;
  imagePullSecret?: string;
  shmSize?: string;
  env?: Record<string, string>;
}

/** A request with the project's defaults filled in, and notes to tell the user (one sentence each). */
export async function planClusterJob(
  projectRoot: string,
  options: ClusterPlanOptions,
): Promise<{ request: ClusterJobRequest; notes: string[] }> {
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
  const { profile } = await detectForScaffold(projectRoot);
  const launch = launcherCommand(profile);
  const gpus = options.gpus ?? (profile.needsGpu === 'no' ? 0 : 1);
  const nodes = options.nodes ?? 1;
  let command = options.command ?? [];
  let torchrunScript: string[] | undefined;
  if (command.length === 0 && !options.sweep) {
    if (nodes > 1) {
      if (profile.launcher !== 'torchrun' && profile.launcher !== null) {
        notes.push(
          `The project starts with ${profile.launcher}; the multi-node job runs torchrun, which the training operator ` +
            'configures (PET_NNODES, PET_NODE_RANK, PET_MASTER_ADDR): give the command after "--" to use another launcher.',
        );
      }
      torchrunScript = profile.entrypoints[0] ? [profile.entrypoints[0]] : undefined;
      if (!torchrunScript) throw new Error('No training script was detected: give the command after "--".');
    } else {
      command = launch.argv;
      notes.push(`Command: ${launch.why}`);
    }
  }
  // what the project's devcontainer.json asks for; not this machine's memory, which says nothing about the nodes
  let shm: number | 'host' | undefined;
  try {
    const file = path.join(projectRoot, '.devcontainer', 'devcontainer.json');
    shm = runtimeFromDevcontainer(await fsp.readFile(file, 'utf8'), file).shm;
  } catch {
    shm = undefined;
  }
  const shmSize =
    options.shmSize ??
    (typeof shm === 'number' ? `${Math.max(1, Math.round(shm / 1024 ** 3))}Gi` : DEFAULT_CLUSTER_SHM);
  const request: ClusterJobRequest = {
    projectName: path.basename(projectRoot),
    image,
    command,
    gpus,
    nodes,
    env: options.env ?? options.sweep?.env ?? {},
    shmSize,
    namespace: options.namespace,
    imagePullSecret: options.imagePullSecret,
    torchrunScript,
  };
  if (options.sweep) {
    const variants = expandGrid(options.sweep.grid).map((v) => ({
      ...v,
      command: commandFor(options.sweep!.command, v.params),
    }));
    request.sweep = {
      id: options.sweepId ?? 'sweep',
      variants: variants.map((v) => ({
        ...v,
        state: 'queued',
        runId: null,
        gpus: [],
        exitCode: null,
        explanation: null,
      })),
      maxParallel: options.sweep.maxParallel ?? variants.length,
    };
    if (options.gpus === undefined) request.gpus = options.sweep.gpusPerRun;
  }
  return { request, notes };
}
