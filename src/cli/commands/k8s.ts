import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { applyManifests, jobPodProblems } from '../../core/k8s/cluster';
import { clusterManifests, manifestsToYaml } from '../../core/k8s/manifests';
import {
  checkClusterOptions,
  type ClusterOptionNames,
  type ClusterPlanOptions,
  planClusterJob,
} from '../../core/k8s/plan';
import { ClusterValueError, MAX_GPUS_PER_POD, MAX_NODES, parseCount } from '../../core/k8s/validate';
import { parseSweepFile, SweepFileError } from '../../core/runs/sweep';
import { writeFileAtomic } from '../../core/util/atomic';
import { readRegularFile, UnsafePathError } from '../../core/util/safeFs';
import { projectDir, splitCommand } from '../args';
import { type CliCommand, type CliOptions, EXIT, UsageError, parseCommandArgs } from '../usage';

const k8sOptions = {
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
} satisfies CliOptions;

export const k8sCommand: CliCommand = {
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
  --apply             kubectl apply them with your kubeconfig, then report pod problems
  --context C         with --apply: the kubeconfig context to use (default: the current one)
  --kubeconfig FILE   with --apply: the kubeconfig file to use (default: KUBECONFIG or ~/.kube/config)

Prints the manifests as YAML documents on stdout (notes on stderr). Exit codes: 0 ok, 1 failed, 2 bad usage.`,
  options: k8sOptions,
  async run(argv, io) {
    const { options, command } = splitCommand(argv);
    const { values, positionals } = parseCommandArgs({
      args: options,
      allowPositionals: true,
      strict: true,
      options: k8sOptions,
    });
    if (positionals.length > 1) throw new UsageError('at most one project folder; put the command after "--".');
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
    let manifests;
    try {
      const { request, notes } = await planClusterJob(
        root,
        {
          ...given,
          sweep,
          sweepId: values.sweep ? path.basename(values.sweep).replace(/\.ya?ml$/, '') : undefined,
        },
        names,
      );
      for (const n of notes) io.err(n);
      manifests = clusterManifests(request);
    } catch (err) {
      io.err(`ml-containers k8s: ${(err as Error).message}`);
      return EXIT.failure;
    }
    const yamlText = manifestsToYaml(manifests);
    if (values.out) {
      const out = path.resolve(values.out);
      await fsp.mkdir(out, { recursive: true });
      for (const m of manifests) {
        const file = path.join(out, `${m.kind.toLowerCase()}-${m.metadata.name}.yaml`);
        await writeFileAtomic(file, manifestsToYaml([m]));
        io.err(`wrote ${path.relative(process.cwd(), file) || file}`);
      }
    } else {
      io.out(yamlText.trimEnd());
    }
    if (!values.apply) return EXIT.ok;
    const target = { context: values.context, kubeconfig: values.kubeconfig, namespace: given.namespace };
    try {
      io.err(await applyManifests(yamlText, target, io.trapInterrupt?.()));
      const job = manifests.find((m) => m.kind === 'Job')?.metadata.name;
      if (job) {
        await new Promise((r) => setTimeout(r, 5000));
        const problems = await jobPodProblems(job, target);
        for (const p of problems) io.err(p.message);
        io.err(
          `Follow it with: kubectl logs -f -l ml-containers/job=${job} --prefix${values.context ? ` --context ${shellWord(values.context)}` : ''}${given.namespace ? ` --namespace ${given.namespace}` : ''}`,
        );
      }
      return EXIT.ok;
    } catch (err) {
      io.err(`ml-containers k8s: ${(err as Error).message}`);
      return EXIT.failure;
    }
  },
};

/** A word as a POSIX shell reads it back, for a command line shown to the user to copy (never run by us). */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
