/**
 * Generate Cluster Job, the one home of the action behind `ml-containers k8s` and the editor's Generate Cluster Job:
 * the job planned from the project (the last pushed image, its launcher, GPUs, /dev/shm, a sweep's variants), its
 * manifests rendered as YAML, and, when the face says so, applied with kubectl and recorded in the project; then
 * following the job's pods (their logs, and what keeps them from running). Plain options in, the manifests and what
 * kubectl applied out; a face only asks (flags, quick picks, "apply?") and shows (stdout, an editor, a terminal).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  applyManifests,
  type ClusterJobRecord,
  followJobLogs,
  jobPodProblems,
  jobSelector,
  type KubectlTarget,
  kubectlFlags,
  type PodProblem,
} from '../k8s/cluster';
import { type ClusterJobRequest, clusterManifests, type Manifest, manifestsToYaml } from '../k8s/manifests';
import { type ClusterOptionNames, type ClusterPlanOptions, planClusterJob } from '../k8s/plan';
import { recordClusterJobs } from '../k8s/records';
import { RunStore } from '../runs/store';
import { shellQuote } from '../util/encode';
import { CancellationError, errorMessage, isCancellation } from '../util/errors';

export interface ClusterJobOptions extends ClusterPlanOptions {
  projectRoot: string;
  /** What each option is called where the user gave it (e.g. `--shm`), for the sentences that refuse it. */
  names?: ClusterOptionNames;
  /** Where `kubectl apply` sends the manifests, when the face's `rendered` says to apply them. */
  target?: KubectlTarget;
}

/** The job, rendered: the request planned from the project, its objects, and all of them as YAML documents. */
export interface RenderedClusterJob {
  request: ClusterJobRequest;
  manifests: Manifest[];
  yaml: string;
  /** One YAML file per object (`job-<name>.yaml`, …), for a face that writes them into a folder. */
  files: { name: string; yaml: string }[];
}

/** What the face does while the operation goes: each step is reported before the next begins. */
export interface ClusterJobPort {
  /** A sentence about a choice the plan made for the user (the image, the command, the launcher). */
  note?(sentence: string): void;
  /** The manifests are rendered: the face shows or writes them, and says whether to apply them now. */
  rendered(job: RenderedClusterJob): boolean | Promise<boolean>;
  /** kubectl applied them (its output, one line per object) and the jobs are recorded in the project. */
  applied?(kubectlOutput: string, jobs: ClusterJobRecord[]): void;
}

export interface ClusterJobResult extends RenderedClusterJob {
  /** What kubectl printed, or null when the manifests were not applied. */
  applied: string | null;
  /** The jobs applied (none when not applied), as recorded in `.ml-containers/cluster-jobs.json`. */
  jobs: ClusterJobRecord[];
}

/**
 * Plans the job from the project and the options, renders its manifests, and applies them with kubectl when the
 * face's `rendered` says so, recording the applied jobs (so the Training Runs view lists them). Throws what each step
 * throws, unchanged: a ClusterValueError naming the option or setting that is refused, a SweepFileError, an Error
 * saying no image was pushed yet, kubectl's failure explained in one sentence, a cancellation when `signal` fires.
 */
export async function generateClusterJob(
  opts: ClusterJobOptions,
  signal: AbortSignal | undefined,
  port: ClusterJobPort,
): Promise<ClusterJobResult> {
  const { projectRoot, names, target, ...given } = opts;
  const { request, notes } = await planClusterJob(projectRoot, given, names);
  for (const n of notes) port.note?.(n);
  const manifests = clusterManifests(request);
  const rendered: RenderedClusterJob = {
    request,
    manifests,
    yaml: manifestsToYaml(manifests),
    files: manifests.map((m) => ({
      name: `${m.kind.toLowerCase()}-${m.metadata.name}.yaml`,
      yaml: manifestsToYaml([m]),
    })),
  };
  if (!(await port.rendered(rendered))) return { ...rendered, applied: null, jobs: [] };
  const to = target ?? {};
  const applied = await applyManifests(rendered.yaml, to, signal);
  const jobs = appliedJobs(manifests, to, request.image);
  await recordClusterJobs(new RunStore(projectRoot), jobs);
  port.applied?.(applied, jobs);
  return { ...rendered, applied, jobs };
}

