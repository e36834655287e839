// "Add GPU Dev Container…" on a hostile or awkward project (issue 12, part C), in the real editor: it goes through the
// same plan as the CLI, so it merges into a root .devcontainer.json (and opens that file), refuses a FIFO without
// hanging, and reports a write that fails part-way with the files written so far.
import * as assert from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { until } from '../../support/wait';

const folder = (): string => vscode.workspace.workspaceFolders![0]!.uri.fsPath;

interface Result {
  written: string[];
  plan: { path: string; action: string }[];
}

const clean = (): void => {
  spawnSync('chattr', ['-i', folder()]);
  for (const rel of ['.devcontainer', '.devcontainer.json', '.dockerignore', 'Dockerfile']) {
    fs.rmSync(path.join(folder(), rel), { recursive: true, force: true });
  }
};

const add = (dockerfileAt: 'devcontainer' | 'root' = 'devcontainer'): Thenable<Result | undefined> =>
  vscode.commands.executeCommand<Result>('mlContainers.addDevContainer', undefined, { dockerfileAt, noReopen: true });

describe('Add GPU Dev Container on a hostile project', () => {
  beforeEach(clean);
  after(clean);

  it('merges into the root .devcontainer.json (the spec picks it) and opens it', async () => {
    const root = path.join(folder(), '.devcontainer.json');
    fs.writeFileSync(root, '{\n  // ours\n  "image": "python:3.11"\n}\n');
    const running = add();
    const tab = await until('a diff editor of .devcontainer.json', () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find((t) => t.input instanceof vscode.TabInputTextDiff && t.label.includes('.devcontainer.json')),
    );
    assert.ok(tab);
    // accept the quick pick's first item ("Apply the changes") once it shows (the first use loads the heavy bundle)
    let r: Result | undefined | 'pending' = 'pending';
    void Promise.resolve(running).then((v) => (r = v));
    for (let i = 0; i < 40 && r === 'pending'; i++) {
      await new Promise((res) => setTimeout(res, 500));
      if (r === 'pending') await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    assert.notStrictEqual(r, 'pending', 'the command did not finish');
    r = (await running) as Result | undefined;
    assert.ok(r, 'no result');
    assert.strictEqual(r.plan[0]?.path, '.devcontainer.json');
    assert.ok(r.written.includes('.devcontainer.json'), JSON.stringify(r));
    assert.ok(!fs.existsSync(path.join(folder(), '.devcontainer', 'devcontainer.json')), 'no second config');
    assert.match(fs.readFileSync(root, 'utf8'), /\/\/ ours[\s\S]*--shm-size=/);
    await until('.devcontainer.json in an editor', () =>
      vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === root) ? true : undefined,
    );
  });

  it('refuses a FIFO .dockerignore without waiting on it, and writes nothing', async () => {
    execFileSync('mkfifo', [path.join(folder(), '.dockerignore')]);
    const r = await add();
    assert.ok(r, 'no result');
    assert.deepStrictEqual(r.written, []);
    assert.ok(
      r.plan.some((p) => p.path === '.dockerignore' && p.action === 'unsafe'),
      JSON.stringify(r),
    );
    assert.ok(!fs.existsSync(path.join(folder(), '.devcontainer')));
  });

  it('a read-only project folder: returns the files written before the failure', async function () {
    if (process.getuid?.() !== 0) this.skip();
    fs.mkdirSync(path.join(folder(), '.devcontainer'));
    execFileSync('chattr', ['+i', folder()]);
    try {
      const r = await add('root');
      assert.ok(r, 'no result');
      assert.deepStrictEqual(r.written, ['.devcontainer/devcontainer.json']);
      assert.ok(!fs.existsSync(path.join(folder(), 'Dockerfile')));
    } finally {
      spawnSync('chattr', ['-i', folder()]);
    }
  });
});
