/**
 * Push Training Image and Generate Cluster Job, each one operation both faces call: a push's refusals are typed
 * Problems (one id per cause, one sentence, its fix), checked before anything is built; the push's port calls and
 * default tags; the cluster job planned from the last pushed image, rendered, applied only when the face says so, and
 * kubectl's failures said in one sentence with nothing recorded. No registry or cluster is needed: the engine at a
 * missing socket and a kubeconfig whose API server is not there stand in for unreachable ones.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { connectEngine } from '../../../src/core/docker/engine';
import type { ClusterJobRecord } from '../../../src/core/k8s/cluster';
import { readClusterJobs } from '../../../src/core/k8s/records';
import { ClusterValueError } from '../../../src/core/k8s/validate';
import {
  followClusterJob,
  followCommandLine,
  generateClusterJob,
  jobTarget,
  type RenderedClusterJob,
} from '../../../src/core/operations/clusterJob';
import { pushTrainingImage } from '../../../src/core/operations/pushImage';
import {
  checkRepository,
  checkTags,
  PushError,
  pushProblem,
  type PushResult,
  recordPush,
} from '../../../src/core/registry/push';
import { RunStore } from '../../../src/core/runs/store';
import { isProblem, problemIdOf } from '../../../src/core/util/errors';
import { ROOT, runCli, tempDir } from '../helpers';

const EXAMPLE = path.join(ROOT, 'examples', 'pytorch-mnist');
const DIGEST = `sha256:${'1f'.repeat(32)}`;
const REPO = '127.0.0.1:5000/team/mnist';

/** A push as recordPush keeps it. */
const pushed = (over: Partial<PushResult> = {}): PushResult => ({
  repository: REPO,
  tags: ['abc1234', 'latest'],
  digest: DIGEST,
  imageId: `sha256:${'2e'.repeat(32)}`,
  reference: `${REPO}@${DIGEST}`,
  credentials: null,
  pushedAt: '2026-11-26T10:00:00.000Z',
  ...over,
});

/** A copy of the example project (a training script detection finds), removed after the test. */
function exampleProject(): { dir: string; cleanup: () => void } {
  const t = tempDir('mlc-share-');
  fs.cpSync(EXAMPLE, t.dir, { recursive: true });
  return t;
}

/** A kubeconfig whose only context points at an API server that is not there. */
function unreachableKubeconfig(dir: string): string {
  if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).error) {
    throw new Error('kubectl is not installed: install it (Debian: kubernetes-client) to run this test.');
  }
  const file = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: gone, context: {cluster: c, user: u}}]',
      'current-context: gone',
    ].join('\n'),
  );
  return file;
}

