import * as vscode from 'vscode';
import type { PlannedScaffold, ScaffoldConsent, ScaffoldResult } from '../../core/operations/scaffold';
import type { PlannedFile } from '../../core/scaffold/plan';
import { errorMessage } from '../../core/util/errors';
import type { Ctx } from '../ctx';
import { heavy } from '../heavy';
import { type CommandDef, command } from './command';
import { requireTrust } from './register';

export const PROPOSED_SCHEME = 'ml-containers-proposed';
const DEV_CONTAINERS_ID = 'ms-vscode-remote.remote-containers';

/** Proposed file contents, shown on the right of a diff editor before anything is written. */
class ProposedContent implements vscode.TextDocumentContentProvider {
  private readonly docs = new Map<string, string>();
  set(uri: vscode.Uri, text: string): void {
    this.docs.set(uri.toString(), text);
  }
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? '';
  }
}

export interface ScaffoldCommandOptions {
  dockerfileAt?: 'devcontainer' | 'root';
  /** Do not offer "Reopen in Container" afterwards (tests, batch use). */
  noReopen?: boolean;
}

export interface ScaffoldCommandResult {
  written: string[];
  plan: { path: string; action: string }[];
}

type Parts = Pick<Ctx, 'config' | 'log'>;

/**
 * "Add GPU Dev Container…": asks where the Dockerfile goes, lets the core detect, generate and plan, shows every
 * change to an existing file as a diff and asks before it is written; then opens the configuration and offers
 * "Reopen in Container".
 */
export const addDevContainerCommand: CommandDef = command<'config' | 'log' | 'subscriptions'>(
  'mlContainers.addDevContainer',
  (ctx) => {
    const proposed = new ProposedContent();
    ctx.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, proposed));
    return (target?: vscode.Uri, options: ScaffoldCommandOptions = {}) =>
      addDevContainer(ctx, proposed, target, options);
  },
  (err) => `Adding the GPU dev container failed: ${errorMessage(err).replace(/\.$/, '')}; nothing was written.`,
);

async function addDevContainer(
  ctx: Parts,
  proposed: ProposedContent,
  target: vscode.Uri | undefined,
  options: ScaffoldCommandOptions,
): Promise<ScaffoldCommandResult | undefined> {
  const folder = target ? vscode.workspace.getWorkspaceFolder(target) : vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showInformationMessage(
      'Open the folder of a machine-learning project first, then run Add GPU Dev Container.',
    );
    return undefined;
  }
  if (!requireTrust('writes files into it')) return undefined;
  const dockerfileAt = options.dockerfileAt ?? (await askDockerfileAt());
  if (!dockerfileAt) return undefined;
  // the generator, the merge and the diff library load on first use, not during activation
  const { scaffoldProject, ScaffoldWriteError } = heavy();
  let planned: PlannedScaffold | undefined;
  let result: ScaffoldResult;
  try {
    result = await scaffoldProject(
      { projectRoot: folder.uri.fsPath, dockerfileAt, datasetsPath: ctx.config.datasetsPath },
      undefined,
      {
        planned: (p) => {
          planned = p;
          for (const w of p.warnings) ctx.log.warn(w);
        },
        confirm: (changes) => confirmChanges(folder, changes, proposed),
      },
    );
  } catch (err) {
    if (!(err instanceof ScaffoldWriteError) || planned === undefined) throw err;
    // which files were written and which not, in the sentence the CLI prints
    void ctx.log.showError(err.message, err);
    return { written: err.written, plan: summary(planned) };
  }
  // a symlink out of the project, a FIFO or device, a file where a folder belongs, a file that cannot be parsed
  if (result.refused !== null) void ctx.log.showError(result.refused);
  else await showWritten(ctx, folder, result, options);
  return { written: result.written, plan: summary(result) };
}

const summary = (planned: PlannedScaffold): ScaffoldCommandResult['plan'] =>
  planned.plan.map((p) => ({ path: p.path, action: p.action }));

async function askDockerfileAt(): Promise<'devcontainer' | 'root' | undefined> {
  const pick = await vscode.window.showQuickPick(
    [
      {
        label: '.devcontainer/Dockerfile',
        description: 'recommended: next to devcontainer.json',
        value: 'devcontainer' as const,
      },
      {
        label: 'Dockerfile at the project root',
        description: 'for building the training image with `docker build .`',
        value: 'root' as const,
      },
    ],
    { title: 'Add GPU Dev Container: where should the Dockerfile go?' },
  );
  return pick?.value;
}

/** Logs what was written, opens the configuration written and offers to reopen the folder in the container. */
async function showWritten(
  ctx: Parts,
  folder: vscode.WorkspaceFolder,
  result: ScaffoldResult,
  options: ScaffoldCommandOptions,
): Promise<void> {
  const { written } = result;
  ctx.log.info(
    `Add GPU Dev Container in ${folder.name}: wrote ${written.join(', ') || 'nothing'} (${result.stack.why.join(' ')})`,
  );
  // the configuration the spec picks: .devcontainer/devcontainer.json, or the .devcontainer.json merged into
  const config = written.find((p) => p.endsWith('devcontainer.json'));
  if (config !== undefined) {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, ...config.split('/')));
    await vscode.window.showTextDocument(doc, { preview: false });
  }
  if (!options.noReopen && written.length > 0) void offerReopen();
}

/** Shows each change to an existing file as a diff, then asks once for all of them. */
async function confirmChanges(
  folder: vscode.WorkspaceFolder,
  files: readonly PlannedFile[],
  proposed: ProposedContent,
): Promise<ScaffoldConsent> {
  for (const f of files) {
    const right = vscode.Uri.from({ scheme: PROPOSED_SCHEME, path: `/${folder.name}/${f.path}` });
    proposed.set(right, f.content);
    await vscode.commands.executeCommand(
      'vscode.diff',
      vscode.Uri.joinPath(folder.uri, f.path),
      right,
      `${f.path}: current ↔ proposed by ML Containers`,
      { preview: false },
    );
  }
  const changes = files
    .map((f) => `${f.path} (${f.action === 'merge' ? 'edit, your comments and settings kept' : 'replace'})`)
    .join(', ');
  const choice = await vscode.window.showQuickPick(
    [
      { label: 'Apply the changes', description: changes, answer: 'apply' as const },
      { label: 'Keep my files as they are', description: 'new files are still written', answer: 'keep' as const },
    ],
    {
      title: `ML Containers would change ${files.length} existing file${files.length > 1 ? 's' : ''} (see the diff${files.length > 1 ? 's' : ''})`,
      ignoreFocusOut: true,
    },
  );
  // the proposals have been answered: close their diff editors
  const proposals = vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === PROPOSED_SCHEME);
  await vscode.window.tabGroups.close(proposals);
  // dismissed (Escape): nothing is written
  return choice?.answer ?? 'cancel';
}

async function offerReopen(): Promise<void> {
  const installed = vscode.extensions.getExtension(DEV_CONTAINERS_ID) !== undefined;
  const action = installed ? 'Reopen in Container' : 'Install Dev Containers';
  const choice = await vscode.window.showInformationMessage(
    installed
      ? 'The GPU dev container is ready. Reopen the folder in it?'
      : 'The GPU dev container is ready. Opening it needs the Dev Containers extension.',
    action,
  );
  if (choice === 'Reopen in Container') await vscode.commands.executeCommand('remote-containers.reopenInContainer');
  else if (choice === 'Install Dev Containers') {
    await vscode.commands.executeCommand('workbench.extensions.installExtension', DEV_CONTAINERS_ID);
  }
}
