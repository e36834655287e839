import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SweepState } from '../../../core/runs/sweep';
import type { Ctx } from '../../ctx';
import { heavy } from '../../heavy';
import { optionsCommand } from '../command';
import { abortSignalOf, hostGpus, pickGpus, pickImage, reportBuildStep, trustedProject } from './pick';

/**
 * Run Sweep: asks for the sweep file (checked before anything else is asked), the image and the GPUs, then starts the
 * core's Run Sweep, supervised by the Training Runs (which can stop it, and resume it in a later window).
 */
export const runSweepCommand = optionsCommand<'log' | 'doctor' | 'runs', RunSweepOptions>(
  'mlContainers.runSweep',
  askAndRunSweep,
);

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

type SweepCtx = Pick<Ctx, 'log' | 'doctor' | 'runs'>;

async function askAndRunSweep(ctx: SweepCtx, options: RunSweepOptions): Promise<SweepState | undefined> {
  const folder = await trustedProject(options.folder, 'Run Sweep');
  if (!folder) return undefined;
  const root = folder.uri.fsPath;
  const file = options.file ? path.resolve(root, options.file) : await pickSweepFile(folder);
  if (!file) return undefined;
  const { readSweepRequest, startSweep, parseGpuSelection, describeSweep } = heavy();
  const request = await readSweepRequest(root, file, {
    maxVariants: vscode.workspace.getConfiguration('mlContainers').get<number>('sweep.maxVariants'),
    label: vscode.workspace.asRelativePath(file, false),
  });
  const source = await pickImage(ctx, root, true, options);
  if (!source) return undefined;
  const gpusHere = await hostGpus(ctx);
  const gpus = options.gpus ?? (await pickGpus(gpusHere));
  if (gpus === undefined) return undefined;
  const { sweep, done } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Preparing the sweep image', cancellable: true },
    (progress, token) =>
      startSweep(
        ctx.runs.engine(),
        {
          projectRoot: root,
          file: request,
          source,
          gpus: parseGpuSelection(gpus),
          hostGpus: gpusHere,
          buildArgs: options.buildArgs,
        },
        abortSignalOf(token),
        {
          buildLine: (line) => {
            ctx.log.debug(line);
            reportBuildStep(progress, line);
          },
          supervise: (s) => ctx.runs.superviseSweep(root, s),
        },
      ),
  );
  ctx.log.info(describeSweep(sweep));
  void done.then(showSweepEnd, () => undefined);
  return options.wait ? done : sweep;
}

/** Asks for a sweep file: one of the project's `*sweep*.yaml`, or another one picked. */
async function pickSweepFile(folder: vscode.WorkspaceFolder): Promise<string | undefined> {
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
  if (pick.uri) return pick.uri.fsPath;
  const chosen = await vscode.window.showOpenDialog({
    defaultUri: folder.uri,
    filters: { 'Sweep file': ['yaml', 'yml'] },
  });
  return chosen?.[0]?.fsPath;
}

/** Says how the sweep ended, with its summary one click away. */
function showSweepEnd(final: SweepState): void {
  const outcome = heavy().sweepOutcome(final);
  const message = final.explanation ? `${outcome} ${final.explanation}` : outcome;
  const show = final.state === 'succeeded' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
  void show(message, 'Show Summary').then(
    (c) => c && vscode.commands.executeCommand('mlContainers.runs.sweepSummary', final.id),
  );
}
