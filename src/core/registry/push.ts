/**
 * Sharing a training image: tag it (the git commit, and any tag the user gives) and push it through the engine's API
 * with the user's registry credentials, progress line by line; the pushed digest is recorded in the project
 * (`.ml-containers/images.json`) and in the records of the runs that used that image, so anyone can pull exactly it.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type Docker from 'dockerode';
import type { EngineClient } from '../docker/engine';
import { type EngineProblemId, explainEngineError } from '../docker/errors';
import { runProcess } from '../proc/run';
import type { RunStore } from '../runs/store';
import { writeFileAtomic } from '../util/atomic';
import { CancellationError, Problem, type ProblemOptions } from '../util/errors';
import { findRegistryAuth, registryOf } from './auth';

export interface PushRequest {
  client: EngineClient;
  /** The local image to push (a reference or an ID). */
  image: string;
  /** Where to: `registry/namespace/name` (no tag). */
  repository: string;
  tags: string[];
  /** Where DOCKER_CONFIG and the credential helpers are found. */
  env?: NodeJS.ProcessEnv;
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface PushResult {
  repository: string;
  tags: string[];
  /** `sha256:…` of the pushed manifest. */
  digest: string;
  imageId: string;
  /** `repository@digest`: what a colleague or a cluster pulls. */
  reference: string;
  /** Where the credentials came from (never the secret), or null for an anonymous push. */
  credentials: string | null;
  pushedAt: string;
}

/** The kinds of push failure, each with its own sentence and fix (and, in the editor, its own action). */
export type PushProblemId =
  | 'invalid-repository'
  | 'invalid-tag'
  | 'registry-auth-refused'
  | 'registry-plain-http'
  | 'registry-unreachable'
  | 'registry-repository-not-found'
  | 'push-no-digest'
  | 'push-failed';

/**
 * A push the registry or the engine refused: `id` the kind (the engine's problem id when the engine could not read the
 * image), the message one sentence (what happened and what to do), `fix` the what-to-do part, and where the push went.
 */
export class PushError extends Problem<PushProblemId | EngineProblemId> {
  /** The repository pushed to, as given. */
  readonly repository: string;
  /** Its registry (`docker.io` for a bare name): what `docker login` is run for. */
  readonly registry: string;
  /** `what` happened and the `fix` (both without a final period) make the one sentence. */
  constructor(
    id: PushProblemId | EngineProblemId,
    repository: string,
    what: string,
    fix: string,
    options: Omit<ProblemOptions, 'fix'> = {},
  ) {
    super(id, `${what}: ${fix}.`, { ...options, fix });
    this.name = 'PushError';
    this.repository = repository;
    this.registry = registryOf(repository);
  }
}

