/** Reaching into a run's container: a shell in it, VS Code attached to it, or one of its published ports opened. */
import * as vscode from 'vscode';
import type { RunRecord } from '../../../core/runs/types';
import type { Ctx } from '../../ctx';
import { heavy } from '../../heavy';
import { StreamTerminal } from '../../runs/terminal';
import type { RunsViewNode } from '../../views/runsView';
import { command } from '../command';
import { asSentence, requireTrust } from '../register';
import { recordOf } from './pick';

const DEV_CONTAINERS_ID = 'ms-vscode-remote.remote-containers';

/** Attach Shell: an interactive shell in a running run's container, in a terminal; returns the terminal. */
export const attachShellCommand = command<'runs'>(
  'mlContainers.runs.attachShell',
  (ctx) => (arg?: RunsViewNode | string) => {
    const r = recordOf(ctx, arg);
    if (!r || !requireTrust('opens a shell in a container')) return undefined;
    return attachShell(ctx, r);
  },
  asSentence,
);

/** Attach VS Code: opens a running run's container in a VS Code window (through the Dev Containers extension). */
export const attachVsCodeCommand = command<'runs'>(
  'mlContainers.runs.attachVsCode',
  (ctx) => async (arg?: RunsViewNode | string) => {
    const r = recordOf(ctx, arg);
    if (r) await attachVsCode(r);
  },
);

/** Open Port: opens one of the ports a run publishes in the browser. */
export const openPortCommand = command<'runs'>(
  'mlContainers.runs.openPort',
  (ctx) => async (arg?: RunsViewNode | string) => {
    const r = recordOf(ctx, arg);
    if (r) await openPort(r);
  },
);

function notRunning(record: RunRecord): boolean {
  return !record.containerId || record.state !== 'running';
}

async function attachShell(ctx: Pick<Ctx, 'runs'>, record: RunRecord): Promise<vscode.Terminal | undefined> {
  if (notRunning(record)) {
    void vscode.window.showInformationMessage(`Run ${record.id} is not running: start it again to get a shell in it.`);
    return undefined;
  }
  const session = await heavy().openShell(ctx.runs.engine(), record);
  const pty = new StreamTerminal(session.stream, (c, r) => void session.resize(c, r), session.exited);
  const terminal = vscode.window.createTerminal({
    name: `Shell: ${record.containerName}`,
    pty,
    iconPath: new vscode.ThemeIcon('terminal'),
  });
  terminal.show();
  return terminal;
}

async function attachVsCode(record: RunRecord): Promise<void> {
  if (notRunning(record)) {
    void vscode.window.showInformationMessage(
      `Run ${record.id} is not running: only a running container can be attached to.`,
    );
    return;
  }
  if (!vscode.extensions.getExtension(DEV_CONTAINERS_ID)) {
    const choice = await vscode.window.showInformationMessage(
      'Attaching VS Code to a container needs the Dev Containers extension.',
      'Install Dev Containers',
    );
    if (choice) await vscode.commands.executeCommand('workbench.extensions.installExtension', DEV_CONTAINERS_ID);
    return;
  }
  await vscode.commands.executeCommand('remote-containers.attachToRunningContainer', record.containerId);
}

async function openPort(record: RunRecord): Promise<void> {
  const entries = Object.entries(record.ports);
  if (entries.length === 0) {
    void vscode.window.showInformationMessage(
      `Run ${record.id} publishes no port: start it with a port (e.g. 6006 for TensorBoard) to open one.`,
    );
    return;
  }
  let hostPort = entries[0]![1];
  if (entries.length > 1) {
    const pick = await vscode.window.showQuickPick(
      entries.map(([c, h]) => ({ label: `${c}`, description: `127.0.0.1:${h}`, h })),
      { title: 'Open which port?' },
    );
    if (!pick) return;
    hostPort = pick.h;
  }
  const uri = await vscode.env.asExternalUri(vscode.Uri.parse(`http://127.0.0.1:${hostPort}`));
  await vscode.env.openExternal(uri);
}
