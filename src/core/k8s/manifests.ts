/**
 * Kubernetes manifests for training on a cluster, from the project and its pushed image: a batch/v1 Job per run, an
 * Indexed Job for a sweep (one index per variant, its argv in a ConfigMap, so parameter values never pass through a
 * shell), and a Kubeflow PyTorchJob when one run spans several nodes. GPUs as `nvidia.com/gpu` limits, /dev/shm as a
 * memory-backed emptyDir (the container default is 64 MB), an image pull secret when the registry needs one. Pure.
 */
import { stringify } from 'yaml';
import type { SweepState } from '../runs/sweep';

export interface ClusterJobRequest {
  /** The project's folder name, for object names and labels. */
  projectName: string;
  /** The image to run: best a pushed reference by digest (`registry/name@sha256:…`). */
  image: string;
  /** argv; [] runs the image's own entry point (the train target's launcher). */
  command: string[];
  /** GPUs per pod (per node for a multi-node job). */
  gpus: number;
  /** Nodes for one run: more than 1 makes a PyTorchJob. */
  nodes: number;
  env: Record<string, string>;
  /** Size of the memory-backed /dev/shm, a Kubernetes quantity (e.g. `16Gi`). */
  shmSize: string;
  namespace?: string;
  imagePullSecret?: string;
  /** A sweep: one index per variant. */
  sweep?: Pick<SweepState, 'id' | 'variants' | 'maxParallel'>;
  /** The `torchrun` script and its arguments, for a multi-node job (e.g. ['train.py']). */
  torchrunScript?: string[];
  /** A suffix that makes the names unique (default: from the time). */
  suffix?: string;
}

export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string } & Record<string, unknown>;
};

export const MANAGED_BY = 'ml-containers';
export const LABEL_PREFIX = 'ml-containers';
const SWEEP_DIR = '/etc/ml-containers/sweep';

/**
 * Runs the variant whose index Kubernetes gives the pod (JOB_COMPLETION_INDEX): its argv is read from the mounted
 * ConfigMap and exec'd as is, without a shell.
 */
export const SWEEP_LAUNCHER = [
  'python3',
  '-c',
  [
    'import json, os, sys',
    `argv = json.load(open(os.path.join(${JSON.stringify(SWEEP_DIR)}, os.environ["JOB_COMPLETION_INDEX"] + ".json")))`,
    'print("ml-containers: variant " + os.environ["JOB_COMPLETION_INDEX"] + ": " + " ".join(argv), flush=True)',
    'os.execvp(argv[0], argv)',
  ].join('\n'),
];

/** A DNS-1123 label from any text: lowercase letters, digits and '-', at most `max` characters. */
export function dnsLabel(text: string, max = 63): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  if (!s) return 'training';
  // a DNS-1035 label (what Services need, and the training operator makes Services) starts with a letter
  return /^[0-9]/.test(s) ? `ml-${s}`.slice(0, max).replace(/-+$/, '') : s;
}

/** A time-based suffix: base36 seconds, 6–7 characters. */
export function nameSuffix(now = Date.now()): string {
  return Math.floor(now / 1000).toString(36);
}

/** Kubernetes quantity from docker's size (`16g` -> `16Gi`, `512m` -> `512Mi`); passes a quantity through. */
export function toQuantity(size: string): string {
  const m = /^(\d+(?:\.\d+)?)([kmgt])b?$/i.exec(size.trim());
  if (!m) return size.trim();
  const units = ['k', 'm', 'g', 't'];
  let value = Number(m[1]);
  let unit = units.indexOf(m[2]!.toLowerCase());
  // quantities are whole numbers here: 1.5g -> 1536Mi
  while (!Number.isInteger(value) && unit > 0) {
    value *= 1024;
    unit--;
  }
  return `${Math.round(value)}${['Ki', 'Mi', 'Gi', 'Ti'][unit]}`;
}

function envList(env: Record<string, string>): { name: string; value: string }[] {
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

/** The pod template every kind shares: the container, GPUs, /dev/shm, pull secret, GPU-node toleration. */
function podTemplate(
  req: ClusterJobRequest,
  labels: Record<string, string>,
  container: { name: string; command?: string[]; extraEnv?: { name: string; value?: string }[] },
  extra: { volumes?: object[]; mounts?: object[] } = {},
): Record<string, unknown> {
  const c: Record<string, unknown> = {
    name: container.name,
    image: req.image,
    ...(container.command && container.command.length > 0 ? { command: container.command } : {}),
    env: [...envList({ PYTHONUNBUFFERED: '1', ...req.env }), ...(container.extraEnv ?? [])],
    volumeMounts: [{ name: 'dshm', mountPath: '/dev/shm' }, ...(extra.mounts ?? [])],
  };
  if (req.gpus > 0) c.resources = { limits: { 'nvidia.com/gpu': req.gpus } };
  const spec: Record<string, unknown> = {
    restartPolicy: 'Never',
    containers: [c],
    volumes: [
      { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: toQuantity(req.shmSize) } },
      ...(extra.volumes ?? []),
    ],
  };
  if (req.imagePullSecret) spec.imagePullSecrets = [{ name: req.imagePullSecret }];
  // GPU nodes are often tainted so that only GPU pods land there
  if (req.gpus > 0) spec.tolerations = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
  return { metadata: { labels }, spec };
}

