/**
 * The questions the run commands share (which project, image, GPUs, command; which run or sweep a view item or an id
 * names) and the small pieces of showing they share (a build's steps in a progress notification).
 */
import * as vscode from 'vscode';
import type { GpuInfo } from '../../../core/gpu/types';
import type { SweepState } from '../../../core/runs/sweep';
import type { ImageSource, RunRecord } from '../../../core/runs/types';
import { errorMessage } from '../../../core/util/errors';
import type { Ctx } from '../../ctx';
import { heavy } from '../../heavy';
import type { RunsViewNode } from '../../views/runsView';
import { pickFolder, requireTrust } from '../register';

/** A run or its id, from a view item, a command link or a test. */
export function recordOf(
  ctx: Pick<Ctx, 'runs'>,
  arg: RunsViewNode | RunRecord | string | undefined,
): RunRecord | undefined {
  if (!arg) return undefined;
  if (typeof arg === 'string') return ctx.runs.find(arg);
  if ('type' in arg) return arg.type === 'run' ? arg.record : undefined;
  return arg;
}

/** A sweep or its id, from a view item, a notification or a test. */
export function sweepOf(ctx: Pick<Ctx, 'runs'>, arg: RunsViewNode | string | undefined): SweepState | undefined {
  if (!arg) return undefined;
  if (typeof arg === 'string') {
    for (const f of ctx.runs.folders) {
      const s = f.sweeps.find((x) => x.id === arg);
      if (s) return s;
    }
    return undefined;
  }
  return arg.type === 'sweep' ? arg.sweep : undefined;
}

/**
 * The project a command starting containers works on: the folder of the options, the only one, or the one picked; in
 * a trusted workspace only. Undefined (after saying what to do) otherwise.
 */
export async function trustedProject(
  folder: vscode.Uri | undefined,
  commandTitle: string,
): Promise<vscode.WorkspaceFolder | undefined> {
  const picked = await pickFolder(folder);
  if (!picked) {
    void vscode.window.showInformationMessage(`Open the folder of a training project first, then run ${commandTitle}.`);
    return undefined;
  }
  return requireTrust('starts containers') ? picked : undefined;
}

/**
 * The image a run uses: the one the options name (the core checks it), else asked: build the scaffold's train/dev
 * target (the core's default first), or an image already on the engine.
 */
export async function pickImage(
  ctx: Pick<Ctx, 'runs'>,
  root: string,
  withCommand: boolean,
  options: { image?: string; target?: string } = {},
): Promise<ImageSource | undefined> {
  const { defaultTarget, hasBuildSetup, imageSourceFor } = heavy();
  if (options.image !== undefined || options.target !== undefined) {
    return imageSourceFor({ image: options.image, target: options.target, hasCommand: withCommand });
  }
  type Item = vscode.QuickPickItem & { source?: ImageSource; other?: true; scaffold?: true };
  const items: Item[] = [];
  if (await hasBuildSetup(root)) {
    const dev: Item = {
      label: '$(tools) Build the dev target',
      description: 'dependencies only; the project is mounted at /workspace (edits apply at once)',
      source: { kind: 'target', target: 'dev' },
    };
    const train: Item = {
      label: '$(package) Build the train target',
      description: 'the code copied into the image, as on a cluster',
      source: { kind: 'target', target: 'train' },
    };
    items.push(...(defaultTarget(withCommand) === 'dev' ? [dev, train] : [train, dev]));
  } else {
    items.push({
      label: '$(add) Add a GPU Dev Container first…',
      description: 'this project has no Dockerfile yet',
      scaffold: true,
    });
  }
  items.push({ label: '$(library) An image on the engine…', description: 'e.g. pytorch/pytorch:…', other: true });
  const pick = await vscode.window.showQuickPick(items, { title: 'Run Training: which image?', ignoreFocusOut: true });
  if (!pick) return undefined;
  if (pick.scaffold) {
    await vscode.commands.executeCommand('mlContainers.addDevContainer', vscode.Uri.file(root));
    return undefined;
  }
  return pick.source ?? pickEngineImage(ctx);
}

