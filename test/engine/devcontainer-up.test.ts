/**
 * The generated dev container opened the way VS Code's "Reopen in Container" opens it: with the reference
 * implementation of the spec, `@devcontainers/cli` (`devcontainer up`, then `devcontainer exec`), on the private test
 * engine. `ml-containers scaffold` (dist/cli.js) writes the files into a copy of tiny-train (no dependencies: nothing
 * is downloaded); the copy's devcontainer.json is then edited with jsonc-parser (comments kept): BASE_IMAGE becomes
 * mlc-test/debian-python:bookworm (registries are unreachable here), the cache volumes get names of this run (the
 * shared mlc-pip-cache… volumes are left alone) and hostRequirements.gpu is "optional", as the GPU scaffolds write it,
 * on an engine without GPUs.
 *
 * Twice: as root, and as a host user with uid/gid 4321, for which the CLI's updateRemoteUserUID remaps `vscode` to
 * 4321. That user runs the CLI through setpriv with the socket's own group as its only supplementary group (the
 * socket is root:docker 0660, as Docker grants non-root access: nothing on the engine changes, nothing to restore),
 * inside a private mount namespace (unshare) where /etc/passwd and /etc/group carry a line for it: the CLI asks the
 * system for the user's name (os.userInfo, then `id -u -n`) and fails for a uid without an entry, and the host's own
 * files stay as they are. Each time: training runs, the code is at /workspace, the user installs a wheel built here
 * into /opt/venv with pip, and the cache folders are the run's volumes and writable. Everything the test made
 * (containers, the CLI's images and the build's dangling train stage, volumes) is removed, and checked gone.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyEdits, modify, parse as parseJsonc } from 'jsonc-parser';
import { DEBIAN_PYTHON, DEBIAN_PYTHON_VERSION, ROOT, socketPathOf, testDockerHost } from './helpers';

const CLI = path.join(ROOT, 'dist', 'cli.js');
const DEVCONTAINER_JS = path.join(
  ROOT,
  'test',
  'devcontainers-cli',
  'node_modules',
  '@devcontainers',
  'cli',
  'devcontainer.js',
);
const HOST_UID = 4321;
const RUN = `mlc-test-dcup-${process.pid}`;
const WHEEL = 'mlc_dc_probe-0.1-py3-none-any.whl';
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(argv: string[], env: NodeJS.ProcessEnv = process.env, timeout = 120_000): Result {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env, timeout, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: String(r.stdout), stderr: `${r.error?.message ?? ''}${String(r.stderr)}` };
}

/** The first `name` on the PATH that is an executable file. */
function onPath(name: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .map((d) => path.join(d, name))
    .find((f) => {
      try {
        fs.accessSync(f, fs.constants.X_OK);
        return fs.statSync(f).isFile();
      } catch {
        return false;
      }
    });
}

let dockerBin = '';
/** `docker ARGS…` against the test engine. */
const dockerRun = (...args: string[]): Result =>
  run([dockerBin, ...args], { ...process.env, DOCKER_HOST: testDockerHost() });
/** `docker ARGS…` against the test engine; its stdout, or a failure with its stderr. */
function docker(...args: string[]): string {
  const r = dockerRun(...args);
  assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}
const lines = (s: string): string[] => s.split('\n').filter((l) => l);

/** The last lines of the CLI's log, for a failure message. */
const tail = (r: Result): string => `${r.stderr.trim().split('\n').slice(-15).join('\n')}\n${r.stdout.slice(-2000)}`;

/**
 * A wheel's files (a one-module package), with its RECORD: zipped in the container by the remote user's Python
 * (`python -m zipfile`), so the host needs no Python.
 */
