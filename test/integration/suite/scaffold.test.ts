// "Add GPU Dev Container…" in the real editor: new files are written; a change to an existing devcontainer.json is
// shown as a diff and applied only after the user accepts it in the quick pick (driven here through the workbench's
// own quick-open commands, as a keyboard user would).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { until } from '../../support/wait';

const folder = (): string => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
const dc = (): string => path.join(folder(), '.devcontainer', 'devcontainer.json');

interface Result {
  written: string[];
  plan: { path: string; action: string }[];
}

const diffTabs = (): vscode.Tab[] =>
  vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputTextDiff);

describe('Add GPU Dev Container in the editor', () => {
  after(() => {
    fs.rmSync(path.join(folder(), '.devcontainer'), { recursive: true, force: true });
    fs.rmSync(path.join(folder(), '.dockerignore'), { force: true });
  });

  it('writes devcontainer.json, the Dockerfile and .dockerignore into a project without them', async () => {
    fs.rmSync(path.join(folder(), '.devcontainer'), { recursive: true, force: true });
    const r = await vscode.commands.executeCommand<Result>('mlContainers.addDevContainer', undefined, {
      dockerfileAt: 'devcontainer',
      noReopen: true,
    });
    assert.ok(r);
    assert.deepStrictEqual(r.written, ['.devcontainer/devcontainer.json', '.devcontainer/Dockerfile', '.dockerignore']);
    const text = fs.readFileSync(dc(), 'utf8');
    assert.match(text, /"hostRequirements": \{ "gpu": "optional" \}/);
    assert.match(text, /"BASE_IMAGE": "nvidia\/cuda:12\.1\.1-cudnn8-runtime-ubuntu22\.04"/);
    // the new devcontainer.json is opened for the user
    await until('devcontainer.json in an editor', () =>
      vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === dc()) ? true : undefined,
    );
  });

  it('shows the change to an existing devcontainer.json as a diff and applies it when accepted', async () => {
    const mine =
      '{\n\t// team settings: keep\n\t"name": "ours",\n\t"image": "python:3.11",\n\t"runArgs": ["--gpus", "all"]\n}\n';
    fs.writeFileSync(dc(), mine);
    const running = vscode.commands.executeCommand<Result>('mlContainers.addDevContainer', undefined, {
      dockerfileAt: 'devcontainer',
      noReopen: true,
    });
    // the diff editor opens, then the quick pick asks; accept its first item ("Apply the changes")
    const tab = await until('a diff editor of devcontainer.json', () =>
      diffTabs().find((t) => t.label.includes('devcontainer.json')),
    );
    assert.match(tab.label, /current ↔ proposed by ML Containers/);
    await new Promise((r) => setTimeout(r, 500));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const r = await running;
    assert.ok(r?.written.includes('.devcontainer/devcontainer.json'), JSON.stringify(r));
    const merged = fs.readFileSync(dc(), 'utf8');
    assert.match(merged, /\t\/\/ team settings: keep\n\t"name": "ours",/, 'comments, keys and tabs kept');
    assert.match(merged, /"gpu": "optional"/);
    assert.doesNotMatch(merged, /"--gpus"/);
    assert.deepStrictEqual(diffTabs(), [], 'the proposal diff is closed once answered');
  });

  it('leaves an existing file alone when the user keeps it', async () => {
    const mine = '{\n  // keep me exactly\n  "image": "python:3.11"\n}\n';
    fs.writeFileSync(dc(), mine);
    const running = vscode.commands.executeCommand<Result>('mlContainers.addDevContainer', undefined, {
      dockerfileAt: 'devcontainer',
      noReopen: true,
    });
    await until('a diff editor', () => diffTabs().find((t) => t.label.includes('devcontainer.json')));
    await new Promise((r) => setTimeout(r, 500));
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const r = await running;
    assert.ok(r && !r.written.includes('.devcontainer/devcontainer.json'), JSON.stringify(r));
    assert.strictEqual(fs.readFileSync(dc(), 'utf8'), mine);
  });
});
