// First integration test: the extension loads and activates inside a real VS Code with the example project open.
import * as assert from 'assert';
import * as vscode from 'vscode';

const EXTENSION_ID = 'ml-containers.ml-containers';

describe('smoke', () => {
  it('runs inside a real VS Code 1.100.x extension host', () => {
    console.log(
      `    vscode.version=${vscode.version} appName=${vscode.env.appName} uiKind=${vscode.UIKind[vscode.env.uiKind]} remoteName=${vscode.env.remoteName}`,
    );
    assert.match(vscode.version, /^1\.100\.\d+$/);
  });

  it('has the example workspace folder open', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.strictEqual(folders.length, 1, 'expected exactly one workspace folder');
    assert.match(folders[0]?.uri.fsPath ?? '', /pytorch-mnist-/);
  });

  it(`has the extension ${EXTENSION_ID} and activates it`, async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
    await ext.activate();
    assert.strictEqual(ext.isActive, true);
  });

  it('registers the mlContainers.detect command', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('mlContainers.detect'), 'mlContainers.detect is not registered');
  });
});