function writeWheelSource(dir: string): void {
  const files: Record<string, string> = {
    'mlc_dc_probe/__init__.py': 'VALUE = "installed by the remote user"\n',
    'mlc_dc_probe-0.1.dist-info/METADATA': 'Metadata-Version: 2.1\nName: mlc-dc-probe\nVersion: 0.1\n',
    'mlc_dc_probe-0.1.dist-info/WHEEL':
      'Wheel-Version: 1.0\nGenerator: ml-containers-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  };
  const record = Object.entries(files).map(([rel, text]) => {
    const hash = crypto.createHash('sha256').update(text).digest('base64url');
    return `${rel},sha256=${hash},${Buffer.byteLength(text)}`;
  });
  files['mlc_dc_probe-0.1.dist-info/RECORD'] = `${[...record, 'mlc_dc_probe-0.1.dist-info/RECORD,,'].join('\n')}\n`;
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

/** What the remote user sees, printed by a fixed Python script in the container. */
const PROBE = `
import grp, json, os, pwd, sys
home = os.path.expanduser('~')
caches = {}
for d in ('pip', 'huggingface', 'torch'):
    p = os.path.join(home, '.cache', d)
    try:
        with open(os.path.join(p, '.mlc-write-check'), 'w') as f:
            f.write('x')
        os.remove(os.path.join(p, '.mlc-write-check'))
        caches[d] = True
    except OSError as e:
        caches[d] = str(e)
print(json.dumps({
    'uid': os.getuid(),
    'user': pwd.getpwuid(os.getuid()).pw_name,
    'groups': sorted(grp.getgrgid(g).gr_name for g in os.getgroups()),
    'home': home,
    'cwd': os.getcwd(),
    'prefix': sys.prefix,
    'version': '%d.%d' % sys.version_info[:2],
    'env': {k: os.environ.get(k) for k in ('PIP_CACHE_DIR', 'HF_HOME', 'TORCH_HOME', 'VIRTUAL_ENV')},
    'caches': caches,
}))
`;

interface Probe {
  uid: number;
  user: string;
  groups: string[];
  home: string;
  cwd: string;
  prefix: string;
  version: string;
  env: Record<string, string | null>;
  caches: Record<string, true | string>;
}

/** What the CLI's `up` printed last: its result as one JSON line. */
interface UpResult {
  outcome: string;
  containerId: string;
  remoteUser: string;
  remoteWorkspaceFolder: string;
}

/** One way of opening the dev container: as root, or as the host user HOST_UID through setpriv. */
interface Opener {
  name: string;
  /** The host uid the CLI runs as, and the uid the remote user ends up with. */
  hostUid: number;
  remoteUid: number;
  /** The workspace folder (the scaffolded copy). */
  ws: string;
  volumes: Record<'pip' | 'huggingface' | 'torch', string>;
  /** Runs `cmd` (an argv) on the host as this user. */
  as(cmd: string[], timeout?: number): Result;
}

/** Images and volumes made by the test, for the clean-up. */
const made = {
  containers: new Set<string>(),
  images: new Set<string>(),
  devParents: new Set<string>(),
  volumes: new Set<string>(),
};
let imagesBefore = new Set<string>();

const devcontainer = (o: Opener, args: string[], timeout = 300_000): Result =>
  o.as([process.execPath, DEVCONTAINER_JS, ...args], timeout);

/** `devcontainer exec` of a command as the remote user, in the workspace folder; fails with its output. */
function exec(o: Opener, ...cmd: string[]): string {
  const r = devcontainer(o, ['exec', '--workspace-folder', o.ws, '--docker-path', dockerBin, ...cmd], 120_000);
  assert.equal(r.status, 0, `devcontainer exec ${cmd.join(' ')} (${o.name}) failed:\n${tail(r)}`);
  return r.stdout;
}

/** Scaffolds a copy of tiny-train at `ws` and edits its devcontainer.json for this engine and this run. */
function scaffoldCopy(ws: string, volumes: Opener['volumes']): void {
  fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'projects-build', 'tiny-train'), ws, { recursive: true });
  const r = run([process.execPath, CLI, 'scaffold', ws, '--python', DEBIAN_PYTHON_VERSION], process.env, 60_000);
  assert.equal(r.status, 0, `ml-containers scaffold ${ws}: ${r.stderr}`);
  const file = path.join(ws, '.devcontainer', 'devcontainer.json');
  let text = fs.readFileSync(file, 'utf8');
  const comments = (s: string): string[] => s.split('\n').filter((l) => l.trim().startsWith('//'));
  const before = comments(text);
  const config = parseJsonc(text) as { mounts: string[]; build: { args: Record<string, string> } };
  assert.equal(config.build.args.BASE_IMAGE, `python:${DEBIAN_PYTHON_VERSION}-slim-bookworm`);
  const fmt = { formattingOptions: { insertSpaces: true, tabSize: 2 } };
  text = applyEdits(text, modify(text, ['build', 'args', 'BASE_IMAGE'], DEBIAN_PYTHON, fmt));
  text = applyEdits(text, modify(text, ['hostRequirements'], { gpu: 'optional' }, fmt));
  config.mounts.forEach((m, i) => {
    const kind = (['pip', 'huggingface', 'torch'] as const).find((k) => m.includes(`/.cache/${k},`));
    assert.ok(kind && /^source=mlc-[a-z]+-cache,/.test(m), `unexpected mount ${m}`);
    text = applyEdits(text, modify(text, ['mounts', i], m.replace(/^source=[^,]+,/, `source=${volumes[kind]},`), fmt));
  });
  assert.deepEqual(comments(text), before, 'the comments are kept');
  fs.writeFileSync(file, text);
}

