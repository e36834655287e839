import * as os from 'node:os';
import * as vscode from 'vscode';
import type { PlannedFile } from '../../core/scaffold/plan';
import { errorMessage } from '../../core/util/errors';
import type { Ctx } from '../ctx';
import { heavy } from '../heavy';
import { registerCommand, requireTrust } from './register';

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

/**
 * "Add GPU Dev Container…": detects the project, generates the dev container and Dockerfile, shows every change to
 * an existing file as a diff and asks before writing; then offers "Reopen in Container".
 */
export function registerScaffoldCommand(ctx: Ctx): void {
  const proposed = new ProposedContent();
  ctx.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, proposed));
  registerCommand(
    ctx,
    'mlContainers.addDevContainer',
    async (target?: vscode.Uri, options: ScaffoldCommandOptions = {}): Promise<ScaffoldCommandResult | undefined> => {
      const folder = target ? vscode.workspace.getWorkspaceFolder(target) : vscode.workspace.workspaceFolders?.[0];
      if (!folder) {
        void vscode.window.showInformationMessage(
          'Open the folder of a machine-learning project first, then run Add GPU Dev Container.',
        );
        return undefined;
      }
      if (!requireTrust('writes files into it')) return undefined;
      let dockerfileAt = options.dockerfileAt;
      if (!dockerfileAt) {
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
        if (!pick) return undefined;
        dockerfileAt = pick.value;
      }
      const root = folder.uri.fsPath;
      // the generator, the merge and the diff library load on first use, not during activation
      const { detectForScaffold, generateScaffold, applyPlan, needsConsent, planScaffold } = heavy();
      const { ScaffoldWriteError, unsafeSentence } = heavy();
      const details = await detectForScaffold(root);
      const datasets = ctx.config.datasetsPath;
      const scaffold = generateScaffold(details.profile, details.packages, {
        dockerfileAt,
        hostMemBytes: os.totalmem(),
        ...(datasets ? { datasetsPath: datasets } : {}),
      });
      const plan = await planScaffold(root, scaffold);
      const summary = plan.map((p) => ({ path: p.path, action: p.action }));
      // a symlink out of the project, a FIFO or device, a file where a folder belongs: nothing is written
      const unsafe = unsafeSentence(plan);
      if (unsafe !== null) {
        void ctx.log.showError(unsafe);
        return { written: [], plan: summary };
      }
      const invalid = plan.find((p) => p.action === 'invalid');
      if (invalid) {
        const msg = `${invalid.path} could not be parsed, so ML Containers left it alone: ${invalid.changes[0]?.message ?? ''} Fix it and run Add GPU Dev Container again.`;
        void ctx.log.showError(msg);
        return { written: [], plan: summary };
      }
      const consent = plan.filter(needsConsent);
      let approved = true;
      if (consent.length > 0) approved = await confirmChanges(folder, consent, proposed);
      let written: string[];
      try {
        written = await applyPlan(root, plan, { force: approved });
      } catch (err) {
        if (!(err instanceof ScaffoldWriteError)) throw err;
        // which files were written and which not, in the sentence the CLI prints
        void ctx.log.showError(err.message);
        return { written: err.written, plan: summary };
      }
      ctx.log.info(
        `Add GPU Dev Container in ${folder.name}: wrote ${written.join(', ') || 'nothing'} (${scaffold.stack.why.join(' ')})`,
      );
      // the configuration the spec picks: .devcontainer/devcontainer.json, or the .devcontainer.json merged into
      const config = written.find((p) => p.endsWith('devcontainer.json'));
      if (config !== undefined) {
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, ...config.split('/')));
        await vscode.window.showTextDocument(doc, { preview: false });
      }
      if (!options.noReopen && written.length > 0) void offerReopen();
      return { written, plan: summary };
    },
    (err) => `Adding the GPU dev container failed: ${errorMessage(err).replace(/\.$/, '')}; nothing was written.`,
  );
}

/** Shows each change to an existing file as a diff, then asks once for all of them. */
async function confirmChanges(
  folder: vscode.WorkspaceFolder,
  files: PlannedFile[],
  proposed: ProposedContent,
): Promise<boolean> {
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
  const summary = files
    .map((f) => `${f.path} (${f.action === 'merge' ? 'edit, your comments and settings kept' : 'replace'})`)
    .join(', ');
  const choice = await vscode.window.showQuickPick(
    [
      { label: 'Apply the changes', description: summary, apply: true },
      { label: 'Keep my files as they are', description: 'new files are still written', apply: false },
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
  return choice?.apply === true;
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
