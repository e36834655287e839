import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ClusterJobRecord } from '../../core/k8s/cluster';
import type { Manifest } from '../../core/k8s/manifests';
import type { PushResult } from '../../core/registry/push';
import { errorMessage, isCancellation } from '../../core/util/errors';
import type { Ctx } from '../ctx';
import { heavy } from '../heavy';
import { OutputTerminal } from '../runs/terminal';
import { asSentence, pickFolder, registerCommand, requireTrust } from './register';

const REPO_KEY = 'mlContainers.push.repository';

export interface PushOptions {
  folder?: vscode.Uri;
  repository?: string;
  /** A local image to push (default: build the train target). */
  image?: string;
  tags?: string[];
  buildArgs?: Record<string, string>;
}

export interface ClusterJobOptions {
  folder?: vscode.Uri;
  image?: string;
  gpus?: number;
  nodes?: number;
  /** A sweep file (relative to the folder); '' for none. */
  sweepFile?: string;
  /** Apply with kubectl without asking (true) or not at all (false). */
  apply?: boolean;
}

async function pushTrainingImage(ctx: Ctx, options: PushOptions): Promise<PushResult | undefined> {
  const folder = await pickFolder(options.folder);
  if (!folder || !requireTrust('pushes images')) return undefined;
  const root = folder.uri.fsPath;
  const { checkRepository, buildTarget, gitCommitTag, pushImage, recordPush, RunStore } = heavy();
  let repository = options.repository;
  if (!repository) {
    repository = await vscode.window.showInputBox({
      title: 'Push Training Image: where to?',
      ignoreFocusOut: true,
      prompt: 'Registry and repository, without a tag. Credentials come from your Docker config (docker login).',
      placeHolder: 'ghcr.io/team/project',
      value: ctx.extension.workspaceState.get<string>(REPO_KEY) ?? '',
      validateInput: (v) => {
        try {
          checkRepository(v.trim());
          return undefined;
        } catch (err) {
          return errorMessage(err);
        }
      },
    });
    if (!repository) return undefined;
    repository = repository.trim();
  }
  await ctx.extension.workspaceState.update(REPO_KEY, repository);
  const client = ctx.runs.engine();
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Pushing to ${repository}`, cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      const onProgress = (line: string): void => {
        ctx.log.debug(line);
        if (/^Step \d+\/\d+|Pushing|Pushed/.test(line)) progress.report({ message: line.slice(0, 80) });
      };
      let image = options.image;
      if (!image) {
        progress.report({ message: 'building the train image' });
        image = (
          await buildTarget(client, {
            projectRoot: root,
            target: 'train',
            buildArgs: options.buildArgs,
            onProgress,
            signal: ac.signal,
          })
        ).tag;
      }
      const commit = await gitCommitTag(root);
      const tags = options.tags ?? [...(commit ? [commit] : []), 'latest'];
      return pushImage({
        client,
        image,
        repository: repository!,
        tags,
        onProgress,
        signal: ac.signal,
        env: ctx.doctor.probeEnv(),
      });
    },
  );
  const runs = await recordPush(new RunStore(root), result);
  ctx.log.info(`Pushed ${result.reference} (${result.tags.join(', ')}); recorded in ${runs} run record(s)`);
  void vscode.window
    .showInformationMessage(
      `Pushed ${repository}:${result.tags[0]} (${result.digest.slice(0, 19)}…).`,
      'Copy Reference',
    )
    .then((c) => c && vscode.env.clipboard.writeText(result.reference));
  return result;
}

async function generateClusterJob(
  ctx: Ctx,
  options: ClusterJobOptions,
): Promise<{ manifests: Manifest[]; document: vscode.TextDocument; applied: string | null } | undefined> {
  const folder = await pickFolder(options.folder);
  if (!folder) return undefined;
  const root = folder.uri.fsPath;
  const { planClusterJob, clusterManifests, manifestsToYaml, lastPushed } = heavy();
  let image = options.image;
  if (!image) {
    // a record that is not an image reference is not offered (planClusterJob would refuse it with a sentence)
    const pushed = await lastPushed(root).catch(() => undefined);
    image = await vscode.window.showInputBox({
      title: 'Generate Cluster Job: image',
      ignoreFocusOut: true,
      prompt: 'The image the pods run: best by digest, as pushed (Push Training Image records it).',
      value: pushed?.reference ?? '',
    });
    if (!image) return undefined;
  }
  let nodes = options.nodes;
  if (nodes === undefined) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: 'One node', description: 'a batch/v1 Job', n: 1 },
        { label: '2 nodes', description: 'a Kubeflow PyTorchJob running torchrun', n: 2 },
        { label: '4 nodes', description: 'a Kubeflow PyTorchJob running torchrun', n: 4 },
        { label: '8 nodes', description: 'a Kubeflow PyTorchJob running torchrun', n: 8 },
      ],
      { title: 'Generate Cluster Job: how many nodes?', ignoreFocusOut: true },
    );
    if (!pick) return undefined;
    nodes = pick.n;
  }
  let sweepFile = options.sweepFile;
  if (sweepFile === undefined && nodes === 1) {
    const found = await vscode.workspace.findFiles(
      new vscode.RelativePattern(folder, '**/*sweep*.{yaml,yml}'),
      '**/node_modules/**',
      20,
    );
    if (found.length > 0) {
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'No sweep', file: '' },
          ...found.map((u) => ({ label: vscode.workspace.asRelativePath(u, false), file: u.fsPath })),
        ],
        { title: 'Generate Cluster Job: one job per variant of a sweep?', ignoreFocusOut: true },
      );
      if (!pick) return undefined;
      sweepFile = pick.file;
    } else sweepFile = '';
  }
  // the sweep file is project content: the core reads it (a regular file inside the project) and checks every value
  // that reaches the manifests, the settings included; a refusal is one sentence naming the setting
  const { request, notes } = await planClusterJob(
    root,
    {
      image,
      gpus: options.gpus,
      nodes,
      sweepFile: sweepFile || undefined,
      sweepId: sweepFile ? path.basename(sweepFile).replace(/\.ya?ml$/, '') : undefined,
      namespace: ctx.config.kubernetes.namespace || undefined,
      imagePullSecret: ctx.config.kubernetes.imagePullSecret || undefined,
    },
    {
      image: 'The image',
      namespace: 'The setting mlContainers.kubernetes.namespace',
      imagePullSecret: 'The setting mlContainers.kubernetes.imagePullSecret',
    },
  );
  for (const n of notes) ctx.log.info(n);
  const manifests = clusterManifests(request);
  const yamlText = manifestsToYaml(manifests);
  const document = await vscode.workspace.openTextDocument({ language: 'yaml', content: yamlText });
  await vscode.window.showTextDocument(document, { preview: false });
  let apply = options.apply;
  if (apply === undefined) {
    const choice = await vscode.window.showInformationMessage(
      `${manifests.map((m) => `${m.kind} ${m.metadata.name}`).join(', ')}: apply to the cluster${ctx.config.kubernetes.context ? ` (context ${ctx.config.kubernetes.context})` : ''} with kubectl?`,
      'Apply with kubectl',
    );
    apply = choice === 'Apply with kubectl';
  }
  if (!apply || !requireTrust('applies jobs to a cluster')) return { manifests, document, applied: null };
  const applied = await applyAndFollow(ctx, root, manifests, yamlText, image);
  return { manifests, document, applied };
}

async function applyAndFollow(
  ctx: Ctx,
  root: string,
  manifests: Manifest[],
  yamlText: string,
  image: string,
): Promise<string> {
  const { applyManifests, recordClusterJobs, RunStore } = heavy();
  const target = kubectlTarget(ctx);
  const out = await applyManifests(yamlText, target);
  ctx.log.info(`kubectl apply: ${out}`);
  const jobs: ClusterJobRecord[] = manifests
    .filter((m) => m.kind !== 'ConfigMap')
    .map((m) => ({
      name: m.metadata.name,
      kind: m.kind,
      context: target.context ?? null,
      namespace: target.namespace ?? null,
      image,
      appliedAt: new Date().toISOString(),
    }));
  await recordClusterJobs(new RunStore(root), jobs);
  await ctx.runs.refresh();
  for (const j of jobs) void followClusterJob(ctx, j);
  return out;
}

function kubectlTarget(
  ctx: Ctx,
  job?: ClusterJobRecord,
): { context?: string; namespace?: string; env: NodeJS.ProcessEnv } {
  const k = ctx.config.kubernetes;
  return {
    context: job?.context ?? (k.context || undefined),
    namespace: job?.namespace ?? (k.namespace || undefined),
    env: process.env,
  };
}

/** The job's pod logs in a terminal, then what keeps its pods from running, if anything. */
async function followClusterJob(ctx: Ctx, job: ClusterJobRecord): Promise<OutputTerminal> {
  const { followJobLogs, jobPodProblems } = heavy();
  const term = new OutputTerminal(`Cluster: ${job.name}`, 'cloud');
  term.show();
  term.writeLine(`${job.kind} ${job.name}${job.context ? ` on ${job.context}` : ''}: following its pods' logs…`, 'dim');
  const target = kubectlTarget(ctx, job);
  const reportProblems = async (): Promise<void> => {
    try {
      for (const p of await jobPodProblems(job.name, target)) {
        term.writeLine(p.message, 'error');
        void vscode.window.showWarningMessage(p.message);
      }
    } catch (err) {
      term.writeLine(errorMessage(err), 'error');
    }
  };
  // pods that cannot run print no log: look at them after a while, and again whenever the log stream ends
  const check = setTimeout(() => void reportProblems(), 10_000);
  term.signal.addEventListener('abort', () => clearTimeout(check), { once: true });
  try {
    await followJobLogs(job.name, target, (line) => term.writeLine(line), term.signal);
    term.writeLine(`The logs of ${job.name} ended.`, 'dim');
  } catch (err) {
    if (!isCancellation(err)) term.writeLine(errorMessage(err), 'error');
    clearTimeout(check);
    await reportProblems();
  }
  return term;
}

export function registerShareCommands(ctx: Ctx): void {
  registerCommand(
    ctx,
    'mlContainers.pushImage',
    (options?: PushOptions) => pushTrainingImage(ctx, options ?? {}),
    asSentence,
  );
  registerCommand(
    ctx,
    'mlContainers.generateClusterJob',
    (options?: ClusterJobOptions) => generateClusterJob(ctx, options ?? {}),
    asSentence,
  );
  registerCommand(
    ctx,
    'mlContainers.runs.followClusterJob',
    (job?: ClusterJobRecord | { type: 'cluster'; job: ClusterJobRecord }) => {
      const j = job && 'type' in job ? job.job : job;
      return j ? followClusterJob(ctx, j) : undefined;
    },
  );
}
