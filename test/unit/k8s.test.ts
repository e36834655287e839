/* eslint-disable @typescript-eslint/no-explicit-any -- generated manifests are walked as plain JSON */
/**
 * Cluster manifests: every generated object validated against the Kubernetes API schemas (kubernetes-models, built
 * from the Kubernetes OpenAPI spec: types, enums, required fields, formats), the PyTorchJob against the Kubeflow
 * training operator's v1 API; a sweep becomes ONE Indexed Job whose variants' argv sit in a ConfigMap; pod states
 * are explained; kubectl's refusals become one sentence (a real kubectl against a server that is not there).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { applyManifests, explainPods } from '../../src/core/k8s/cluster';
import {
  clusterManifests,
  type ClusterJobRequest,
  dnsLabel,
  type Manifest,
  manifestsToYaml,
  SWEEP_LAUNCHER,
  toQuantity,
} from '../../src/core/k8s/manifests';
import { commandFor, expandGrid, parseSweepFile } from '../../src/core/runs/sweep';
import { tempDir } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
// kubernetes-models is an ES module: load it with a real import() from this CommonJS test
const esm = new Function('s', 'return import(s)') as (s: string) => Promise<Record<string, unknown>>;

type Validatable = new (data: unknown) => { validate(): void };
async function model(module: string, name: string): Promise<Validatable> {
  return (await esm(`kubernetes-models/${module}`))[name] as Validatable;
}

/** Validates a manifest with the Kubernetes schema of its kind (throws with the schema's words). */
async function validateK8s(m: Manifest): Promise<void> {
  if (m.apiVersion === 'batch/v1' && m.kind === 'Job') return new (await model('batch/v1', 'Job'))(m).validate();
  if (m.apiVersion === 'v1' && m.kind === 'ConfigMap') return new (await model('v1', 'ConfigMap'))(m).validate();
  if (m.apiVersion === 'kubeflow.org/v1' && m.kind === 'PyTorchJob') return validatePyTorchJob(m);
  throw new Error(`no schema for ${m.apiVersion} ${m.kind}`);
}

/**
 * The PyTorchJob v1 API of the Kubeflow training operator (pkg/apis/kubeflow.org/v1/pytorch_types.go and
 * common_types.go): spec {runPolicy, elasticPolicy, pytorchReplicaSpecs {Master, Worker}: ReplicaSpec {replicas,
 * template: PodTemplateSpec, restartPolicy: Always|OnFailure|Never|ExitCode}, nprocPerNode: string}; the operator
 * wants the container named "pytorch". Pod templates are validated with the core PodTemplateSpec schema.
 */
async function validatePyTorchJob(m: Manifest): Promise<void> {
  const spec = m.spec as Record<string, unknown>;
  const allowed = (obj: object, keys: string[], where: string): void => {
    for (const k of Object.keys(obj)) assert.ok(keys.includes(k), `${where}: unknown field ${k}`);
  };
  allowed(spec, ['runPolicy', 'elasticPolicy', 'pytorchReplicaSpecs', 'nprocPerNode'], 'spec');
  assert.equal(typeof spec.nprocPerNode, 'string', 'spec.nprocPerNode is a string');
  allowed(
    spec.runPolicy as object,
    [
      'cleanPodPolicy',
      'ttlSecondsAfterFinished',
      'activeDeadlineSeconds',
      'backoffLimit',
      'schedulingPolicy',
      'suspend',
      'managedBy',
    ],
    'spec.runPolicy',
  );
  assert.ok(['All', 'Running', 'None'].includes((spec.runPolicy as { cleanPodPolicy: string }).cleanPodPolicy));
  const replicas = spec.pytorchReplicaSpecs as Record<string, Record<string, unknown>>;
  allowed(replicas, ['Master', 'Worker'], 'spec.pytorchReplicaSpecs');
  const PodTemplateSpec = await model('v1', 'PodTemplateSpec');
  for (const [type, r] of Object.entries(replicas)) {
    allowed(r, ['replicas', 'template', 'restartPolicy'], `${type}`);
    assert.ok(Number.isInteger(r.replicas) && (r.replicas as number) >= 1, `${type}.replicas`);
    assert.ok(
      ['Always', 'OnFailure', 'Never', 'ExitCode'].includes(r.restartPolicy as string),
      `${type}.restartPolicy`,
    );
    new PodTemplateSpec(r.template).validate();
    const containers = (r.template as { spec: { containers: { name: string }[] } }).spec.containers;
    assert.ok(
      containers.some((c) => c.name === 'pytorch'),
      `${type}: the training operator needs a container named "pytorch"`,
    );
  }
}

