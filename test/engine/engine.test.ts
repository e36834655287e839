/**
 * src/core/docker against a real Docker engine: the private engine that `npm test` starts with
 * scripts/docker-engine-up.sh (Debian's docker.io 20.10, API 1.41, no NVIDIA runtime, no registry).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import * as esbuild from 'esbuild';
import {
  connectEngine,
  DEFAULT_CDI_SPEC_DIRS,
  describeEngineProblem,
  EngineClient,
  explainEngineError,
  getEngineGpuCapability,
  scanCdiSpecDirs,
} from '../../src/core/docker';
import { CancellationError } from '../../src/core/util/errors';
import { BUSYBOX, rawGet, ROOT, socketPathOf, testDockerHost } from './helpers';

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>, what: string): Promise<Error & { statusCode?: number; json?: unknown }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { statusCode?: number; json?: unknown };
  }
  assert.fail(`${what} succeeded, but the engine should have refused it`);
}

describe('Docker engine (real engine started by npm test)', function () {
  let dockerHost: string;
  let socketPath: string;
  let client: EngineClient;
  /** The engine's own unversioned /version, read without dockerode. */
  let serverVersion: { Version: string; ApiVersion: string; MinAPIVersion?: string; KernelVersion?: string };
  const created: Docker.Container[] = [];
  const cleanups: Array<() => void> = [];

  before(async function () {
    dockerHost = testDockerHost();
    socketPath = socketPathOf(dockerHost);
    const res = await rawGet(socketPath, '/version');
    assert.equal(res.status, 200, `GET /version on ${socketPath}: ${res.body}`);
    serverVersion = JSON.parse(res.body) as typeof serverVersion;
    client = connectEngine({ env: { DOCKER_HOST: dockerHost } });
  });

  afterEach(async function () {
    while (created.length) await created.pop()?.remove({ force: true });
  });

  after(function () {
    for (const c of cleanups.splice(0)) c();
  });

  describe('API version negotiation', function () {
    it('speaks exactly the API version the engine reports on its unversioned /version (never a pinned one)', async function () {
      const v = await client.version();
      assert.equal(v.apiVersion, serverVersion.ApiVersion);
      assert.equal(v.version, serverVersion.Version);
      assert.equal(await client.apiVersion(), serverVersion.ApiVersion);
      const docker = await client.docker();
      assert.equal((docker.modem as unknown as { version: string }).version, `v${serverVersion.ApiVersion}`);
      if (serverVersion.Version.startsWith('20.10.')) assert.equal(v.apiVersion, '1.41', "Debian 12's docker.io");
      // the negotiated client works: the engine's /info through the versioned path
      const info = await client.info();
      assert.equal(info.engineVersion, serverVersion.Version);
    });

    it('a client pinned to a newer API version is refused (real text), and the mapper explains it', async function () {
      const pinned = new Docker({ socketPath, version: 'v1.99' });
      const err = await rejection(pinned.info(), 'a client pinned to API 1.99');
      assert.equal(err.statusCode, 400);
      assert.match(
        err.message,
        new RegExp(`client version 1\\.99 is too new\\. Maximum supported API version is ${serverVersion.ApiVersion}`),
      );
      const p = explainEngineError(err);
      assert.equal(p.id, 'api-version-too-new');
      assert.match(p.message, /1\.99/);
      assert.ok(p.message.includes(serverVersion.ApiVersion), p.message);
    });
  });

  describe('GPU capability (/info, runtimes, CDI)', function () {
    it('reports runc and no NVIDIA runtime on this engine, with the engine facts from /info', async function () {
      const cap = await getEngineGpuCapability({ dockerHost });
      assert.equal(cap.reachable, true, cap.reason);
      assert.equal(cap.reason, undefined);
      assert.equal(cap.dockerHost, dockerHost);
      assert.equal(cap.apiVersion, serverVersion.ApiVersion);
      assert.equal(cap.engineVersion, serverVersion.Version);
      assert.ok(cap.runtimes.includes('runc'), `runtimes: ${cap.runtimes.join(', ')}`);
      assert.ok(!cap.runtimes.includes('nvidia'), `runtimes: ${cap.runtimes.join(', ')}`);
      assert.equal(cap.nvidiaRuntime, false);
      assert.equal(cap.defaultRuntime, 'runc');
      assert.equal(cap.kernel, os.release());
      assert.ok(cap.os && cap.os.length > 0, 'os');
      assert.ok(cap.cgroupDriver === 'cgroupfs' || cap.cgroupDriver === 'systemd', `cgroupDriver ${cap.cgroupDriver}`);
      assert.ok(cap.cgroupVersion === '1' || cap.cgroupVersion === '2', `cgroupVersion ${cap.cgroupVersion}`);
      assert.ok((cap.memTotalBytes ?? 0) > 64 * 1024 * 1024, `memTotalBytes ${cap.memTotalBytes}`);
      assert.ok((cap.ncpu ?? 0) >= 1 && (cap.ncpu ?? 0) <= os.cpus().length, `ncpu ${cap.ncpu}`);
      // CDI folders: exactly those of this machine (the engine is local)
      assert.deepEqual(
        cap.cdiSpecDirs,
        DEFAULT_CDI_SPEC_DIRS.filter((d) => fs.existsSync(d)),
      );
      const scan = await scanCdiSpecDirs(DEFAULT_CDI_SPEC_DIRS);
      assert.deepEqual(
        cap.cdiGpuDevices,
        scan.specs.filter((s) => s.kind === 'nvidia.com/gpu').flatMap((s) => s.devices),
      );
    });

    it('lists the nvidia.com/gpu devices of CDI specs (yaml and json) in the folders it is given', async function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-cdi-'));
      cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      fs.writeFileSync(
        path.join(dir, 'nvidia.yaml'),
        'cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: "0"\n  containerEdits: {}\n- name: all\n  containerEdits: {}\n',
      );
      fs.writeFileSync(
        path.join(dir, 'other.json'),
        JSON.stringify({ cdiVersion: '0.6.0', kind: 'vendor.com/fpga', devices: [{ name: 'f0' }] }),
      );
      const cap = await client.getEngineGpuCapability({ cdiDirs: [dir, path.join(dir, 'missing')] });
      assert.deepEqual(cap.cdiSpecDirs, [dir]);
      assert.deepEqual(cap.cdiGpuDevices, ['nvidia.com/gpu=0', 'nvidia.com/gpu=all']);
    });
  });

  describe('GPU requests on an engine without the NVIDIA runtime', function () {
    it('a plain busybox container runs (so the GPU failures below are about GPUs only)', async function () {
      const docker = await client.docker();
      const c = await docker.createContainer({ Image: BUSYBOX, Cmd: ['sh', '-c', 'echo ok'], HostConfig: {} });
      created.push(c);
      await c.start();
      const r = (await c.wait()) as { StatusCode: number };
      assert.equal(r.StatusCode, 0);
    });

    it('--gpus all (DeviceRequests) is accepted at create and fails at START with the real HTTP 500', async function () {
      const docker = await client.docker();
      const c = await docker.createContainer({
        Image: BUSYBOX,
        Cmd: ['true'],
        HostConfig: { DeviceRequests: [{ Driver: '', Count: -1, Capabilities: [['gpu']] }] },
      });
      created.push(c);
      const err = await rejection(c.start(), 'starting a container with a GPU request');
      assert.equal(err.statusCode, 500);
      assert.deepEqual(err.json, { message: 'could not select device driver "" with capabilities: [[gpu]]' });
      const p = explainEngineError(err);
      assert.equal(p.id, 'no-container-gpu-runtime');
      assert.equal(p.statusCode, 500);
      assert.equal(p.detail, 'could not select device driver "" with capabilities: [[gpu]]');
      assert.match(describeEngineProblem(p), /NVIDIA Container Toolkit.*nvidia-ctk runtime configure/);
    });

    it('--runtime nvidia fails at CREATE with "Unknown runtime specified nvidia", and the mapper explains it', async function () {
      const docker = await client.docker();
      const err = await rejection(
        docker.createContainer({ Image: BUSYBOX, Cmd: ['true'], HostConfig: { Runtime: 'nvidia' } }),
        'creating a container with runtime nvidia',
      );
      assert.equal(err.statusCode, 400);
      assert.deepEqual(err.json, { message: 'Unknown runtime specified nvidia' });
      const p = explainEngineError(err);
      assert.equal(p.id, 'no-nvidia-runtime');
      assert.match(p.fix, /nvidia-ctk runtime configure/);
    });

    it('an image that is not on the engine fails at create with 404, and the mapper names the image', async function () {
      const docker = await client.docker();
      const err = await rejection(
        docker.createContainer({ Image: 'mlc-test/does-not-exist:latest', Cmd: ['true'] }),
        'creating a container from a missing image',
      );
      assert.equal(err.statusCode, 404);
      const p = explainEngineError(err);
      assert.equal(p.id, 'image-not-found');
      assert.match(p.message, /mlc-test\/does-not-exist:latest/);
    });
  });

  describe('DOCKER_HOST', function () {
    it('the env given wins over process.env.DOCKER_HOST (docker-modem reads process.env by itself)', async function () {
      const saved = process.env.DOCKER_HOST;
      process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
      try {
        const c = connectEngine({ env: { DOCKER_HOST: dockerHost } });
        assert.equal(await c.apiVersion(), serverVersion.ApiVersion);
        await c.ping();
      } finally {
        process.env.DOCKER_HOST = saved;
      }
    });

    it('tcp://host:port reaches the same engine (through a local TCP proxy to its socket)', async function () {
      const server = net.createServer((conn) => {
        const up = net.connect(socketPath);
        conn.pipe(up).pipe(conn);
        conn.on('error', () => up.destroy());
        up.on('error', () => conn.destroy());
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => server.close());
      const port = (server.address() as net.AddressInfo).port;
      const cap = await getEngineGpuCapability({ env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } });
      assert.equal(cap.reachable, true, cap.reason);
      assert.equal(cap.dockerHost, `tcp://127.0.0.1:${port}`);
      assert.equal(cap.apiVersion, serverVersion.ApiVersion);
      assert.ok(cap.runtimes.includes('runc'));
    });

    it('a socket that does not exist: reachable false, a reason that says how to start the engine, fast', async function () {
      const missing = path.join(os.tmpdir(), `mlc-no-engine-${process.pid}`, 'docker.sock');
      const t0 = Date.now();
      const cap = await getEngineGpuCapability({ dockerHost: `unix://${missing}`, timeoutMs: 1000 });
      const ms = Date.now() - t0;
      assert.equal(cap.reachable, false);
      assert.equal(cap.problem?.id, 'engine-unreachable');
      assert.ok(cap.reason?.includes(missing), cap.reason);
      assert.match(cap.reason ?? '', /systemctl start docker.*DOCKER_HOST/);
      assert.ok(cap.reason?.endsWith('.') && !/\.\s+[A-Z]/.test(cap.reason), `one sentence: ${cap.reason}`);
      assert.equal(cap.apiVersion, null);
      assert.deepEqual(cap.runtimes, []);
      assert.ok(ms < 1000, `took ${ms} ms`);
    });

    it('a TCP port where nothing listens: reachable false (ECONNREFUSED), fast', async function () {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const t0 = Date.now();
      const cap = await getEngineGpuCapability({ dockerHost: `tcp://127.0.0.1:${port}`, timeoutMs: 1000 });
      assert.equal(cap.reachable, false);
      assert.equal(cap.problem?.id, 'engine-unreachable');
      assert.match(cap.reason ?? '', new RegExp(`127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
      assert.ok(Date.now() - t0 < 1000);
    });

    it('an engine that accepts but never answers: engine-timeout after the time limit', async function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-'));
      const sock = path.join(dir, 'silent.sock');
      const conns: net.Socket[] = [];
      const server = net.createServer((c) => conns.push(c));
      await new Promise<void>((resolve) => server.listen(sock, resolve));
      cleanups.push(() => {
        for (const c of conns) c.destroy();
        server.close();
        fs.rmSync(dir, { recursive: true, force: true });
      });
      const t0 = Date.now();
      const cap = await getEngineGpuCapability({ dockerHost: `unix://${sock}`, timeoutMs: 300 });
      const ms = Date.now() - t0;
      assert.equal(cap.reachable, false);
      assert.equal(cap.problem?.id, 'engine-timeout');
      assert.match(cap.reason ?? '', /did not answer within 0\.3 s/);
      assert.ok(ms >= 290 && ms < 2000, `took ${ms} ms`);
    });

    it('a process that asked the engine exits right after its last answer (no idle connection keeps it alive)', function () {
      // Node 20's global HTTP agent keeps idle sockets for 5 s: a command-line process would linger that long
      const mod = path.join(ROOT, 'out', 'src', 'core', 'docker', 'index.js');
      const script =
        'const t = Date.now(); require(process.argv[1]).getEngineGpuCapability({ dockerHost: process.argv[2] })' +
        '.then((c) => { process.on("exit", () => console.log(JSON.stringify({ ok: c.reachable, ms: Date.now() - t }))); });';
      const t0 = Date.now();
      const r = spawnSync(process.execPath, ['-e', script, mod, dockerHost], { encoding: 'utf8', timeout: 20_000 });
      const total = Date.now() - t0;
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { ok: boolean; ms: number };
      assert.equal(out.ok, true);
      assert.ok(total < 3000, `the process took ${total} ms to exit`);
    });

    it('a cancelled request throws CancellationError instead of reporting the engine unreachable', async function () {
      const ctrl = new AbortController();
      ctrl.abort();
      await assert.rejects(getEngineGpuCapability({ dockerHost, signal: ctrl.signal }), CancellationError);
    });

    it('permission denied on the socket (a user outside the docker group): reason says to join the docker group', function () {
      assert.equal(process.getuid?.(), 0, 'the engine tests run as root (dockerd needs root)');
      // The adapter, bundled into one world-readable file (the project folder may be private), run as nobody (uid
      // 65534, no groups): the engine's socket is root:docker 0660, so connect() gets the real EACCES.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-eacces-'));
      cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      fs.chmodSync(dir, 0o755);
      const bundle = path.join(dir, 'docker.js');
      esbuild.buildSync({
        entryPoints: [path.join(ROOT, 'src', 'core', 'docker', 'index.ts')],
        outfile: bundle,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        mainFields: ['module', 'main'],
        // as in esbuild.mjs: dockerode's ssh2 transport loads these native helpers lazily and optionally
        external: ['cpu-features', './crypto/build/Release/sshcrypto.node'],
        logLevel: 'silent',
      });
      fs.chmodSync(bundle, 0o644);
      const script =
        'require(process.argv[1]).getEngineGpuCapability({ dockerHost: process.argv[2], timeoutMs: 2000 })' +
        '.then((c) => console.log(JSON.stringify(c)), (e) => { console.error(e); process.exit(1); });';
      const r = spawnSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script, bundle, dockerHost],
        { encoding: 'utf8', timeout: 20_000, cwd: '/' },
      );
      assert.equal(r.status, 0, `${r.error?.message ?? ''}${r.stderr}`);
      const cap = JSON.parse(r.stdout) as {
        reachable: boolean;
        reason: string;
        problem: { id: string; detail: string };
      };
      assert.equal(cap.reachable, false);
      assert.equal(cap.problem.id, 'engine-permission-denied');
      assert.equal(cap.problem.detail, `connect EACCES ${socketPath}`);
      assert.match(cap.reason, /Permission denied on the Docker socket .*docker group/);
    });
  });
});
