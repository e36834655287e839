import * as vscode from 'vscode';
import type { PushError, PushResult } from '../../../core/registry/push';
import { errorMessage, isProblem } from '../../../core/util/errors';
import type { Ctx } from '../../ctx';
import { heavy } from '../../heavy';
import type { ErrorAction } from '../../log';
import { optionsCommand } from '../command';
import { pickFolder, requireTrust, showProblem } from '../register';

const REPO_KEY = 'mlContainers.push.repository';

export interface PushOptions {
  folder?: vscode.Uri;
  repository?: string;
  /** A local image to push (default: build the train target). */
  image?: string;
  tags?: string[];
  buildArgs?: Record<string, string>;
}

type PushCtx = Pick<Ctx, 'extension' | 'runs' | 'doctor' | 'log'>;

/** Push Training Image: asks where to, then runs the core's operation with its progress in a notification. */
export const pushImageCommand = optionsCommand<'extension' | 'runs' | 'doctor' | 'log', PushOptions>(
  'mlContainers.pushImage',
  pushTrainingImage,
);

async function pushTrainingImage(ctx: PushCtx, options: PushOptions): Promise<PushResult | undefined> {
  const folder = await pickFolder(options.folder);
  if (!folder || !requireTrust('pushes images')) return undefined;
  const repository = options.repository ?? (await askRepository(ctx));
  if (!repository) return undefined;
  await ctx.extension.workspaceState.update(REPO_KEY, repository);
  const client = ctx.runs.engine();
  let done;
  try {
    done = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Pushing to ${repository}`, cancellable: true },
      (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        const line = (text: string): void => {
          ctx.log.debug(text);
          if (/^Step \d+\/\d+|Pushing|Pushed/.test(text)) progress.report({ message: text.slice(0, 80) });
        };
        return heavy().pushTrainingImage(
          client,
          {
            projectRoot: folder.uri.fsPath,
            repository,
            image: options.image,
            tags: options.tags,
            buildArgs: options.buildArgs,
            env: ctx.doctor.probeEnv(),
          },
          ac.signal,
          {
            building: () => progress.report({ message: 'building the train image' }),
            buildLine: line,
            pushing: () => progress.report({ message: 'pushing' }),
            pushLine: line,
          },
        );
      },
    );
  } catch (err) {
    if (!isPushProblem(err)) throw err;
    void showProblem(ctx, err, pushActions(ctx, err, { ...options, folder: folder.uri, repository }));
    return undefined; // shown with the actions that fix it
  }
  const { pushed, runsRecorded } = done;
  ctx.log.info(`Pushed ${pushed.reference} (${pushed.tags.join(', ')}); recorded in ${runsRecorded} run record(s)`);
  void vscode.window
    .showInformationMessage(
      `Pushed ${repository}:${pushed.tags[0]} (${pushed.digest.slice(0, 19)}…).`,
      'Copy Reference',
    )
    .then((c) => c && vscode.env.clipboard.writeText(pushed.reference));
  return pushed;
}

/** Where to push, asked (the last answer offered), checked as it is typed; undefined when the user backs out. */
async function askRepository(ctx: PushCtx): Promise<string | undefined> {
  const { checkRepository } = heavy();
  const answer = await vscode.window.showInputBox({
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
  return answer?.trim() || undefined;
}

/** A push's own Problem (the core's PushError, of the other bundle: recognised by its brand and its fields). */
function isPushProblem(err: unknown): err is PushError {
  return isProblem(err) && typeof (err as Partial<PushError>).registry === 'string';
}

/** The actions that fix a refused push: log in to the registry, push elsewhere, or push again. */
function pushActions(ctx: PushCtx, err: PushError, options: PushOptions): ErrorAction[] {
  const again = (label: string, changes: PushOptions): ErrorAction => ({
    label,
    run: () => vscode.commands.executeCommand(pushImageCommand.id, { ...options, ...changes }),
  });
  const elsewhere = again('Push to Another Repository', { repository: undefined });
  switch (err.id) {
    case 'registry-auth-refused':
      return [
        { label: `Log In to ${err.registry}`, run: () => dockerLogin(ctx, err.registry) },
        again('Push Again', {}),
      ];
    case 'invalid-repository':
    case 'registry-repository-not-found':
    case 'registry-plain-http':
    case 'registry-unreachable':
      return [elsewhere];
    case 'invalid-tag':
      return [again('Push with the Default Tags', { tags: undefined })];
    case 'push-failed':
    case 'push-no-digest':
      return [again('Push Again', {}), elsewhere];
    default:
      return [];
  }
}

/** `docker login REGISTRY` in a terminal of its own (argv, no shell), with the Docker config the push reads. */
function dockerLogin(ctx: PushCtx, registry: string): void {
  vscode.window
    .createTerminal({
      name: `docker login ${registry}`,
      shellPath: 'docker',
      shellArgs: ['login', registry],
      env: ctx.doctor.probeEnv(),
    })
    .show();
}
