/**
 * src/core/docker's pure parts: DOCKER_HOST parsing, API version choice, /info parsing, CDI specs and the error mapper,
 * on the real texts a Docker engine 20.10.24 (Debian 12 docker.io, API 1.41), dockerode 5 and the Docker CLI gave.
 */
import * as assert from 'node:assert/strict';
import {
  compareApiVersions,
  describeEngineProblem,
  DockerHostError,
  EngineTimeoutError,
  explainEngineError,
  negotiateApiVersion,
  nvidiaGpuDevices,
  parseCdiSpec,
  parseDockerHost,
  parseEngineInfo,
} from '../../src/core/docker';
import { CancellationError } from '../../src/core/util/errors';

/** An error shaped exactly as docker-modem builds it for an HTTP error answer. */
function dockerodeError(statusCode: number, reason: string | undefined, engineMessage: string): Error {
  const e = new Error(`(HTTP code ${statusCode}) ${reason ?? 'unexpected'} - ${engineMessage} `) as Error & {
    statusCode: number;
    reason?: string;
    json: unknown;
  };
  e.statusCode = statusCode;
  if (reason) e.reason = reason;
  e.json = { message: engineMessage };
  return e;
}

/** A Node system error as net.connect raises it. */
function sysError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: 'connect', ...extra });
}

describe('docker: DOCKER_HOST', () => {
  it('parses unix://, npipe://, tcp://, host:port and the defaults', () => {
    assert.deepEqual(parseDockerHost(undefined, { platform: 'linux' }), {
      kind: 'unix',
      socketPath: '/var/run/docker.sock',
      url: 'unix:///var/run/docker.sock',
    });
    assert.deepEqual(parseDockerHost('', { platform: 'win32' }), {
      kind: 'npipe',
      socketPath: '//./pipe/docker_engine',
      url: 'npipe:////./pipe/docker_engine',
    });
    assert.deepEqual(parseDockerHost('unix:///tmp/x/docker.sock'), {
      kind: 'unix',
      socketPath: '/tmp/x/docker.sock',
      url: 'unix:///tmp/x/docker.sock',
    });
    assert.equal(
      parseDockerHost('unix://').kind === 'unix' && parseDockerHost('unix://').url,
      'unix:///var/run/docker.sock',
    );
    assert.deepEqual(parseDockerHost('tcp://10.0.0.5:2375'), {
      kind: 'tcp',
      host: '10.0.0.5',
      port: 2375,
      tls: false,
      url: 'tcp://10.0.0.5:2375',
    });
    assert.deepEqual(parseDockerHost('tcp://docker.example', { tlsVerify: true }), {
      kind: 'tcp',
      host: 'docker.example',
      port: 2376,
      tls: true,
      url: 'tcp://docker.example:2376',
    });
    assert.equal(parseDockerHost('localhost:2375').url, 'tcp://localhost:2375');
    assert.equal(parseDockerHost('tcp://[::1]:2375').url, 'tcp://[::1]:2375');
  });

  it('refuses ssh:// and non-addresses with one sentence that says what to do', () => {
    for (const v of ['ssh://user@host', 'ftp://x', 'tcp://']) {
      assert.throws(
        () => parseDockerHost(v),
        (e: unknown) => e instanceof DockerHostError && /^[^\n]+: [^\n]+\.$/.test(e.message),
      );
    }
    try {
      parseDockerHost('ssh://user@host');
    } catch (e) {
      const p = explainEngineError(e);
      assert.equal(p.id, 'unsupported-docker-host');
      assert.match(p.fix, /ssh -nNT -L/);
    }
  });
});

