/**
 * Push Training Image, the one home of the action behind `ml-containers push` and the editor's Push Training Image:
 * the repository and tags checked, the train target built (unless an image is given), the image tagged with the git
 * commit and pushed, and the pushed digest recorded in the project. Plain options in, what was pushed out; a face only
 * asks (flags, an input box) and shows (stderr, a progress notification) through the port.
 */
import type { EngineClient } from '../docker/engine';
import { checkRepository, checkTags, gitCommitTag, pushImage, type PushResult, recordPush } from '../registry/push';
import { buildTarget } from '../runs/build';
import { RunStore } from '../runs/store';

export interface PushTrainingImageOptions {
  projectRoot: string;
  /** Where to push: `registry/namespace/name`, without a tag. */
  repository: string;
  /** A local image to push (a reference or an ID); without one, the project's train target is built first. */
  image?: string;
  /** The tags to push (default: the git commit, `-dirty` with uncommitted changes, and `latest`). */
  tags?: string[];
  /** Overrides of the train target's build arguments (e.g. BASE_IMAGE); only when no image is given. */
  buildArgs?: Record<string, string>;
  /** Where DOCKER_CONFIG and the credential helpers are found (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
}

/** What the face shows while the operation goes: each step is reported before the next begins. */
export interface PushTrainingImagePort {
  /** The train target is being built (not called when an image is given). */
  building?(): void;
  /** Each line the image build prints. */
  buildLine?(line: string): void;
  /** The image is ready (built, or given) and is pushed next with these tags. */
  pushing?(image: string, tags: readonly string[]): void;
  /** Each line of the push: where the credentials come from, each tag, each layer's status. */
  pushLine?(line: string): void;
}

export interface PushedTrainingImage {
  /** The push: repository, tags, digest, `repository@digest`, where the credentials came from. */
  pushed: PushResult;
  /** How many run records of the project used this image and now name its digest. */
  runsRecorded: number;
}

/** The tags pushed when none are given: the git commit (when the project is in git) and `latest`. */
export async function defaultTags(projectRoot: string): Promise<string[]> {
  const commit = await gitCommitTag(projectRoot);
  return [...(commit ? [commit] : []), 'latest'];
}

/**
 * Checks the repository and the tags (before anything is built), builds the train target unless an image is given,
 * pushes every tag and records the digest in the project. Throws what each step throws, unchanged: a PushError (a
 * Problem whose id names the cause) for a bad repository or tag and for a push the registry or the engine refused, a
 * BuildError for a build that failed, a CancellationError when `signal` fires.
 */
export async function pushTrainingImage(
  client: EngineClient,
  opts: PushTrainingImageOptions,
  signal: AbortSignal | undefined,
  port: PushTrainingImagePort = {},
): Promise<PushedTrainingImage> {
  checkRepository(opts.repository);
  if (opts.tags) checkTags(opts.tags, opts.repository);
  let image = opts.image;
  if (!image) {
    port.building?.();
    const built = await buildTarget(client, {
      projectRoot: opts.projectRoot,
      target: 'train',
      buildArgs: opts.buildArgs,
      onProgress: port.buildLine && ((line) => port.buildLine!(line)),
      signal,
    });
    image = built.tag;
  }
  const tags = opts.tags ?? (await defaultTags(opts.projectRoot));
  port.pushing?.(image, tags);
  const pushed = await pushImage({
    client,
    image,
    repository: opts.repository,
    tags,
    env: opts.env,
    onProgress: port.pushLine && ((line) => port.pushLine!(line)),
    signal,
  });
  const runsRecorded = await recordPush(new RunStore(opts.projectRoot), pushed);
  return { pushed, runsRecorded };
}
