/**
 * From what the user asked (project, image source, command, GPUs) to a RunSpec: the image built or checked, the
 * project's .env read, shared memory taken from its devcontainer.json (or sized from the machine), and the record of
 * the host the run is made on. Shared by the command line and the extension.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineClient } from '../docker/engine';
import { probeHost } from '../gpu/nvidiaSmi';
import type { HostGpuState } from '../gpu/types';
import { buildTarget, type BuiltImage } from './build';
import { defaultShmBytes, parseEnvFile, runtimeFromDevcontainer } from './spec';
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

/** The image to run: builds a scaffold target (progress line by line), or uses the reference as given. */
export async function resolveImage(
  client: EngineClient,
  projectRoot: string,
  source: ImageSource,
  options: { buildArgs?: Record<string, string>; onProgress?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<{ image: string; built?: BuiltImage; mountWorkspace: boolean }> {
  if (source.kind === 'image') return { image: source.ref, mountWorkspace: true };
  const built = await buildTarget(client, { projectRoot, target: source.target, ...options });
  return { image: built.tag, built, mountWorkspace: source.target === 'dev' };
}

/** The project's .env variables ({} when it has none); throws one sentence when it exists but cannot be read. */
export async function readProjectEnv(projectRoot: string): Promise<Record<string, string>> {
  const file = path.join(projectRoot, '.env');
  try {
    return parseEnvFile(await fsp.readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${file} cannot be read (${(err as Error).message}): fix its permissions or remove it.`);
  }
}

/** /dev/shm for the run: what the project's devcontainer.json asks for, else sized from this machine's memory. */
export async function shmFor(projectRoot: string): Promise<number | 'host'> {
  const file = path.join(projectRoot, '.devcontainer', 'devcontainer.json');
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return defaultShmBytes(os.totalmem());
  }
  try {
    return runtimeFromDevcontainer(text, file).shm ?? defaultShmBytes(os.totalmem());
  } catch {
    return defaultShmBytes(os.totalmem()); // a broken devcontainer.json is the doctor's to report, not a reason to fail
  }
}

/** The RunSpec of a request, once its image is known. */
export async function runSpecFor(req: RunRequest, image: { image: string; mountWorkspace: boolean }): Promise<RunSpec> {
  const [fileEnv, shm] = await Promise.all([readProjectEnv(req.projectRoot), shmFor(req.projectRoot)]);
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
  };
}

/**
 * The run spec of each variant of a sweep, from what the sweep recorded (image, environment, whether the project is
 * mounted); the GPUs are filled in when the variant starts.
 */
export async function sweepSpecFor(
  sweep: SweepState,
  projectRoot: string,
): Promise<(variant: SweepVariantState, gpus: string[]) => RunSpec> {
  const image = { image: sweep.image, mountWorkspace: sweepMountsWorkspace(sweep) };
  const specs = new Map<number, RunSpec>();
  for (const v of sweep.variants) {
    const req = { projectRoot, command: v.command, gpus: { kind: 'none' as const }, env: sweep.env, sweepId: sweep.id };
    specs.set(v.index, await runSpecFor({ ...req, params: v.params }, image));
  }
  return (v, gpus) => ({
    ...specs.get(v.index)!,
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
