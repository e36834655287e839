/**
 * Kubernetes manifests for training on a cluster, from the project and its pushed image: a batch/v1 Job per run, an
 * Indexed Job for a sweep (one index per variant, its argv in a ConfigMap, so parameter values never pass through a
 * shell), and a Kubeflow PyTorchJob when one run spans several nodes. GPUs as `nvidia.com/gpu` limits, /dev/shm as a
 * memory-backed emptyDir (the container default is 64 MB), an image pull secret when the registry needs one. Pure.
 */
import { Document, visit } from 'yaml';
import type { SweepState } from '../runs/sweep';
import {
  checkCount,
  checkEnvName,
  checkImageRef,
  checkNamespace,
  checkProcessText,
  checkSecretName,
  checkShmSize,
  ClusterValueError,
  isWellFormed,
  MAX_CONFIGMAP_DATA_BYTES,
  MAX_GPUS_PER_POD,
  MAX_NODES,
  MAX_SWEEP_VARIANTS,
  shown,
} from './validate';

export { toQuantity } from './validate';

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
    volumes: [{ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: req.shmSize } }, ...(extra.volumes ?? [])],
  };
  if (req.imagePullSecret) spec.imagePullSecrets = [{ name: req.imagePullSecret }];
  // GPU nodes are often tainted so that only GPU pods land there
  if (req.gpus > 0) spec.tolerations = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
  return { metadata: { labels }, spec };
}

function metadata(name: string, labels: Record<string, string>, namespace?: string): Manifest['metadata'] {
  return { name, ...(namespace ? { namespace } : {}), labels };
}

/**
 * The request with every value checked (throws ClusterValueError, one sentence): image, namespace, pull secret,
 * /dev/shm (normalized to a quantity), counts, environment names and values, argv. Kubernetes names and label values
 * are not checked here: they are always made by dnsLabel.
 */
export function checkClusterRequest(req: ClusterJobRequest): ClusterJobRequest {
  const gpus = checkCount(req.gpus, 'GPUs per pod', 0, MAX_GPUS_PER_POD);
  const nodes = checkCount(req.nodes, 'Nodes', 1, MAX_NODES);
  if (req.sweep && nodes > 1) {
    throw new ClusterValueError(
      'A sweep runs each variant on one node: use --nodes 1 with --sweep, or a multi-node job without it.',
      'Nodes',
    );
  }
  // fromEntries, not assignment: a name such as __proto__ stays an own entry
  const env: Record<string, string> = Object.fromEntries(
    Object.entries(req.env ?? {}).map(([name, value]) => [
      checkEnvName(name, 'The environment variable name'),
      checkProcessText(value, `The value of ${name}`),
    ]),
  );
  const argv = (list: unknown, what: string): string[] => {
    if (!Array.isArray(list)) throw new ClusterValueError(`${what} is not a list of arguments.`, what);
    list.forEach((a, i) => checkProcessText(a, i === 0 ? `${what}'s program` : `${what}'s argument ${i}`));
    if (list.length > 0 && list[0] === '') {
      throw new ClusterValueError(`${what} starts with an empty program name: give the program to run.`, what);
    }
    return list as string[];
  };
  const out: ClusterJobRequest = {
    ...req,
    projectName: checkProcessText(req.projectName, 'The project name'),
    image: checkImageRef(req.image),
    command: argv(req.command, 'The command'),
    gpus,
    nodes,
    env,
    shmSize: checkShmSize(req.shmSize),
    namespace: req.namespace === undefined ? undefined : checkNamespace(req.namespace),
    imagePullSecret: req.imagePullSecret === undefined ? undefined : checkSecretName(req.imagePullSecret),
    torchrunScript: req.torchrunScript === undefined ? undefined : argv(req.torchrunScript, 'The training script'),
    suffix: req.suffix === undefined ? undefined : checkProcessText(req.suffix, 'The name suffix'),
  };
  if (req.sweep) {
    const { variants } = req.sweep;
    if (!Array.isArray(variants) || variants.length === 0 || variants.length > MAX_SWEEP_VARIANTS) {
      throw new ClusterValueError(
        `The sweep has ${Array.isArray(variants) ? variants.length : 'no'} variants; an Indexed Job takes from 1 to ` +
          `${MAX_SWEEP_VARIANTS}: change the sweep's grid.`,
        'The sweep',
      );
    }
    checkCount(req.sweep.maxParallel, "The sweep's maxParallel", 1, Number.MAX_SAFE_INTEGER);
    checkProcessText(req.sweep.id, "The sweep's name");
    variants.forEach((v, i) => {
      argv(v.command, `Variant ${i}'s command`);
      for (const [k, value] of Object.entries(v.params ?? {})) {
        checkProcessText(k, `Variant ${i}'s parameter name`);
        checkProcessText(value, `Variant ${i}'s value of ${shown(k)}`);
      }
    });
  }
  return out;
}

