/**
 * Which devcontainer.json a project uses. The Dev Container spec has tools look, in this order, for
 * `.devcontainer/devcontainer.json`, then `.devcontainer.json` at the root, then `.devcontainer/<folder>/devcontainer.json`
 * (one level deep; several of these are a choice offered to the user, so the first by name is taken here). The
 * scaffold edits the one found, and the checks, runs, builds and cluster jobs read it (read.ts), so none of them adds
 * or reads a second configuration.
 */
import { lstat, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { assertInsideProject } from '../util/safeFs';

export const DEFAULT_DEVCONTAINER = '.devcontainer/devcontainer.json';

/**
 * The relative path (with `/`) of the devcontainer.json the spec picks first, or null when the project has none. A
 * candidate behind a symlink that leaves the project is returned without looking through the link (whoever reads or
 * writes it then refuses it); anything that exists at a candidate path counts, also a FIFO or a folder (refused later,
 * never silently passed over for the next candidate).
 */
export async function findDevcontainerConfig(root: string): Promise<string | null> {
  for (const rel of [DEFAULT_DEVCONTAINER, '.devcontainer.json']) {
    if (await present(root, rel)) return rel;
  }
  const dir = path.join(root, '.devcontainer');
  let names: string[];
  try {
    await assertInsideProject(root, dir);
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return null;
  }
  for (const name of names) {
    const rel = `.devcontainer/${name}/devcontainer.json`;
    if (await present(root, rel)) return rel;
  }
  return null;
}

async function present(root: string, rel: string): Promise<boolean> {
  const abs = path.join(root, rel);
  try {
    await assertInsideProject(root, abs);
  } catch {
    return true;
  }
  try {
    await lstat(abs);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
}