describe('docker: API version and /info', () => {
  it('uses the API version the engine reports, whatever the client could speak', () => {
    assert.equal(negotiateApiVersion({ Version: '20.10.24+dfsg1', ApiVersion: '1.41', MinAPIVersion: '1.12' }), '1.41');
    assert.equal(negotiateApiVersion({ ApiVersion: '1.51' }), '1.51');
    assert.equal(negotiateApiVersion({}), '1.24');
    assert.ok(compareApiVersions('1.41', '1.9') > 0);
    assert.ok(compareApiVersions('1.40', '1.41') < 0);
    assert.equal(compareApiVersions('1.41', '1.41'), 0);
  });

  it('parses /info of Debian 12 docker.io 20.10.24 (runc only)', () => {
    const info = parseEngineInfo({
      ServerVersion: '20.10.24+dfsg1',
      OperatingSystem: 'Debian GNU/Linux 12 (bookworm)',
      OSType: 'linux',
      KernelVersion: '6.18.44-fc-v669',
      Runtimes: {
        'io.containerd.runc.v2': { path: 'runc' },
        'io.containerd.runtime.v1.linux': { path: 'runc' },
        runc: { path: 'runc' },
      },
      DefaultRuntime: 'runc',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: '1',
      MemTotal: 25276502016,
      NCPU: 2,
      Warnings: null,
    });
    assert.deepEqual(info, {
      engineVersion: '20.10.24+dfsg1',
      os: 'Debian GNU/Linux 12 (bookworm)',
      osType: 'linux',
      kernel: '6.18.44-fc-v669',
      runtimes: ['io.containerd.runc.v2', 'io.containerd.runtime.v1.linux', 'runc'],
      defaultRuntime: 'runc',
      nvidiaRuntime: false,
      cgroupDriver: 'cgroupfs',
      cgroupVersion: '1',
      memTotalBytes: 25276502016,
      ncpu: 2,
      cdiSpecDirs: null,
      warnings: [],
    });
  });

  it('sees the NVIDIA runtime by name or by its binary, and CDI folders of newer engines', () => {
    const withToolkit = parseEngineInfo({
      Runtimes: { nvidia: { path: 'nvidia-container-runtime' }, runc: { path: 'runc' } },
      DefaultRuntime: 'runc',
      CDISpecDirs: ['/etc/cdi', '/var/run/cdi'],
    });
    assert.equal(withToolkit.nvidiaRuntime, true);
    assert.deepEqual(withToolkit.cdiSpecDirs, ['/etc/cdi', '/var/run/cdi']);
    assert.equal(
      parseEngineInfo({ Runtimes: { gpu: { path: '/usr/bin/nvidia-container-runtime' } } }).nvidiaRuntime,
      true,
    );
    assert.equal(parseEngineInfo(null).nvidiaRuntime, false);
  });
});

describe('docker: CDI specs', () => {
  it('reads nvidia-ctk YAML and JSON specs and keeps the nvidia.com/gpu device names', () => {
    const yaml = [
      '---',
      'cdiVersion: 0.5.0',
      'containerEdits:',
      '  env:',
      '  - NVIDIA_VISIBLE_DEVICES=void',
      'devices:',
      '- containerEdits:',
      '    deviceNodes:',
      '    - path: /dev/nvidia0',
      '  name: "0"',
      '- containerEdits:',
      '    deviceNodes:',
      '    - path: /dev/nvidia0',
      '  name: GPU-c422a366-5e2e-b3a4-5c0c-4c9a8b7b2f1e',
      '- containerEdits:',
      '    deviceNodes:',
      '    - path: /dev/nvidia0',
      '  name: all',
      'kind: nvidia.com/gpu',
      '',
    ].join('\n');
    const json = JSON.stringify({
      cdiVersion: '0.6.0',
      kind: 'nvidia.com/gpu',
      devices: [{ name: '1' }, { name: 'all' }],
    });
    const other = JSON.stringify({ cdiVersion: '0.6.0', kind: 'example.com/net', devices: [{ name: 'eth' }] });
    const specs = [parseCdiSpec(yaml), parseCdiSpec(json), parseCdiSpec(other)];
    assert.deepEqual(specs[0], {
      kind: 'nvidia.com/gpu',
      cdiVersion: '0.5.0',
      devices: ['nvidia.com/gpu=0', 'nvidia.com/gpu=GPU-c422a366-5e2e-b3a4-5c0c-4c9a8b7b2f1e', 'nvidia.com/gpu=all'],
    });
    assert.deepEqual(nvidiaGpuDevices(specs), [
      'nvidia.com/gpu=0',
      'nvidia.com/gpu=GPU-c422a366-5e2e-b3a4-5c0c-4c9a8b7b2f1e',
      'nvidia.com/gpu=all',
      'nvidia.com/gpu=1',
    ]);
    assert.throws(() => parseCdiSpec('just text'), /not a CDI spec/);
    assert.throws(() => parseCdiSpec('kind: [1'), Error);
  });
});