/** Checks `registry/name` (lowercase path components, an optional host[:port]); throws a PushError otherwise. */
export function checkRepository(repository: string): void {
  const m = /^(?:([a-zA-Z0-9.-]+(?::\d+)?)\/)?([a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)$/.exec(
    repository,
  );
  if (!m || repository.includes('@') || /:[^/]*$/.test(repository.split('/').slice(1).join('/'))) {
    throw new PushError(
      'invalid-repository',
      repository,
      `"${repository}" is not a repository name`,
      'use registry/name without a tag, e.g. ghcr.io/team/project or 127.0.0.1:5000/project',
    );
  }
}

/** Checks the tags of a push (at least one; letters, digits, `_ . -`); throws a PushError otherwise. */
export function checkTags(tags: readonly string[], repository: string): void {
  if (tags.length === 0) {
    throw new PushError('invalid-tag', repository, 'No tag was given to push', 'give at least one');
  }
  for (const t of tags) {
    if (!/^[\w][\w.-]{0,127}$/.test(t)) {
      throw new PushError(
        'invalid-tag',
        repository,
        `"${t}" is not a tag`,
        'use letters, digits, _ . and - (at most 128, not starting with . or -)',
      );
    }
  }
}

/** The git commit of a project folder (`a1b2c3d`, `-dirty` with uncommitted changes), or null outside git. */
export async function gitCommitTag(projectRoot: string): Promise<string | null> {
  try {
    const sha = (
      await runProcess('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: projectRoot, timeoutMs: 10_000 })
    ).stdout.trim();
    if (!/^[0-9a-f]{7,40}$/.test(sha)) return null;
    const status = (
      await runProcess('git', ['status', '--porcelain', '--untracked-files=no'], {
        cwd: projectRoot,
        timeoutMs: 10_000,
      })
    ).stdout;
    return status.trim() ? `${sha}-dirty` : sha;
  } catch {
    return null;
  }
}

/** What the registry's or the engine's words (`text`) mean for the user, as the PushError to throw. */
export function pushProblem(text: string, repository: string, cause?: unknown): PushError {
  const registry = registryOf(repository);
  const said = { detail: text, cause };
  if (
    /unauthorized|authentication required|no basic auth credentials|denied: requested access|insufficient_scope/i.test(
      text,
    )
  ) {
    return new PushError(
      'registry-auth-refused',
      repository,
      `The registry ${registry} refused the push (not logged in, or no write access to ${repository})`,
      `run \`docker login ${registry}\` with an account that may push there, then push again`,
      said,
    );
  }
  if (/server gave HTTP response to HTTPS client/i.test(text)) {
    return new PushError(
      'registry-plain-http',
      repository,
      `The registry ${registry} speaks plain HTTP and the Docker engine expects HTTPS`,
      `add "${registry}" to "insecure-registries" in /etc/docker/daemon.json and restart Docker, or give the registry TLS`,
      said,
    );
  }
  if (
    /connection refused|no such host|dial tcp|i\/o timeout|network is unreachable|TLS handshake timeout/i.test(text)
  ) {
    return new PushError(
      'registry-unreachable',
      repository,
      `The registry ${registry} cannot be reached from the Docker engine (${text.trim().slice(0, 160)})`,
      "check its address and the engine host's network and proxy settings",
      said,
    );
  }
  if (/name unknown|repository name not known/i.test(text)) {
    return new PushError(
      'registry-repository-not-found',
      repository,
      `The registry ${registry} has no repository ${repository} and does not create it on push`,
      'create it first, or push to another repository',
      said,
    );
  }
  return new PushError(
    'push-failed',
    repository,
    `Pushing to ${repository} failed (${text.trim().slice(0, 200)})`,
    "check the registry's address and your access",
    said,
  );
}

interface PushEvent {
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Tag?: string; Digest?: string; Size?: number };
}

/** Tags the image and pushes every tag; resolves with the digest the registry stored. */
export async function pushImage(req: PushRequest): Promise<PushResult> {
  checkRepository(req.repository);
  checkTags(req.tags, req.repository);
  let docker: Docker;
  let imageId: string;
  try {
    docker = await req.client.docker();
    imageId = (await docker.getImage(req.image).inspect()).Id;
  } catch (err) {
    const p = explainEngineError(err);
    throw new PushError(p.id, req.repository, p.message, p.fix, {
      detail: p.detail,
      ...(p.statusCode !== null ? { statusCode: p.statusCode } : {}),
      cause: err,
    });
  }
  const found = await findRegistryAuth(registryOf(req.repository), req.env);
  req.onProgress?.(
    found
      ? `Credentials for ${registryOf(req.repository)} from ${found.source}`
      : `No stored credentials for ${registryOf(req.repository)}: pushing anonymously`,
  );
  let digest = '';
  for (const tag of req.tags) {
    if (req.signal?.aborted) throw new CancellationError();
    await docker.getImage(imageId).tag({ repo: req.repository, tag });
    req.onProgress?.(`Pushing ${req.repository}:${tag}`);
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await docker.getImage(`${req.repository}:${tag}`).push({
        // the engine wants the header even for an anonymous push (the docker CLI sends `{}` then)
        authconfig: found?.auth ?? {},
        abortSignal: req.signal,
      } as object)) as NodeJS.ReadableStream;
    } catch (err) {
      if (req.signal?.aborted) throw new CancellationError();
      throw pushProblem(explainEngineError(err).detail, req.repository, err);
    }
    const events = await new Promise<PushEvent[]>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null, out: PushEvent[]) => (err ? reject(err) : resolve(out)),
        (e: PushEvent) => {
          if (e.status && !e.progress) req.onProgress?.(`${e.id ? `${e.id}: ` : ''}${e.status}`);
        },
      );
    }).catch((err: unknown) => {
      if (req.signal?.aborted) throw new CancellationError();
      throw pushProblem((err as Error).message, req.repository, err);
    });
    const failed = events.find((e) => e.error);
    if (failed) {
      throw pushProblem(failed.errorDetail?.message ?? failed.error ?? '', req.repository);
    }
    const aux = events.find((e) => e.aux?.Digest)?.aux;
    if (!aux?.Digest) {
      throw new PushError(
        'push-no-digest',
        req.repository,
        `The engine reported no digest for ${req.repository}:${tag}`,
        'push again',
      );
    }
    digest = aux.Digest;
  }
  return {
    repository: req.repository,
    tags: req.tags,
    digest,
    imageId,
    reference: `${req.repository}@${digest}`,
    credentials: found?.source ?? null,
    pushedAt: new Date().toISOString(),
  };
}

/**
 * Records a push: appended to `.ml-containers/images.json`, and the digest added to the records of the runs that
 * used this image, so each run says where its exact environment can be pulled from.
 */
export async function recordPush(store: RunStore, result: PushResult): Promise<number> {
  await store.ensure();
  const file = path.join(store.dir, 'images.json');
  let list: PushResult[] = [];
  try {
    list = JSON.parse(await fsp.readFile(file, 'utf8')) as PushResult[];
  } catch {
    list = [];
  }
  list.push(result);
  await writeFileAtomic(file, `${JSON.stringify(list, null, 2)}\n`);
  let updated = 0;
  for (const listed of await store.listRecords()) {
    if (listed.imageId !== result.imageId || listed.repoDigests.includes(result.reference)) continue;
    // read again just before writing, and change only the digests: a running run's follower writes this file too
    const r = await store.readRecord(listed.id);
    if (!r) continue;
    r.repoDigests = [...r.repoDigests, result.reference];
    await store.writeRecord(r);
    updated++;
  }
  return updated;
}
