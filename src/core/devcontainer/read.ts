/**
 * Reading the project's devcontainer.json: the one the spec picks (find.ts), read only as a regular file inside the
 * project, size-capped (a FIFO, a device or a link out of the project is refused, never waited on), then parsed into
 * the model (model.ts). Every part of the core that reads the file comes through here.
 */
import * as path from 'node:path';
import { readRegularFile } from '../util/safeFs';
import { findDevcontainerConfig } from './find';
import { type Devcontainer, parseDevcontainer } from './model';

/** The most bytes a devcontainer.json may have (real ones are a few KiB). */
export const DEVCONTAINER_CAP = 1024 * 1024;

/**
 * The project's devcontainer.json, parsed, or null when it has none. Throws UnsafePathError (not a regular file of the
 * project, or too large), the read's error, TooDeeplyNestedError or DevcontainerSyntaxError.
 */
export async function readDevcontainer(projectRoot: string): Promise<Devcontainer | null> {
  const file = await findDevcontainerConfig(projectRoot);
  if (file === null) return null;
  const abs = path.join(projectRoot, file);
  const text = await readRegularFile(abs, { root: projectRoot, cap: DEVCONTAINER_CAP });
  return text === null ? null : parseDevcontainer(text, file, path.dirname(abs));
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
