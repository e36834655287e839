// The GPU doctor in the real editor: host facts from the fake nvidia-smi replaying the real H200 capture (set through
// the mlContainers.gpu.nvidiaSmiPath setting), the engine from DOCKER_HOST (the test run's real engine) or none.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { CheckResult } from '../../../src/core/compat/types';
import type { FingerprintDifference } from '../../../src/core/fingerprint/types';
import type { MlContainersApi } from '../../../src/extension/extension';
import { type FakeNvidiaSmi, installFakeNvidiaSmi } from '../../support/fakeNvidiaSmi';

const EXTENSION_ID = 'ml-containers.ml-containers';
const api = async (): Promise<MlContainersApi> =>
  vscode.extensions.getExtension<MlContainersApi>(EXTENSION_ID)!.activate();
const folder = (): vscode.WorkspaceFolder => vscode.workspace.workspaceFolders![0]!;

describe('GPU doctor in the editor', () => {
  let fake: FakeNvidiaSmi;
  const dockerfile = (): string => path.join(folder().uri.fsPath, 'Dockerfile');

  before(async () => {
    fake = installFakeNvidiaSmi('h200-driver-580');
    await vscode.workspace
      .getConfiguration('mlContainers')
      .update('gpu.nvidiaSmiPath', fake.nvidiaSmi, vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    await vscode.workspace
      .getConfiguration('mlContainers')
      .update('gpu.nvidiaSmiPath', undefined, vscode.ConfigurationTarget.Workspace);
    fs.rmSync(dockerfile(), { force: true });
    fake.cleanup();
  });

  it('"Check GPU Compatibility" checks the project against the H200 and opens a readable report', async () => {
    const out = await vscode.commands.executeCommand<{ result: CheckResult; report: vscode.Uri }>(
      'mlContainers.checkGpuCompatibility',
      undefined,
      { silent: true },
    );
    assert.ok(out, 'the command returned nothing');
    const { result, report } = out;
    assert.strictEqual(result.host.driverVersion, '580.159.04');
    assert.strictEqual(result.host.cudaDriverVersion, '13.0');
    assert.deepStrictEqual(result.host.gpus, [{ name: 'NVIDIA H200', computeCapability: '9.0', datacenter: true }]);
    // the example pins torch 2.3.1 from the cu121 index: sm_90 kernels, CUDA 12.1 on a CUDA 13.0 driver
    assert.strictEqual(result.image.framework, 'pytorch');
    assert.strictEqual(result.image.frameworkCuda, '12.1');
    const ids = result.findings.map((f) => f.id);
    assert.ok(!ids.includes('gpu-arch-unsupported') && !ids.includes('driver-too-old'), JSON.stringify(ids));
    if (process.env.DOCKER_HOST) {
      // the test run's real engine has no NVIDIA runtime: the doctor must say so
      assert.strictEqual(result.host.engine?.reachable, true, JSON.stringify(result.host.engine));
      assert.ok(ids.includes('no-container-gpu-runtime'), JSON.stringify(ids));
    }
    const doc = await vscode.workspace.openTextDocument(report);
    assert.match(doc.getText(), /^# GPU compatibility of /m);
    assert.match(doc.getText(), /NVIDIA H200 \(compute capability 9\.0, data center\)/);
  });

  it('puts findings as diagnostics on the Dockerfile FROM line', async () => {
    fs.writeFileSync(
      dockerfile(),
      '# training image\nARG TAG=1.13.1-cuda11.6-cudnn8-runtime\nFROM pytorch/pytorch:${TAG}\nCOPY . /workspace\n',
    );
    await vscode.commands.executeCommand('mlContainers.detect', undefined, { silent: true });
    const out = await vscode.commands.executeCommand<{ result: CheckResult }>(
      'mlContainers.checkGpuCompatibility',
      undefined,
      { silent: true },
    );
    assert.ok(
      out?.result.findings.some((f) => f.id === 'gpu-arch-unsupported'),
      JSON.stringify(out?.result.findings.map((f) => f.id)),
    );
    const diags = vscode.languages.getDiagnostics(vscode.Uri.file(dockerfile()));
    const arch = diags.find((d) => (typeof d.code === 'object' ? d.code.value : d.code) === 'gpu-arch-unsupported');
    assert.ok(arch, `no gpu-arch-unsupported diagnostic: ${JSON.stringify(diags.map((d) => d.message))}`);
    assert.strictEqual(arch.range.start.line, 2, 'on the FROM line');
    assert.strictEqual(arch.severity, vscode.DiagnosticSeverity.Error);
    assert.strictEqual(arch.source, 'ML Containers');
    assert.match(arch.message, /Fix: Use PyTorch/);
  });

  it('saves a fingerprint and compares two environments, driver update first', async () => {
    const a = vscode.Uri.file(path.join(folder().uri.fsPath, 'fp-a.json'));
    const b = vscode.Uri.file(path.join(folder().uri.fsPath, 'fp-b.json'));
    try {
      const saved = await vscode.commands.executeCommand<vscode.Uri>('mlContainers.saveFingerprint', a);
      assert.strictEqual(saved?.fsPath, a.fsPath);
      const fp = JSON.parse(fs.readFileSync(a.fsPath, 'utf8')) as {
        host: { driverVersion: string; cudaDriverVersion: string };
      };
      assert.strictEqual(fp.host.driverVersion, '580.159.04');
      fp.host.driverVersion = '550.54.15';
      fp.host.cudaDriverVersion = '12.4';
      fs.writeFileSync(b.fsPath, JSON.stringify(fp));
      const out = await vscode.commands.executeCommand<{ differences: FingerprintDifference[]; report: vscode.Uri }>(
        'mlContainers.compareEnvironments',
        a,
        b,
      );
      assert.ok(out);
      assert.deepStrictEqual(
        [out.differences[0]?.what, out.differences[0]?.impact],
        ['host.driverVersion', 'breaking'],
      );
      const doc = await vscode.workspace.openTextDocument(out.report);
      assert.match(doc.getText(), /host\.driverVersion/);
    } finally {
      fs.rmSync(a.fsPath, { force: true });
      fs.rmSync(b.fsPath, { force: true });
    }
  });

  it('notices a driver change since the last session and remembers the new host', async () => {
    const a = await api();
    await a.ctx.extension.globalState.update('mlContainers.hostFingerprint', {
      driverVersion: '550.54.15',
      gpus: ['NVIDIA H200 (9.0)'],
    });
    a.ctx.doctor.diagnostics.clear();
    const changes = await a.ctx.doctor.noticeHostChanges();
    assert.deepStrictEqual(changes, ['the NVIDIA driver changed from 550.54.15 to 580.159.04']);
    assert.deepStrictEqual(a.ctx.extension.globalState.get('mlContainers.hostFingerprint'), {
      driverVersion: '580.159.04',
      gpus: ['NVIDIA H200 (9.0)'],
    });
    // the project was checked again: the Dockerfile's diagnostics are back
    assert.ok(vscode.languages.getDiagnostics(vscode.Uri.file(dockerfile())).length > 0);
  });
});
