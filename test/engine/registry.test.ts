// Pushing a training image to a real registry: Debian's docker-registry (the reference distribution registry) on
// loopback with htpasswd auth. The image goes up with credentials from a Docker config (auths, and a credential
// helper speaking the helper protocol), comes back by digest with the same image ID, and the digest lands in the
// project's records. Refusals (no credentials, no registry) come back as one sentence.
import * as assert from 'assert';
import { type ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { connectEngine } from '../../src/core/docker/engine';
import { findRegistryAuth, registryOf } from '../../src/core/registry/auth';
import { pushImage, PushError, recordPush } from '../../src/core/registry/push';
import { RunStore } from '../../src/core/runs/store';
import { BUSYBOX, ROOT, testDockerHost } from './helpers';
import { freePort } from '../support/wait';

const REGISTRY_BIN = '/usr/bin/docker-registry';

async function waitHttp(url: string, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status === 200 || r.status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`the test registry did not answer at ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('push to a real registry (docker-registry on loopback)', function () {
  this.timeout(120_000);
  let dir: string;
  let registry: ChildProcess;
  let repo: string;
  let host: string;
  const client = () => connectEngine({ dockerHost: testDockerHost() });

  before(async () => {
    if (!fs.existsSync(REGISTRY_BIN)) {
      throw new Error(
        `${REGISTRY_BIN} is missing: install Debian's docker-registry (scripts/docker-engine-up.sh does, as root).`,
      );
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-registry-'));
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    repo = `${host}/team/mnist`;
    const config = [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, 'data'))} } }`,
      `http: { addr: ${JSON.stringify(host)} }`,
      `auth: { htpasswd: { realm: mlc-test, path: ${JSON.stringify(path.join(ROOT, 'test', 'fixtures', 'registry', 'htpasswd'))} } }`,
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'config.yml'), config);
    registry = spawn(REGISTRY_BIN, ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
    await waitHttp(`http://${host}/v2/`);
  });
  after(() => {
    registry?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A Docker config folder with these contents; its path is DOCKER_CONFIG. */
  const dockerConfig = (name: string, config: object): string => {
    const d = path.join(dir, name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(config));
    return d;
  };

  it('pushes with the credentials of the Docker config and pulls the same image back by digest', async () => {
    const auth = Buffer.from('mlc:s3cret').toString('base64');
    const env = { ...process.env, DOCKER_CONFIG: dockerConfig('auths', { auths: { [host]: { auth } } }) };
    const lines: string[] = [];
    const result = await pushImage({
      client: client(),
      image: BUSYBOX,
      repository: repo,
      tags: ['v1', 'abc1234'],
      env,
      onProgress: (l) => lines.push(l),
    });
    assert.match(result.digest, /^sha256:[0-9a-f]{64}$/);
    assert.strictEqual(result.reference, `${repo}@${result.digest}`);
    assert.strictEqual(result.credentials, path.join(env.DOCKER_CONFIG, 'config.json'));
    assert.ok(
      lines.some((l) => /Pushed|Layer already exists/.test(l)),
      lines.join('\n'),
    );

    // pull it back by digest, after removing every local name of it
    const docker = await client().docker();
    for (const t of ['v1', 'abc1234']) await docker.getImage(`${repo}:${t}`).remove();
    const stream = await docker.pull(result.reference, {
      authconfig: { username: 'mlc', password: 's3cret', serveraddress: host },
    });
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(null))),
    );
    const pulled = await docker.getImage(result.reference).inspect();
    assert.strictEqual(pulled.Id, result.imageId, 'the image pulled by digest is not the one pushed');
    assert.ok((pulled.RepoDigests ?? []).includes(result.reference));
  });

  it('gets the credentials from a credential helper (docker-credential-<name> get, the registry on stdin)', async () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    // a credential store speaking the helper protocol: `get` reads the server URL on stdin, prints Username/Secret
    fs.writeFileSync(
      path.join(bin, 'docker-credential-mlctest'),
      `#!/bin/sh\n[ "$1" = get ] || exit 1\nread server\n[ "$server" = "${host}" ] || { echo "credentials not found in native keychain"; exit 1; }\n` +
        `printf '{"ServerURL":"%s","Username":"mlc","Secret":"s3cret"}' "$server"\n`,
      { mode: 0o755 },
    );
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      DOCKER_CONFIG: dockerConfig('helper', { credHelpers: { [host]: 'mlctest' } }),
    };
    const found = await findRegistryAuth(registryOf(repo), env);
    assert.deepStrictEqual(found, {
      auth: { username: 'mlc', password: 's3cret', serveraddress: host },
      source: 'docker-credential-mlctest',
    });
    const result = await pushImage({ client: client(), image: BUSYBOX, repository: repo, tags: ['helper'], env });
    assert.strictEqual(result.credentials, 'docker-credential-mlctest');
  });

  it('records the digest in the project and in the run records that used the image', async () => {
    const project = fs.mkdtempSync(path.join(dir, 'project-'));
    const store = new RunStore(project);
    const imageId = (await (await client().docker()).getImage(BUSYBOX).inspect()).Id;
    const base = JSON.parse(
      JSON.stringify({
        project,
        projectName: 'p',
        state: 'succeeded',
        containerId: null,
        containerName: 'c',
        image: BUSYBOX,
        repoDigests: [],
        command: [],
        gpus: { kind: 'none' },
        mountWorkspace: false,
        requestedPorts: [],
        ports: {},
        sweepId: null,
        params: {},
        createdAt: '2026-11-26T00:00:00Z',
        startedAt: null,
        finishedAt: null,
        stopRequestedAt: null,
        exitCode: 0,
        oomKilled: false,
        explanation: null,
        warnings: [],
        host: { dockerHost: '', engineVersion: null, driverVersion: null, gpus: [] },
      }),
    );
    await store.writeRecord({ ...base, id: '20261126-000000-aaaa', imageId });
    await store.writeRecord({ ...base, id: '20261126-000000-bbbb', imageId: 'sha256:other' });
    const auth = Buffer.from('mlc:s3cret').toString('base64');
    const env = { ...process.env, DOCKER_CONFIG: dockerConfig('auths2', { auths: { [host]: { auth } } }) };
    const result = await pushImage({ client: client(), image: BUSYBOX, repository: repo, tags: ['rec'], env });
    assert.strictEqual(await recordPush(store, result), 1);
    assert.deepStrictEqual((await store.readRecord('20261126-000000-aaaa'))!.repoDigests, [result.reference]);
    assert.deepStrictEqual((await store.readRecord('20261126-000000-bbbb'))!.repoDigests, []);
    const images = JSON.parse(fs.readFileSync(path.join(project, '.ml-containers', 'images.json'), 'utf8'));
    assert.strictEqual(images[0].digest, result.digest);
  });

  it('says what to do when the registry refuses (no credentials) or cannot be reached', async () => {
    const env = { ...process.env, DOCKER_CONFIG: dockerConfig('empty', {}) };
    await assert.rejects(
      pushImage({ client: client(), image: BUSYBOX, repository: repo, tags: ['x'], env }),
      (err: Error) =>
        err instanceof PushError &&
        err.message.includes(`run \`docker login ${host}\``) &&
        !err.message.includes('s3cret'),
    );
    const closed = `127.0.0.1:${await freePort()}`;
    await assert.rejects(
      pushImage({ client: client(), image: BUSYBOX, repository: `${closed}/x`, tags: ['x'], env }),
      (err: Error) => err instanceof PushError && /cannot be reached from the Docker engine/.test(err.message),
    );
  });

  it('`ml-containers push --json` prints the digest and exits 0', () => {
    const auth = Buffer.from('mlc:s3cret').toString('base64');
    const project = fs.mkdtempSync(path.join(dir, 'cli-'));
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'dist', 'cli.js'),
        'push',
        project,
        '--repository',
        repo,
        '--image',
        BUSYBOX,
        '--tag',
        'cli',
        '--json',
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, DOCKER_CONFIG: dockerConfig('cli', { auths: { [host]: { auth } } }) },
        timeout: 60_000,
      },
    );
    assert.strictEqual(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { digest: string; tags: string[]; reference: string };
    assert.match(out.digest, /^sha256:/);
    assert.deepStrictEqual(out.tags, ['cli']);
    const bad = spawnSync(
      process.execPath,
      [path.join(ROOT, 'dist', 'cli.js'), 'push', project, '--repository', 'Bad:Name'],
      {
        encoding: 'utf8',
      },
    );
    assert.strictEqual(bad.status, 2, bad.stderr);
  });
});
