import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { buildContextStream } from '../../src/core/docker/context';

/** The project root (tests are compiled to out/test/engine). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
/** The base image that scripts/docker-engine-up.sh imports from busybox-static (no registry needed). */
export const BUSYBOX = 'mlc-test/busybox:latest';

/**
 * DOCKER_HOST of the private test engine that `npm test` starts (scripts/docker-engine-up.sh) before this tier. The
 * tests assume that engine: Debian's docker.io with no NVIDIA runtime and the busybox base image.
 */
export function testDockerHost(): string {
  const host = process.env.DOCKER_HOST;
  if (!host) {
    throw new Error(
      'DOCKER_HOST is not set: run the engine tests with `npm test`, or start the test engine with ' +
        '`bash scripts/docker-engine-up.sh` and export the DOCKER_HOST=… line it prints.',
    );
  }
  return host;
}

/** The built command line, dist/cli.js. */
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the process. */
  ms: number;
}

/**
 * `ml-containers ARGS…` (dist/cli.js) in its own process, argv as an array, against the test engine (or
 * `dockerHost`). Asynchronous, so a test's own socket server keeps answering meanwhile.
 */
export function runCli(args: string[], opts: { timeoutMs?: number; dockerHost?: string } = {}): Promise<CliResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, DOCKER_HOST: opts.dockerHost ?? testDockerHost() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ml-containers ${args.join(' ')} ran past ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** The unix socket path of a unix:// DOCKER_HOST. */
export function socketPathOf(dockerHost: string): string {
  if (!dockerHost.startsWith('unix://')) throw new Error(`the test engine listens on a unix socket, not ${dockerHost}`);
  return dockerHost.slice('unix://'.length);
}

/** A raw GET on the engine's socket, without dockerode and without an API version prefix. */
export function rawGet(socketPath: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: urlPath, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on('error', reject);
  });
}

/**
 * A Debian 12 image with python3 3.11, python3-venv and python3-pip, built by `MLC_DEBIAN_PYTHON=1
 * scripts/docker-engine-up.sh` with debootstrap (no registry needed): the base image that generated Dockerfiles are
 * built on in the tests.
 */
export const DEBIAN_PYTHON = 'mlc-test/debian-python:bookworm';
/** The Python of DEBIAN_PYTHON (Debian 12's python3). */
export const DEBIAN_PYTHON_VERSION = '3.11';

/** Fails (never skips) when an image the tests need is not on the test engine, and says how to get it. */
export async function requireImage(docker: Docker, ref: string, how: string): Promise<Docker.ImageInspectInfo> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) {
      throw new Error(`the image ${ref} is not on the test engine: ${how}`);
    }
    throw err;
  }
}

/** One event of the engine's /build progress stream. */
interface BuildEvent {
  stream?: string;
  error?: string;
  aux?: { ID?: string };
}

export interface BuiltImage {
  /** The image ID (sha256:…). */
  id: string;
  /** What the build printed. */
  log: string;
  ms: number;
}

/**
 * Builds an image from the folder `dir` as the context, through the engine's API, with the context packed as the
 * extension packs it (src/core/docker/context.ts: .dockerignore matched on paths relative to the context, as the
 * Docker CLI matches it). Rejects with the build's own error and the end of its log.
 */
export async function buildImage(docker: Docker, dir: string, options: Docker.ImageBuildOptions): Promise<BuiltImage> {
  const t0 = Date.now();
  const context = await buildContextStream(dir, options.dockerfile ?? 'Dockerfile');
  const stream = await docker.buildImage(context, { forcerm: true, ...options });
  const events = await new Promise<BuildEvent[]>((resolve, reject) => {
    docker.modem.followProgress(stream, (err, out: BuildEvent[]) => (err ? reject(err) : resolve(out)));
  });
  const log = events.map((e) => e.stream ?? '').join('');
  const what = `building ${options.t ?? dir}${options.target ? ` (target ${options.target})` : ''}`;
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(`${what} failed: ${failed.error}\n--- end of the build log:\n${log.slice(-3000)}`);
  // the classic builder reports each stage's image; the last one is the target's
  const id =
    events
      .map((e) => e.aux?.ID)
      .filter((x) => x)
      .pop() ?? /Successfully built ([0-9a-f]+)/.exec(log)?.[1];
  if (!id) throw new Error(`${what}: the engine reported no image ID\n--- end of the build log:\n${log.slice(-3000)}`);
  return { id, log, ms: Date.now() - t0 };
}

