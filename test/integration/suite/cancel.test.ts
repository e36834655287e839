// Cancelling in the real editor, where the extension is two bundles (dist/extension.js and dist/lazy.js) and the
// cancellation comes from the core in the other one: a cancelled build, a cancelled check and a detection replaced by
// a newer one end quietly, with no error shown. The commands take a CancellationToken (`cancellation`) that does what
// the Cancel button of their progress notification does.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type Docker from 'dockerode';
import type { ProjectProfile } from '../../../src/core/detect/types';
import { connectEngine } from '../../../src/core/docker';
import { imageNameFor } from '../../../src/core/runs/spec';
import type { MlContainersApi } from '../../../src/extension/extension';
import { type FakeNvidiaSmi, installFakeNvidiaSmi } from '../../support/fakeNvidiaSmi';
import { until } from '../../support/wait';

const EXTENSION_ID = 'ml-containers.ml-containers';
/** Imported by scripts/docker-engine-up.sh on every test engine. */
const BUSYBOX = 'mlc-test/busybox:latest';
const api = async (): Promise<MlContainersApi> =>
  vscode.extensions.getExtension<MlContainersApi>(EXTENSION_ID)!.activate();
const root = (): string => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Cancelling in the editor', function () {
  this.timeout(120_000);
  let a: MlContainersApi;
  /** The errors shown before the test: each test asserts that it showed none. */
  let shownBefore = 0;
  const shownSince = (): string[] => a.ctx.log.shownErrors.slice(shownBefore);

  before(async () => {
    a = await api();
  });
  beforeEach(() => {
    shownBefore = a.ctx.log.shownErrors.length;
  });

  it('a detection replaced by a newer one ends quietly, and the newer one answers', async () => {
    // many folders to walk (names no watcher reacts to): the first detection is still walking when it is replaced
    const many = path.join(root(), 'cancel-many');
    for (let d = 0; d < 40; d++) {
      fs.mkdirSync(path.join(many, `d${d}`), { recursive: true });
      for (let f = 0; f < 10; f++) fs.writeFileSync(path.join(many, `d${d}`, `f${f}.dat`), 'x');
    }
    try {
      const first = vscode.commands.executeCommand<ProjectProfile | undefined>('mlContainers.detect', undefined, {
        silent: true,
      });
      const second = vscode.commands.executeCommand<ProjectProfile | undefined>('mlContainers.detect', undefined, {
        silent: true,
      });
      const [replaced, newer] = await Promise.all([first, second]);
      assert.strictEqual(replaced, undefined, 'the first detection was not replaced (it finished first)');
      assert.strictEqual(newer?.isTrainingProject, true);
      assert.deepStrictEqual(shownSince(), []);
    } finally {
      fs.rmSync(many, { recursive: true, force: true });
    }
  });

  describe('a GPU check', () => {
    let fake: FakeNvidiaSmi;
    before(async () => {
      // an nvidia-smi that never answers (a wedged driver): the check waits on it until cancelled
      fake = installFakeNvidiaSmi('h200-driver-580', {}, 'nvidia-smi', { FAKE_NVIDIA_SMI_MODE: 'hang' });
      await vscode.workspace
        .getConfiguration('mlContainers')
        .update('gpu.nvidiaSmiPath', fake.nvidiaSmi, vscode.ConfigurationTarget.Workspace);
    });
    after(async () => {
      await vscode.workspace
        .getConfiguration('mlContainers')
        .update('gpu.nvidiaSmiPath', undefined, vscode.ConfigurationTarget.Workspace);
      fake.cleanup();
    });

    it('cancelled while it waits on nvidia-smi ends quietly', async () => {
      const cancel = new vscode.CancellationTokenSource();
      const going = vscode.commands.executeCommand('mlContainers.checkGpuCompatibility', undefined, {
        silent: true,
        cancellation: cancel.token,
      });
      await sleep(1000);
      const t0 = Date.now();
      cancel.cancel();
      assert.strictEqual(await going, undefined);
      assert.ok(Date.now() - t0 < 10_000, `the check went on for ${Date.now() - t0} ms after the cancel`);
      assert.deepStrictEqual(shownSince(), []);
    });
  });

  describe('a build', () => {
    let docker: Docker;
    const dockerfile = (): string => path.join(root(), 'Dockerfile');
    before(async function () {
      if (!process.env.DOCKER_HOST) {
        throw new Error('DOCKER_HOST is not set: the build test needs the test engine (run it through `npm test`).');
      }
      docker = await connectEngine({ env: process.env }).docker();
      fs.writeFileSync(dockerfile(), `FROM ${BUSYBOX} AS train\nRUN echo mlc-cancel-build && sleep 3600\n`);
    });
    after(async () => {
      fs.rmSync(dockerfile(), { force: true });
      // the watcher re-detects after its debounce: let that happen here, not during the next suite's detection
      await sleep(a.ctx.config.detection.debounceMs + 1000);
      await a.ctx.project.ensure();
    });

    it('cancelled while its RUN step runs ends quietly and tags no image', async () => {
      const cancel = new vscode.CancellationTokenSource();
      const going = vscode.commands.executeCommand('mlContainers.runTraining', {
        command: ['true'],
        target: 'train',
        gpus: 'none',
        showTerminal: false,
        cancellation: cancel.token,
      });
      const building = async (): Promise<boolean | undefined> =>
        (await docker.listContainers()).some((c) => c.Command.includes('mlc-cancel-build')) || undefined;
      await until('the build to run its RUN step', building, 60_000);
      const t0 = Date.now();
      cancel.cancel();
      assert.strictEqual(await going, undefined);
      assert.ok(Date.now() - t0 < 20_000, `the build went on for ${Date.now() - t0} ms after the cancel`);
      assert.deepStrictEqual(shownSince(), []);
      await assert.rejects(
        docker.getImage(imageNameFor(root(), 'train')).inspect(),
        (e: { statusCode?: number }) => e.statusCode === 404,
      );
      // the engine stops the step once the build's connection is gone
      await until('the RUN step to stop', async () => !(await building()) || undefined, 30_000);
    });
  });
});
