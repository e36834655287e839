/**
 * The build context sent to the engine: the context folder as a tar stream, without what its .dockerignore excludes,
 * matched as the Docker CLI matches it (paths relative to the context). dockerode's own packing passes absolute paths
 * to the matcher, so a pattern anchored at the context (`data/**`, `runs/*.log`) never matched below the top level
 * and the files it names went into the image.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import dockerignore from '@balena/dockerignore';
import * as tar from 'tar-fs';
import { readRegularFile } from '../util/safeFs';

/** The files the engine always needs, whatever .dockerignore says (as the Docker CLI sends them too). */
function alwaysSent(dockerfile: string): Set<string> {
  return new Set([path.posix.normalize(dockerfile.split(path.sep).join('/')), '.dockerignore']);
}

/** The matcher of the context's .dockerignore (none: nothing is excluded), over paths relative to the context. */
export async function contextFilter(context: string, dockerfile = 'Dockerfile'): Promise<(rel: string) => boolean> {
  const text = await readRegularFile(path.join(context, '.dockerignore'), { root: context, cap: 1024 * 1024 }).catch(
    () => null,
  );
  if (!text) return () => true;
  const keep = dockerignore({ ignorecase: false }).add(text).createFilter();
  const always = alwaysSent(dockerfile);
  return (rel) => always.has(rel) || keep(rel);
}

/** The context folder as a tar stream for the engine's build endpoint, .dockerignore applied. */
export async function buildContextStream(context: string, dockerfile = 'Dockerfile'): Promise<NodeJS.ReadableStream> {
  const keep = await contextFilter(context, dockerfile);
  const relative = (abs: string): string => path.relative(context, abs).split(path.sep).join('/');
  const entries = (await fs.promises.readdir(context)).filter((name) => keep(name));
  return tar.pack(context, { entries, ignore: (abs) => !keep(relative(abs)) });
}
