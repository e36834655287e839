/**
 * The build settings of a devcontainer.json (`build.dockerfile`, `build.context`, `build.target`, `build.args`, or the
 * older top-level `dockerFile` and `context`), with paths resolved as the spec has them: relative to the folder of
 * the file that holds them (`.devcontainer/` for `.devcontainer/devcontainer.json`, the project for a root
 * `.devcontainer.json`). A context or Dockerfile outside the project is refused: the context is sent to the engine
 * whole, and a cloned repository must not make it send the user's home folder.
 */
import * as path from 'node:path';
import { assertInsideProject, UnsafePathError } from '../util/safeFs';
import { type Devcontainer, isRecord } from './model';

export interface BuildSettings {
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
  /** Absolute path of the build context. */
  context: string;
  /** The stage the file asks for, if any (a build of the scaffold's targets names its own). */
  target?: string;
  /** Build arguments with literal values (values that use `${…}` variables are left to the tools that expand them). */
  args: Record<string, string>;
}

/**
 * The file's build settings, or undefined when it names no Dockerfile. Throws UnsafePathError (one sentence) when the
 * build context or the Dockerfile resolves outside the project, also through a symlink.
 */
export async function buildSettings(dc: Devcontainer, projectRoot: string): Promise<BuildSettings | undefined> {
  const build = isRecord(dc.json.build) ? dc.json.build : {};
  const dockerfile = typeof build.dockerfile === 'string' ? build.dockerfile : dc.json.dockerFile;
  if (typeof dockerfile !== 'string') return undefined;
  const contextSetting = typeof build.context === 'string' ? build.context : dc.json.context;
  const context = path.resolve(dc.dir, typeof contextSetting === 'string' ? contextSetting : '.');
  const settings: BuildSettings = { dockerfile: path.resolve(dc.dir, dockerfile), context, args: {} };
  for (const [what, p] of [
    ['build context', settings.context],
    ['Dockerfile', settings.dockerfile],
  ] as const) {
    try {
      await assertInsideProject(projectRoot, p);
    } catch (err) {
      if (!(err instanceof UnsafePathError)) throw err;
      throw new UnsafePathError(
        `${dc.file} sets the ${what} to ${p}, outside the project ${projectRoot}; only the project is built: ` +
          'point build.context and build.dockerfile inside it.',
        'outside-project',
        p,
      );
    }
  }
  if (typeof build.target === 'string' && build.target.trim()) settings.target = build.target.trim();
  if (isRecord(build.args)) {
    for (const [k, v] of Object.entries(build.args)) {
      if (typeof v === 'string' && !v.includes('${')) settings.args[k] = v;
    }
  }
  return settings;
}