const base: ClusterJobRequest = {
  projectName: 'My MNIST Project!',
  image: '127.0.0.1:5000/team/mnist@sha256:1f5dca2a1efc4195dea21e9291c7350a4dfb8516f462d4bff235fca86f219304',
  command: ['torchrun', '--nproc_per_node=gpu', 'train.py'],
  gpus: 2,
  nodes: 1,
  env: { WANDB_MODE: 'offline' },
  shmSize: '16g',
  imagePullSecret: 'regcred',
  suffix: 'abc123',
};

describe('k8s: manifests', () => {
  it('one run is a batch/v1 Job: GPU limits, memory-backed /dev/shm, env, pull secret, the launcher', async () => {
    const [job, ...rest] = clusterManifests(base);
    assert.equal(rest.length, 0);
    await validateK8s(job!);
    assert.equal(job!.metadata.name, 'my-mnist-project-abc123');
    const pod = (job!.spec as { template: { spec: Record<string, any> } }).template.spec;
    assert.equal(pod.restartPolicy, 'Never');
    assert.deepEqual(pod.containers[0].command, ['torchrun', '--nproc_per_node=gpu', 'train.py']);
    assert.deepEqual(pod.containers[0].resources, { limits: { 'nvidia.com/gpu': 2 } });
    assert.deepEqual(pod.containers[0].env, [
      { name: 'PYTHONUNBUFFERED', value: '1' },
      { name: 'WANDB_MODE', value: 'offline' },
    ]);
    assert.deepEqual(pod.volumes[0], { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } });
    assert.deepEqual(pod.containers[0].volumeMounts[0], { name: 'dshm', mountPath: '/dev/shm' });
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }]);
    assert.deepEqual(pod.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.equal((job!.spec as { backoffLimit: number }).backoffLimit, 0);
  });

  it('a CPU-only run asks for no GPU and no toleration; an empty command keeps the image entry point', async () => {
    const [job] = clusterManifests({ ...base, gpus: 0, command: [], imagePullSecret: undefined });
    await validateK8s(job!);
    const pod = (job!.spec as { template: { spec: Record<string, any> } }).template.spec;
    assert.equal(pod.containers[0].resources, undefined);
    assert.equal(pod.containers[0].command, undefined);
    assert.equal(pod.tolerations, undefined);
    assert.equal(pod.imagePullSecrets, undefined);
  });

  it('a sweep is ONE Indexed Job, one index per variant, argv from a ConfigMap (hostile values literal)', async () => {
    const sweepFile = parseSweepFile(
      'command: python train.py --lr {lr} --tag {tag}\ngrid: { lr: [0.1, 1e-4], tag: ["; rm -rf /", "$(id)", "a b"] }\nmaxParallel: 2\n',
    );
    const variants = expandGrid(sweepFile.grid).map((v) => ({
      ...v,
      command: commandFor(sweepFile.command, v.params),
      state: 'queued' as const,
      runId: null,
      gpus: [],
      exitCode: null,
      explanation: null,
    }));
    const out = clusterManifests({ ...base, gpus: 1, sweep: { id: 'sweep-x', variants, maxParallel: 2 } });
    assert.deepEqual(
      out.map((m) => m.kind),
      ['ConfigMap', 'Job'],
    );
    for (const m of out) await validateK8s(m);
    const [cm, job] = out as [Manifest & { data: Record<string, string> }, Manifest & { spec: Record<string, any> }];
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(job.spec.completions, 6);
    assert.equal(job.spec.parallelism, 2);
    assert.equal(job.spec.backoffLimitPerIndex, 0);
    assert.deepEqual(JSON.parse(cm.data['1.json']!), ['python', 'train.py', '--lr', '0.1', '--tag', '$(id)']);
    assert.deepEqual(JSON.parse(cm.data['2.json']!), ['python', 'train.py', '--lr', '0.1', '--tag', 'a b']);
    assert.deepEqual(JSON.parse(cm.data['3.json']!), ['python', 'train.py', '--lr', '1e-4', '--tag', '; rm -rf /']);
    const pod = job.spec.template.spec;
    assert.deepEqual(pod.containers[0].command, SWEEP_LAUNCHER);
    assert.deepEqual(pod.volumes[1], { name: 'variants', configMap: { name: cm.metadata.name } });
  });

  it('several nodes make a Kubeflow PyTorchJob: one Master, nodes-1 Workers, torchrun with the node count', async () => {
    const [pj] = clusterManifests({
      ...base,
      nodes: 4,
      gpus: 8,
      command: [],
      torchrunScript: ['train.py', '--epochs', '3'],
    });
    await validateK8s(pj!);
    const spec = pj!.spec as Record<string, any>;
    assert.equal(spec.nprocPerNode, '8');
    assert.equal(spec.pytorchReplicaSpecs.Master.replicas, 1);
    assert.equal(spec.pytorchReplicaSpecs.Worker.replicas, 3);
    const c = spec.pytorchReplicaSpecs.Worker.template.spec.containers[0];
    assert.deepEqual(c.command, ['torchrun', '--nnodes=4', '--nproc_per_node=8', 'train.py', '--epochs', '3']);
    assert.deepEqual(c.resources, { limits: { 'nvidia.com/gpu': 8 } });
    assert.throws(
      () => clusterManifests({ ...base, nodes: 2, sweep: { id: 's', variants: [], maxParallel: 1 } }),
      /A sweep runs each variant on one node/,
    );
  });

  it('prints YAML documents that read back to the same objects, without YAML aliases', () => {
    const sweep = {
      id: 's',
      maxParallel: 1,
      variants: [
        {
          index: 0,
          params: { lr: '0.1' },
          command: ['python', 'x.py'],
          state: 'queued' as const,
          runId: null,
          gpus: [],
          exitCode: null,
          explanation: null,
        },
      ],
    };
    const manifests = clusterManifests({ ...base, sweep });
    const text = manifestsToYaml(manifests);
    assert.doesNotMatch(text, /[&*]a\d/);
    const docs = parseAllDocuments(text).map((d) => d.toJSON());
    assert.deepEqual(docs, JSON.parse(JSON.stringify(manifests)));
  });

  it('names are DNS labels; sizes become quantities', () => {
    assert.equal(dnsLabel('My MNIST Project!'), 'my-mnist-project');
    assert.equal(dnsLabel('x'.repeat(80)).length, 63);
    assert.equal(dnsLabel('---'), 'training');
    assert.equal(dnsLabel('2024 LLM finetune'), 'ml-2024-llm-finetune');
    assert.equal(toQuantity('1.5g'), '1536Mi');
    assert.equal(toQuantity('16g'), '16Gi');
    assert.equal(toQuantity('512m'), '512Mi');
    assert.equal(toQuantity('8Gi'), '8Gi');
  });
});

