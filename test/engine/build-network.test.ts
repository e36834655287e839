/**
 * Builds and runs behind a TLS-inspecting proxy, for real. This machine reaches https://pypi.org only through a proxy
 * that re-signs TLS with a CA the host trusts (SSL_CERT_FILE, PIP_CERT) and images do not. A tiny Dockerfile FROM
 * mlc-test/debian-python:bookworm downloads six with pip in a step written as the generated Dockerfile writes its
 * download steps (MLC_CA_BUNDLE trusted for that step only, from a temporary bundle deleted when the step's shell
 * exits). Built with buildTarget, the product's own build: without the host's settings pip fails on the certificate;
 * with them it downloads, and no layer keeps the CA. A run made with runSpecFor gets the CA mounted and reaches PyPI.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { connectEngine, type EngineClient } from '../../src/core/docker';
import { CONTAINER_CA_FILE, hostNetworkSettings } from '../../src/core/network';
import { BuildError, buildTarget } from '../../src/core/runs/build';
import { runSpecFor } from '../../src/core/runs/prepare';
import { containerCreateOptions } from '../../src/core/runs/spec';
import { DEBIAN_PYTHON, requireImage, runOnce, testDockerHost } from './helpers';

/** The download step's preamble, as the generated Dockerfile's: the CA for this step only, pip's index for uv. */
const FETCH_SCRIPT = `if [ -n "$MLC_CA_BUNDLE" ]; then
  MLC_BUNDLE=$(mktemp); trap 'rm -f "$MLC_BUNDLE"' EXIT
  cat /etc/ssl/certs/ca-certificates.crt > "$MLC_BUNDLE" 2>/dev/null || true
  printf "%s\\n" "$MLC_CA_BUNDLE" >> "$MLC_BUNDLE"
  export SSL_CERT_FILE="$MLC_BUNDLE" PIP_CERT="$MLC_BUNDLE" REQUESTS_CA_BUNDLE="$MLC_BUNDLE" CURL_CA_BUNDLE="$MLC_BUNDLE"
fi
if [ -n "$PIP_INDEX_URL" ]; then export UV_INDEX_URL="$PIP_INDEX_URL"; fi
if [ -n "$PIP_EXTRA_INDEX_URL" ]; then export UV_EXTRA_INDEX_URL="$PIP_EXTRA_INDEX_URL"; fi
`;

const PIP_DOWNLOAD = ['pip', 'download', '--no-deps', '--retries', '0', '--timeout', '60', '-d'];

/** A project whose Dockerfile's `dev` stage downloads six 1.16.0 from PyPI; `nonce` makes its step new each time. */
function project(dir: string, nonce: string): void {
  fs.writeFileSync(path.join(dir, 'mlc-fetch.sh'), FETCH_SCRIPT);
  fs.writeFileSync(
    path.join(dir, 'Dockerfile'),
    [
      `FROM ${DEBIAN_PYTHON} AS dev`,
      'COPY mlc-fetch.sh /usr/local/lib/mlc-fetch.sh',
      'ARG MLC_CA_BUNDLE',
      'ARG PIP_INDEX_URL',
      'ARG PIP_EXTRA_INDEX_URL',
      'ARG PIP_TRUSTED_HOST',
      `ENV MLC_TEST_NONCE=${nonce}`,
      `RUN . /usr/local/lib/mlc-fetch.sh && ${PIP_DOWNLOAD.join(' ')} /opt/wheels six==1.16.0`,
      '',
    ].join('\n'),
  );
}

/** `sh -c` in an image, the container removed afterwards: its exit code and output. */
async function sh(docker: Docker, image: string, script: string, extra: Docker.ContainerCreateOptions = {}) {
  return runOnce(docker, { Image: image, Entrypoint: [], Cmd: ['sh', '-c', script], ...extra, Tty: false });
}

