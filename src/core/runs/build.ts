/**
 * Builds the scaffold's image targets (`dev`, `train`) through the engine's API, with the build arguments of the
 * project's devcontainer.json (BASE_IMAGE, PYTHON_VERSION) over the host's network settings (its CA certificates and
 * package index, src/core/network), its progress streamed line by line, and cancellation that stops the build (the
 * engine cancels a build whose connection closes).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { buildSettings, readDevcontainerOrNull } from '../devcontainer';
import { buildContextStream } from '../docker/context';
import type { EngineClient } from '../docker/engine';
import { engineError } from '../docker/errors';
import { type HostFiles, hostNetworkDisabled, hostNetworkSettings } from '../network';
import { CancellationError, Problem, throwIfCancelled } from '../util/errors';
import { imageNameFor } from './spec';

export interface BuildRequest {
  projectRoot: string;
  target: 'train' | 'dev';
  /** Overrides of the build arguments (e.g. BASE_IMAGE); added to those of devcontainer.json. */
  buildArgs?: Record<string, string>;
  /**
   * Pass the host's CA certificates and package index as build arguments (src/core/network), under those of
   * devcontainer.json and `buildArgs`; default: yes, unless MLC_NO_HOST_NETWORK=1 is set.
   */
  hostNetwork?: boolean;
  /** The tag to give the image (default `mlc/<project>:<target>`). */
  tag?: string;
  /** Each line the build prints. */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface BuiltImage {
  tag: string;
  imageId: string;
}

/** Where the scaffold's Dockerfile is, relative to the build context, and its build arguments. */
export interface BuildSetup {
  context: string;
  dockerfile: string;
  args: Record<string, string>;
}

/**
 * Finds the project's Dockerfile and build settings: the `build` (dockerfile, context, args) of the devcontainer.json
 * the spec picks (`.devcontainer/devcontainer.json`, a root `.devcontainer.json`, …), paths relative to that file,
 * when present; else `.devcontainer/Dockerfile`, else a root `Dockerfile`. Throws one sentence when none exists, or
 * when devcontainer.json points the build context or the Dockerfile outside the project (the context is sent to the
 * engine whole). devcontainer.json is read only when it is a regular file inside the project.
 */
export async function findBuildSetup(projectRoot: string): Promise<BuildSetup> {
  const devDir = path.join(projectRoot, '.devcontainer');
  // not a regular file of the project, unreadable or malformed: the doctor reports it
  const config = await readDevcontainerOrNull(projectRoot);
  const build = config && (await buildSettings(config, projectRoot));
  if (build && isRegularFile(build.dockerfile)) {
    return { context: build.context, dockerfile: toContextPath(build.context, build.dockerfile), args: build.args };
  }
  for (const candidate of [path.join(devDir, 'Dockerfile'), path.join(projectRoot, 'Dockerfile')]) {
    if (isRegularFile(candidate)) {
      return { context: projectRoot, dockerfile: toContextPath(projectRoot, candidate), args: {} };
    }
  }
  throw new Error(
    `${projectRoot} has no Dockerfile (.devcontainer/Dockerfile or Dockerfile): run "ML Containers: Add GPU Dev ` +
      'Container" (`ml-containers scaffold`) first, or run an existing image.',
  );
}

function isRegularFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function toContextPath(context: string, file: string): string {
  const rel = path.relative(context, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new Error(`The Dockerfile ${file} is outside its build context ${context}: move it into the project.`);
  }
  return rel.split(path.sep).join('/');
}

