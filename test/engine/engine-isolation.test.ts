/**
 * Issue 13: the test engine's scripts never touch another Docker engine's state. A second, "other" engine owns docker0
 * (a plain dockerd that this test starts under /tmp, or the engine that already owns docker0 on this machine) and runs
 * a container with a published port; then a whole scripts/docker-engine-up.sh + a container on the test engine +
 * scripts/docker-engine-down.sh runs for a folder of its own. docker0 must keep its address, every iptables rule of the
 * other engine must stay (a dockerd started with iptables on flushes the DOCKER chains of every engine), the other
 * engine's container keeps running and a new one starts there; the test engine's own bridge and rules go with it.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rawGet, ROOT } from './helpers';

/** Debian's docker CLI, the release of the engine (the scripts use it too). */
const DOCKER = '/usr/bin/docker';
const IMAGE = 'mlc-test/isolation-busybox:latest';

interface Ran {
  status: number | null;
  out: string;
}

/** A command (argv array) with its stdout and stderr together; throws with its output when it fails and `check`. */
function sh(argv: string[], opts: { env?: NodeJS.ProcessEnv; check?: boolean; timeoutMs?: number } = {}): Ran {
  const [cmd = '', ...args] = argv;
  const r = spawnSync(cmd, args, {
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`;
  if ((opts.check ?? true) && r.status !== 0) {
    throw new Error(`${argv.join(' ')} exited with ${r.status}:\n${out.slice(-3000)}`);
  }
  return { status: r.status, out };
}

/** The docker CLI against one engine. */
function docker(host: string, args: string[], check = true): Ran {
  return sh([DOCKER, ...args], { env: { ...process.env, DOCKER_HOST: host }, check });
}

/** docker0's IPv4 address with its prefix (172.17.0.1/16), or null when there is no docker0. */
function docker0Address(): string | null {
  const r = sh(['ip', '-4', '-o', 'addr', 'show', 'dev', 'docker0'], { check: false });
  if (r.status !== 0) return null;
  return /\binet (\S+)/.exec(r.out)?.[1] ?? '';
}

/** The rules and chains of iptables-save (filter and nat), without counters, comments and table markers. */
function iptablesRules(): string[] {
  return sh(['iptables-save'])
    .out.split('\n')
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ''))
    .filter((l) => l.startsWith('-A ') || l.startsWith(':') || l.startsWith('*'));
}

/** The rules of `before` that `now` lacks. */
function missing(before: string[], now: string[]): string[] {
  const have = new Set(now);
  return before.filter((l) => !have.has(l));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function pinged(socketPath: string): Promise<boolean> {
  try {
    return (await rawGet(socketPath, '/_ping')).body === 'OK';
  } catch {
    return false;
  }
}

/** A live process that is not a zombie. */
function alive(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
  } catch {
    return false;
  }
}

/** Mount points under a folder, deepest first (/proc/mounts escapes spaces as \ooo). */
function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) =>
      (l.split(' ')[1] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))),
    )
    .filter((m) => m.startsWith(`${dir}/`))
    .sort()
    .reverse();
}

/** The other engine: the one that owns docker0. */
interface OtherEngine {
  host: string;
  /** Set when this test started it (then it stops it again); its folder under /tmp. */
  dir?: string;
  pid?: number;
  /** Host state before this test started it, restored when it stops. */
  ipForward?: string;
  forwardPolicy?: string;
}

/** The unix sockets that running dockerd processes listen on (their --host / -H arguments), and DOCKER_HOST's. */
function engineSockets(): string[] {
  const sockets = new Set<string>(['/var/run/docker.sock']);
  if (process.env.DOCKER_HOST?.startsWith('unix://')) sockets.add(process.env.DOCKER_HOST.slice('unix://'.length));
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    if (path.basename(argv[0] ?? '') !== 'dockerd') continue;
    argv.forEach((a, i) => {
      const value = a === '--host' || a === '-H' ? argv[i + 1] : /^(?:--host|-H)=(.*)$/.exec(a)?.[1];
      if (value?.startsWith('unix://')) sockets.add(value.slice('unix://'.length));
    });
  }
  return [...sockets];
}

/** An engine that answers on a socket and whose default bridge network is docker0. */
async function engineOwningDocker0(): Promise<string | null> {
  for (const s of engineSockets()) {
    try {
      const res = await rawGet(s, '/networks/bridge');
      const net = JSON.parse(res.body) as { Options?: Record<string, string> };
      if (res.status === 200 && net.Options?.['com.docker.network.bridge.name'] === 'docker0') return `unix://${s}`;
    } catch {
      // not an engine, or not this one's docker0
    }
  }
  return null;
}