describe('Builds and runs through a TLS-inspecting proxy with the host network settings', function () {
  this.timeout(600_000);
  let client: EngineClient;
  let docker: Docker;
  let dir = '';
  const tags: string[] = [];

  before(async function () {
    client = connectEngine({ env: { ...process.env, DOCKER_HOST: testDockerHost() } });
    docker = await client.docker();
    await requireImage(docker, DEBIAN_PYTHON, 'run `MLC_DEBIAN_PYTHON=1 bash scripts/docker-engine-up.sh`');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-build-network-'));
  });

  after(async function () {
    const remove = (tag: string): Promise<unknown> =>
      docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
    for (const tag of tags) await remove(tag);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('this host configures a CA that images lack (the precondition of the tests below)', async function () {
    const settings = await hostNetworkSettings();
    assert.deepEqual(settings.problems, []);
    assert.ok(settings.buildArgs.MLC_CA_BUNDLE, `no MLC_CA_BUNDLE: ${settings.notes.join(' ')}`);
  });

  it('without the host settings the download step fails on the certificate', async function () {
    project(dir, randomBytes(8).toString('hex'));
    const tag = `mlc-test/build-network:off-${process.pid}`;
    tags.push(tag);
    const lines: string[] = [];
    const err = await buildTarget(client, {
      projectRoot: dir,
      target: 'dev',
      tag,
      hostNetwork: false,
      onProgress: (l) => lines.push(l),
    }).then(
      () => assert.fail('the build downloaded through the proxy without its CA'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof BuildError, String(err));
    assert.match(err.logTail, /CERTIFICATE_VERIFY_FAILED|certificate verify failed/);
    assert.ok(!lines.some((l) => l.startsWith('Builds trust')), 'no CA is passed');
  });

  it('with them it downloads, and no layer keeps the CA', async function () {
    project(dir, randomBytes(8).toString('hex'));
    const tag = `mlc-test/build-network:on-${process.pid}`;
    tags.push(tag);
    const lines: string[] = [];
    const built = await buildTarget(client, { projectRoot: dir, target: 'dev', tag, onProgress: (l) => lines.push(l) });
    assert.ok(
      lines.some((l) => /^Builds trust \d+ CA certificate\(s\) of .*\(MLC_CA_BUNDLE\)\.$/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /Saved .*six-1\.16\.0-py2\.py3-none-any\.whl/.test(l)),
      lines.join('\n'),
    );
    const bundle = 'sha256sum /etc/ssl/certs/ca-certificates.crt | cut -c1-64';
    const base = await sh(docker, DEBIAN_PYTHON, bundle);
    const after = await sh(docker, built.imageId, `${bundle}; ls /opt/wheels; ls -A /tmp | wc -l`);
    assert.equal(after.exitCode, 0, after.stderr);
    assert.deepEqual(after.stdout.trim().split('\n'), [base.stdout.trim(), 'six-1.16.0-py2.py3-none-any.whl', '0']);
  });

  it('a run gets the CA mounted read-only with the variables, and reaches PyPI', async function () {
    const spec = await runSpecFor(
      { projectRoot: dir, command: [], gpus: { kind: 'none' } },
      { image: DEBIAN_PYTHON, mountWorkspace: false },
    );
    assert.ok(spec.network?.caFile, 'the run has a CA bundle');
    const opts = containerCreateOptions(spec, 'network-test', `mlc-build-network-${process.pid}`);
    const script = `${PIP_DOWNLOAD.join(' ')} /tmp/w six==1.16.0 && touch ${CONTAINER_CA_FILE}`;
    const withCa = await sh(docker, DEBIAN_PYTHON, script, {
      Env: opts.Env,
      HostConfig: { Mounts: opts.HostConfig.Mounts },
    });
    assert.match(withCa.stdout + withCa.stderr, /Saved .*six-1\.16\.0/);
    assert.match(withCa.stderr, /Read-only file system/, 'the bundle is mounted read-only');
    assert.ok(opts.Env?.includes(`SSL_CERT_FILE=${CONTAINER_CA_FILE}`));
    const without = await sh(docker, DEBIAN_PYTHON, script);
    assert.match(without.stdout + without.stderr, /CERTIFICATE_VERIFY_FAILED|certificate verify failed/);
  });
});
