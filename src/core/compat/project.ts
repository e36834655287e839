/**
 * What a project tells the checks: its image (Dockerfile, pins), its dev container's shared memory, its GPU need. The
 * project may be hostile: its devcontainer.json and Dockerfile are read only as regular files inside it, size-capped
 * (a FIFO, a device or a link out of the project is skipped, never waited on).
 */
import * as path from 'node:path';
import { type ParseError, parse as parseJsonc } from 'jsonc-parser';
import type { ProjectDetails } from '../detect/detect';
import { findDevcontainerConfig } from '../scaffold/locate';
import { jsoncTooDeep } from '../util/json';
import { readRegularFile } from '../util/safeFs';
import { LineIndex } from '../util/text';
import { applyTorchPin, emptyImageFacts, factsFromDockerfile } from './image';
import type { ImageFacts, ProjectFacts } from './types';

/** `16g`, `512m`, `1073741824` -> bytes (Docker's --shm-size units: b, k, m, g). */
export function parseDockerSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg])?b?$/i.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit === 'g' ? 1024 ** 3 : unit === 'm' ? 1024 ** 2 : unit === 'k' ? 1024 : 1;
  return Math.round(Number(m[1]) * mult);
}

/** Shared-memory settings in a devcontainer.json's runArgs (one token per element, or `--flag value` pairs). */
export function devcontainerShm(file: string, text: string): ProjectFacts['devcontainer'] {
  const errors: ParseError[] = [];
  const doc = jsoncTooDeep(text)
    ? undefined
    : (parseJsonc(text, errors, { allowTrailingComma: true }) as { runArgs?: unknown } | undefined);
  const args = Array.isArray(doc?.runArgs) ? doc.runArgs.filter((a): a is string => typeof a === 'string') : [];
  let shmBytes: number | null = null;
  let ipcHost = false;
  args.forEach((a, i) => {
    const shm = /^--shm-size(?:=(.+))?$/.exec(a);
    if (shm) shmBytes = parseDockerSize(shm[1] ?? args[i + 1] ?? '');
    if (/^--ipc(?:=|\s+)host$/.test(a) || (a === '--ipc' && args[i + 1] === 'host')) ipcHost = true;
  });
  const idx = text.indexOf('"runArgs"');
  return { file, shmBytes, ipcHost, runArgsLine: idx === -1 ? null : new LineIndex(text).lineAt(idx) };
}

/** The most a devcontainer.json or Dockerfile read for the checks may have. */
const READ_CAP = 1024 * 1024;

export async function projectFacts(root: string, details: ProjectDetails): Promise<ProjectFacts> {
  let devcontainer: ProjectFacts['devcontainer'] = null;
  try {
    // the configuration the Dev Container spec picks: .devcontainer/devcontainer.json, .devcontainer.json, …
    const file = await findDevcontainerConfig(root);
    const text = file === null ? null : await readRegularFile(path.join(root, file), { root, cap: READ_CAP });
    devcontainer = file !== null && text !== null ? devcontainerShm(file, text) : null;
  } catch {
    devcontainer = null;
  }
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
  let facts = emptyImageFacts(null);
  facts.kind = 'project';
  if (dockerfiles[0]) {
    try {
      const text = await readRegularFile(path.join(root, dockerfiles[0]), { root, cap: READ_CAP });
      if (text !== null) {
        facts = factsFromDockerfile(text, null);
        facts.notes.unshift(`the project's ${dockerfiles[0]}.`);
      }
    } catch {
      // unreadable or refused Dockerfile: fall back to the declared packages
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
