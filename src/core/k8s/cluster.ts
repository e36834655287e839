/**
 * Talking to the user's cluster through kubectl, with their kubeconfig and context (argv only, manifests on stdin):
 * apply, follow a job's logs, and read its pods to explain what keeps them from running (no GPU free, image pull
 * errors, OOM), in the same one-sentence style as local failures.
 */
import { runProcess, streamLines } from '../proc';

export interface KubectlTarget {
  /** kubectl to run (default `kubectl` on the PATH). */
  kubectl?: string;
  /** `--context` (default: the kubeconfig's current context). */
  context?: string;
  /** `--kubeconfig` (default: KUBECONFIG / ~/.kube/config). */
  kubeconfig?: string;
  namespace?: string;
  env?: NodeJS.ProcessEnv;
}

/** The global kubectl flags of a target. */
export function kubectlFlags(t: KubectlTarget): string[] {
  return [
    ...(t.kubeconfig ? ['--kubeconfig', t.kubeconfig] : []),
    ...(t.context ? ['--context', t.context] : []),
    ...(t.namespace ? ['--namespace', t.namespace] : []),
  ];
}

/** `kubectl apply -f -` with the manifests on stdin; resolves with what kubectl printed (one line per object). */
export async function applyManifests(yamlText: string, t: KubectlTarget, signal?: AbortSignal): Promise<string> {
  try {
    const r = await runProcess(t.kubectl ?? 'kubectl', [...kubectlFlags(t), 'apply', '-f', '-'], {
      input: yamlText,
      env: t.env,
      signal,
      timeoutMs: 120_000,
    });
    return r.stdout.trim();
  } catch (err) {
    throw new Error(explainKubectlError(err));
  }
}

/** What kubectl's failure means for the user, in one sentence. */
export function explainKubectlError(err: unknown): string {
  const e = err as { code?: string; stderr?: string; message?: string; name?: string };
  if (e.name === 'CommandNotFoundError' || e.code === 'ENOENT') {
    return 'kubectl was not found: install it (https://kubernetes.io/docs/tasks/tools/) or put it on the PATH, then apply again.';
  }
  const text = `${e.stderr ?? ''}\n${e.message ?? ''}`;
  let m: RegExpExecArray | null;
  if (/no matches for kind "PyTorchJob"|resource mapping not found for .*PyTorchJob/i.test(text)) {
    return (
      'The cluster does not know PyTorchJob: install the Kubeflow training operator ' +
      '(https://www.kubeflow.org/docs/components/trainer/) or run on one node (--nodes 1), which needs only a Job.'
    );
  }
  if ((m = /context "([^"]+)" does not exist/i.exec(text))) {
    return `The kubeconfig has no context "${m[1]}": pick one of \`kubectl config get-contexts\`.`;
  }
  if (/Unable to connect to the server|connection refused|no such host|i\/o timeout/i.test(text)) {
    return "The cluster's API server cannot be reached: check the kubeconfig's server address, the VPN and `kubectl cluster-info`.";
  }
  if (/Forbidden|forbidden:/i.test(text)) {
    return `The cluster refused (${firstLine(text)}): ask for permission to create Jobs in that namespace, or use another.`;
  }
  if ((m = /is waiting to start: (\w+)/.exec(text))) {
    return `The job's pods are still starting (${m[1]}): follow the logs again in a moment.`;
  }
  if (/unknown field "spec\.backoffLimitPerIndex"|backoffLimitPerIndex/.test(text)) {
    return 'The cluster is older than Kubernetes 1.29 and does not know backoffLimitPerIndex (used by sweeps): upgrade the cluster, or remove that field from the Job.';
  }
  if (/Unauthorized|You must be logged in/i.test(text)) {
    return 'The cluster did not accept your credentials: log in again (refresh the kubeconfig token) and apply again.';
  }
  return `kubectl failed: ${firstLine(text) || 'no output'}.`;
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l) ?? ''
  ).replace(/^error: /i, '');
}

/** The label every pod of our jobs carries (Job and PyTorchJob alike: the training operator uses other labels). */
export function jobSelector(job: string): string {
  return `ml-containers/job=${job}`;
}

/**
 * Streams a job's logs (all its pods, prefixed) until they end or `signal` fires; throws one sentence when kubectl
 * fails (e.g. the pods are still being created).
 */
export async function followJobLogs(
  job: string,
  t: KubectlTarget,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const argv = [
    ...kubectlFlags(t),
    'logs',
    '--follow',
    '--all-containers',
    '--prefix',
    '--max-log-requests=20',
    '-l',
    jobSelector(job),
  ];
  const end = await streamLines(t.kubectl ?? 'kubectl', argv, { onLine, signal, env: t.env }).done;
  if (end.stopped) return;
  if (end.error) throw new Error(explainKubectlError(end.error));
  if (end.exitCode !== 0) throw new Error(explainKubectlError({ stderr: end.stderr, message: `exit ${end.exitCode}` }));
}