/** The manifests for a request: a Job, an Indexed Job and its ConfigMap, or a PyTorchJob. */
export function clusterManifests(request: ClusterJobRequest): Manifest[] {
  const req = checkClusterRequest(request);
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
  // Kubernetes gives each pod its index, 0 to completions-1: the files are named by position
  sweep.variants.forEach((v, i) => (data[`${i}.json`] = JSON.stringify(v.command)));
  data['variants.json'] = JSON.stringify(
    sweep.variants.map((v, i) => ({ index: i, params: v.params })),
    null,
    2,
  );
  const bytes = Object.entries(data).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > MAX_CONFIGMAP_DATA_BYTES) {
    throw new ClusterValueError(
      `The sweep's ${sweep.variants.length} variants take ${(bytes / 1024 / 1024).toFixed(1)} MiB, more than the ` +
        '1 MiB a ConfigMap may hold: split the sweep into smaller grids.',
      'The sweep',
    );
  }
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

/** Words YAML 1.1 reads as booleans or null when plain (a key is left plain only when it is none of them). */
const YAML_WORDS = /^(?:y|yes|n|no|true|false|on|off|null)$/i;
const PLAIN_KEY = /^[A-Za-z][A-Za-z0-9._/-]*$/;
/**
 * Characters the yaml library writes as they are inside double quotes but that a YAML 1.1 reader (kubectl's go-yaml)
 * does not keep: DEL and C1 controls are refused as non-printable, NEL/LS/PS are line breaks (folded to a space), BOM
 * and the non-characters are not printable.
 */
const UNSAFE_IN_QUOTES = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

function assertWellFormed(value: unknown, where: string): void {
  if (typeof value === 'string') {
    if (!isWellFormed(value)) {
      throw new ClusterValueError(`${where} ${shown(value)} is not valid Unicode: remove the lone surrogate.`, where);
    }
  } else if (Array.isArray(value)) value.forEach((v) => assertWellFormed(v, where));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      assertWellFormed(k, where);
      assertWellFormed(v, where);
    }
  }
}

/**
 * One object as a YAML document that every reader decodes to exactly it, YAML 1.1 (kubectl) and 1.2 alike: every
 * string value double-quoted (so `yes`, `on`, `0b1`, `1_000`, `1:20`, `~`, `2001-12-14`, `<<` stay strings), keys
 * plain only when they are plain identifiers, characters a YAML 1.1 reader would fold or refuse escaped, no block
 * scalars, no line folding, no aliases.
 */
export function toYaml(value: unknown): string {
  assertWellFormed(value, 'A value of the manifest');
  const doc = new Document(value, { aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(key, node) {
      if (typeof node.value !== 'string') return;
      const plainKey = key === 'key' && PLAIN_KEY.test(node.value) && !YAML_WORDS.test(node.value);
      node.type = plainKey ? 'PLAIN' : 'QUOTE_DOUBLE';
    },
  });
  const text = doc.toString({ lineWidth: 0, minContentWidth: 0, blockQuote: false, doubleQuotedAsJSON: false });
  return text.replace(UNSAFE_IN_QUOTES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The manifests as YAML documents separated by `---`. */
export function manifestsToYaml(manifests: Manifest[]): string {
  return manifests.map((m) => toYaml(m)).join('---\n');
}
