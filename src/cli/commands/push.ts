import { connectEngine } from '../../core/docker/engine';
import { pushTrainingImage } from '../../core/operations/pushImage';
import { checkRepository } from '../../core/registry/push';
import { BuildError } from '../../core/runs/build';
import { isCancellation } from '../../core/util/errors';
import { AT_MOST_ONE_FOLDER, defineCommand, JSON_OPTION, keyValues, projectDir } from '../args';
import { EXIT, UsageError } from '../usage';

export const pushCommand = defineCommand({
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
  options: {
    repository: { type: 'string' },
    image: { type: 'string' },
    tag: { type: 'string', multiple: true },
    'build-arg': { type: 'string', multiple: true },
    ...JSON_OPTION,
  },
  operands: AT_MOST_ONE_FOLDER,
  async run({ values, positionals }, io) {
    if (!values.repository) throw new UsageError('--repository is required (e.g. ghcr.io/team/project).');
    try {
      checkRepository(values.repository);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const root = projectDir(positionals[0]);
    const buildArgs = keyValues(values['build-arg'], '--build-arg');
    const log = (l: string): void => io.err(l);
    try {
      const { pushed, runsRecorded } = await pushTrainingImage(
        connectEngine(),
        { projectRoot: root, repository: values.repository, image: values.image, tags: values.tag, buildArgs },
        io.trapInterrupt?.(),
        { buildLine: log, pushLine: log },
      );
      if (values.json) io.out(JSON.stringify(pushed, null, 2));
      else {
        io.out(`Pushed ${pushed.tags.map((t) => `${pushed.repository}:${t}`).join(', ')}`);
        io.out(`digest: ${pushed.digest}`);
        io.out(`pull exactly this image with: docker pull ${pushed.reference}`);
        if (runsRecorded > 0) {
          io.out(`recorded in ${runsRecorded} run record${runsRecorded > 1 ? 's' : ''} that used it`);
        }
      }
      return EXIT.ok;
    } catch (err) {
      if (isCancellation(err)) {
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
});