/** Starts a plain dockerd (default bridge docker0, iptables on) on its own socket, data root and exec root. */
async function startOtherEngine(): Promise<OtherEngine> {
  const dir = fs.mkdtempSync('/tmp/mlc-other-');
  const sock = path.join(dir, 'docker.sock');
  const other: OtherEngine = {
    host: `unix://${sock}`,
    dir,
    ipForward: fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
    forwardPolicy: /^-P FORWARD (\S+)/m.exec(sh(['iptables', '-S', 'FORWARD']).out)?.[1] ?? 'ACCEPT',
  };
  const log = fs.openSync(path.join(dir, 'dockerd.log'), 'w');
  const child = spawn(
    '/usr/sbin/dockerd',
    [
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '--pidfile',
      path.join(dir, 'docker.pid'),
      '--host',
      other.host,
      '--containerd-namespace',
      'mlc-other',
      '--containerd-plugins-namespace',
      'mlc-other-plugins',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  child.unref();
  other.pid = child.pid;
  for (let i = 0; i < 300 && !(await pinged(sock)); i++) {
    if (!other.pid || !alive(other.pid)) break;
    await sleep(100);
  }
  if (!(await pinged(sock))) {
    const tail = fs.readFileSync(path.join(dir, 'dockerd.log'), 'utf8').slice(-2000);
    await stopOtherEngine(other);
    throw new Error(`the other dockerd did not answer on ${sock}:\n${tail}`);
  }
  return other;
}

/** Stops an engine this test started and undoes its host state (as the reference ci-docker-down.sh does). */
async function stopOtherEngine(other: OtherEngine): Promise<void> {
  if (!other.dir) return;
  const ids = docker(other.host, ['ps', '-aq'], false).out.split('\n').filter(Boolean);
  if (ids.length) docker(other.host, ['rm', '-f', ...ids], false);
  if (other.pid && alive(other.pid)) {
    process.kill(other.pid, 'SIGTERM');
    for (let i = 0; i < 150 && alive(other.pid); i++) await sleep(100);
    if (alive(other.pid)) process.kill(other.pid, 'SIGKILL');
    for (let i = 0; i < 50 && alive(other.pid); i++) await sleep(100);
  }
  for (const m of mountsUnder(other.dir)) {
    if (sh(['umount', m], { check: false }).status !== 0) sh(['umount', '-l', m], { check: false });
  }
  if (docker0Address() !== null) sh(['ip', 'link', 'delete', 'docker0'], { check: false });
  const ipt = (args: string[]): Ran => sh(['iptables', ...args], { check: false });
  ipt(['-t', 'nat', '-D', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'DOCKER']);
  ipt(['-t', 'nat', '-D', 'OUTPUT', '!', '-d', '127.0.0.0/8', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'DOCKER']);
  ipt(['-t', 'nat', '-D', 'POSTROUTING', '-s', '172.17.0.0/16', '!', '-o', 'docker0', '-j', 'MASQUERADE']);
  ipt(['-t', 'nat', '-F', 'DOCKER']);
  ipt(['-t', 'nat', '-X', 'DOCKER']);
  for (const rule of [
    ['-j', 'DOCKER-USER'],
    ['-j', 'DOCKER-ISOLATION-STAGE-1'],
    ['-o', 'docker0', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
    ['-o', 'docker0', '-j', 'DOCKER'],
    ['-i', 'docker0', '!', '-o', 'docker0', '-j', 'ACCEPT'],
    ['-i', 'docker0', '-o', 'docker0', '-j', 'ACCEPT'],
  ]) {
    ipt(['-D', 'FORWARD', ...rule]);
  }
  const chains = ['DOCKER', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2', 'DOCKER-USER'];
  for (const c of chains) ipt(['-F', c]);
  for (const c of chains) ipt(['-X', c]);
  ipt(['-P', 'FORWARD', other.forwardPolicy ?? 'ACCEPT']);
  if (other.ipForward) fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', `${other.ipForward}\n`);
  if (mountsUnder(other.dir).length === 0) fs.rmSync(other.dir, { recursive: true, force: true });
  other.dir = undefined;
}

/** Imports a busybox image (from busybox-static) into an engine, like scripts/docker-engine-up.sh does. */
function importBusybox(host: string, tmp: string): void {
  const rootfs = path.join(tmp, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']) {
    fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  }
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const applet of sh(['/bin/busybox', '--list']).out.split('\n').filter(Boolean)) {
    if (applet !== 'busybox') fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  }
  fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  const tar = path.join(tmp, 'rootfs.tar');
  sh(['tar', '-C', rootfs, '-cf', tar, '.']);
  docker(host, ['import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh"]', tar, IMAGE]);
}

describe('scripts/docker-engine-up.sh and -down.sh leave another Docker engine alone (issue 13)', function () {
  this.timeout(120_000);
  let other: OtherEngine | null = null;
  /** The test engine's MLC_DOCKER_DIR (never the shared one of npm test). */
  let testDir = '';
  let tmp = '';
  let imported = false;
  const env = (): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, MLC_DOCKER_DIR: testDir, MLC_DEBIAN_PYTHON: '0' };
    delete e.DOCKER_HOST;
    return e;
  };

  before(async function () {
    assert.equal(process.getuid?.(), 0, 'the engine tier runs as root (dockerd needs it)');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-iso-'));
    testDir = path.join(tmp, 'engine');
    if (docker0Address() === null) {
      other = await startOtherEngine();
    } else {
      const host = await engineOwningDocker0();
      if (!host) {
        throw new Error(
          'docker0 exists but no running dockerd uses it: stop the engine that made it, or delete the stale docker0 (ip link delete docker0), and run the engine tests again.',
        );
      }
      other = { host };
    }
    if (docker(other.host, ['image', 'inspect', IMAGE], false).status !== 0) {
      importBusybox(other.host, tmp);
      imported = true;
    }
  });

  after(async function () {
    if (testDir) sh(['bash', path.join(ROOT, 'scripts', 'docker-engine-down.sh')], { env: env(), check: false });
    if (other) {
      docker(other.host, ['rm', '-f', 'mlc-isolation-keep'], false);
      if (other.dir) await stopOtherEngine(other);
      else if (imported) docker(other.host, ['image', 'rm', IMAGE], false);
    }
    if (tmp && mountsUnder(tmp).length === 0) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("keeps docker0, the other engine's iptables rules and its containers through a whole test-engine up/down", function () {
    const host = other!.host;
    docker(host, ['rm', '-f', 'mlc-isolation-keep'], false);
    docker(host, ['run', '-d', '--name', 'mlc-isolation-keep', '-p', '127.0.0.1::80', IMAGE, 'sleep', '600']);
    const address = docker0Address();
    assert.ok(address, 'the other engine has docker0 with an address');
    const before = iptablesRules();
    assert.ok(
      before.some((l) => l.includes('--to-destination') && l.includes(':80')),
      `the other engine's published port is a DNAT rule:\n${before.join('\n')}`,
    );

    const up = sh(['bash', path.join(ROOT, 'scripts', 'docker-engine-up.sh')], { env: env(), timeoutMs: 90_000 });
    const testHost = /^DOCKER_HOST=(\S+)$/m.exec(up.out)?.[1];
    assert.ok(testHost, `docker-engine-up.sh printed DOCKER_HOST=…:\n${up.out}`);
    assert.notEqual(testHost, host);
    // the bridge of its own, named after its folder as the scripts do
    const bridge = `mlc-br-${createHash('sha256').update(testDir).digest('hex').slice(0, 8)}`;
    assert.equal(sh(['ip', 'link', 'show', 'dev', bridge], { check: false }).status, 0, `${bridge} exists`);
    assert.equal(docker0Address(), address, `docker0 kept its address while the test engine runs:\n${up.out}`);
    assert.deepEqual(missing(before, iptablesRules()), [], "the test engine's start removed none of the other's rules");

    // the test engine has a network of its own: a container there gets an address and a default route
    const inTest = docker(testHost, ['run', '--rm', 'mlc-test/busybox:latest', 'ip', '-4', 'route']).out;
    assert.match(
      inTest,
      /^default via \d+\.\d+\.\d+\.\d+/m,
      `a container on the test engine has a network:\n${inTest}`,
    );
    assert.doesNotMatch(inTest, /172\.17\./, 'the test engine does not use docker0');
    // and a container of the other engine starts while the test engine runs
    docker(host, ['run', '--rm', IMAGE, 'true']);

    const down = sh(['bash', path.join(ROOT, 'scripts', 'docker-engine-down.sh')], { env: env() });
    assert.equal(docker0Address(), address, `docker0 kept its address after the test engine stopped:\n${down.out}`);
    const after = iptablesRules();
    assert.deepEqual(missing(before, after), [], "the test engine's stop removed none of the other engine's rules");
    assert.deepEqual(missing(after, before), [], 'the test engine left no iptables rule or chain behind');
    const keep = docker(host, ['inspect', '--format', '{{.State.Running}}', 'mlc-isolation-keep']).out.trim();
    assert.equal(keep, 'true', "the other engine's container still runs");
    const again = docker(host, ['run', '--rm', IMAGE, 'sh', '-c', 'ip -4 addr show eth0'], false);
    assert.equal(again.status, 0, `a new container starts on the other engine:\n${again.out}`);
    assert.match(again.out, /inet 172\.17\./);
    assert.notEqual(sh(['ip', 'link', 'show', 'dev', bridge], { check: false }).status, 0, `${bridge} is gone`);
  });
});
