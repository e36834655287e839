import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GpuInfo } from '../../core/gpu/types';
import type { SweepState } from '../../core/runs/sweep';
import type { ImageSource, RunRecord } from '../../core/runs/types';
import { CancellationError, errorMessage, isCancellation, isProblem } from '../../core/util/errors';
import type { Ctx } from '../ctx';
import { heavy } from '../heavy';
import { OutputTerminal, StreamTerminal } from '../runs/terminal';
import type { RunsViewNode } from '../views/runsView';
import { asSentence, eitherToken, pickFolder, registerCommand, requireTrust, showProblem } from './register';

const DEV_CONTAINERS_ID = 'ms-vscode-remote.remote-containers';

/** Options that skip the questions (tests, other extensions, keybindings). */
export interface RunTrainingOptions {
  folder?: vscode.Uri;
  /** argv; [] runs the image's own entry point. */
  command?: string[];
  image?: string;
  target?: 'train' | 'dev';
  /** `all`, `none`, `0,1`. */
  gpus?: string;
  buildArgs?: Record<string, string>;
  env?: Record<string, string>;
  ports?: number[];
  memoryBytes?: number;
  /** Show the output terminal (default true). */
  showTerminal?: boolean;
  /** Cancels the build and start like the notification's Cancel button. */
  cancellation?: vscode.CancellationToken;
}

export interface RunSweepOptions {
  folder?: vscode.Uri;
  file?: string;
  image?: string;
  target?: 'train' | 'dev';
  gpus?: string;
  buildArgs?: Record<string, string>;
  /** Resolve when the sweep has ended (default: once it has started). */
  wait?: boolean;
}

/** A run or its id, from a view item, a command link or a test. */
function recordOf(ctx: Ctx, arg: RunsViewNode | RunRecord | string | undefined): RunRecord | undefined {
  if (!arg) return undefined;
  if (typeof arg === 'string') return ctx.runs.find(arg);
  if ('type' in arg) return arg.type === 'run' ? arg.record : undefined;
  return arg;
}