describe('k8s: pods and kubectl, explained', () => {
  const pods = (items: object[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

  it('a pod pending for GPUs, an image that cannot be pulled, an OOM kill: one sentence each', () => {
    const problems = explainPods(
      pods([
        {
          metadata: { name: 'mnist-abc-0-x' },
          status: {
            phase: 'Pending',
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message:
                  '0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
              },
            ],
          },
        },
        {
          metadata: { name: 'mnist-abc-1-y' },
          status: {
            phase: 'Pending',
            containerStatuses: [
              {
                name: 'train',
                image: 'registry.example/team/mnist:v1',
                state: {
                  waiting: {
                    reason: 'ImagePullBackOff',
                    message: 'Back-off pulling image "registry.example/team/mnist:v1"',
                  },
                },
              },
            ],
          },
        },
        {
          metadata: { name: 'mnist-abc-2-z' },
          status: {
            phase: 'Failed',
            containerStatuses: [{ name: 'train', state: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }],
          },
        },
        {
          metadata: { name: 'healthy' },
          status: { phase: 'Running', containerStatuses: [{ name: 'train', state: { running: {} } }] },
        },
      ]),
    );
    assert.deepEqual(
      problems.map((p) => [p.pod, p.id]),
      [
        ['mnist-abc-0-x', 'insufficient-gpu'],
        ['mnist-abc-1-y', 'image-pull'],
        ['mnist-abc-2-z', 'oom-killed'],
      ],
    );
    assert.match(problems[0]!.message, /no node has enough free GPUs .*NVIDIA device plugin/);
    assert.match(problems[1]!.message, /cannot pull registry\.example\/team\/mnist:v1 .*image pull secret/);
  });

  it('kubectl apply against an API server that is not there says so (a real kubectl)', async function () {
    const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
    if (kubectl.error) {
      throw new Error('kubectl is not installed: install it (Debian: kubernetes-client) to run this test.');
    }
    this.timeout(60_000);
    const { dir } = tempDir('mlc-kube-');
    const kubeconfig = path.join(dir, 'config');
    fs.writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: gone, context: {cluster: c, user: u}}]',
        'current-context: gone',
      ].join('\n'),
    );
    const yamlText = manifestsToYaml(clusterManifests(base));
    await assert.rejects(applyManifests(yamlText, { kubeconfig, context: 'gone' }), /API server cannot be reached/);
    await assert.rejects(applyManifests(yamlText, { kubeconfig, context: 'nope' }), /no context "nope"/);
  });

  it('`ml-containers k8s` prints valid documents; --sweep makes one Indexed Job; bad usage exits 2', async () => {
    const { dir: project } = tempDir('mlc-k8s-');
    fs.cpSync(path.join(ROOT, 'examples', 'pytorch-mnist'), project, { recursive: true });
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'k8s', project, ...args], { encoding: 'utf8' });
    const one = run(['--image', base.image, '--gpus', '1']);
    assert.equal(one.status, 0, one.stderr);
    const docs = parseAllDocuments(one.stdout).map((d) => d.toJSON() as Manifest);
    assert.equal(docs.length, 1);
    await validateK8s(docs[0]!);
    fs.writeFileSync(
      path.join(project, 'sweep.yaml'),
      'command: python train.py --lr {lr}\ngrid: { lr: [0.1, 0.01, 0.001] }\n',
    );
    const sweep = run([
      '--image',
      base.image,
      '--sweep',
      path.join(project, 'sweep.yaml'),
      '--out',
      path.join(project, 'k8s'),
    ]);
    assert.equal(sweep.status, 0, sweep.stderr);
    const files = fs.readdirSync(path.join(project, 'k8s')).sort();
    assert.equal(files.length, 2);
    const job = parseYaml(
      fs.readFileSync(
        path.join(
          project,
          'k8s',
          files.find((f) => f.startsWith('job-'))!,
        ),
        'utf8',
      ),
    );
    await validateK8s(job);
    assert.equal(job.spec.completions, 3);
    const noImage = run([]);
    assert.equal(noImage.status, 1);
    assert.match(noImage.stderr, /No image was pushed from this project yet/);
    assert.equal(run(['--nodes', '0']).status, 2);
  });
});