describe('docker: explainEngineError on real error texts', () => {
  it('GPU request without the NVIDIA runtime (HTTP 500 at container start) -> no-container-gpu-runtime', () => {
    const err = dockerodeError(500, 'server error', 'could not select device driver "" with capabilities: [[gpu]]');
    const p = explainEngineError(err);
    assert.equal(p.id, 'no-container-gpu-runtime');
    assert.equal(p.statusCode, 500);
    assert.equal(p.detail, 'could not select device driver "" with capabilities: [[gpu]]');
    assert.match(p.fix, /NVIDIA Container Toolkit.*nvidia-ctk runtime configure --runtime=docker/);
    const s = describeEngineProblem(p);
    assert.match(s, /^The Docker engine cannot give containers a GPU: [^.]*\.$/s);
    // the driver named explicitly, and the same failure as the Docker CLI prints it
    assert.equal(
      explainEngineError(
        dockerodeError(500, 'server error', 'could not select device driver "nvidia" with capabilities: [[gpu]]'),
      ).id,
      'no-container-gpu-runtime',
    );
    const cli = explainEngineError(
      'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].\n' +
        'ERRO[0000] error waiting for container: context canceled',
    );
    assert.equal(cli.id, 'no-container-gpu-runtime');
    assert.equal(cli.detail, 'could not select device driver "" with capabilities: [[gpu]]');
  });

  it('--runtime nvidia on an engine without it (HTTP 400 at create) -> no-nvidia-runtime; other runtimes too', () => {
    const p = explainEngineError(dockerodeError(400, 'bad parameter', 'Unknown runtime specified nvidia'));
    assert.equal(p.id, 'no-nvidia-runtime');
    assert.match(p.fix, /nvidia-ctk runtime configure.*--gpus all/);
    const cli = explainEngineError(
      "docker: Error response from daemon: Unknown runtime specified nvidia.\nSee 'docker run --help'.",
    );
    assert.equal(cli.id, 'no-nvidia-runtime');
    assert.equal(
      explainEngineError(dockerodeError(400, 'bad parameter', 'Unknown runtime specified crun')).id,
      'unknown-runtime',
    );
  });

  it('a client pinned to a newer API -> api-version-too-new', () => {
    const p = explainEngineError(
      dockerodeError(400, undefined, 'client version 1.44 is too new. Maximum supported API version is 1.41'),
    );
    assert.equal(p.id, 'api-version-too-new');
    assert.match(p.message, /1\.44.*1\.41/);
    assert.equal(
      explainEngineError(
        'Error response from daemon: client version 1.44 is too new. Maximum supported API version is 1.41',
      ).id,
      'api-version-too-new',
    );
    assert.equal(
      explainEngineError(
        dockerodeError(400, undefined, 'client version 1.12 is too old. Minimum supported API version is 1.24'),
      ).id,
      'api-version-too-old',
    );
  });

  it('image not found (create 404, inspect 404, registry answers) -> image-not-found with the image name', () => {
    const create = explainEngineError(dockerodeError(404, 'no such container', 'No such image: mlc-test/nope:latest'));
    assert.equal(create.id, 'image-not-found');
    assert.match(create.message, /^The image mlc-test\/nope:latest /);
    assert.match(create.fix, /docker pull mlc-test\/nope:latest/);
    const inspect = explainEngineError(
      dockerodeError(404, 'no such image', 'no such image: mlc-test/nope:latest: No such image: mlc-test/nope:latest'),
    );
    assert.equal(inspect.id, 'image-not-found');
    assert.match(inspect.message, /^The image mlc-test\/nope:latest /);
    const denied = explainEngineError(
      dockerodeError(
        404,
        'no such image',
        "pull access denied for nosuch/image, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
      ),
    );
    assert.equal(denied.id, 'image-not-found');
    assert.match(denied.message, /nosuch\/image/);
    const manifest = explainEngineError(
      dockerodeError(
        404,
        'no such image',
        'manifest for nvidia/cuda:99.0-base not found: manifest unknown: manifest unknown',
      ),
    );
    assert.equal(manifest.id, 'image-not-found');
    assert.match(manifest.message, /nvidia\/cuda:99\.0-base/);
  });

  it('no registry reachable (pull) -> registry-unreachable', () => {
    const err = Object.assign(
      new Error(
        '(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host ',
      ),
      { statusCode: 500, reason: 'server error', json: null },
    );
    const p = explainEngineError(err);
    assert.equal(p.id, 'registry-unreachable');
    assert.match(p.message, /registry-1\.docker\.io/);
  });

  it('CDI device names on an engine without CDI, and unresolvable CDI devices', () => {
    const p = explainEngineError(
      dockerodeError(
        500,
        'server error',
        'error gathering device information while adding custom device "nvidia.com/gpu=all": no such file or directory',
      ),
    );
    assert.equal(p.id, 'cdi-not-enabled');
    assert.match(p.fix, /nvidia-ctk cdi generate/);
    const q = explainEngineError(
      'docker: Error response from daemon: failed to create task for container: failed to create shim task: ' +
        'OCI runtime create failed: could not apply required modification to OCI specification: error modifying OCI spec: ' +
        'failed to inject CDI devices: unresolvable CDI devices nvidia.com/gpu=all: unknown.',
    );
    assert.equal(q.id, 'cdi-device-unresolvable');
    assert.match(q.message, /nvidia\.com\/gpu=all/);
  });

  it('engine not running: the socket does not exist (ENOENT), nothing listens (ECONNREFUSED), CLI text', () => {
    const enoent = explainEngineError(
      sysError('ENOENT', 'connect ENOENT /var/run/docker.sock', { address: '/var/run/docker.sock' }),
    );
    assert.equal(enoent.id, 'engine-unreachable');
    assert.equal(
      describeEngineProblem(enoent),
      'No Docker engine is running at /var/run/docker.sock (the socket does not exist): start it (`sudo systemctl ' +
        'start docker`, or start Docker Desktop) or set DOCKER_HOST to the address of a running engine.',
    );
    const refused = explainEngineError(
      sysError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:2375', { address: '127.0.0.1', port: 2375 }),
    );
    assert.equal(refused.id, 'engine-unreachable');
    assert.match(refused.message, /127\.0\.0\.1:2375 \(ECONNREFUSED\)/);
    const cli = explainEngineError(
      'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
    );
    assert.equal(cli.id, 'engine-unreachable');
    assert.match(cli.message, /unix:\/\/\/var\/run\/docker\.sock$/);
  });

  it('permission denied on the socket (EACCES, and the CLI text) -> the docker group', () => {
    const p = explainEngineError(
      sysError('EACCES', 'connect EACCES /var/run/docker.sock', { address: '/var/run/docker.sock' }),
    );
    assert.equal(p.id, 'engine-permission-denied');
    assert.equal(
      describeEngineProblem(p),
      'Permission denied on the Docker socket /var/run/docker.sock: add your user to the docker group ' +
        '(`sudo usermod -aG docker $USER`), then log out and back in.',
    );
    const cli = explainEngineError(
      'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get ' +
        '"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version": dial unix /var/run/docker.sock: connect: permission denied',
    );
    assert.equal(cli.id, 'engine-permission-denied');
    assert.match(cli.message, /unix:\/\/\/var\/run\/docker\.sock$/);
  });

  it('time limits, cancellation and anything else', () => {
    const t = explainEngineError(new EngineTimeoutError(2500, '/var/run/docker.sock'), {
      where: '/var/run/docker.sock',
    });
    assert.equal(t.id, 'engine-timeout');
    assert.equal(t.message, 'The Docker engine at /var/run/docker.sock did not answer within 2.5 s');
    assert.equal(explainEngineError(new CancellationError()).id, 'cancelled');
    const other = explainEngineError(
      dockerodeError(409, 'conflict', 'Conflict. The container name "/x" is already in use'),
    );
    assert.equal(other.id, 'engine-error');
    assert.equal(other.statusCode, 409);
    assert.match(describeEngineProblem(other), /^The Docker engine refused the request \(HTTP 409: Conflict/);
    assert.equal(explainEngineError(new Error('socket hang up')).id, 'engine-error');
    assert.equal(explainEngineError(undefined).id, 'engine-error');
  });
});
