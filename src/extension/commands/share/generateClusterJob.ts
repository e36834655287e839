import * as vscode from 'vscode';
import type { Manifest } from '../../../core/k8s/manifests';
import type { Ctx } from '../../ctx';
import { heavy } from '../../heavy';
import { optionsCommand } from '../command';
import { pickFolder, requireTrust } from '../register';
import { followClusterJob, kubectlTarget } from './followClusterJob';

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

export interface GeneratedClusterJob {
  manifests: Manifest[];
  /** The editor showing the manifests as YAML. */
  document: vscode.TextDocument;
  /** What kubectl printed, or null when they were not applied. */
  applied: string | null;
}

type JobCtx = Pick<Ctx, 'config' | 'log' | 'runs'>;

/** Generate Cluster Job: asks what the options leave open, shows the manifests, and applies them when asked to. */
export const generateClusterJobCommand = optionsCommand<'config' | 'log' | 'runs', ClusterJobOptions>(
  'mlContainers.generateClusterJob',
  generateClusterJob,
);

async function generateClusterJob(ctx: JobCtx, options: ClusterJobOptions): Promise<GeneratedClusterJob | undefined> {
  const folder = await pickFolder(options.folder);
  if (!folder) return undefined;
  const image = options.image ?? (await askImage(folder.uri.fsPath));
  if (!image) return undefined;
  const nodes = options.nodes ?? (await askNodes());
  if (nodes === undefined) return undefined;
  const sweepFile = options.sweepFile ?? (nodes === 1 ? await askSweepFile(folder) : '');
  if (sweepFile === undefined) return undefined;
  const k = ctx.config.kubernetes;
  let document: vscode.TextDocument | undefined;
  // the sweep file is project content: the core reads it (a regular file inside the project) and checks every value
  // that reaches the manifests, the settings included; a refusal is one sentence naming the setting
  const job = await heavy().generateClusterJob(
    {
      projectRoot: folder.uri.fsPath,
      image,
      gpus: options.gpus,
      nodes,
      sweepFile: sweepFile || undefined,
      namespace: k.namespace || undefined,
      imagePullSecret: k.imagePullSecret || undefined,
      names: {
        image: 'The image',
        namespace: 'The setting mlContainers.kubernetes.namespace',
        imagePullSecret: 'The setting mlContainers.kubernetes.imagePullSecret',
      },
      target: kubectlTarget(ctx),
    },
    undefined,
    {
      note: (n) => ctx.log.info(n),
      rendered: async ({ manifests, yaml }) => {
        document = await vscode.workspace.openTextDocument({ language: 'yaml', content: yaml });
        await vscode.window.showTextDocument(document, { preview: false });
        const apply = options.apply ?? (await askApply(ctx, manifests));
        return apply && requireTrust('applies jobs to a cluster');
      },
      applied: (out) => ctx.log.info(`kubectl apply: ${out}`),
    },
  );
  if (job.jobs.length > 0) {
    await ctx.runs.refresh();
    for (const j of job.jobs) void followClusterJob(ctx, j);
  }
  return { manifests: job.manifests, document: document!, applied: job.applied };
}

/** The image the pods run: the last pushed one offered (by digest); undefined when the user backs out. */
async function askImage(root: string): Promise<string | undefined> {
  // a record that is not an image reference is not offered (the plan would refuse it with a sentence)
  const pushed = await heavy()
    .lastPushed(root)
    .catch(() => undefined);
  return vscode.window.showInputBox({
    title: 'Generate Cluster Job: image',
    ignoreFocusOut: true,
    prompt: 'The image the pods run: best by digest, as pushed (Push Training Image records it).',
    value: pushed?.reference ?? '',
  });
}

async function askNodes(): Promise<number | undefined> {
  const torchrun = 'a Kubeflow PyTorchJob running torchrun';
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'One node', description: 'a batch/v1 Job', n: 1 },
      { label: '2 nodes', description: torchrun, n: 2 },
      { label: '4 nodes', description: torchrun, n: 4 },
      { label: '8 nodes', description: torchrun, n: 8 },
    ],
    { title: 'Generate Cluster Job: how many nodes?', ignoreFocusOut: true },
  );
  return pick?.n;
}

/** A sweep file of the project for one job per variant, '' for none; undefined when the user backs out. */
async function askSweepFile(folder: vscode.WorkspaceFolder): Promise<string | undefined> {
  const found = await vscode.workspace.findFiles(
    new vscode.RelativePattern(folder, '**/*sweep*.{yaml,yml}'),
    '**/node_modules/**',
    20,
  );
  if (found.length === 0) return '';
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'No sweep', file: '' },
      ...found.map((u) => ({ label: vscode.workspace.asRelativePath(u, false), file: u.fsPath })),
    ],
    { title: 'Generate Cluster Job: one job per variant of a sweep?', ignoreFocusOut: true },
  );
  return pick?.file;
}

async function askApply(ctx: JobCtx, manifests: Manifest[]): Promise<boolean> {
  const context = ctx.config.kubernetes.context;
  const choice = await vscode.window.showInformationMessage(
    `${manifests.map((m) => `${m.kind} ${m.metadata.name}`).join(', ')}: apply to the cluster${context ? ` (context ${context})` : ''} with kubectl?`,
    'Apply with kubectl',
  );
  return choice === 'Apply with kubectl';
}