/** Asks for an image the engine has (or one typed, checked against Docker's reference grammar as it is typed). */
async function pickEngineImage(ctx: Pick<Ctx, 'runs'>): Promise<ImageSource | undefined> {
  const docker = await ctx.runs.engine().docker();
  const images = await docker.listImages();
  const refs = images
    .flatMap((i) => (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'))
    .sort()
    .map((label) => ({ label }));
  const ref = await vscode.window.showQuickPick([...refs, { label: '$(edit) Another image…' }], {
    title: 'Run Training: an image on the engine',
    ignoreFocusOut: true,
    matchOnDescription: true,
  });
  if (!ref) return undefined;
  if (!ref.label.startsWith('$(edit)')) return { kind: 'image', ref: ref.label };
  const typed = await vscode.window.showInputBox({
    title: 'Run Training: image reference',
    ignoreFocusOut: true,
    prompt: 'An image the engine has or can pull',
    placeHolder: 'pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime',
    // Docker's reference grammar, checked as it is typed: `..` or `/x` never reaches the engine's API
    validateInput: (v) => heavy().imageRefProblem(v.trim()) ?? undefined,
  });
  return typed ? { kind: 'image', ref: typed.trim() } : undefined;
}

/** Asks which GPUs: all, a chosen subset, or none. Returns the `--gpus` value. */
export async function pickGpus(gpus: GpuInfo[]): Promise<string | undefined> {
  if (gpus.length === 0) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: 'No GPU', description: 'nvidia-smi sees no GPU on this machine', value: 'none' },
        { label: 'All GPUs', description: 'ask the engine anyway (needs the NVIDIA Container Toolkit)', value: 'all' },
      ],
      { title: 'Run Training: GPUs', ignoreFocusOut: true },
    );
    return pick?.value;
  }
  const pick = await vscode.window.showQuickPick(
    [
      { label: `All GPUs (${gpus.length})`, value: 'all' },
      { label: 'Choose GPUs…', value: 'choose' },
      { label: 'No GPU', value: 'none' },
    ],
    { title: 'Run Training: GPUs', ignoreFocusOut: true },
  );
  if (pick?.value !== 'choose') return pick?.value;
  const chosen = await vscode.window.showQuickPick(
    gpus.map((g) => ({
      label: `GPU ${g.index}: ${g.name ?? 'unknown'}`,
      description: `${g.memoryUsedMiB ?? '?'} / ${g.memoryTotalMiB ?? '?'} MiB used · ${g.utilizationGpu ?? '?'}% busy`,
      detail: g.uuid ?? undefined,
      value: String(g.index),
    })),
    { title: 'Run Training: which GPUs?', ignoreFocusOut: true, canPickMany: true },
  );
  if (!chosen || chosen.length === 0) return undefined;
  return chosen.map((c) => c.value).join(',');
}

/** Asks what to run: the detected entry points (with their launcher), the image's own, or a command line. */
export async function pickCommand(
  ctx: Pick<Ctx, 'project'>,
  folder: vscode.WorkspaceFolder,
): Promise<string[] | undefined> {
  const { launcherCommand, splitCommandLine } = heavy();
  const profile = (await ctx.project.ensure()).find((p) => p.folder.uri.toString() === folder.uri.toString())?.profile;
  type Item = vscode.QuickPickItem & { argv?: string[]; custom?: true };
  const items: Item[] = [];
  for (const entry of profile?.entrypoints ?? []) {
    const argv = launcherCommand({ ...profile!, entrypoints: [entry] }).argv;
    items.push({ label: argv.join(' '), description: 'detected entry point', argv });
  }
  items.push({ label: "$(package) The image's own entry point", description: 'what the train target runs', argv: [] });
  items.push({ label: '$(edit) A command line…', custom: true });
  const pick = await vscode.window.showQuickPick(items, { title: 'Run Training: what to run?', ignoreFocusOut: true });
  if (!pick) return undefined;
  if (pick.argv && pick.argv.length === 0) return [];
  const line =
    (await vscode.window.showInputBox({
      title: 'Run Training: command and arguments',
      ignoreFocusOut: true,
      prompt: 'Runs without a shell: quote arguments as in a terminal; pipes and redirections are not interpreted.',
      value: pick.custom ? 'python train.py' : `${pick.argv?.join(' ') ?? ''} `,
      validateInput: (v) => {
        try {
          return splitCommandLine(v).length === 0 ? 'Enter a command.' : undefined;
        } catch (err) {
          return errorMessage(err);
        }
      },
    })) ?? '';
  if (!line.trim()) return undefined;
  return splitCommandLine(line);
}

/** The GPUs nvidia-smi sees on this machine, as the doctor probes them. */
export async function hostGpus(ctx: Pick<Ctx, 'doctor'>): Promise<GpuInfo[]> {
  return (await (await ctx.doctor.probes()).probeHost()).gpus;
}

/** An AbortSignal that fires when `token` is cancelled (a notification's Cancel button). */
export function abortSignalOf(token: vscode.CancellationToken): AbortSignal {
  const ac = new AbortController();
  if (token.isCancellationRequested) ac.abort();
  token.onCancellationRequested(() => ac.abort());
  return ac.signal;
}

/** Shows a build's `Step n/m` lines in its progress notification. */
export function reportBuildStep(progress: vscode.Progress<{ message?: string }>, line: string): void {
  if (/^Step \d+\/\d+/.test(line)) progress.report({ message: line.slice(0, 80) });
}
