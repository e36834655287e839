/**
 * From what the user asked (project, image source, command, GPUs) to a RunSpec: the image built or checked, the
 * project's .env read, shared memory taken from its devcontainer.json (or sized from the machine), and the record of
 * the host the run is made on. Shared by the command line and the extension.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { readDevcontainerOrNull, sharedMemory } from '../devcontainer';
import type { EngineClient } from '../docker/engine';
import { probeHost } from '../gpu/nvidiaSmi';
import { hostRunNetwork } from '../network/run';
import type { HostGpuState } from '../gpu/types';
import { errorMessage } from '../util/errors';
import { readRegularFile, UnsafePathError } from '../util/safeFs';
import { buildTarget, type BuiltImage } from './build';
import { defaultShmBytes, imageRefProblem, parseEnvFile } from './spec';
import { type SweepState, type SweepVariantState, sweepMountsWorkspace } from './sweep';
import type { GpuSelection, ImageSource, RunHost, RunSpec } from './types';

export interface RunRequest {
  projectRoot: string;
  command: string[];
  gpus: GpuSelection;
  /** Extra environment (wins over .env). */
  env?: Record<string, string>;
  ports?: number[];
  memoryBytes?: number;
  sweepId?: string;
  params?: Record<string, string>;
}

/** The most bytes the project's .env may have (real ones are a few KiB). */
export const PROJECT_CONFIG_CAP = 1024 * 1024;

/** An image reference the engine would not take (`..`, `/x`, `a//b`, `Ubuntu`): one sentence, thrown before any request. */
export class ImageRefError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageRefError';
  }
}

/**
 * The image to run: builds a scaffold target (progress line by line), or uses the reference as given once it is
 * checked against Docker's reference grammar (ImageRefError otherwise).
 */
export async function resolveImage(
  client: EngineClient,
  projectRoot: string,
  source: ImageSource,
  options: { buildArgs?: Record<string, string>; onProgress?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<{ image: string; built?: BuiltImage; mountWorkspace: boolean; scaffoldImage?: boolean }> {
  if (source.kind === 'image') {
    const problem = imageRefProblem(source.ref);
    if (problem) throw new ImageRefError(problem);
    return { image: source.ref, mountWorkspace: true };
  }
  const built = await buildTarget(client, { projectRoot, target: source.target, ...options });
  // the scaffold's Dockerfile labels what it builds (and makes the environment's group); a project's own does not
  const labels = await client
    .docker()
    .then((d) => d.getImage(built.tag).inspect())
    .then((i) => i.Config?.Labels ?? {})
    .catch(() => ({}) as Record<string, string>);
  return {
    image: built.tag,
    built,
    mountWorkspace: source.target === 'dev',
    scaffoldImage: 'org.ml-containers.framework' in labels,
  };
}

/**
 * The project's .env variables ({} when it has none). Only a regular file inside the project, of at most
 * PROJECT_CONFIG_CAP bytes, is read (a FIFO or a device is refused at once); otherwise throws one sentence.
 */
export async function readProjectEnv(projectRoot: string): Promise<Record<string, string>> {
  const file = path.join(projectRoot, '.env');
  let text: string | null;
  try {
    text = await readRegularFile(file, { root: projectRoot, cap: PROJECT_CONFIG_CAP });
  } catch (err) {
    if (err instanceof UnsafePathError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : errorMessage(err).replace(/\.$/, '');
    throw new Error(`${file} cannot be read (${why}): fix its permissions or remove it.`);
  }
  return text === null ? {} : parseEnvFile(text);
}

/**
 * /dev/shm for the run: what the project's devcontainer.json asks for (the one the spec picks, read as the doctor
 * reads it), else sized from this machine's memory. A file that cannot be used (a FIFO, a link out of the project, a
 * huge or malformed file) is not a reason to fail: the doctor reports it.
 */
export async function shmFor(projectRoot: string): Promise<number | 'host'> {
  const dc = await readDevcontainerOrNull(projectRoot);
  return (dc && sharedMemory(dc).shm) ?? defaultShmBytes(os.totalmem());
}

/**
 * The RunSpec of a request, once its image is known, with this host's network settings (its CA bundle and package
 * index; none with MLC_NO_HOST_NETWORK=1).
 */
export async function runSpecFor(
  req: RunRequest,
  image: { image: string; mountWorkspace: boolean; scaffoldImage?: boolean },
): Promise<RunSpec> {
  const [fileEnv, shm, network] = await Promise.all([
    readProjectEnv(req.projectRoot),
    shmFor(req.projectRoot),
    hostRunNetwork(),
  ]);
  return {
    projectRoot: req.projectRoot,
    image: image.image,
    command: req.command,
    gpus: req.gpus,
    mountWorkspace: image.mountWorkspace,
    env: { ...fileEnv, ...req.env },
    shm,
    memoryBytes: req.memoryBytes,
    ports: req.ports ?? [],
    sweepId: req.sweepId,
    params: req.params,
    ...(network ? { network } : {}),
    ...(image.scaffoldImage && image.mountWorkspace ? hostUserUnlikeImage() : {}),
  };
}

/** The image's user is uid 1000 (the scaffold's `vscode`); another host user runs as itself (see RunSpec.user). */
function hostUserUnlikeImage(): { user?: { uid: number; gid: number } } {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return uid === undefined || gid === undefined || uid === 1000 ? {} : { user: { uid, gid } };
}

/**
 * The run spec of each variant of a sweep, from what the sweep recorded (image, environment, whether the project is
 * mounted); the GPUs are filled in when the variant starts.
 */
export async function sweepSpecFor(
  sweep: SweepState,
  projectRoot: string,
): Promise<(variant: SweepVariantState, gpus: string[]) => RunSpec> {
  // the project's .env and shm are read once for the whole sweep, not once per variant
  const base = await runSpecFor(
    { projectRoot, command: [], gpus: { kind: 'none' }, env: sweep.env, sweepId: sweep.id },
    { image: sweep.image, mountWorkspace: sweepMountsWorkspace(sweep) },
  );
  return (v, gpus) => ({
    ...base,
    command: v.command,
    params: v.params,
    gpus: gpus.length ? { kind: 'devices', ids: gpus } : { kind: 'none' },
  });
}

/** What a run is made on: the engine and, from nvidia-smi, the driver and GPUs of this machine. */
export async function describeRunHost(
  client: EngineClient,
  gpuState?: HostGpuState | Promise<HostGpuState>,
): Promise<RunHost> {
  const [version, gpu] = await Promise.all([
    client.version().catch(() => undefined),
    Promise.resolve(gpuState ?? probeHost({ timeoutMs: 5000 })).catch(() => undefined),
  ]);
  return {
    dockerHost: client.dockerHost,
    engineVersion: version?.version ?? null,
    driverVersion: gpu?.driverVersion ?? null,
    gpus: (gpu?.gpus ?? []).map((g) => ({ index: g.index, name: g.name, uuid: g.uuid })),
  };
}
