import * as vscode from 'vscode';
import type { CheckResult, Finding } from '../../core/compat/types';
import { LineIndex } from '../../core/util/text';

/** Findings about the image: shown on the Dockerfile's FROM line and on devcontainer.json's image/build. */
const IMAGE_FINDINGS = new Set([
  'driver-too-old',
  'driver-below-toolkit-minimum',
  'require-cuda-unsatisfied',
  'gpu-arch-unsupported',
  'gpu-arch-removed',
  'gpu-arch-ptx-jit',
  'gpu-newer-than-cuda',
  'forward-compatibility',
]);

const SEVERITY = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
} as const;

function diagnostic(f: Finding, range: vscode.Range): vscode.Diagnostic {
  const d = new vscode.Diagnostic(range, `${f.message} Fix: ${f.fix}`, SEVERITY[f.severity]);
  d.source = 'ML Containers';
  const url = /^https?:\/\/[^\s;]+/.exec(f.source)?.[0];
  d.code = url ? { value: f.id, target: vscode.Uri.parse(url) } : f.id;
  return d;
}

/** The range of the last line matching `re` (the last FROM is the stage that runs). */
function lastLineRange(text: string, re: RegExp): vscode.Range | null {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  let last: RegExpExecArray | null = null;
  for (let m = g.exec(text); m; m = g.exec(text)) last = m;
  if (!last) return null;
  const idx = new LineIndex(text);
  const line = idx.lineAt(last.index);
  return new vscode.Range(line - 1, 0, line - 1, idx.lineText(line).length);
}

/**
 * Puts check findings on the files they are about: image findings on the last FROM line of the project's
 * Dockerfiles and on devcontainer.json's "image"/"build"; /dev/shm on devcontainer.json's runArgs.
 */
export async function updateDiagnostics(
  collection: vscode.DiagnosticCollection,
  folder: vscode.Uri,
  envFiles: readonly string[],
  result: CheckResult,
): Promise<void> {
  const imageFindings = result.findings.filter((f) => IMAGE_FINDINGS.has(f.id));
  const shm = result.findings.filter((f) => f.id === 'shm-too-small');
  for (const rel of envFiles) {
    const isDockerfile = /(?:^|\/)Dockerfile(?:[.-][^/]*)?$/.test(rel);
    const isDevcontainer = rel.endsWith('devcontainer.json');
    if (!isDockerfile && !isDevcontainer) continue;
    const uri = vscode.Uri.joinPath(folder, rel);
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      continue;
    }
    const diags: vscode.Diagnostic[] = [];
    if (isDockerfile) {
      const from = lastLineRange(text, /^[ \t]*FROM[ \t]+\S+/im);
      if (from) diags.push(...imageFindings.map((f) => diagnostic(f, from)));
    } else {
      const where = lastLineRange(text, /"(?:image|build|dockerFile)"\s*:/) ?? new vscode.Range(0, 0, 0, 1);
      diags.push(...imageFindings.map((f) => diagnostic(f, where)));
      const run = lastLineRange(text, /"runArgs"\s*:/) ?? where;
      diags.push(...shm.map((f) => diagnostic(f, run)));
    }
    collection.set(uri, diags);
  }
}