describe('a push refused is a Problem: one id per cause, one sentence and its fix', () => {
  it('an invalid repository', () => {
    assert.throws(
      () => checkRepository('Bad:Name'),
      (err: unknown) =>
        isProblem(err) &&
        err instanceof PushError &&
        err.id === 'invalid-repository' &&
        err.fix === 'use registry/name without a tag, e.g. ghcr.io/team/project or 127.0.0.1:5000/project' &&
        err.message === `"Bad:Name" is not a repository name: ${err.fix}.`,
    );
    assert.doesNotThrow(() => checkRepository(REPO));
  });

  it('no tag, or a tag that is not one', () => {
    for (const tags of [[], ['bad tag'], ['-x'], ['x'.repeat(129)]]) {
      assert.throws(
        () => checkTags(tags, REPO),
        (err: unknown) => problemIdOf(err) === 'invalid-tag',
        JSON.stringify(tags),
      );
    }
    assert.doesNotThrow(() => checkTags(['abc1234-dirty', 'v1.0', 'latest'], REPO));
  });

  it("the registry's and the engine's words, each to its id; the sentence says what happened and what to do", () => {
    const cases: [string, string, RegExp][] = [
      ['unauthorized: authentication required', 'registry-auth-refused', /run `docker login 127\.0\.0\.1:5000`/],
      ['denied: requested access to the resource is denied', 'registry-auth-refused', /docker login/],
      ['http: server gave HTTP response to HTTPS client', 'registry-plain-http', /insecure-registries/],
      ['dial tcp 127.0.0.1:5000: connect: connection refused', 'registry-unreachable', /cannot be reached/],
      ['name unknown: repository name not known to registry', 'registry-repository-not-found', /create it first/],
      ['blob upload invalid', 'push-failed', /check the registry's address/],
    ];
    for (const [text, id, said] of cases) {
      const err = pushProblem(text, REPO);
      assert.ok(isProblem(err), text);
      assert.equal(err.id, id, text);
      assert.equal(err.registry, '127.0.0.1:5000');
      assert.equal(err.repository, REPO);
      assert.equal(err.detail, text);
      assert.match(err.message, said);
      assert.ok(err.fix && err.message.endsWith(`: ${err.fix}.`), err.message);
    }
    assert.equal(pushProblem('unauthorized', 'team/mnist').registry, 'docker.io');
  });
});

describe('one operation: Push Training Image', () => {
  // nothing in these tests reaches an engine: one at this address answers nothing
  const client = connectEngine({ dockerHost: 'unix:///nonexistent/docker.sock' });

  it('refuses a bad repository or tag before anything is built or reported', async () => {
    const { dir, cleanup } = tempDir('mlc-push-op-');
    try {
      const steps: string[] = [];
      const port = {
        building: () => steps.push('building'),
        pushing: () => steps.push('pushing'),
      };
      await assert.rejects(
        pushTrainingImage(client, { projectRoot: dir, repository: 'Bad:Name' }, undefined, port),
        (err: unknown) => problemIdOf(err) === 'invalid-repository',
      );
      await assert.rejects(
        pushTrainingImage(client, { projectRoot: dir, repository: REPO, tags: ['no good'] }, undefined, port),
        (err: unknown) => problemIdOf(err) === 'invalid-tag',
      );
      assert.deepEqual(steps, []);
      assert.equal(fs.existsSync(path.join(dir, '.ml-containers')), false);
    } finally {
      cleanup();
    }
  });

  it('tags a given image with the git commit and latest, and says why the engine could not read it', async () => {
    const { dir, cleanup } = tempDir('mlc-push-op-');
    try {
      const git = (...args: string[]): string =>
        execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
          cwd: dir,
          encoding: 'utf8',
        }).trim();
      git('init', '-q');
      fs.writeFileSync(path.join(dir, 'train.py'), 'print(1)\n');
      git('add', 'train.py');
      git('commit', '-q', '-m', 'one');
      const sha = git('rev-parse', '--short=12', 'HEAD');
      const attempt = async (): Promise<readonly string[]> => {
        let tags: readonly string[] = [];
        await assert.rejects(
          pushTrainingImage(client, { projectRoot: dir, repository: REPO, image: 'busybox:latest' }, undefined, {
            building: () => assert.fail('an image was given: nothing is built'),
            pushing: (image, t) => {
              assert.equal(image, 'busybox:latest');
              tags = t;
            },
          }),
          (err: unknown) => err instanceof PushError && err.id === 'engine-unreachable' && !!err.fix,
        );
        return tags;
      };
      assert.deepEqual(await attempt(), [sha, 'latest']);
      fs.writeFileSync(path.join(dir, 'train.py'), 'print(2)\n');
      assert.deepEqual(await attempt(), [`${sha}-dirty`, 'latest']);
      assert.equal(fs.existsSync(path.join(dir, '.ml-containers', 'images.json')), false, 'nothing was pushed');
    } finally {
      cleanup();
    }
  });

  it('`ml-containers push` keeps its exit codes: 2 for a bad repository, 1 for a bad tag', () => {
    const { dir, cleanup } = tempDir('mlc-push-cli-');
    try {
      const bad = runCli(['push', dir, '--repository', 'Bad:Name']);
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, /"Bad:Name" is not a repository name/);
      const tag = runCli(['push', dir, '--repository', REPO, '--image', 'busybox', '--tag', 'no good']);
      assert.equal(tag.status, 1, tag.stderr);
      assert.match(tag.stderr, /^ml-containers push: "no good" is not a tag: /m);
    } finally {
      cleanup();
    }
  });
});

