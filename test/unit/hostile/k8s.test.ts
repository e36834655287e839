/* eslint-disable @typescript-eslint/no-explicit-any, no-control-regex -- manifests are walked as plain JSON; control characters are what is tested */
/**
 * Issue 12, part D: Kubernetes values literal and validated. Every string in the generated YAML reads back as exactly
 * that string in YAML 1.1 (kubectl's go-yaml: `yes`, `on`, `0b1`, `1_000`, `1:20` are not booleans or numbers) and
 * 1.2; quantities, namespaces, secret names, image references and counts are checked in the core wherever they come
 * from (options, editor settings, the project's devcontainer.json, sweep file and pushed-image record) and refused
 * with one sentence; a folder without a training script and without a command is refused instead of running `bash`.
 * The round trips are checked with the yaml library and with kubectl's own decoder (`kubectl config view`).
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { clusterManifests, type ClusterJobRequest, manifestsToYaml } from '../../../src/core/k8s/manifests';
import { lastPushed, planClusterJob } from '../../../src/core/k8s/plan';
import { readClusterJobs } from '../../../src/core/k8s/records';
import { ClusterValueError, checkImageRef, checkShmSize, quantityBytes } from '../../../src/core/k8s/validate';
import { RunStore } from '../../../src/core/runs/store';
import { ROOT, runCli, tempDir, writeTree } from '../helpers';
import { hasKubectl, kubectlReads, YAML_SPECIALS } from './k8s-strings';

/** The example project's training script and requirements: what detection finds an entry point in. */
const EXAMPLE = path.join(ROOT, 'examples', 'pytorch-mnist');
const TRAIN_PY = fs.readFileSync(path.join(EXAMPLE, 'train.py'), 'utf8');
const REQUIREMENTS = fs.readFileSync(path.join(EXAMPLE, 'requirements.txt'), 'utf8');
const IMAGE = '127.0.0.1:5000/team/mnist@sha256:1f5dca2a1efc4195dea21e9291c7350a4dfb8516f462d4bff235fca86f219304';

const base: ClusterJobRequest = {
  projectName: 'mnist',
  image: IMAGE,
  command: ['python', 'train.py'],
  gpus: 1,
  nodes: 1,
  env: {},
  shmSize: '16Gi',
  suffix: 'abc123',
};

/** Every document of a YAML stream as plain data, in one YAML version; fails on any parse error. */
function readBack(text: string, version: '1.1' | '1.2'): unknown[] {
  return parseAllDocuments(text, { version }).map((d) => {
    assert.deepEqual(d.errors, [], `YAML ${version} errors`);
    return d.toJSON();
  });
}

/** A project folder with a training script (or none), optionally a devcontainer.json and records. */
function project(files: Record<string, string> = { 'train.py': TRAIN_PY, 'requirements.txt': REQUIREMENTS }): string {
  const { dir } = tempDir('mlc-hostile-k8s-');
  const root = path.join(dir, 'proj');
  fs.mkdirSync(root);
  writeTree(root, files);
  return root;
}

describe('hostile k8s: every string in the YAML reads back as that string (YAML 1.1 and 1.2)', () => {
  it('`k8s -- python yes no on 1_000 0b1` keeps the arguments strings (the reproduction)', () => {
    const root = project();
    const argv = ['python', 'yes', 'no', 'on', '1_000', '0b1'];
    const r = runCli(['k8s', root, '--image', IMAGE, '--', ...argv]);
    assert.equal(r.status, 0, r.stderr);
    for (const version of ['1.1', '1.2'] as const) {
      const [job] = readBack(r.stdout, version) as any[];
      assert.deepEqual(job.spec.template.spec.containers[0].command, argv, `YAML ${version}`);
    }
  });

  it('argv, env values and sweep values made of YAML special words, numbers and escapes come back exactly', () => {
    const env = Object.fromEntries(YAML_SPECIALS.map((s, i) => [`V${i}`, s]));
    const variants = YAML_SPECIALS.map((s, index) => ({
      index,
      params: { p: s },
      command: ['python', s],
      state: 'queued' as const,
      runId: null,
      gpus: [],
      exitCode: null,
      explanation: null,
    }));
    for (const req of [
      { ...base, command: ['python', ...YAML_SPECIALS], env },
      { ...base, env, sweep: { id: 'yes', variants, maxParallel: 2 } },
      { ...base, nodes: 3, command: [], torchrunScript: ['train.py', ...YAML_SPECIALS], env },
    ]) {
      const manifests = clusterManifests(req);
      const text = manifestsToYaml(manifests);
      // nothing a YAML 1.1 reader refuses as non-printable or folds as a line break is written raw
      assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/);
      for (const version of ['1.1', '1.2'] as const) {
        assert.deepEqual(readBack(text, version), JSON.parse(JSON.stringify(manifests)), `YAML ${version}`);
      }
    }
  });

  it("kubectl's own decoder (go-yaml, YAML 1.1) reads every special string back exactly", function () {
    hasKubectl();
    this.timeout(60_000);
    assert.deepEqual(kubectlReads(YAML_SPECIALS), YAML_SPECIALS);
  });

  it('a manifest keeps its special words through kubectl too (env values of a real Job)', function () {
    hasKubectl();
    this.timeout(60_000);
    const [job] = clusterManifests({ ...base, command: ['python', ...YAML_SPECIALS] });
    const argv = (job!.spec as any).template.spec.containers[0].command as string[];
    assert.deepEqual(kubectlReads(argv), ['python', ...YAML_SPECIALS]);
  });
});

