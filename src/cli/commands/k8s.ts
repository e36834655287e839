import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { checkClusterOptions, type ClusterOptionNames, type ClusterPlanOptions, sweepIdOf } from '../../core/k8s/plan';
import { ClusterValueError, MAX_GPUS_PER_POD, MAX_NODES, parseCount } from '../../core/k8s/validate';
import { appliedJobProblems, followCommandLine, generateClusterJob, jobTarget } from '../../core/operations/clusterJob';
import { parseSweepFile, SweepFileError } from '../../core/runs/sweep';
import { writeFileAtomic } from '../../core/util/atomic';
import { isCancellation } from '../../core/util/errors';
import { readRegularFile, UnsafePathError } from '../../core/util/safeFs';
import { defineCommand, projectDir } from '../args';
import { EXIT, type Io, UsageError } from '../usage';

export const k8sCommand = defineCommand({
  name: 'k8s',
  summary: 'Generate Kubernetes manifests (a Job, an Indexed Job for a sweep, a PyTorchJob for several nodes).',
  usage: `ml-containers k8s [DIR] [--image REF] [--gpus N] [--nodes M] [--sweep sweep.yaml] [--out DIR]
                  [--namespace NS] [--pull-secret NAME] [--shm SIZE] [--apply [--context C] [--kubeconfig FILE]]
                  [-- COMMAND [ARG...]]

  --image REF         the image to run (default: the last one pushed from DIR, by digest)
  --gpus N            GPUs per pod, as nvidia.com/gpu limits (default: 1, or 0 for a CPU-only project;
                      with --sweep: the sweep file's gpusPerRun)
  --nodes M           nodes for one run; more than 1 makes a Kubeflow PyTorchJob running torchrun on each
  --sweep FILE        a sweep file: one Indexed Job, one index per variant (argv from a ConfigMap, no shell)
  --out DIR           write one YAML file per object into DIR instead of printing them
  -n, --namespace NS  the namespace of every object (default: the one of your kubeconfig context)
  --pull-secret NAME  the image pull secret of a private registry
  --shm SIZE          the size of /dev/shm (default: what the project's devcontainer.json asks, e.g. 16Gi)
  --apply             kubectl apply them with your kubeconfig, then report pod problems; the jobs are recorded
                      in DIR/.ml-containers/cluster-jobs.json (the editor's Training Runs view lists them)
  --context C         with --apply: the kubeconfig context to use (default: the current one)
  --kubeconfig FILE   with --apply: the kubeconfig file to use (default: KUBECONFIG or ~/.kube/config)

Prints the manifests as YAML documents on stdout (notes on stderr). Exit codes: 0 ok, 1 failed, 2 bad usage.`,
  options: {
    image: { type: 'string' },
    gpus: { type: 'string' },
    nodes: { type: 'string' },
    sweep: { type: 'string' },
    out: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
    'pull-secret': { type: 'string' },
    shm: { type: 'string' },
    apply: { type: 'boolean', default: false },
    context: { type: 'string' },
    kubeconfig: { type: 'string' },
  },
  operands: { max: 1, wrong: () => 'at most one project folder; put the command after "--".' },
  takesCommand: true,
  async run({ values, positionals, command }, io) {
    const root = projectDir(positionals[0]);
    const names: ClusterOptionNames = {
      image: '--image',
      gpus: '--gpus',
      nodes: '--nodes',
      namespace: '--namespace',
      imagePullSecret: '--pull-secret',
      shmSize: '--shm',
    };
    // every option is checked by the core before anything is read: a bad one is bad usage (exit 2)
    let given: ClusterPlanOptions;
    try {
      given = checkClusterOptions(
        {
          image: values.image,
          gpus: values.gpus === undefined ? undefined : parseCount(values.gpus, '--gpus', 0, MAX_GPUS_PER_POD),
          nodes: values.nodes === undefined ? undefined : parseCount(values.nodes, '--nodes', 1, MAX_NODES),
          command,
          namespace: values.namespace,
          imagePullSecret: values['pull-secret'],
          shmSize: values.shm,
        },
        names,
      );
    } catch (err) {
      if (err instanceof ClusterValueError) throw new UsageError(err.message);
      throw err;
    }
    if ((values.context || values.kubeconfig) && !values.apply) {
      throw new UsageError('--context and --kubeconfig go with --apply.');
    }
    let sweep;
    if (values.sweep) {
      const file = path.resolve(values.sweep);
      try {
        const text = await readRegularFile(file, { cap: 1024 * 1024 });
        if (text === null) throw new UsageError(`the sweep file ${file} does not exist.`);
        sweep = parseSweepFile(text, values.sweep);
      } catch (err) {
        if (err instanceof SweepFileError) {
          io.err(err.message);
          return EXIT.failure;
        }
        if (err instanceof UsageError) throw err;
        if (err instanceof UnsafePathError) throw new UsageError(err.message);
        throw new UsageError(`the sweep file ${file} cannot be read: check that it is a readable file.`);
      }
    }
    const target = { context: values.context, kubeconfig: values.kubeconfig, namespace: given.namespace };
    const interrupt = io.trapInterrupt?.();
    let jobs;
    try {
      ({ jobs } = await generateClusterJob(
        {
          projectRoot: root,
          ...given,
          sweep,
          sweepId: values.sweep ? sweepIdOf(values.sweep) : undefined,
          names,
          target,
        },
        interrupt,
        {
          note: (n) => io.err(n),
          rendered: async ({ yaml, files }) => {
            if (values.out) await writeFiles(path.resolve(values.out), files, io);
            else io.out(yaml.trimEnd());
            return values.apply;
          },
          applied: (out) => io.err(out),
        },
      ));
      for (const p of await appliedJobProblems(jobs, target, 5000, interrupt)) io.err(p.message);
    } catch (err) {
      if (isCancellation(err)) return 130;
      io.err(`ml-containers k8s: ${(err as Error).message}`);
      return EXIT.failure;
    }
    for (const job of jobs) io.err(`Follow it with: ${followCommandLine(job.name, jobTarget(job, target))}`);
    return EXIT.ok;
  },
});

/** One YAML file per object into `dir`, each named on stderr. */
async function writeFiles(dir: string, files: { name: string; yaml: string }[], io: Io): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  for (const f of files) {
    const file = path.join(dir, f.name);
    await writeFileAtomic(file, f.yaml);
    io.err(`wrote ${path.relative(process.cwd(), file) || file}`);
  }
}