interface BuildEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** Builds a scaffold target and tags it; rejects with the build's own error and the end of its log. */
export async function buildTarget(client: EngineClient, req: BuildRequest): Promise<BuiltImage> {
  throwIfCancelled(req.signal);
  const setup = await findBuildSetup(req.projectRoot);
  const tag = req.tag ?? imageNameFor(req.projectRoot, req.target);
  const docker = await client.docker().catch((err: unknown) => {
    throw engineError(err);
  });
  const { buildargs, networkmode, lines } = await buildParameters(setup, req);
  req.onProgress?.(`Building ${tag} (target ${req.target}, ${setup.dockerfile}) on ${client.dockerHost}`);
  for (const line of lines) req.onProgress?.(line);
  const ctrl = new AbortController();
  const onAbort = (): void => ctrl.abort();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  const tail: string[] = [];
  let partial = '';
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
    req.onProgress?.(line);
  };
  try {
    let stream: NodeJS.ReadableStream;
    try {
      // the context without what its .dockerignore excludes, matched as the Docker CLI matches it
      stream = await docker.buildImage(await buildContextStream(setup.context, setup.dockerfile), {
        dockerfile: setup.dockerfile,
        target: req.target,
        t: tag,
        buildargs,
        ...(networkmode ? { networkmode } : {}),
        forcerm: true,
        abortSignal: ctrl.signal,
      } as Docker.ImageBuildOptions);
    } catch (err) {
      if (ctrl.signal.aborted) throw new CancellationError();
      throw engineError(err);
    }
    const events = await new Promise<BuildEvent[]>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null, out: BuildEvent[]) => (err ? reject(err) : resolve(out)),
        (e: BuildEvent) => {
          const text = e.stream ?? (e.status ? `${e.status}\n` : '');
          if (!text) return;
          const parts = (partial + text).split('\n');
          partial = parts.pop() ?? '';
          for (const p of parts) onLine(p);
        },
      );
    }).catch((err: unknown) => {
      if (ctrl.signal.aborted) throw new CancellationError();
      throw engineError(err);
    });
    if (partial) onLine(partial);
    const failed = events.find((e) => e.error);
    if (failed) {
      const reason = failed.errorDetail?.message ?? failed.error ?? 'unknown error';
      throw new BuildError(
        `Building ${tag} (target ${req.target}) failed: ${reason.trim()}. The build log above says where; fix the ` +
          'Dockerfile or its dependencies and run again.',
        tail.join('\n'),
      );
    }
    const imageId = (
      await docker
        .getImage(tag)
        .inspect()
        .catch((err: unknown) => {
          throw engineError(err);
        })
    ).Id;
    return { tag, imageId };
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
  }
}

const INDEX_ARGS = ['PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL'] as const;

/** A build's arguments and network, and the lines its log starts with about the host's network settings. */
export interface BuildParameters {
  buildargs: Record<string, string>;
  /** `host` when a package index of the host is on loopback. */
  networkmode?: 'host';
  lines: string[];
}

/**
 * The build arguments: the host's network settings (read from `env` and `files`, unless `hostNetwork` is false or
 * MLC_NO_HOST_NETWORK=1), then devcontainer.json's, then the request's own; each wins over the ones before.
 */
export async function buildParameters(
  setup: BuildSetup,
  req: Pick<BuildRequest, 'buildArgs' | 'hostNetwork'>,
  env: NodeJS.ProcessEnv = process.env,
  files?: HostFiles,
): Promise<BuildParameters> {
  const off = req.hostNetwork === false || hostNetworkDisabled(env);
  const network = off ? undefined : await hostNetworkSettings(env, files);
  const buildargs = { ...network?.buildArgs, ...setup.args, ...req.buildArgs };
  if (!network) return { buildargs, lines: [] };
  const problems = network.problems.filter((p) => p.severity !== 'info').map((p) => p.message);
  // the host network is for the host's index on loopback: not when the project or the user names another index
  const keeps = INDEX_ARGS.some((k) => network.buildArgs[k] !== undefined && buildargs[k] === network.buildArgs[k]);
  const networkmode = network.network && keeps ? network.network : undefined;
  return { buildargs, ...(networkmode ? { networkmode } : {}), lines: [...network.notes, ...problems] };
}

/** A build that ran and failed (Problem `build-failed`): the message is one sentence, `logTail` the end of its output. */
export class BuildError extends Problem<'build-failed'> {
  readonly logTail: string;
  constructor(message: string, logTail: string) {
    super('build-failed', message, { fix: 'fix the Dockerfile or its dependencies and run again', detail: logTail });
    this.name = 'BuildError';
    this.logTail = logTail;
  }
}