describe('hostile k8s: options refused with a sentence (exit 2)', () => {
  const root = project();
  const cases: [string[], RegExp][] = [
    [['--shm', 'garbage'], /--shm "garbage" is not a size a pod's \/dev\/shm can have/],
    [['--shm=-1'], /--shm "-1" is not a size/],
    [['--shm', '16Gi; rm'], /--shm "16Gi; rm" is not a size/],
    [['--shm', '0'], /--shm "0" is not a size/],
    [['--shm', '99999999999999999999Ei'], /is not a size/],
    [['--namespace', 'Bad_NS!'], /--namespace "Bad_NS!" is not a Kubernetes namespace name/],
    [['--namespace', 'a'.repeat(64)], /is not a Kubernetes namespace name/],
    [['--pull-secret', 'bad secret'], /--pull-secret "bad secret" is not a Kubernetes secret name/],
    [['--pull-secret', `${'a'.repeat(250)}.com`], /is not a Kubernetes secret name/],
    [['--gpus', '99999999999999999999'], /--gpus needs a whole number from 0 to 64/],
    [['--gpus', '65'], /--gpus must be a whole number from 0 to 64, got 65/],
    [['--gpus', '1e3'], /--gpus needs a whole number/],
    [['--nodes', '0'], /--nodes must be a whole number from 1 to/],
    [['--image', 'evil image\nkind: Pod'], /--image "evil image\\nkind: Pod" is not an image reference/],
  ];
  for (const [args, message] of cases) {
    it(`${JSON.stringify(args).slice(0, 60)} -> exit 2, one sentence`, () => {
      const r = runCli(['k8s', root, ...(args.includes('--image') ? [] : ['--image', IMAGE]), ...args, '--', 'x']);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      const first = r.stderr.split('\n')[0]!;
      assert.match(first, message);
      assert.match(first, /^ml-containers k8s: [^\n]+\.$/);
      assert.doesNotMatch(r.stderr, /\x1b|at .*\.js:\d+/);
    });
  }

  it('the core checks are the same for every face: quantities, image references', () => {
    assert.equal(checkShmSize('16g'), '16Gi');
    assert.equal(checkShmSize('512Mi'), '512Mi');
    assert.equal(checkShmSize('1e9'), '1e9');
    assert.equal(quantityBytes('1.5Gi'), 1.5 * 2 ** 30);
    for (const bad of ['', ' ', '16 Gi', '16GiB', '0x10', 'Infinity', 'NaNGi', '1e+21Gi', '-16Gi', '2Pi']) {
      assert.throws(() => checkShmSize(bad), ClusterValueError, JSON.stringify(bad));
    }
    for (const good of [IMAGE, 'python:3.12', 'ghcr.io/a/b:v1', 'localhost:5000/x', '[::1]:5000/x:y', 'x']) {
      assert.equal(checkImageRef(good), good);
    }
    for (const bad of ['', 'x/UPPER', 'x:', 'x@sha256:12', 'a b', '-x', 'x\n', 'x:tag:tag', `x:${'t'.repeat(129)}`]) {
      assert.throws(() => checkImageRef(bad), ClusterValueError, JSON.stringify(bad));
    }
  });
});

describe('hostile k8s: values from the project and the editor settings are checked in the core', () => {
  it("devcontainer.json's --shm-size that is no size a pod can have is refused with a sentence", async () => {
    const root = project({
      'train.py': TRAIN_PY,
      'requirements.txt': REQUIREMENTS,
      '.devcontainer/devcontainer.json': JSON.stringify({ runArgs: [`--shm-size=${'9'.repeat(400)}g`] }),
    });
    await assert.rejects(
      planClusterJob(root, { image: IMAGE }),
      (err: Error) =>
        err instanceof ClusterValueError &&
        /devcontainer\.json asks for \(--shm-size\) .* is not a size/.test(err.message),
    );
    const r = runCli(['k8s', root, '--image', IMAGE]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /devcontainer\.json asks for/);
    assert.equal(r.stdout, '');
    // a sane one becomes a quantity
    fs.writeFileSync(path.join(root, '.devcontainer/devcontainer.json'), '{"runArgs": ["--shm-size=8g"]}');
    assert.equal((await planClusterJob(root, { image: IMAGE })).request.shmSize, '8Gi');
  });

  it('a pushed-image record that is not an image reference is refused; a FIFO record does not block', async function () {
    this.timeout(20_000);
    const root = project();
    fs.mkdirSync(path.join(root, '.ml-containers'));
    const images = path.join(root, '.ml-containers', 'images.json');
    for (const reference of ['evil\nkind: Pod', { nested: 'object' }, 'x y', 42]) {
      fs.writeFileSync(images, JSON.stringify([{ reference, pushedAt: 'now' }]));
      await assert.rejects(
        planClusterJob(root, {}),
        (err: Error) =>
          err instanceof ClusterValueError && /images\.json .* is not an image reference/.test(err.message),
      );
    }
    fs.writeFileSync(images, JSON.stringify([{ reference: IMAGE, pushedAt: '2025-01-01T00:00:00Z\x1b[2J' }]));
    const plan = await planClusterJob(root, {});
    assert.equal(plan.request.image, IMAGE);
    assert.doesNotMatch(plan.notes.join('\n'), /\x1b/);
    fs.rmSync(images);
    execFileSync('mkfifo', [images]);
    assert.equal(await lastPushed(root), undefined);
    await assert.rejects(planClusterJob(root, {}), /No image was pushed from this project yet/);
  });

  it('editor settings (namespace, image pull secret) are refused with a sentence naming the setting', async () => {
    const root = project();
    const names = {
      namespace: 'The setting mlContainers.kubernetes.namespace',
      imagePullSecret: 'The setting mlContainers.kubernetes.imagePullSecret',
    };
    await assert.rejects(
      planClusterJob(root, { image: IMAGE, namespace: 'Bad_NS!' }, names),
      /^ClusterValueError: The setting mlContainers\.kubernetes\.namespace "Bad_NS!" is not a Kubernetes namespace name/,
    );
    await assert.rejects(
      planClusterJob(root, { image: IMAGE, imagePullSecret: 'bad secret' }, names),
      /The setting mlContainers\.kubernetes\.imagePullSecret "bad secret" is not a Kubernetes secret name/,
    );
    const ok = await planClusterJob(root, { image: IMAGE, namespace: 'ml-team', imagePullSecret: 'reg.cred' }, names);
    assert.equal(ok.request.namespace, 'ml-team');
  });

  it('a sweep file: values kept literally, gpusPerRun and grids out of bounds refused, a FIFO not read', async function () {
    this.timeout(30_000);
    const root = project({
      'train.py': TRAIN_PY,
      'requirements.txt': REQUIREMENTS,
      'sweep.yaml':
        'command: ["python", "train.py", "--flag", "{v}"]\ngrid: { v: ["yes", "0b1", "1_000", "~", "1:20"] }\n',
      'gpus.yaml': 'command: python train.py {v}\ngrid: { v: [a] }\ngpusPerRun: 100000000000000000000\n',
      'big.yaml': `command: python train.py {a}\ngrid: { ${'abcdefg'
        .split('')
        .map((k) => `${k}: [${Array.from({ length: 10 }, (_, i) => i).join(', ')}]`)
        .join(', ')} }\n`,
      'env.yaml': 'command: python train.py {v}\ngrid: { v: [a] }\nenv: { "BAD NAME": x }\n',
    });
    const { request } = await planClusterJob(root, { image: IMAGE, sweepFile: 'sweep.yaml' });
    const text = manifestsToYaml(clusterManifests(request));
    const [cm] = readBack(text, '1.1') as any[];
    assert.deepEqual(
      ['0', '1', '2', '3', '4'].map((i) => JSON.parse(cm.data[`${i}.json`]).at(-1)),
      ['yes', '0b1', '1_000', '~', '1:20'],
    );
    await assert.rejects(
      planClusterJob(root, { image: IMAGE, sweepFile: 'gpus.yaml' }),
      /The sweep file's gpusPerRun must be a whole number from 0 to 64/,
    );
    const started = Date.now();
    await assert.rejects(
      planClusterJob(root, { image: IMAGE, sweepFile: 'big.yaml' }),
      /10000000 (variants|runs).*more than the/,
    );
    assert.ok(Date.now() - started < 5000, 'the grid is not expanded to be counted');
    await assert.rejects(async () => {
      const plan = await planClusterJob(root, { image: IMAGE, sweepFile: 'env.yaml' });
      clusterManifests(plan.request);
    }, /"BAD NAME"/);
    execFileSync('mkfifo', [path.join(root, 'fifo-sweep.yaml')]);
    await assert.rejects(planClusterJob(root, { image: IMAGE, sweepFile: 'fifo-sweep.yaml' }), /not a regular file/);
  });

  it('values a process cannot receive are refused: NUL, lone surrogates, bad env names, an empty program', () => {
    const refuse = (req: Partial<ClusterJobRequest>, re: RegExp): void =>
      assert.throws(
        () => clusterManifests({ ...base, ...req }),
        (e: Error) => e instanceof ClusterValueError && re.test(e.message),
      );
    refuse({ command: ['python', 'a\0b'] }, /argument 1 "a\\u0000b" contains a NUL character/);
    refuse({ command: ['python', 'a\ud800'] }, /not valid Unicode/);
    refuse({ env: { X: 'a\0' } }, /The value of X .* NUL/);
    refuse({ env: { '1X': 'a' } }, /environment variable name "1X"/);
    refuse({ env: { 'A=B': 'a' } }, /environment variable name "A=B"/);
    refuse({ command: [''] }, /empty program name/);
    refuse({ gpus: 1e21 }, /GPUs per pod must be a whole number from 0 to 64/);
    refuse({ nodes: Number.NaN }, /Nodes must be a whole number/);
    refuse({ image: 'x\ny' }, /is not an image reference/);
    refuse({ namespace: '' }, /is not a Kubernetes namespace name/);
  });

  it('a folder without a training script and without a command is refused, not a Job that runs bash', async () => {
    const root = project({ 'README.md': '# nothing to train\n' });
    await assert.rejects(
      planClusterJob(root, { image: IMAGE }),
      /No training script was detected in "proj" and no command was given: add the training script, or give the command/,
    );
    for (const nodes of ['1', '2']) {
      const r = runCli(['k8s', root, '--image', IMAGE, '--nodes', nodes]);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /No training script was detected/);
    }
    // with a command it is fine
    const r = runCli(['k8s', root, '--image', IMAGE, '--', 'python', '-m', 'mypkg.train']);
    assert.equal(r.status, 0, r.stderr);
  });

  it('a training script named like an option or with terminal escapes stays one literal argument', async () => {
    const name = '-train\x1b[2J.py';
    const root = project({ [name]: TRAIN_PY, 'requirements.txt': REQUIREMENTS });
    const one = await planClusterJob(root, { image: IMAGE });
    assert.deepEqual(one.request.command, ['python', `./${name}`]);
    assert.doesNotMatch(one.notes.join('\n'), /\x1b/);
    const multi = await planClusterJob(root, { image: IMAGE, nodes: 2 });
    assert.deepEqual(multi.request.torchrunScript, [`./${name}`]);
    const [pj] = readBack(manifestsToYaml(clusterManifests(multi.request)), '1.1') as any[];
    assert.equal(pj.spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].command.at(-1), `./${name}`);
  });

  it('cluster-jobs.json records that are not ours are dropped; a FIFO is not read', async function () {
    this.timeout(20_000);
    const root = project();
    const store = new RunStore(root);
    fs.mkdirSync(store.dir, { recursive: true });
    const good = {
      name: 'mnist-abc',
      kind: 'Job',
      context: 'kind-kind',
      namespace: null,
      image: IMAGE,
      appliedAt: '2025-01-01T00:00:00.000Z',
    };
    fs.writeFileSync(
      path.join(store.dir, 'cluster-jobs.json'),
      JSON.stringify([
        good,
        { ...good, name: 'x,ml-containers/job!=y' },
        { ...good, namespace: 'kube-system; x' },
        { ...good, context: 'evil\x1b[2J' },
        { ...good, image: { a: 1 } },
        null,
        'string',
      ]),
    );
    assert.deepEqual(await readClusterJobs(store), [good]);
    fs.writeFileSync(path.join(store.dir, 'cluster-jobs.json'), '{"not": "a list"}');
    assert.deepEqual(await readClusterJobs(store), []);
    fs.rmSync(path.join(store.dir, 'cluster-jobs.json'));
    execFileSync('mkfifo', [path.join(store.dir, 'cluster-jobs.json')]);
    assert.deepEqual(await readClusterJobs(store), []);
  });
});

// the example project is where the first reproduction came from: keep it working
describe('hostile k8s: the example project', () => {
  it('prints a Job whose command is the detected launcher', () => {
    const { dir } = tempDir('mlc-k8s-example-');
    fs.cpSync(path.join(ROOT, 'examples', 'pytorch-mnist'), dir, { recursive: true });
    const r = runCli(['k8s', dir, '--image', IMAGE]);
    assert.equal(r.status, 0, r.stderr);
    const [job] = readBack(r.stdout, '1.1') as any[];
    assert.equal(typeof job.spec.template.spec.containers[0].command[0], 'string');
  });
});
