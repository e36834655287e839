/**
 * Reading the project's devcontainer.json: the one the spec picks (find.ts), read only as a regular file inside the
 * project, size-capped (a FIFO, a device or a link out of the project is refused, never waited on), then parsed into
 * the model (model.ts). Every part of the core that reads the file comes through here.
 */
import * as path from 'node:path';
import { readRegularFile } from '../util/safeFs';
import { findDevcontainerConfig } from './find';
import { type Devcontainer, parseDevcontainer, parseDevcontainerLeniently } from './model';

/** The most bytes a devcontainer.json may have (real ones are a few KiB). */
export const DEVCONTAINER_CAP = 1024 * 1024;

/**
 * The project's devcontainer.json, parsed, or null when it has none. Throws UnsafePathError (not a regular file of the
 * project, or too large), the read's error, TooDeeplyNestedError or DevcontainerSyntaxError.
 */
export async function readDevcontainer(projectRoot: string): Promise<Devcontainer | null> {
  const file = await findDevcontainerConfig(projectRoot);
  if (file === null) return null;
  const found = await readText(projectRoot, file);
  return found && parseDevcontainer(found.text, file, found.dir);
}

/** The text of the project's devcontainer.json at `file` and the folder that holds it; null when it is gone. */
async function readText(projectRoot: string, file: string): Promise<{ text: string; dir: string } | null> {
  const abs = path.join(projectRoot, file);
  const text = await readRegularFile(abs, { root: projectRoot, cap: DEVCONTAINER_CAP });
  return text === null ? null : { text, dir: path.dirname(abs) };
}

/** The project's devcontainer.json as a reader that reports its problems and goes on sees it (inspectDevcontainer). */
export interface DevcontainerInspection {
  /** The file the spec picks, relative to the project with `/`. */
  file: string;
  /** What could be read of it: also of a file with syntax errors, as jsonc-parser recovers it. */
  dc?: Devcontainer;
  /**
   * Why it could not be read whole: DevcontainerSyntaxError (with `dc`), TooDeeplyNestedError, UnsafePathError (not a
   * regular file of the project, or too large) or the read's error.
   */
  problem?: unknown;
}

/**
 * The project's devcontainer.json, or null when it has none: for a reader that reports the file's problems and goes
 * on with what it says (detection). Never throws for the file's problems; they come back as `problem`.
 */
export async function inspectDevcontainer(projectRoot: string): Promise<DevcontainerInspection | null> {
  const file = await findDevcontainerConfig(projectRoot);
  if (file === null) return null;
  try {
    const found = await readText(projectRoot, file);
    if (found === null) return null;
    const { dc, error } = parseDevcontainerLeniently(found.text, file, found.dir);
    return error ? { file, dc, problem: error } : { file, dc };
  } catch (problem) {
    return { file, problem };
  }
}

/**
 * The project's devcontainer.json, or null when it has none or it cannot be used (unsafe, unreadable, malformed):
 * for those that have a default and leave the file's problems to the doctor to report.
 */
export async function readDevcontainerOrNull(projectRoot: string): Promise<Devcontainer | null> {
  try {
    return await readDevcontainer(projectRoot);
  } catch {
    return null;
  }
}
