/**
 * What a project tells the checks: its image (Dockerfile, pins), its dev container's shared memory, its GPU need. The
 * project may be hostile: its devcontainer.json and Dockerfile are read only as regular files inside it, size-capped
 * (a FIFO, a device or a link out of the project is skipped, never waited on).
 */
import * as path from 'node:path';
import type { ProjectDetails } from '../detect/detect';
import {
  buildSettings,
  type Devcontainer,
  DevcontainerSyntaxError,
  parseDevcontainer,
  readDevcontainer,
  sharedMemory,
} from '../devcontainer';
import { TooDeeplyNestedError } from '../util/json';
import { readRegularFile } from '../util/safeFs';
import { applyTorchPin, emptyImageFacts, factsFromDockerfile } from './image';
import type { ImageFacts, ProjectFacts } from './types';

/** The checks' view of a dev container's shared memory, from the model the runner reads too. */
function shmFacts(dc: Devcontainer): NonNullable<ProjectFacts['devcontainer']> {
  const { shm } = sharedMemory(dc);
  return {
    file: dc.file,
    shmBytes: typeof shm === 'number' ? shm : null,
    ipcHost: shm === 'host',
    runArgsLine: dc.runArgsLine,
  };
}

/** Shared-memory settings in a devcontainer.json's text (nothing set when it cannot be parsed). */
export function devcontainerShm(file: string, text: string): ProjectFacts['devcontainer'] {
  try {
    return shmFacts(parseDevcontainer(text, file));
  } catch {
    return { file, shmBytes: null, ipcHost: false, runArgsLine: null };
  }
}

/** The most a Dockerfile read for the checks may have. */
const READ_CAP = 1024 * 1024;

/**
 * The project's devcontainer.json (the one the Dev Container spec picks), or null when it has none or it cannot be
 * read; a file that is read but does not parse gives no settings (the runner then ignores it too).
 */
async function projectDevcontainer(root: string): Promise<Devcontainer | { file: string } | null> {
  try {
    return await readDevcontainer(root);
  } catch (err) {
    if (err instanceof DevcontainerSyntaxError || err instanceof TooDeeplyNestedError) return { file: err.file };
    return null;
  }
}

export async function projectFacts(root: string, details: ProjectDetails): Promise<ProjectFacts> {
  const dc = await projectDevcontainer(root);
  const devcontainer: ProjectFacts['devcontainer'] =
    dc === null
      ? null
      : 'json' in dc
        ? shmFacts(dc)
        : { file: dc.file, shmBytes: null, ipcHost: false, runArgsLine: null };
  return {
    devcontainer,
    usesDataLoaderWorkers: details.usage.has('dataloader-workers'),
    needsGpu: details.profile.needsGpu,
  };
}

/**
 * The image a project runs in, as far as the project says: its own Dockerfile (the dev container's first), then its
 * pinned framework (a torch==X+cuYYY wheel, or torch==X with a CUDA index) over whatever the base image has.
 */
export async function projectImageFacts(root: string, details: ProjectDetails): Promise<ImageFacts> {
  const { profile } = details;
  const dockerfiles = profile.envFiles.filter((f) => /(?:^|\/)Dockerfile(?:[.-][^/]*)?$/.test(f));
  dockerfiles.sort((a, b) => Number(!a.startsWith('.devcontainer/')) - Number(!b.startsWith('.devcontainer/')));
  // the Dockerfile the dev container builds comes first
  const configured = await configuredDockerfile(root);
  let facts = emptyImageFacts(null);
  facts.kind = 'project';
  for (const file of new Set([configured, dockerfiles[0]])) {
    if (file === undefined) continue;
    try {
      const text = await readRegularFile(path.join(root, file), { root, cap: READ_CAP });
      if (text !== null) {
        facts = factsFromDockerfile(text, null);
        facts.notes.unshift(`the project's ${file}.`);
        break;
      }
    } catch {
      // unreadable or refused Dockerfile: the next one, or the declared packages
    }
  }
  const torch = details.packages.find((p) => p.name === 'torch' && /^==/.test(p.spec));
  if (torch && !(facts.framework === 'pytorch' && facts.frameworkCuda)) {
    const version = torch.spec.replace(/^==/, '').split(',')[0]!;
    applyTorchPin(
      facts,
      version,
      profile.cudaHint,
      `${torch.file} line ${torch.line}: ${torch.text}${profile.cudaHint ? ` (CUDA ${profile.cudaHint} pinned by the project)` : ''}.`,
    );
  } else if (!facts.framework && profile.primaryFramework === 'pytorch' && profile.cudaHint) {
    facts.framework = 'pytorch';
    facts.frameworkCuda = profile.cudaHint;
    facts.notes.push(`the project pins CUDA ${profile.cudaHint} for PyTorch.`);
  }
  return facts;
}

/** The Dockerfile the project's devcontainer.json builds (relative, with `/`), if it names one inside the project. */
async function configuredDockerfile(root: string): Promise<string | undefined> {
  const dc = await projectDevcontainer(root);
  if (dc === null || !('json' in dc)) return undefined;
  try {
    const build = await buildSettings(dc, root);
    return build && path.relative(root, build.dockerfile).split(path.sep).join('/');
  } catch {
    return undefined; // a build that leaves the project: the doctor reads none of it
  }
}
