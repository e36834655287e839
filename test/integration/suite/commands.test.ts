// Every command the manifest contributes (package.json contributes.commands) is registered with VS Code once the
// extension is active: a palette entry whose command does not exist fails with "command not found" for the user.
import * as assert from 'assert';
import * as vscode from 'vscode';

const EXTENSION_ID = 'ml-containers.ml-containers';

interface ContributedCommand {
  command: string;
  title: string;
}

describe('contributed commands', () => {
  it('every command of package.json contributes.commands is registered after activation', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
    await ext.activate();
    const contributed = (ext.packageJSON as { contributes: { commands: ContributedCommand[] } }).contributes.commands;
    assert.ok(contributed.length > 0, 'the manifest contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c.command)).map((c) => `${c.command} (${c.title})`);
    assert.deepStrictEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });
});
