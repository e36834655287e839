// The caching PyPI mirror the image builds of the tests download through (scripts/pypi-mirror-up.sh): pip gets the
// simple index and the package files from it, the files land in its cache outside the project, a second instance on
// the same cache that never contacts upstream serves them again, and a container on the test engine with the host's
// network downloads through it. Started here when it is not running yet (and then stopped here too).
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { connectEngine } from '../../src/core/docker';
import { DEBIAN_PYTHON, ROOT, requireImage, runOnce, testDockerHost } from './helpers';
import { freePort } from '../support/wait';

const WHEEL = 'six-1.16.0-py2.py3-none-any.whl';
/** The sha256 PyPI publishes for six 1.16.0's wheel. */
const WHEEL_SHA256 = '8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254';

interface Mirror {
  indexUrl: string;
  cache: string;
  out: string;
}

/** Runs a mirror script (bash, argv array) with extra environment; fails with its output when it fails. */
function script(name: string, env: Record<string, string> = {}): string {
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', name)], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  assert.strictEqual(r.status, 0, `${name} failed:\n${out}`);
  return out;
}

function mirrorUp(env: Record<string, string> = {}): Mirror {
  const out = script('pypi-mirror-up.sh', env);
  const lines = out.trim().split('\n');
  const indexUrl = /^PIP_INDEX_URL=(\S+)$/.exec(lines.at(-1) ?? '')?.[1];
  const cache = /^MLC_PYPI_MIRROR_CACHE=(.+)$/m.exec(out)?.[1];
  assert.ok(
    indexUrl && cache,
    `pypi-mirror-up.sh did not end with MLC_PYPI_MIRROR_CACHE=… and PIP_INDEX_URL=…:\n${out}`,
  );
  return { indexUrl, cache, out };
}

/** `pip download --no-deps six==1.16.0` from `indexUrl` into a new folder, no pip cache and no host pip settings. */
function pipDownload(indexUrl: string, dir: string): { status: number | null; out: string } {
  const r = spawnSync(
    'python3',
    ['-m', 'pip', '--isolated', 'download', '--no-cache-dir', '--no-deps', '--timeout', '60', '--retries', '0',
      'six==1.16.0', '-d', dir, '--index-url', indexUrl], // prettier-ignore
    { encoding: 'utf8', timeout: 120_000 },
  );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The copies of the wheel in the mirror's cache (devpi keeps files under +files/<user>/<index>/+f/…). */
function cachedCopies(cache: string): string[] {
  const top = path.join(cache, '+files', 'root', 'pypi', '+f');
  if (!fs.existsSync(top)) return [];
  return (fs.readdirSync(top, { recursive: true }) as string[])
    .filter((f) => path.basename(f) === WHEEL)
    .map((f) => path.join(top, f));
}

describe('caching PyPI mirror (scripts/pypi-mirror-up.sh)', function () {
  this.timeout(300_000);
  let mirror: Mirror;
  let startedHere = false;
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-pypi-mirror-'));
    mirror = mirrorUp();
    startedHere = !mirror.out.includes('(reused)');
  });
  after(() => {
    if (startedHere) script('pypi-mirror-down.sh', { MLC_PYPI_MIRROR_PORT: new URL(mirror.indexUrl).port });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the simple index and the files through itself, and keeps the files in its cache', () => {
    assert.match(mirror.indexUrl, /^http:\/\/127\.0\.0\.1:\d+\/root\/pypi\/\+simple\/$/);
    const { status, out } = pipDownload(mirror.indexUrl, path.join(dir, 'online'));
    assert.strictEqual(status, 0, out);
    // the file link points at the mirror, not at files.pythonhosted.org
    assert.match(out, new RegExp(`Downloading ${new URL(mirror.indexUrl).origin}/root/pypi/\\S+/${WHEEL}`), out);
    assert.strictEqual(sha256(path.join(dir, 'online', WHEEL)), WHEEL_SHA256);
    const copies = cachedCopies(mirror.cache);
    assert.ok(copies.length > 0, `${WHEEL} is not in the cache ${mirror.cache}`);
    assert.deepStrictEqual(
      copies.map((f) => sha256(f)),
      copies.map(() => WHEEL_SHA256),
    );
  });

  it('serves what its cache holds with no upstream: a second instance on the same cache in offline mode', async () => {
    const port = String(await freePort());
    const offline = mirrorUp({ MLC_PYPI_MIRROR_OFFLINE: '1', MLC_PYPI_MIRROR_PORT: port });
    try {
      assert.match(offline.out, /, offline/);
      assert.strictEqual(offline.cache, mirror.cache);
      // a project it never fetched: refused as offline (502), where an online mirror asks PyPI and says 404
      const never = await fetch(`${offline.indexUrl}mlc-never-published-${Date.now()}/`);
      assert.strictEqual(never.status, 502);
      const { status, out } = pipDownload(offline.indexUrl, path.join(dir, 'offline'));
      assert.strictEqual(status, 0, out);
      assert.strictEqual(sha256(path.join(dir, 'offline', WHEEL)), WHEEL_SHA256);
    } finally {
      script('pypi-mirror-down.sh', { MLC_PYPI_MIRROR_PORT: port });
    }
    // its log is kept when the test fails, dropped when it passes (a new port each run)
    fs.rmSync(path.join(ROOT, '.vscode-test', 'pypi-mirror', `mirror-${port}.log`), { force: true });
    assert.notStrictEqual((await fetch(`${offline.indexUrl}six/`).catch(() => null))?.status, 200);
  });

  it('is reachable from a container on the test engine with the host network', async () => {
    const docker = await connectEngine({ env: { DOCKER_HOST: testDockerHost() } }).docker();
    await requireImage(
      docker,
      DEBIAN_PYTHON,
      'start the engine with MLC_DEBIAN_PYTHON=1 bash scripts/docker-engine-up.sh',
    );
    const r = await runOnce(docker, {
      Image: DEBIAN_PYTHON,
      Cmd: ['sh', '-c', 'python3 -m pip download --no-cache-dir --no-deps --timeout 60 six==1.16.0 -d /tmp/dl --index-url "$1" && sha256sum /tmp/dl/*.whl', 'sh', mirror.indexUrl], // prettier-ignore
      Labels: { 'org.ml-containers.test': `pypi-mirror-${process.pid}` },
      HostConfig: { NetworkMode: 'host' },
    });
    assert.strictEqual(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Downloading ${new URL(mirror.indexUrl).origin}/`));
    assert.match(r.stdout, new RegExp(`^${WHEEL_SHA256}  /tmp/dl/${WHEEL.replace(/\./g, '\\.')}$`, 'm'));
  });
});