/** The records of the jobs among applied objects (a sweep's ConfigMap is no job). */
function appliedJobs(manifests: Manifest[], target: KubectlTarget, image: string): ClusterJobRecord[] {
  const appliedAt = new Date().toISOString();
  return manifests
    .filter((m) => m.kind !== 'ConfigMap')
    .map((m) => ({
      name: m.metadata.name,
      kind: m.kind,
      context: target.context ?? null,
      namespace: target.namespace ?? null,
      image,
      appliedAt,
    }));
}

/** The kubectl target of a recorded job: its own context and namespace, else the target's. */
export function jobTarget(job: ClusterJobRecord, target: KubectlTarget): KubectlTarget {
  return { ...target, context: job.context ?? target.context, namespace: job.namespace ?? target.namespace };
}

/** The command line a user runs to follow a job's pod logs (shown to copy, never run through a shell by us). */
export function followCommandLine(job: string, target: KubectlTarget): string {
  const argv = ['kubectl', ...kubectlFlags(target), 'logs', '-f', '-l', jobSelector(job), '--prefix'];
  // a flag (`-f`, `--context`) is a plain word to the shell as it is; every other word quoted where it needs it
  return argv.map((w) => (/^-[-\w]*$/.test(w) ? w : shellQuote(w))).join(' ');
}

/** What keeps the pods of just-applied jobs from running, looked at once after `afterMs` (scheduling takes a moment). */
export async function appliedJobProblems(
  jobs: readonly ClusterJobRecord[],
  target: KubectlTarget,
  afterMs: number,
  signal?: AbortSignal,
): Promise<PodProblem[]> {
  if (jobs.length === 0) return [];
  await sleep(afterMs, undefined, { signal }).catch(() => {
    throw new CancellationError();
  });
  const found = await Promise.all(jobs.map((j) => jobPodProblems(j.name, jobTarget(j, target), signal)));
  return found.flat();
}

/** What following a job shows. */
export interface FollowClusterJobPort {
  /** A line of a pod's log (prefixed with the pod and container by kubectl). */
  line(text: string): void;
  /** Something keeps a pod from running (no GPU free, an image pull error, OOM, …): one sentence. */
  problem(problem: PodProblem): void;
  /** kubectl could not follow the logs or read the pods: one sentence. */
  failed(message: string): void;
}

/** How a job's logs stopped: they ended, kubectl failed, or the face stopped following. */
export type FollowEnd = 'ended' | 'failed' | 'stopped';

/**
 * Follows a job's pod logs until they end or `signal` fires, and says what keeps its pods from running: once after
 * `checkAfterMs` (pods that cannot run print no log), and again whenever the log stream ends or fails.
 */
export async function followClusterJob(
  job: ClusterJobRecord,
  target: KubectlTarget,
  signal: AbortSignal,
  port: FollowClusterJobPort,
  checkAfterMs = 10_000,
): Promise<FollowEnd> {
  const to = jobTarget(job, target);
  const reportProblems = async (): Promise<void> => {
    try {
      for (const p of await jobPodProblems(job.name, to, signal)) port.problem(p);
    } catch (err) {
      if (!signal.aborted) port.failed(errorMessage(err));
    }
  };
  const check = setTimeout(() => void reportProblems(), checkAfterMs);
  let end: FollowEnd = 'ended';
  try {
    await followJobLogs(job.name, to, (line) => port.line(line), signal);
  } catch (err) {
    if (!isCancellation(err)) port.failed(errorMessage(err));
    end = 'failed';
  } finally {
    clearTimeout(check);
  }
  if (signal.aborted) return 'stopped';
  await reportProblems();
  return end;
}
