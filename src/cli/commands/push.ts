import { connectEngine } from '../../core/docker/engine';
import { checkRepository, gitCommitTag, pushImage, recordPush } from '../../core/registry/push';
import { BuildError, buildTarget } from '../../core/runs/build';
import { RunStore } from '../../core/runs/store';
import { CancellationError } from '../../core/util/errors';
import { keyValues, projectDir } from '../args';
import { type CliCommand, type CliOptions, EXIT, UsageError, parseCommandArgs } from '../usage';

const pushOptions = {
  repository: { type: 'string' },
  image: { type: 'string' },
  tag: { type: 'string', multiple: true },
  'build-arg': { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
} satisfies CliOptions;

export const pushCommand: CliCommand = {
  name: 'push',
  summary: "Tag the project's training image with its git commit and push it to a registry; prints the digest.",
  usage: `ml-containers push [DIR] --repository REGISTRY/NAME [--image REF] [--tag TAG]... [--build-arg K=V]... [--json]

  --repository R   where to push, without a tag (e.g. ghcr.io/team/project, 127.0.0.1:5000/project)
  --image REF      push this local image (default: build the scaffold's train target first)
  --tag TAG        a tag to push, repeatable (default: the git commit, with -dirty for uncommitted changes, and latest)
  --build-arg K=V  override a build argument of the train target (e.g. BASE_IMAGE), repeatable; not with --image
  --json           print {repository, tags, digest, reference, imageId, credentials, pushedAt}

Credentials come from the Docker config (credHelpers, credsStore, auths), as \`docker login\` stored them. The
digest is recorded in DIR/.ml-containers/images.json and in the records of the runs that used the image.
Exit codes: 0 pushed, 1 the build or the push failed (the message says why), 2 bad usage.`,
  options: pushOptions,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: pushOptions,
    });
    if (positionals.length > 1) throw new UsageError('at most one project folder.');
    if (!values.repository) throw new UsageError('--repository is required (e.g. ghcr.io/team/project).');
    try {
      checkRepository(values.repository);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const root = projectDir(positionals[0]);
    const buildArgs = keyValues(values['build-arg'], '--build-arg');
    const interrupt = io.trapInterrupt?.();
    const client = connectEngine();
    const log = (l: string): void => io.err(l);
    try {
      let image = values.image;
      if (!image) {
        const built = await buildTarget(client, {
          projectRoot: root,
          target: 'train',
          buildArgs,
          onProgress: log,
          signal: interrupt,
        });
        image = built.tag;
      }
      const commit = await gitCommitTag(root);
      const tags = values.tag?.length ? values.tag : [...(commit ? [commit] : []), 'latest'];
      const result = await pushImage({
        client,
        image,
        repository: values.repository,
        tags,
        onProgress: log,
        signal: interrupt,
      });
      const runs = await recordPush(new RunStore(root), result);
      if (values.json) io.out(JSON.stringify(result, null, 2));
      else {
        io.out(`Pushed ${result.tags.map((t) => `${result.repository}:${t}`).join(', ')}`);
        io.out(`digest: ${result.digest}`);
        io.out(`pull exactly this image with: docker pull ${result.reference}`);
        if (runs > 0) io.out(`recorded in ${runs} run record${runs > 1 ? 's' : ''} that used it`);
      }
      return EXIT.ok;
    } catch (err) {
      if (err instanceof CancellationError) {
        io.err('Cancelled.');
        return 130;
      }
      if (err instanceof BuildError) io.err(err.logTail);
      if (err instanceof Error) {
        io.err(`ml-containers push: ${err.message}`);
        return EXIT.failure;
      }
      throw err;
    }
  },
};