function metadata(name: string, labels: Record<string, string>, namespace?: string): Manifest['metadata'] {
  return { name, ...(namespace ? { namespace } : {}), labels };
}

/** The manifests for a request: a Job, an Indexed Job and its ConfigMap, or a PyTorchJob. */
export function clusterManifests(req: ClusterJobRequest): Manifest[] {
  if (!Number.isInteger(req.gpus) || req.gpus < 0) throw new Error(`GPUs per pod must be 0 or more, got ${req.gpus}.`);
  if (!Number.isInteger(req.nodes) || req.nodes < 1) throw new Error(`Nodes must be 1 or more, got ${req.nodes}.`);
  if (req.sweep && req.nodes > 1) {
    throw new Error(
      'A sweep runs each variant on one node: use --nodes 1 with --sweep, or a multi-node job without it.',
    );
  }
  const project = dnsLabel(req.projectName, 40);
  const suffix = dnsLabel(req.suffix ?? nameSuffix(), 12);
  const labels = {
    'app.kubernetes.io/name': project,
    'app.kubernetes.io/managed-by': MANAGED_BY,
  };
  if (req.sweep) return sweepJob(req, `${project}-sweep-${suffix}`, labels);
  if (req.nodes > 1) return [pytorchJob(req, `${project}-${suffix}`, labels)];
  const name = `${project}-${suffix}`;
  const runLabels = { ...labels, [`${LABEL_PREFIX}/job`]: name };
  return [
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: metadata(name, runLabels, req.namespace),
      spec: {
        // a failed training run is looked at, not retried blindly
        backoffLimit: 0,
        ttlSecondsAfterFinished: 7 * 24 * 3600,
        template: podTemplate(req, runLabels, { name: 'train', command: req.command }),
      },
    } as Manifest,
  ];
}

function sweepJob(req: ClusterJobRequest, name: string, labels: Record<string, string>): Manifest[] {
  const sweep = req.sweep!;
  const jobLabels = { ...labels, [`${LABEL_PREFIX}/job`]: name, [`${LABEL_PREFIX}/sweep`]: dnsLabel(sweep.id) };
  const data: Record<string, string> = {};
  for (const v of sweep.variants) data[`${v.index}.json`] = JSON.stringify(v.command);
  data['variants.json'] = JSON.stringify(
    sweep.variants.map((v) => ({ index: v.index, params: v.params })),
    null,
    2,
  );
  const configMap: Manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(`${name}-variants`, jobLabels, req.namespace),
    data,
  };
  const job: Manifest = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(name, jobLabels, req.namespace),
    spec: {
      completionMode: 'Indexed',
      completions: sweep.variants.length,
      parallelism: Math.max(1, Math.min(sweep.maxParallel, sweep.variants.length)),
      // each variant fails on its own, the others go on (Kubernetes 1.29+)
      backoffLimitPerIndex: 0,
      ttlSecondsAfterFinished: 7 * 24 * 3600,
      template: podTemplate(
        req,
        jobLabels,
        { name: 'train', command: SWEEP_LAUNCHER },
        {
          volumes: [{ name: 'variants', configMap: { name: `${name}-variants` } }],
          mounts: [{ name: 'variants', mountPath: SWEEP_DIR, readOnly: true }],
        },
      ),
    },
  };
  return [configMap, job];
}

function pytorchJob(req: ClusterJobRequest, name: string, labels: Record<string, string>): Manifest {
  const jobLabels = { ...labels, [`${LABEL_PREFIX}/job`]: name };
  // the training operator sets PET_NNODES, PET_NODE_RANK, PET_MASTER_ADDR and PET_MASTER_PORT, which torchrun reads
  const command =
    req.command.length > 0
      ? req.command
      : [
          'torchrun',
          `--nnodes=${req.nodes}`,
          `--nproc_per_node=${Math.max(1, req.gpus)}`,
          ...(req.torchrunScript ?? []),
        ];
  const replica = (replicas: number): Record<string, unknown> => ({
    replicas,
    restartPolicy: 'Never',
    template: podTemplate(req, jobLabels, { name: 'pytorch', command }),
  });
  return {
    apiVersion: 'kubeflow.org/v1',
    kind: 'PyTorchJob',
    metadata: metadata(name, jobLabels, req.namespace),
    spec: {
      nprocPerNode: String(Math.max(1, req.gpus)),
      runPolicy: { cleanPodPolicy: 'None', backoffLimit: 0, ttlSecondsAfterFinished: 7 * 24 * 3600 },
      pytorchReplicaSpecs: { Master: replica(1), Worker: replica(req.nodes - 1) },
    },
  };
}

/** The manifests as YAML documents separated by `---`. */
export function manifestsToYaml(manifests: Manifest[]): string {
  return manifests.map((m) => stringify(m, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