/** Splits a non-TTY container log (8-byte frame headers: stream 1 = stdout, 2 = stderr, then a big-endian size). */
export function demuxLogs(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    (buf[i] === 2 ? err : out).push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Creates a container, starts it, waits for it to exit, reads its logs and removes it. */
export async function runOnce(docker: Docker, options: Docker.ContainerCreateOptions): Promise<RunResult> {
  const t0 = Date.now();
  const c = await docker.createContainer({ Tty: false, ...options });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const logs = await c.logs({ stdout: true, stderr: true, follow: false });
    return { exitCode: StatusCode, ...demuxLogs(logs), ms: Date.now() - t0 };
  } finally {
    await c.remove({ force: true });
  }
}

/** The tag of the fake trainer image that the training-run tests build on DEBIAN_PYTHON (see buildFakeTrainer). */
export const FAKE_TRAINER = 'mlc-test/fake-trainer:runs';

/**
 * A stand-in for a training script, at /trainer.py in FAKE_TRAINER: prints `args: <its argv as JSON>`, then per epoch
 * a progress bar redrawn with `\r` in ANSI colour and a `loss=` line, as tqdm and friends do. Options (anything else
 * in argv is ignored, so hostile values can be passed through): `--steps N` epochs (default 2), `--delay S` seconds
 * per redraw (default 0.02), `--exit N` the exit code, `--sleep S` sleeps before the epochs, `--mode M` (or
 * TRAINER_MODE): `forever` prints `ready` and sleeps until stopped, `oom` allocates memory until it is killed,
 * `cuda-oom` prints PyTorch's CUDA out-of-memory error after the epochs and exits 1.
 */
export const FAKE_TRAINER_SCRIPT = `import json, os, sys, time

args = sys.argv[1:]
print('args: ' + json.dumps(args), flush=True)


def opt(name, default):
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + '='):
            return a[len(name) + 1:]
    return default


mode = opt('--mode', os.environ.get('TRAINER_MODE', 'ok'))
steps = int(opt('--steps', '2'))
delay = float(opt('--delay', '0.02'))
if mode == 'forever':
    print('ready', flush=True)
    while True:
        time.sleep(1)
if mode == 'oom':
    print('allocating', flush=True)
    hog = []
    while True:
        hog.append(b'x' * (8 << 20))
if float(opt('--sleep', '0')) > 0:
    print('ready', flush=True)
    time.sleep(float(opt('--sleep', '0')))
loss = 2.0
for epoch in range(1, steps + 1):
    for i in range(1, 5):
        sys.stdout.write('\\r\\x1b[32mepoch %d\\x1b[0m %s%s %d/4' % (epoch, '#' * i, '.' * (4 - i), i))
        sys.stdout.flush()
        time.sleep(delay)
    loss /= 2
    sys.stdout.write('\\r\\x1b[32mepoch %d\\x1b[0m #### 4/4 \\x1b[1mloss=%.4f\\x1b[0m\\n' % (epoch, loss))
    sys.stdout.flush()
if mode == 'cuda-oom':
    sys.stderr.write('Traceback (most recent call last):\\n  File "/trainer.py", line 40, in <module>\\n')
    sys.stderr.write('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total '
                     'capacity of 79.19 GiB of which 13.25 MiB is free. Process 2157 has 79.17 GiB memory in use.\\n')
    sys.stderr.flush()
    sys.exit(1)
sys.exit(int(opt('--exit', '0')))
`;

/** Builds FAKE_TRAINER (FROM DEBIAN_PYTHON, the script at /trainer.py, no entry point of its own); cached after once. */
export async function buildFakeTrainer(docker: Docker, tmpDir: string): Promise<BuiltImage> {
  const dir = fs.mkdtempSync(path.join(tmpDir, 'fake-trainer-'));
  fs.writeFileSync(path.join(dir, 'trainer.py'), FAKE_TRAINER_SCRIPT);
  fs.writeFileSync(
    path.join(dir, 'Dockerfile'),
    `FROM ${DEBIAN_PYTHON}\nCOPY trainer.py /trainer.py\nCMD ["python3", "/trainer.py"]\n`,
  );
  try {
    return await buildImage(docker, dir, { t: FAKE_TRAINER, networkmode: 'none' } as Docker.ImageBuildOptions);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