/** A pod problem, explained. */
export interface PodProblem {
  pod: string;
  id: 'insufficient-gpu' | 'unschedulable' | 'image-pull' | 'oom-killed' | 'crash-loop' | 'config-error' | 'failed';
  message: string;
}

interface PodJson {
  metadata?: { name?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name?: string;
      image?: string;
      state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
      lastState?: { terminated?: { reason?: string; exitCode?: number } };
    }[];
  };
}

/** Reads `kubectl get pods -o json` and explains each pod that is stuck or failed (none for healthy pods). */
export function explainPods(podsJson: string): PodProblem[] {
  const list = JSON.parse(podsJson) as { items?: PodJson[] };
  const out: PodProblem[] = [];
  for (const pod of list.items ?? []) {
    const name = pod.metadata?.name ?? '?';
    const status = pod.status ?? {};
    const unschedulable = (status.conditions ?? []).find(
      (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
    );
    if (unschedulable) {
      const msg = unschedulable.message ?? '';
      if (/Insufficient nvidia\.com\/gpu/.test(msg)) {
        out.push({
          pod: name,
          id: 'insufficient-gpu',
          message:
            `Pod ${name} is pending because no node has enough free GPUs (${msg.trim()}): ask for fewer GPUs per ` +
            'pod, wait for running jobs to finish, or check that the GPU nodes run the NVIDIA device plugin ' +
            '(`kubectl describe node` lists nvidia.com/gpu under Allocatable).',
        });
      } else {
        out.push({
          pod: name,
          id: 'unschedulable',
          message: `Pod ${name} cannot be scheduled (${msg.trim()}): check its requests, node selectors and taints.`,
        });
      }
      continue;
    }
    for (const c of status.containerStatuses ?? []) {
      const waiting = c.state?.waiting;
      const terminated = c.state?.terminated ?? c.lastState?.terminated;
      if (waiting && /ErrImagePull|ImagePullBackOff|InvalidImageName/.test(waiting.reason ?? '')) {
        out.push({
          pod: name,
          id: 'image-pull',
          message:
            `Pod ${name} cannot pull ${c.image ?? 'its image'} (${waiting.reason}${waiting.message ? `: ${waiting.message.trim()}` : ''}): ` +
            'check the image reference, push it (`ml-containers push`), and give the job an image pull secret ' +
            '(--pull-secret) when the registry is private.',
        });
      } else if (waiting && /CreateContainerConfigError|CreateContainerError/.test(waiting.reason ?? '')) {
        out.push({
          pod: name,
          id: 'config-error',
          message: `Pod ${name} cannot start its container (${waiting.reason}: ${(waiting.message ?? '').trim()}): fix the job's configuration (a missing secret or ConfigMap?).`,
        });
      } else if (terminated?.reason === 'OOMKilled') {
        out.push({
          pod: name,
          id: 'oom-killed',
          message: `Pod ${name} was killed for using more memory than its limit (OOMKilled): raise the pod's memory limit, or lower the batch size or the DataLoader workers.`,
        });
      } else if (waiting?.reason === 'CrashLoopBackOff') {
        out.push({
          pod: name,
          id: 'crash-loop',
          message: `Pod ${name} keeps crashing (CrashLoopBackOff): its log says why (\`kubectl logs ${name} --previous\`).`,
        });
      } else if (terminated && (terminated.exitCode ?? 0) !== 0 && status.phase === 'Failed') {
        out.push({
          pod: name,
          id: 'failed',
          message: `Pod ${name} failed with exit code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}: its log says why.`,
        });
      }
    }
  }
  return out;
}

/** `kubectl get pods -l ml-containers/job=<job> -o json`, explained. */
export async function jobPodProblems(job: string, t: KubectlTarget, signal?: AbortSignal): Promise<PodProblem[]> {
  try {
    const r = await runProcess(
      t.kubectl ?? 'kubectl',
      [...kubectlFlags(t), 'get', 'pods', '-l', jobSelector(job), '-o', 'json'],
      {
        env: t.env,
        signal,
        timeoutMs: 60_000,
      },
    );
    return explainPods(r.stdout);
  } catch (err) {
    throw new Error(explainKubectlError(err));
  }
}

/** A job applied to a cluster from this project (`.ml-containers/cluster-jobs.json`), for the Training Runs view. */
export interface ClusterJobRecord {
  name: string;
  kind: string;
  context: string | null;
  namespace: string | null;
  image: string;
  appliedAt: string;
}

export function clusterJobsFile(stateDir: string): string {
  return `${stateDir}/cluster-jobs.json`;
}
