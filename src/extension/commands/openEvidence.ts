import * as vscode from 'vscode';
import { command } from './command';

/** Opens a file at a 1-based line (the ML Project view's items call it with their evidence). */
export const openEvidenceCommand = command<never>(
  'mlContainers.openEvidence',
  () =>
    async (uri: vscode.Uri, line = 1): Promise<vscode.TextEditor> => {
      const pos = new vscode.Position(Math.max(0, line - 1), 0);
      return vscode.window.showTextDocument(uri, { selection: new vscode.Range(pos, pos), preview: true });
    },
  () =>
    'The file behind this item could not be opened; it may have been moved or deleted. Run Detect Training Project to refresh the view.',
);