function asRoot(tmp: string): Opener {
  const ws = path.join(tmp, 'root', 'tiny-train');
  const home = path.join(tmp, 'root', 'home');
  fs.mkdirSync(home, { recursive: true });
  const env = { PATH: process.env.PATH, HOME: home, TMPDIR: home, DOCKER_HOST: testDockerHost() };
  return {
    name: 'root',
    hostUid: 0,
    remoteUid: 1000,
    ws,
    volumes: volumeNames('root'),
    as: (cmd, timeout) => run(cmd, env, timeout),
  };
}

/**
 * The host user HOST_UID (group HOST_UID), in a private mount namespace whose /etc/passwd and /etc/group name it,
 * with the engine socket's group as its supplementary group. Its folder (home, workspace) is its own.
 */
function asHostUser(tmp: string, socketGid: number): Opener {
  const base = path.join(tmp, `uid-${HOST_UID}`);
  const ws = path.join(base, 'tiny-train');
  const home = path.join(base, 'home');
  fs.mkdirSync(home, { recursive: true });
  const passwd = path.join(tmp, 'passwd');
  const group = path.join(tmp, 'group');
  fs.writeFileSync(
    passwd,
    `${fs.readFileSync('/etc/passwd', 'utf8')}mlc-dc-test:x:${HOST_UID}:${HOST_UID}::${home}:/bin/sh\n`,
  );
  fs.writeFileSync(group, `${fs.readFileSync('/etc/group', 'utf8')}mlc-dc-test:x:${HOST_UID}:\n`);
  const env = { PATH: process.env.PATH, HOME: home, TMPDIR: home, DOCKER_HOST: testDockerHost() };
  // a fixed script; every value is an argument
  const script =
    'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && u=$3 s=$4 && shift 4 && ' +
    'exec setpriv --reuid="$u" --regid="$u" --groups="$s" -- "$@"';
  return {
    name: `host uid ${HOST_UID}`,
    hostUid: HOST_UID,
    remoteUid: HOST_UID,
    ws,
    volumes: volumeNames(`u${HOST_UID}`),
    as: (cmd, timeout) =>
      run(
        [
          'unshare',
          '--mount',
          '--propagation',
          'private',
          '--',
          'sh',
          '-c',
          script,
          'sh',
          passwd,
          group,
          String(HOST_UID),
          String(socketGid),
          ...cmd,
        ],
        env,
        timeout,
      ),
  };
}

/**
 * Gives the host user its folder (home, workspace) and checks what it needs: a name, the CLI (readable from its
 * folder) and the engine through the socket's group.
 */
function handOver(o: Opener): void {
  const chown = run(['chown', '-R', `${o.hostUid}:${o.hostUid}`, path.dirname(o.ws)]);
  assert.equal(chown.status, 0, chown.stderr);
  const who = o.as(['id', '-un']);
  assert.equal(who.stdout.trim(), 'mlc-dc-test', `uid ${HOST_UID} has no name in its namespace: ${who.stderr}`);
  const cli = o.as([process.execPath, DEVCONTAINER_JS, '--version']);
  assert.equal(
    cli.status,
    0,
    `uid ${HOST_UID} cannot run ${DEVCONTAINER_JS} (a folder above it closed?): ${cli.stderr}`,
  );
  const engine = o.as([dockerBin, 'version', '-f', '{{.Server.Version}}']);
  assert.equal(
    engine.status,
    0,
    `uid ${HOST_UID} cannot reach the engine through the socket's group: ${engine.stderr}`,
  );
}

