import * as vscode from 'vscode';
import type { ProjectProfile } from '../../core/detect/types';
import { summarizeProfile } from '../../core/detect/format';
import { errorMessage } from '../../core/util/errors';
import { PROJECT_VIEW_ID } from '../views/projectView';
import { command } from './command';

/**
 * "ML Containers: Detect Training Project": detects every workspace folder now, shows the result in the ML Project
 * view and a one-line summary. Returns the first folder's profile (or the one for a folder Uri passed in).
 */
export const detectCommand = command<'project'>(
  'mlContainers.detect',
  ({ project }) =>
    async (target?: vscode.Uri, options?: { silent?: boolean }): Promise<ProjectProfile | undefined> => {
      if (!vscode.workspace.workspaceFolders?.length) {
        void vscode.window.showInformationMessage(
          'Open a folder with a machine-learning project first, then run Detect Training Project.',
        );
        return undefined;
      }
      const results = await vscode.window.withProgress(
        { location: { viewId: PROJECT_VIEW_ID }, title: 'Detecting the training project' },
        () => project.refresh(),
      );
      const chosen =
        (target ? results.find((r) => target.fsPath.startsWith(r.folder.uri.fsPath)) : undefined) ?? results[0];
      if (!chosen) return undefined;
      if (!options?.silent) {
        void vscode.commands.executeCommand(`${PROJECT_VIEW_ID}.focus`);
        const warn = chosen.profile.warnings.length;
        void vscode.window.showInformationMessage(
          `${summarizeProfile(chosen.profile)}.${warn ? ` ${warn} file${warn > 1 ? 's' : ''} could not be fully read: see the ML Project view.` : ''}`,
        );
      }
      return chosen.profile;
    },
  (err) =>
    `Detecting the training project failed (${errorMessage(err)}). Check that the folder is readable, then run Detect Training Project again.`,
);