describe('one operation: Generate Cluster Job', () => {
  it('plans from the last pushed image (by digest), renders, and applies nothing when the face says no', async () => {
    const { dir, cleanup } = exampleProject();
    try {
      await recordPush(new RunStore(dir), pushed({ reference: `${REPO}@sha256:${'0a'.repeat(32)}` }));
      await recordPush(new RunStore(dir), pushed());
      const notes: string[] = [];
      let shown: RenderedClusterJob | undefined;
      const result = await generateClusterJob({ projectRoot: dir, gpus: 2 }, undefined, {
        note: (n) => notes.push(n),
        rendered: (job) => {
          shown = job;
          return false;
        },
        applied: () => assert.fail('not applied'),
      });
      assert.equal(result.applied, null);
      assert.deepEqual(result.jobs, []);
      assert.equal(shown?.yaml, result.yaml);
      assert.deepEqual(
        result.manifests.map((m) => m.kind),
        ['Job'],
      );
      assert.equal(result.request.image, `${REPO}@${DIGEST}`);
      assert.equal(result.request.gpus, 2);
      assert.match(notes[0]!, new RegExp(`^Image: ${REPO.replace(/\./g, '\\.')}@${DIGEST} \\(pushed 2026-11-26`));
      assert.ok(notes.some((n) => n.startsWith('Command: ')));
      assert.deepEqual(
        parseAllDocuments(result.yaml).map((d) => d.toJSON()),
        JSON.parse(JSON.stringify(result.manifests)),
      );
      assert.deepEqual(
        result.files.map((f) => f.name),
        result.manifests.map((m) => `job-${m.metadata.name}.yaml`),
      );
      assert.equal(fs.existsSync(path.join(dir, '.ml-containers', 'cluster-jobs.json')), false);
    } finally {
      cleanup();
    }
  });

  it("names a sweep's objects after its file, one Indexed Job with an index per variant", async () => {
    const { dir, cleanup } = exampleProject();
    try {
      fs.writeFileSync(
        path.join(dir, 'lr-sweep.yaml'),
        'command: python train.py --lr {lr}\ngrid: { lr: [0.1, 0.01] }\n',
      );
      const { manifests } = await generateClusterJob(
        { projectRoot: dir, image: 'reg.example/x:1', sweepFile: 'lr-sweep.yaml' },
        undefined,
        { rendered: () => false },
      );
      assert.deepEqual(
        manifests.map((m) => m.kind),
        ['ConfigMap', 'Job'],
      );
      const job = manifests[1]!;
      assert.equal((job.metadata.labels as Record<string, string>)['ml-containers/sweep'], 'lr-sweep');
      assert.equal((job.spec as { completions: number }).completions, 2);
    } finally {
      cleanup();
    }
  });

  it('refuses before rendering: no image pushed yet, a setting that is no namespace', async () => {
    const { dir, cleanup } = exampleProject();
    try {
      const port = { rendered: () => assert.fail('nothing is rendered') };
      await assert.rejects(generateClusterJob({ projectRoot: dir }, undefined, port), /No image was pushed/);
      await assert.rejects(
        generateClusterJob(
          {
            projectRoot: dir,
            image: 'reg.example/x:1',
            namespace: 'Bad_NS!',
            names: { namespace: 'The setting mlContainers.kubernetes.namespace' },
          },
          undefined,
          port,
        ),
        (err: unknown) =>
          err instanceof ClusterValueError && /^The setting mlContainers\.kubernetes\.namespace/.test(err.message),
      );
    } finally {
      cleanup();
    }
  });

  it('applies only when the face says so; a cluster that is not there is said in one sentence, nothing recorded', async () => {
    const { dir, cleanup } = exampleProject();
    try {
      const kubeconfig = unreachableKubeconfig(dir);
      let asked = 0;
      await assert.rejects(
        generateClusterJob(
          { projectRoot: dir, image: 'reg.example/x:1', target: { kubeconfig, context: 'gone' } },
          undefined,
          {
            rendered: () => {
              asked++;
              return true;
            },
            applied: () => assert.fail('kubectl could not apply'),
          },
        ),
        /^Error: The cluster's API server cannot be reached: check the kubeconfig's server address/,
      );
      assert.equal(asked, 1);
      assert.deepEqual(await readClusterJobs(new RunStore(dir)), []);
    } finally {
      cleanup();
    }
  });

  it('`ml-containers k8s --apply` prints the manifests, then says why kubectl failed (exit 1)', () => {
    const { dir, cleanup } = exampleProject();
    try {
      const kubeconfig = unreachableKubeconfig(dir);
      const r = runCli(['k8s', dir, '--image', 'reg.example/x:1', '--apply', '--kubeconfig', kubeconfig]);
      assert.equal(r.status, 1, r.stderr);
      assert.deepEqual(
        parseAllDocuments(r.stdout).map((d) => (d.toJSON() as { kind: string }).kind),
        ['Job'],
      );
      assert.match(r.stderr, /^ml-containers k8s: The cluster's API server cannot be reached/m);
    } finally {
      cleanup();
    }
  });
});

describe('following a cluster job', () => {
  const job: ClusterJobRecord = {
    name: 'mnist-abc123',
    kind: 'Job',
    context: 'team ctx',
    namespace: null,
    image: 'reg.example/x:1',
    appliedAt: '2026-11-26T10:00:00.000Z',
  };

  it("a recorded job's context and namespace win over the settings'", () => {
    assert.deepEqual(jobTarget(job, { context: 'other', namespace: 'ml' }), { context: 'team ctx', namespace: 'ml' });
    assert.deepEqual(jobTarget({ ...job, context: null, namespace: 'a' }, { context: 'c', namespace: 'ml' }), {
      context: 'c',
      namespace: 'a',
    });
  });

  it('the command line to follow it by hand quotes what the shell would split', () => {
    assert.equal(
      followCommandLine(job.name, { kubeconfig: '/tmp/k config', context: "it's", namespace: 'ml' }),
      `kubectl --kubeconfig '/tmp/k config' --context 'it'\\''s' --namespace ml logs -f -l ml-containers/job=mnist-abc123 --prefix`,
    );
  });

  it('says in one sentence why the logs cannot be followed, then why the pods cannot be read', async () => {
    const { dir, cleanup } = tempDir('mlc-follow-');
    try {
      const kubeconfig = unreachableKubeconfig(dir);
      const failed: string[] = [];
      const end = await followClusterJob(
        { ...job, context: 'gone' },
        { kubeconfig },
        new AbortController().signal,
        { line: () => undefined, problem: () => assert.fail('no pods were read'), failed: (m) => failed.push(m) },
        60_000,
      );
      assert.equal(end, 'failed');
      assert.equal(failed.length, 2, failed.join('\n'));
      for (const m of failed) assert.match(m, /^The cluster's API server cannot be reached: .*\.$/);
    } finally {
      cleanup();
    }
  });
});

describe('the faces only ask and show', () => {
  const faces = ['src/cli/commands/push.ts', 'src/cli/commands/k8s.ts', 'src/extension/commands/share'].flatMap((p) => {
    const abs = path.join(ROOT, p);
    return fs.statSync(abs).isDirectory() ? fs.readdirSync(abs).map((f) => path.join(abs, f)) : [abs];
  });

  it('neither face builds, tags, pushes, records, plans, renders or applies by itself', () => {
    assert.ok(faces.length >= 5, faces.join('\n'));
    const pieces =
      /(?<![\w./'])(pushImage|recordPush|gitCommitTag|buildTarget|planClusterJob|clusterManifests|manifestsToYaml|applyManifests|recordClusterJobs|followJobLogs|jobPodProblems)\b/;
    const found = faces.filter((f) => pieces.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));
    assert.deepEqual(found, []);
    const text = faces.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    for (const op of ['pushTrainingImage(', 'generateClusterJob(', 'followClusterJob(']) {
      assert.ok(text.includes(op), `no face calls ${op}`);
    }
  });
});