function volumeNames(who: string): Opener['volumes'] {
  const v = { pip: `${RUN}-${who}-pip`, huggingface: `${RUN}-${who}-hf`, torch: `${RUN}-${who}-torch` };
  Object.values(v).forEach((n) => made.volumes.add(n));
  return v;
}

/** Every image ID on the engine (intermediate ones too) with its parent. */
function imageParents(): Map<string, string> {
  const ids = lines(docker('images', '-aq', '--no-trunc'));
  const out = new Map<string, string>();
  if (ids.length === 0) return out;
  for (const l of lines(docker('image', 'inspect', '-f', '{{.Id}} {{.Parent}}', ...new Set(ids)))) {
    const [id, parent] = l.split(' ');
    out.set(id!, parent ?? '');
  }
  return out;
}

/**
 * The images this test's builds left: the CLI's tagged images, and the images built since the test began that descend
 * from one of its dev stages (the classic builder also builds the Dockerfile's train stage and leaves it untagged).
 */
function leftImages(): { tagged: string[]; untagged: string[] } {
  const parents = imageParents();
  const descends = (id: string): boolean => {
    for (let p = parents.get(id); p; p = parents.get(p)) if (made.devParents.has(p)) return true;
    return false;
  };
  const tagged = [...made.images].filter((ref) => dockerRun('image', 'inspect', ref).status === 0);
  // the dev stage under each image of the CLI (also when a test failed before it was noted)
  for (const ref of tagged.filter((r) => !r.endsWith('-uid'))) {
    made.devParents.add(docker('image', 'inspect', '-f', '{{.Parent}}', ref));
  }
  const dangling = new Set(lines(docker('images', '-q', '--no-trunc', '--filter', 'dangling=true')));
  const untagged = [...parents.keys()].filter((id) => dangling.has(id) && !imagesBefore.has(id) && descends(id));
  return { tagged, untagged };
}

/** Removes the containers, images and volumes of this test; returns what could not be removed. */
function cleanUp(): string[] {
  const failed: string[] = [];
  const rm = (...args: string[]): void => {
    const r = dockerRun(...args);
    if (r.status !== 0 && !/No such (container|image|volume)/i.test(r.stderr)) {
      failed.push(`docker ${args.join(' ')}: ${r.stderr.trim()}`);
    }
  };
  for (const folder of made.containers) {
    const ids = lines(docker('ps', '-aq', '--filter', `label=devcontainer.local_folder=${folder}`));
    for (const id of ids) rm('rm', '-f', '-v', id);
  }
  const { tagged, untagged } = leftImages();
  for (const id of untagged) rm('rmi', id);
  // the -uid image first: it is a child of the other
  for (const ref of tagged.sort((a, b) => b.length - a.length)) rm('rmi', ref);
  const volumes = new Set(lines(docker('volume', 'ls', '-q')));
  for (const v of made.volumes) if (volumes.has(v)) rm('volume', 'rm', v);
  return failed;
}

