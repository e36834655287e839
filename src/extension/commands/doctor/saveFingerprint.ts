import * as vscode from 'vscode';
import { errorMessage } from '../../../core/util/errors';
import { heavy } from '../../heavy';
import { command } from '../command';

/** "Save Environment Fingerprint": this machine's fingerprint as a JSON file, to compare with a colleague's. */
export const saveFingerprintCommand = command<'doctor'>(
  'mlContainers.saveFingerprint',
  ({ doctor }) =>
    async (target?: vscode.Uri): Promise<vscode.Uri | undefined> => {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const uri =
        target ??
        (await vscode.window.showSaveDialog({
          filters: { 'Fingerprints (JSON)': ['json'] },
          ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, 'environment-fingerprint.json') } : {}),
        }));
      if (!uri) return undefined;
      const text = heavy().fingerprintFileText(await doctor.fingerprint());
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
      void vscode.window.showInformationMessage(
        `Saved this machine's environment fingerprint to ${vscode.workspace.asRelativePath(uri)}.`,
      );
      return uri;
    },
  (err) => `Saving the environment fingerprint failed: ${errorMessage(err)}. Choose a folder you can write to.`,
);
