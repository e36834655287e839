// Detection in the real editor: the command, the ML Project view, the context key, evidence that opens at its line,
// and re-detection when a project file changes. The workspace is a fresh copy of examples/pytorch-mnist.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ProjectProfile } from '../../../src/core/detect/types';
import type { MlContainersApi } from '../../../src/extension/extension';
import type { ProjectViewNode } from '../../../src/extension/views/projectView';

const EXTENSION_ID = 'ml-containers.ml-containers';

async function api(): Promise<MlContainersApi> {
  const ext = vscode.extensions.getExtension<MlContainersApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

function folder(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'no workspace folder');
  return f.uri.fsPath;
}

/** The view as the user sees it: label and description of each item, through the real TreeDataProvider. */
async function viewRows(
  a: MlContainersApi,
  parent?: ProjectViewNode,
): Promise<{ node: ProjectViewNode; item: vscode.TreeItem }[]> {
  const children = await a.projectView.getChildren(parent);
  return Promise.all(children.map(async (node) => ({ node, item: await a.projectView.getTreeItem(node) })));
}
const label = (item: vscode.TreeItem): string =>
  typeof item.label === 'string' ? item.label : (item.label?.label ?? '');

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('detection in the editor', () => {
  it('"Detect Training Project" returns the profile of the open folder', async () => {
    await api();
    const p = await vscode.commands.executeCommand<ProjectProfile>('mlContainers.detect');
    assert.ok(p, 'the command returned nothing');
    assert.strictEqual(p.root, folder());
    assert.strictEqual(p.isTrainingProject, true);
    assert.deepStrictEqual(p.frameworks, ['pytorch']);
    assert.deepStrictEqual(p.entrypoints, ['train.py']);
    assert.strictEqual(p.cudaHint, '12.1');
    assert.strictEqual(p.needsGpu, 'optional');
  });

  it('the command is in the palette under the "ML Containers" category', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { commands: { command: string; category: string; title: string }[] };
    };
    const c = pkg.contributes.commands.find((x) => x.command === 'mlContainers.detect');
    assert.deepStrictEqual([c?.category, c?.title], ['ML Containers', 'Detect Training Project']);
  });

  it('sets the context key mlContainers.isTrainingProject', async () => {
    const a = await api();
    assert.strictEqual(a.ctx.project.contextKeys.get('mlContainers.isTrainingProject'), true);
    assert.strictEqual(a.ctx.project.contextKeys.get('mlContainers.detected'), true);
  });

  it('the ML Project view is registered in the workbench and shows the profile', async () => {
    await vscode.commands.executeCommand('mlContainers.project.focus');
    const a = await api();
    const rows = await viewRows(a);
    const table = rows.map((r) => [label(r.item), String(r.item.description ?? '')]);
    assert.deepStrictEqual(table.slice(0, 8), [
      ['PyTorch training project (train.py)', ''],
      ['Frameworks', 'PyTorch'],
      ['Entry points', 'train.py'],
      ['Launcher', 'python'],
      ['Python', 'not pinned'],
      ['CUDA', '12.1'],
      ['GPU', 'optional (runs on CPU too)'],
      ['Environment files', '1'],
    ]);
    const frameworks = rows.find((r) => label(r.item) === 'Frameworks')!;
    const pytorch = (await viewRows(a, frameworks.node))[0]!;
    assert.strictEqual(label(pytorch.item), 'PyTorch');
    assert.strictEqual(pytorch.item.description, 'primary');
  });

  it('clicking an item opens its evidence file at its line', async () => {
    const a = await api();
    const cuda = (await viewRows(a)).find((r) => label(r.item) === 'CUDA')!;
    const cmd = cuda.item.command;
    assert.ok(cmd, 'the CUDA item has no command');
    await vscode.commands.executeCommand(cmd.command, ...(cmd.arguments ?? []));
    const editor = await waitFor('an editor on requirements.txt', () => {
      const e = vscode.window.activeTextEditor;
      return e && path.basename(e.document.uri.fsPath) === 'requirements.txt' ? e : undefined;
    });
    const line = editor.selection.active.line;
    assert.match(editor.document.lineAt(line).text, /download\.pytorch\.org\/whl\/cu121/);
  });

  it('detects again when a project file changes (debounced), and clears the context key for a non-training project', async () => {
    const a = await api();
    const train = path.join(folder(), 'train.py');
    const original = fs.readFileSync(train, 'utf8');
    // add a JAX script: the framework list must follow
    fs.writeFileSync(
      path.join(folder(), 'train_jax.py'),
      'import jax\n\nif __name__ == "__main__":\n    g = jax.grad(lambda x: x * x)(1.0)\n',
    );
    await waitFor('jax in the profile', () =>
      a.ctx.project.all[0]?.profile.frameworks.includes('jax') ? true : undefined,
    );
    const rows = await viewRows(a);
    assert.strictEqual(String(rows.find((r) => label(r.item) === 'Frameworks')!.item.description), 'PyTorch, JAX');

    // make it inference-only: no code trains any more
    fs.rmSync(path.join(folder(), 'train_jax.py'));
    fs.writeFileSync(
      train,
      'import torch\n\nmodel = torch.nn.Linear(2, 2).eval()\nwith torch.no_grad():\n    print(model(torch.zeros(1, 2)))\n',
    );
    try {
      await waitFor('isTrainingProject false', () =>
        a.ctx.project.contextKeys.get('mlContainers.isTrainingProject') === false ? true : undefined,
      );
      assert.strictEqual(a.ctx.project.all[0]?.profile.isTrainingProject, false);
      assert.match(label((await viewRows(a))[0]!.item), /^Not a training project/);
    } finally {
      fs.writeFileSync(train, original);
    }
    await waitFor('training again', () =>
      a.ctx.project.contextKeys.get('mlContainers.isTrainingProject') === true ? true : undefined,
    );
  });

  it('logs to one "ML Containers" log channel and the Show Logs command opens it', async () => {
    const a = await api();
    assert.strictEqual(a.ctx.log.channel.name, 'ML Containers');
    await vscode.commands.executeCommand('mlContainers.showLogs');
  });
});
