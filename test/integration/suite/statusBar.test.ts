// The GPU status bar item in the real editor, fed by the fake nvidia-smi replaying the real H200 captures (set
// through mlContainers.gpu.nvidiaSmiPath): the idle capture, the capture under load, and no driver at all.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { MlContainersApi } from '../../../src/extension/extension';
import { type FakeNvidiaSmi, installFakeNvidiaSmi } from '../../support/fakeNvidiaSmi';
import { until } from '../../support/wait';

const EXTENSION_ID = 'ml-containers.ml-containers';
const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('mlContainers');

describe('GPU status bar in the editor', () => {
  let a: MlContainersApi;
  const fakes: FakeNvidiaSmi[] = [];
  const use = async (f: FakeNvidiaSmi | undefined): Promise<void> => {
    await config().update('gpu.nvidiaSmiPath', f?.nvidiaSmi, vscode.ConfigurationTarget.Workspace);
  };

  before(async () => {
    a = await vscode.extensions.getExtension<MlContainersApi>(EXTENSION_ID)!.activate();
    await config().update('statusBar.intervalMs', 250, vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    await use(undefined);
    await config().update('statusBar.intervalMs', undefined, vscode.ConfigurationTarget.Workspace);
    fakes.forEach((f) => f.cleanup());
  });

  it("shows the H200's utilization and memory under load, with a table per GPU in the tooltip", async () => {
    const f = installFakeNvidiaSmi('h200-driver-580', {}, 'nvidia-smi', { FAKE_NVIDIA_SMI_SCENARIO: 'load' });
    fakes.push(f);
    await use(f);
    const item = a.statusBar.item;
    await until('the numbers under load', () => (item.text === '$(pulse) GPU 100% · 1.1/140 GiB' ? true : undefined));
    const tooltip = (item.tooltip as vscode.MarkdownString).value.replace(/&nbsp;/g, '');
    assert.match(tooltip, /\| 0 \| NVIDIA H200 \| 100% \| 1\.1 \/ 140 GiB \|/);
    assert.match(tooltip, /command:mlContainers\.checkGpuCompatibility/);
    assert.strictEqual(item.command, 'mlContainers.statusBar.show');
  });

  it('says "No GPU" and links the doctor when the driver does not answer', async () => {
    const f = installFakeNvidiaSmi('h200-driver-580', {}, 'nvidia-smi', { FAKE_NVIDIA_SMI_MODE: 'driver-failure' });
    fakes.push(f);
    await use(f);
    const item = a.statusBar.item;
    await until('"No GPU"', () => (item.text === '$(circle-slash) No GPU' ? true : undefined));
    assert.strictEqual(item.command, 'mlContainers.checkGpuCompatibility');
    assert.match((item.tooltip as vscode.MarkdownString).value, /NVIDIA-SMI has failed/);
  });
});