describe('Generated dev container opened with @devcontainers/cli (devcontainer up) on the test engine', function () {
  this.timeout(600_000);
  let tmp = '';
  let socketGid = 0;
  const timings: string[] = [];

  before(function () {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: build the CLI first (npm run build)`);
    assert.ok(
      fs.existsSync(DEVCONTAINER_JS),
      `@devcontainers/cli is not installed (${path.relative(ROOT, DEVCONTAINER_JS)}): install it with ` +
        '`npm ci --prefix test/devcontainers-cli` (pinned in test/devcontainers-cli/package-lock.json)',
    );
    dockerBin = onPath('docker') ?? assert.fail('the docker CLI is not on the PATH: the dev container CLI runs it');
    for (const tool of ['unshare', 'setpriv', 'mount']) {
      assert.ok(
        onPath(tool),
        `${tool} (util-linux) is not on the PATH: the test runs the CLI as uid ${HOST_UID} with it`,
      );
    }
    assert.equal(
      process.getuid?.(),
      0,
      'this test runs as root: it opens the dev container as root and as another user',
    );
    const has = dockerRun('image', 'inspect', DEBIAN_PYTHON);
    assert.equal(
      has.status,
      0,
      `the image ${DEBIAN_PYTHON} is not on the test engine at ${testDockerHost()}: ` +
        '`MLC_DEBIAN_PYTHON=1 bash scripts/docker-engine-up.sh` builds it with debootstrap (see ' +
        `.vscode-test/docker/logs/debootstrap.log)\n${has.stderr}`,
    );
    const sock = fs.statSync(socketPathOf(testDockerHost()));
    assert.equal(
      sock.mode & 0o060,
      0o060,
      `the engine socket is not readable and writable by its group (mode ${(sock.mode & 0o777).toString(8)}): the ` +
        `test gives uid ${HOST_UID} that group to reach the engine`,
    );
    socketGid = sock.gid;
    imagesBefore = new Set(imageParents().keys());
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-devcontainer-up-'));
    fs.chmodSync(tmp, 0o755);
  });

  after(function () {
    const failed = dockerBin ? cleanUp() : [];
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    if (timings.length) console.log(`      timings: ${timings.join(', ')}`);
    assert.deepEqual(failed, [], 'the clean-up removed everything');
  });

  const openers: ((tmp: string) => Opener)[] = [asRoot, (t) => asHostUser(t, socketGid)];
  for (const [n, make] of openers.entries()) {
    describe(n === 0 ? 'as root' : `as a host user with uid ${HOST_UID} (vscode remapped to it)`, function () {
      let o: Opener;
      let up: UpResult;
      let probe: Probe;

      before(function () {
        o = make(tmp);
        scaffoldCopy(o.ws, o.volumes);
        writeWheelSource(path.join(o.ws, 'wheel-src'));
        if (o.hostUid !== 0) handOver(o);
        made.containers.add(o.ws);
        // the CLI names its image after the workspace folder (and adds -uid for the image with the remapped user)
        const image = `vsc-${path.basename(o.ws)}-${crypto.createHash('sha256').update(o.ws).digest('hex')}`;
        made.images.add(image).add(`${image}-uid`);
        const t0 = Date.now();
        const r = devcontainer(o, ['up', '--workspace-folder', o.ws, '--docker-path', dockerBin]);
        timings.push(`up (${o.name}) ${secs(Date.now() - t0)}`);
        const last = lines(r.stdout).pop() ?? '{}';
        up = JSON.parse(last.startsWith('{') ? last : '{}') as UpResult;
        assert.equal(r.status, 0, `devcontainer up (${o.name}) failed:\n${tail(r)}`);
        assert.equal(up.outcome, 'success', tail(r));
        assert.equal(docker('inspect', '-f', '{{.Config.Image}}', up.containerId), `${image}-uid`);
        made.devParents.add(docker('image', 'inspect', '-f', '{{.Parent}}', image));
        probe = JSON.parse(exec(o, 'python', '-c', PROBE)) as Probe;
      });

      it('comes up: running, no GPU requested on an engine without GPUs, the code at /workspace', function () {
        const state = JSON.parse(docker('inspect', up.containerId))[0] as {
          State: { Running: boolean };
          HostConfig: { DeviceRequests: unknown[] | null };
          Mounts: { Type: string; Name?: string; Source: string; Destination: string }[];
        };
        assert.equal(state.State.Running, true);
        assert.deepEqual(
          state.HostConfig.DeviceRequests ?? [],
          [],
          'hostRequirements.gpu "optional" asks for no GPU here',
        );
        assert.equal(up.remoteUser, 'vscode');
        assert.equal(up.remoteWorkspaceFolder, '/workspace');
        assert.equal(probe.cwd, '/workspace');
        const bind = state.Mounts.find((m) => m.Destination === '/workspace');
        assert.equal(bind?.Type, 'bind');
        assert.equal(fs.realpathSync(bind.Source), fs.realpathSync(o.ws));
        const volumes = Object.fromEntries(
          state.Mounts.filter((m) => m.Type === 'volume').map((m) => [m.Destination, m.Name]),
        );
        assert.deepEqual(volumes, {
          '/home/vscode/.cache/pip': o.volumes.pip,
          '/home/vscode/.cache/huggingface': o.volumes.huggingface,
          '/home/vscode/.cache/torch': o.volumes.torch,
        });
      });

      it(`the remote user is vscode with uid ${n === 0 ? 1000 : HOST_UID}, in the venv of Python ${DEBIAN_PYTHON_VERSION}`, function () {
        assert.equal(probe.user, 'vscode');
        assert.equal(probe.uid, o.remoteUid);
        assert.ok(probe.groups.includes('mlc-env'), `groups: ${probe.groups.join(', ')}`);
        assert.equal(probe.home, '/home/vscode');
        assert.equal(probe.prefix, '/opt/venv');
        assert.equal(probe.version, DEBIAN_PYTHON_VERSION);
      });

      it('trains: python train.py --epochs 1 prints its epoch and loss lines', function () {
        const out = exec(o, 'python', 'train.py', '--epochs', '1');
        assert.match(out, /^epoch 1 loss \d+\.\d+$/m);
        assert.match(out, /^done$/m);
      });

      if (n === 1) {
        it(`files the training writes in /workspace belong to uid ${HOST_UID} on the host`, function () {
          const out = exec(
            o,
            'sh',
            '-c',
            'python train.py --epochs 1 > train.log && mkdir -p runs/1 && cp train.log runs/1/',
          );
          assert.equal(out, '');
          for (const rel of ['train.log', 'runs', 'runs/1/train.log']) {
            const st = fs.statSync(path.join(o.ws, rel));
            assert.deepEqual([st.uid, st.gid], [HOST_UID, HOST_UID], `${rel} on the host`);
          }
          assert.match(fs.readFileSync(path.join(o.ws, 'train.log'), 'utf8'), /^epoch 1 loss \d+\.\d+$/m);
        });
      }

      it('pip installs a local wheel (built in the container from files made here) into /opt/venv as the remote user', function () {
        // built in a folder of the remote user's: as root on the host, the mounted project is root's and read-only to it
        const pip = exec(
          o,
          'sh',
          '-c',
          `d=$(mktemp -d) && cd wheel-src && python -m zipfile -c "$d/${WHEEL}" mlc_dc_probe mlc_dc_probe-0.1.dist-info ` +
            `&& pip install --no-index --no-deps "$d/${WHEEL}"`,
        );
        assert.match(pip, /Successfully installed mlc-dc-probe-0\.1/);
        const where = exec(
          o,
          'python',
          '-c',
          'import mlc_dc_probe as m, os; print(m.VALUE); print(m.__file__); print(os.stat(m.__file__).st_uid)',
        );
        assert.deepEqual(lines(where), [
          'installed by the remote user',
          `/opt/venv/lib/python${DEBIAN_PYTHON_VERSION}/site-packages/mlc_dc_probe/__init__.py`,
          String(o.remoteUid),
        ]);
      });

      it('the cache folders are the named volumes and writable by the remote user', function () {
        assert.deepEqual(probe.caches, { pip: true, huggingface: true, torch: true });
        assert.deepEqual(probe.env, {
          PIP_CACHE_DIR: '/home/vscode/.cache/pip',
          HF_HOME: '/home/vscode/.cache/huggingface',
          TORCH_HOME: '/home/vscode/.cache/torch',
          VIRTUAL_ENV: '/opt/venv',
        });
      });
    });
  }

  describe('clean-up', function () {
    it('removes every container, image and volume the test made', function () {
      assert.equal(made.containers.size, 2, 'both dev containers were opened');
      assert.deepEqual(cleanUp(), []);
      for (const folder of made.containers) {
        assert.deepEqual(lines(docker('ps', '-aq', '--filter', `label=devcontainer.local_folder=${folder}`)), []);
      }
      assert.deepEqual(leftImages(), { tagged: [], untagged: [] });
      const volumes = lines(docker('volume', 'ls', '-q')).filter((v) => v.startsWith(RUN));
      assert.deepEqual(volumes, []);
    });
  });
});
