import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord } from '../../../core/runs/types';
import { CancellationError, errorMessage, isCancellation, isProblem } from '../../../core/util/errors';
import type { Ctx } from '../../ctx';
import { heavy } from '../../heavy';
import type { ErrorAction } from '../../log';
import { OutputTerminal } from '../../runs/terminal';
import { optionsCommand } from '../command';
import { eitherToken, showProblem } from '../register';
import { abortSignalOf, hostGpus, pickCommand, pickGpus, pickImage, reportBuildStep, trustedProject } from './pick';

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

type RunCtx = Pick<Ctx, 'log' | 'project' | 'doctor' | 'runs'>;

/** Run Training: asks what the options leave open, then runs the core's Run Training (build progress in the terminal). */
export const runTrainingCommand = optionsCommand<'log' | 'project' | 'doctor' | 'runs', RunTrainingOptions>(
  'mlContainers.runTraining',
  runTraining,
);

async function runTraining(ctx: RunCtx, options: RunTrainingOptions): Promise<RunRecord | undefined> {
  const folder = await trustedProject(options.folder, 'Run Training');
  if (!folder) return undefined;
  const root = folder.uri.fsPath;
  const command = options.command ?? (await pickCommand(ctx, folder));
  if (!command) return undefined;
  const source = await pickImage(ctx, root, command.length > 0, options);
  if (!source) return undefined;
  const gpus = options.gpus ?? (await pickGpus(await hostGpus(ctx)));
  if (gpus === undefined) return undefined;
  const selection = heavy().parseGpuSelection(gpus);
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
          abortSignalOf(eitherToken(progressToken, options.cancellation)),
          {
            buildLine: (line) => {
              terminal?.writeLine(line, 'dim');
              reportBuildStep(progress, line);
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
        if (isProblem(err) && (await heavy().canBuildInstead(err, source, root))) {
          // the image is not there, but the project can build its own: offer that too
          const buildTrain = withTrainTarget({ ...options, folder: folder.uri, command, gpus });
          void showProblem(ctx, err, [buildTrain]);
          throw new CancellationError(); // already shown
        }
        throw err;
      }
    },
  );
}

/** The action that runs the same command again on the project's own train target instead of a missing image. */
function withTrainTarget(options: RunTrainingOptions): ErrorAction {
  return {
    label: 'Build and Run the Train Target',
    run: () =>
      vscode.commands.executeCommand('mlContainers.runTraining', { ...options, image: undefined, target: 'train' }),
  };
}