function sweepOf(ctx: Ctx, arg: RunsViewNode | string | undefined): SweepState | undefined {
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
 * The image a run uses: the one the options name (the core checks it), else asked: build the scaffold's train/dev
 * target (the core's default first), or an image already on the engine.
 */
async function pickImage(
  ctx: Ctx,
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
  if (pick.source) return pick.source;
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
async function pickGpus(gpus: GpuInfo[]): Promise<string | undefined> {
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
async function pickCommand(ctx: Ctx, folder: vscode.WorkspaceFolder): Promise<string[] | undefined> {
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
  let line = pick.argv?.join(' ') ?? '';
  if (pick.argv && pick.argv.length === 0) return [];
  line =
    (await vscode.window.showInputBox({
      title: 'Run Training: command and arguments',
      ignoreFocusOut: true,
      prompt: 'Runs without a shell: quote arguments as in a terminal; pipes and redirections are not interpreted.',
      value: pick.custom ? 'python train.py' : `${line} `,
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

/** Asks what the options leave open, then runs the core's Run Training (build progress in the terminal). */
async function runTraining(ctx: Ctx, options: RunTrainingOptions = {}): Promise<RunRecord | undefined> {
  const folder = await pickFolder(options.folder);
  if (!folder) {
    void vscode.window.showInformationMessage('Open the folder of a training project first, then run Run Training.');
    return undefined;
  }
  if (!requireTrust('starts containers')) return undefined;
  const root = folder.uri.fsPath;
  const { parseGpuSelection } = heavy();
  const command = options.command ?? (await pickCommand(ctx, folder));
  if (!command) return undefined;
  const source = await pickImage(ctx, root, command.length > 0, options);
  if (!source) return undefined;
  let gpus = options.gpus;
  if (gpus === undefined) {
    const state = await (await ctx.doctor.probes()).probeHost();
    gpus = await pickGpus(state.gpus);
    if (gpus === undefined) return undefined;
  }
  const selection = parseGpuSelection(gpus);
  const name = path.basename(root);
  const terminal = options.showTerminal === false ? undefined : new OutputTerminal(`Run: ${name}`);
  terminal?.show();
  const client = ctx.runs.engine();
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: source.kind === 'target' ? `Building the ${source.target} image of ${name}` : `Starting ${source.ref}`,
      cancellable: true,
    },
    async (progress, progressToken) => {
      const ac = new AbortController();
      const token = eitherToken(progressToken, options.cancellation);
      if (token.isCancellationRequested) ac.abort();
      token.onCancellationRequested(() => ac.abort());
      // the step the operation is at, from its port's calls: a failure is shown as that step's
      let step: 'build' | 'spec' | 'start' = 'build';
      try {
        const { record } = await heavy().runTraining(
          client,
          {
            projectRoot: root,
            command,
            source,
            gpus: selection,
            buildArgs: options.buildArgs,
            env: options.env,
            ports: options.ports,
            memoryBytes: options.memoryBytes,
          },
          ac.signal,
          {
            buildLine: (line) => {
              terminal?.writeLine(line, 'dim');
              if (/^Step \d+\/\d+/.test(line)) progress.report({ message: line.slice(0, 80) });
            },
            built: () => {
              step = 'spec';
              progress.report({ message: 'starting the container' });
            },
            start: (spec) => {
              step = 'start';
              return ctx.runs.start(root, spec, terminal);
            },
          },
        );
        return record;
      } catch (err) {
        if (step === 'build') {
          terminal?.writeLine(isCancellation(err) ? 'Build cancelled.' : errorMessage(err), 'error');
          throw err;
        }
        if (step === 'spec') throw err;
        terminal?.writeLine(errorMessage(err), 'error');
        if (
          isProblem(err) &&
          err.id === 'image-not-found' &&
          source.kind === 'image' &&
          (await heavy().hasBuildSetup(root))
        ) {
          // the image is not there, but the project can build its own: offer that too
          void showProblem(ctx, err, [
            {
              label: 'Build and Run the Train Target',
              run: () =>
                vscode.commands.executeCommand('mlContainers.runTraining', {
                  ...options,
                  folder: folder.uri,
                  command,
                  image: undefined,
                  target: 'train',
                  gpus,
                }),
            },
          ]);
          throw new CancellationError(); // already shown
        }
        throw err;
      }
    },
  );
}

async function runSweepCommand(ctx: Ctx, options: RunSweepOptions = {}): Promise<SweepState | undefined> {
  const folder = await pickFolder(options.folder);
  if (!folder) {
    void vscode.window.showInformationMessage('Open the folder of a training project first, then run Run Sweep.');
    return undefined;
  }
  if (!requireTrust('starts containers')) return undefined;
  const root = folder.uri.fsPath;
  const { parseSweepFile, newSweep, resolveImage, parseGpuSelection, readSweepFileText, sweepGpuPool } = heavy();
  const setting = vscode.workspace.getConfiguration('mlContainers').get<number>('sweep.maxVariants', 1000);
  const maxVariants = Number.isSafeInteger(setting) && setting >= 1 ? setting : 1000;
  let file = options.file ? path.resolve(root, options.file) : undefined;
  if (!file) {
    const found = await vscode.workspace.findFiles(
      new vscode.RelativePattern(folder, '**/*sweep*.{yaml,yml}'),
      '**/{node_modules,.git,.ml-containers}/**',
      50,
    );
    const pick = await vscode.window.showQuickPick(
      [
        ...found.map((u) => ({ label: vscode.workspace.asRelativePath(u, false), uri: u })),
        { label: '$(folder-opened) Another file…', uri: undefined },
      ],
      { title: 'Run Sweep: which sweep file?', ignoreFocusOut: true },
    );
    if (!pick) return undefined;
    if (pick.uri) file = pick.uri.fsPath;
    else {
      const chosen = await vscode.window.showOpenDialog({
        defaultUri: folder.uri,
        filters: { 'Sweep file': ['yaml', 'yml'] },
      });
      file = chosen?.[0]?.fsPath;
    }
    if (!file) return undefined;
  }
  // a regular file only, capped: a FIFO or a device in the repository is refused, never waited on
  const text = await readSweepFileText(file);
  if (text === null) throw new Error(`The sweep file ${file} does not exist.`);
  const sweepFile = parseSweepFile(text, vscode.workspace.asRelativePath(file, false), { maxVariants });
  const source = await pickImage(ctx, root, true, options);
  if (!source) return undefined;
  const state = await (await ctx.doctor.probes()).probeHost();
  let gpus = options.gpus;
  if (gpus === undefined) {
    gpus = await pickGpus(state.gpus);
    if (gpus === undefined) return undefined;
  }
  const selection = parseGpuSelection(gpus);
  const pool = sweepGpuPool(selection, sweepFile.gpusPerRun, state.gpus);
  const client = ctx.runs.engine();
  const image = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Preparing the sweep image', cancellable: true },
    (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      return resolveImage(client, root, source, {
        buildArgs: options.buildArgs,
        signal: ac.signal,
        onProgress: (line) => {
          ctx.log.debug(line);
          if (/^Step \d+\/\d+/.test(line)) progress.report({ message: line.slice(0, 80) });
        },
      });
    },
  );
  const sweep = newSweep({
    project: root,
    file: path.relative(root, file),
    sweep: { ...sweepFile, gpusPerRun: pool.gpusPerRun },
    image: image.image,
    gpus: pool.gpus,
    mountWorkspace: image.mountWorkspace,
    maxVariants,
  });
  const done = ctx.runs.superviseSweep(root, sweep);
  ctx.log.info(`Sweep ${sweep.id}: ${sweep.variants.length} runs, at most ${sweep.maxParallel} at a time`);
  void done.then(
    (final) => {
      const ok = final.variants.filter((v) => v.state === 'succeeded').length;
      const msg = `Sweep ${final.id}: ${ok} of ${final.variants.length} runs succeeded.`;
      void (final.state === 'succeeded' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage)(
        final.explanation ? `${msg} ${final.explanation}` : msg,
        'Show Summary',
      ).then((c) => c && vscode.commands.executeCommand('mlContainers.runs.sweepSummary', final.id));
    },
    () => undefined,
  );
  if (options.wait) return done;
  return sweep;
}

async function openPort(record: RunRecord): Promise<void> {
  const entries = Object.entries(record.ports);
  if (entries.length === 0) {
    void vscode.window.showInformationMessage(
      `Run ${record.id} publishes no port: start it with a port (e.g. 6006 for TensorBoard) to open one.`,
    );
    return;
  }
  let hostPort = entries[0]![1];
  if (entries.length > 1) {
    const pick = await vscode.window.showQuickPick(
      entries.map(([c, h]) => ({ label: `${c}`, description: `127.0.0.1:${h}`, h })),
      { title: 'Open which port?' },
    );
    if (!pick) return;
    hostPort = pick.h;
  }
  const uri = await vscode.env.asExternalUri(vscode.Uri.parse(`http://127.0.0.1:${hostPort}`));
  await vscode.env.openExternal(uri);
}

async function attachVsCode(record: RunRecord): Promise<void> {
  if (!record.containerId || record.state !== 'running') {
    void vscode.window.showInformationMessage(
      `Run ${record.id} is not running: only a running container can be attached to.`,
    );
    return;
  }
  if (!vscode.extensions.getExtension(DEV_CONTAINERS_ID)) {
    const choice = await vscode.window.showInformationMessage(
      'Attaching VS Code to a container needs the Dev Containers extension.',
      'Install Dev Containers',
    );
    if (choice) await vscode.commands.executeCommand('workbench.extensions.installExtension', DEV_CONTAINERS_ID);
    return;
  }
  await vscode.commands.executeCommand('remote-containers.attachToRunningContainer', record.containerId);
}

async function attachShell(ctx: Ctx, record: RunRecord): Promise<vscode.Terminal | undefined> {
  if (!record.containerId || record.state !== 'running') {
    void vscode.window.showInformationMessage(`Run ${record.id} is not running: start it again to get a shell in it.`);
    return undefined;
  }
  const { openShell } = heavy();
  const session = await openShell(ctx.runs.engine(), record);
  const pty = new StreamTerminal(session.stream, (c, r) => void session.resize(c, r), session.exited);
  const terminal = vscode.window.createTerminal({
    name: `Shell: ${record.containerName}`,
    pty,
    iconPath: new vscode.ThemeIcon('terminal'),
  });
  terminal.show();
  return terminal;
}

async function showSweepSummary(ctx: Ctx, sweep: SweepState): Promise<vscode.TextDocument> {
  const { summarizeSweep, formatSweepSummary } = heavy();
  const runner = ctx.runs.runner(sweep.project);
  const text = formatSweepSummary(sweep, await summarizeSweep(sweep, runner));
  const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
  await vscode.window.showTextDocument(doc, { preview: true });
  return doc;
}

export function registerRunCommands(ctx: Ctx): void {
  registerCommand(
    ctx,
    'mlContainers.runTraining',
    (options?: RunTrainingOptions) => runTraining(ctx, options ?? {}),
    asSentence,
  );
  registerCommand(
    ctx,
    'mlContainers.runSweep',
    (options?: RunSweepOptions) => runSweepCommand(ctx, options ?? {}),
    asSentence,
  );
  registerCommand(ctx, 'mlContainers.runs.refresh', () => ctx.runs.refresh());
  registerCommand(ctx, 'mlContainers.runs.viewLogs', async (arg?: RunsViewNode | string) => {
    const r = recordOf(ctx, arg);
    if (r) return ctx.runs.showLogs(r);
    return undefined;
  });
  registerCommand(
    ctx,
    'mlContainers.runs.stop',
    async (arg?: RunsViewNode | string) => {
      const r = recordOf(ctx, arg);
      if (!r) return undefined;
      const final = await ctx.runs.runner(r.project).stop(r.id);
      await ctx.runs.refresh();
      return final;
    },
    asSentence,
  );
  registerCommand(
    ctx,
    'mlContainers.runs.restart',
    async (arg?: RunsViewNode | string) => {
      const r = recordOf(ctx, arg);
      if (!r || !requireTrust('starts containers')) return undefined;
      if (r.state === 'running') await ctx.runs.runner(r.project).stop(r.id);
      const { runSpecFor, readSweep } = heavy();
      // the same run again: its command, image, GPUs, ports and memory limit; .env is read afresh; a sweep's own env
      const sweep = r.sweepId ? await readSweep(ctx.runs.runner(r.project).store, r.sweepId) : undefined;
      const spec = await runSpecFor(
        {
          projectRoot: r.project,
          command: r.command,
          gpus: r.gpus,
          ports: r.requestedPorts,
          memoryBytes: r.memoryBytes,
          env: sweep?.env,
          sweepId: r.sweepId ?? undefined,
          params: r.params,
        },
        { image: r.image, mountWorkspace: r.mountWorkspace },
      );
      const terminal = new OutputTerminal(`Run: ${r.projectName}`);
      terminal.show();
      return (await ctx.runs.start(r.project, spec, terminal)).record;
    },
    asSentence,
  );
  registerCommand(
    ctx,
    'mlContainers.runs.remove',
    async (arg?: RunsViewNode | string, options?: { deleteRecord?: boolean }) => {
      const r = recordOf(ctx, arg);
      if (!r) return undefined;
      const runner = ctx.runs.runner(r.project);
      if (r.containerId) {
        if (r.state === 'running' && options === undefined) {
          const ok = await vscode.window.showWarningMessage(
            `Run ${r.id} is still running. Stop it and remove its container? Its log and record are kept.`,
            { modal: true },
            'Stop and Remove',
          );
          if (!ok) return undefined;
        }
        const after = await runner.removeContainer(r.id);
        if (!options?.deleteRecord) {
          await ctx.runs.refresh();
          return after;
        }
      }
      if (options?.deleteRecord === undefined) {
        const ok = await vscode.window.showWarningMessage(
          `Delete the record and log of run ${r.id}? This cannot be undone.`,
          { modal: true },
          'Delete',
        );
        if (!ok) return undefined;
      }
      await runner.deleteRecord(r.id);
      await ctx.runs.refresh();
      return undefined;
    },
    asSentence,
  );
  registerCommand(
    ctx,
    'mlContainers.runs.attachShell',
    async (arg?: RunsViewNode | string) => {
      const r = recordOf(ctx, arg);
      if (!r || !requireTrust('opens a shell in a container')) return undefined;
      return attachShell(ctx, r);
    },
    asSentence,
  );
  registerCommand(ctx, 'mlContainers.runs.attachVsCode', async (arg?: RunsViewNode | string) => {
    const r = recordOf(ctx, arg);
    if (r) await attachVsCode(r);
  });
  registerCommand(ctx, 'mlContainers.runs.openPort', async (arg?: RunsViewNode | string) => {
    const r = recordOf(ctx, arg);
    if (r) await openPort(r);
  });
  registerCommand(ctx, 'mlContainers.runs.sweepSummary', async (arg?: RunsViewNode | string) => {
    const s = sweepOf(ctx, arg);
    if (s) return showSweepSummary(ctx, s);
    return undefined;
  });
  registerCommand(ctx, 'mlContainers.runs.stopSweep', (arg?: RunsViewNode | string) => {
    const s = sweepOf(ctx, arg);
    if (!s) return false;
    if (!ctx.runs.cancelSweep(s.id)) {
      void vscode.window.showInformationMessage(`Sweep ${s.id} is not running in this window.`);
      return false;
    }
    return true;
  });
}
