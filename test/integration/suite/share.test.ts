// Sharing and scaling in the real editor: "Push Training Image" pushes to a real registry (Debian's docker-registry
// on loopback, started here) through the test engine and records the digest; "Generate Cluster Job" opens the
// manifests (a Job; one Indexed Job for a sweep) in an editor.
import * as assert from 'assert';
import { type ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { parseAllDocuments } from 'yaml';
import type { Manifest } from '../../../src/core/k8s/manifests';
import type { PushResult } from '../../../src/core/registry/push';
import { freePort } from '../../support/wait';

const root = (): string => vscode.workspace.workspaceFolders![0]!.uri.fsPath;

describe('Push and cluster jobs in the editor', function () {
  this.timeout(120_000);
  let registry: ChildProcess | undefined;
  let dir: string;
  let host: string;

  before(async () => {
    if (!process.env.DOCKER_HOST) {
      throw new Error('DOCKER_HOST is not set: run the integration tier through `npm test`.');
    }
    if (!fs.existsSync('/usr/bin/docker-registry')) {
      throw new Error(
        '/usr/bin/docker-registry is missing: scripts/docker-engine-up.sh installs it (Debian docker-registry).',
      );
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-it-registry-'));
    host = `127.0.0.1:${await freePort()}`;
    fs.writeFileSync(
      path.join(dir, 'config.yml'),
      `version: 0.1\nlog: { level: warn }\nstorage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, 'data'))} } }\nhttp: { addr: ${JSON.stringify(host)} }\n`,
    );
    registry = spawn('/usr/bin/docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`http://${host}/v2/`).then(
          (r) => r.ok,
          () => false,
        )
      ) {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(() => {
    registry?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(path.join(root(), 'sweep-k8s.yaml'), { force: true });
  });

  it('"Push Training Image" pushes to the registry and records the digest in the project', async () => {
    const result = await vscode.commands.executeCommand<PushResult>('mlContainers.pushImage', {
      repository: `${host}/team/mnist`,
      image: 'mlc-test/busybox:latest',
      tags: ['it'],
    });
    assert.ok(result, 'the push returned nothing (see the notification / logs)');
    assert.match(result.digest, /^sha256:[0-9a-f]{64}$/);
    const manifest = await fetch(`http://${host}/v2/team/mnist/manifests/it`, {
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.strictEqual(manifest.headers.get('docker-content-digest'), result.digest);
    const images = JSON.parse(fs.readFileSync(path.join(root(), '.ml-containers', 'images.json'), 'utf8'));
    assert.strictEqual(images[images.length - 1].reference, result.reference);
  });

  it('"Generate Cluster Job" opens a Job for the last pushed image, and one Indexed Job for a sweep', async () => {
    const one = await vscode.commands.executeCommand<{ manifests: Manifest[]; document: vscode.TextDocument }>(
      'mlContainers.generateClusterJob',
      { nodes: 1, sweepFile: '', gpus: 1, apply: false, image: `${host}/team/mnist@sha256:${'0'.repeat(64)}` },
    );
    assert.deepStrictEqual(
      one.manifests.map((m) => m.kind),
      ['Job'],
    );
    assert.strictEqual(one.document.languageId, 'yaml');
    assert.deepStrictEqual(
      parseAllDocuments(one.document.getText()).map((d) => d.toJSON()),
      JSON.parse(JSON.stringify(one.manifests)),
    );
    fs.writeFileSync(
      path.join(root(), 'sweep-k8s.yaml'),
      'command: python train.py --lr {lr}\ngrid: { lr: [0.1, 0.01] }\n',
    );
    const sweep = await vscode.commands.executeCommand<{ manifests: Manifest[] }>('mlContainers.generateClusterJob', {
      nodes: 1,
      sweepFile: 'sweep-k8s.yaml',
      apply: false,
      image: 'reg.example/x:1',
    });
    assert.deepStrictEqual(
      sweep.manifests.map((m) => m.kind),
      ['ConfigMap', 'Job'],
    );
    assert.strictEqual((sweep.manifests[1]!.spec as { completions: number }).completions, 2);
  });
});
