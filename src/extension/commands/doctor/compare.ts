import * as vscode from 'vscode';
import type { FingerprintSource } from '../../../core/operations/fingerprint';
import type { FingerprintDifference } from '../../../core/fingerprint/types';
import { errorMessage } from '../../../core/util/errors';
import type { Doctor } from '../../doctor/doctor';
import { heavy } from '../../heavy';
import { command } from '../command';

const FILTERS = { 'Fingerprints (JSON)': ['json'] };

/** A fingerprint file the user picks (titled `title`), or undefined when they cancel. */
async function pickFile(title: string): Promise<vscode.Uri | undefined> {
  return (await vscode.window.showOpenDialog({ canSelectMany: false, filters: FILTERS, title }))?.[0];
}

/** A fingerprint file's text, named by its path in the workspace. */
async function fileSource(uri: vscode.Uri): Promise<FingerprintSource> {
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  return { name: vscode.workspace.asRelativePath(uri), text };
}

/** What A is compared with: this machine now (its fingerprint taken), or another file; undefined when cancelled. */
async function pickSecond(doctor: Pick<Doctor, 'fingerprint'>): Promise<FingerprintSource | undefined> {
  const choice = await vscode.window.showQuickPick(['This machine, now', 'Another fingerprint file…'], {
    title: 'Compare with',
  });
  if (!choice) return undefined;
  if (choice.startsWith('This machine')) return { name: 'this machine, now', fingerprint: await doctor.fingerprint() };
  const file = await pickFile('Fingerprint B');
  return file && fileSource(file);
}

/** "Compare Environments": two fingerprint files (or this machine now vs. one file), differences ranked. */
export const compareCommand = command<'doctor'>(
  'mlContainers.compareEnvironments',
  ({ doctor }) =>
    async (
      a?: vscode.Uri,
      b?: vscode.Uri,
    ): Promise<{ differences: FingerprintDifference[]; report: vscode.Uri } | undefined> => {
      const first = a ?? (await pickFile('Fingerprint A (e.g. the machine where it works)'));
      if (!first) return undefined;
      const second = b ? await fileSource(b) : await pickSecond(doctor);
      if (!second) return undefined;
      const comparison = heavy().compareEnvironments(await fileSource(first), second);
      const report = await doctor.reports.show('Environment comparison', comparison.markdown);
      return { differences: comparison.differences, report };
    },
  (err) =>
    `Comparing the environments failed: ${errorMessage(err)}. Pick two files made by "Save Environment Fingerprint" or \`ml-containers fingerprint --out\`.`,
);
