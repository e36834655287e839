// npm run bench:build — rebuilding the train image after a code-only change, against the obvious baseline in the
// same run: a Dockerfile that just COPYs the code onto the already built dev image (the dependency layers cached).
// A copy of test/fixtures/projects-build/tiny-train is scaffolded (dist/cli.js), its dev and train targets built
// once on the private engine (BASE_IMAGE: the local Debian image), then, alternating which goes first, each round
// changes train.py and rebuilds (1) the scaffold's train target through buildTarget, as `ml-containers run` and
// `push` do, and (2) the baseline. Prints the median times, their ratio (target: at most 1.2) and the image sizes'
// ratio (target: at most 1.05). Everything it builds is removed at the end. Exits non-zero when a target is missed.
// Needs DOCKER_HOST (else scripts/docker-engine-up.sh is run), dist/ (npm run build) and out/ (compile:tests).
// usage: node bench/build.mjs [--rounds N]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = (...p) => path.join(root, 'out', 'src', 'core', ...p);
const { buildTarget } = await import(out('runs', 'build.js'));
const { buildContextStream } = await import(out('docker', 'context.js'));
const { connectEngine } = await import(out('docker', 'engine.js'));
const BASE = 'mlc-test/debian-python:bookworm';
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 7;

function fail(message) {
  console.error(`bench:build: ${message}`);
  process.exit(1);
}

/** DOCKER_HOST, else the private engine's (started by scripts/docker-engine-up.sh). */
function dockerHost() {
  if (process.env.DOCKER_HOST) return process.env.DOCKER_HOST;
  const r = spawnSync('bash', [path.join(root, 'scripts', 'docker-engine-up.sh')], {
    encoding: 'utf8',
    env: { ...process.env, MLC_DEBIAN_PYTHON: '1' },
  });
  const host = /^DOCKER_HOST=(\S+)$/m.exec(r.stdout)?.[1];
  if (!host) fail(`the private engine did not start: ${r.stderr.slice(-500)}`);
  return host;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const host = dockerHost();
process.env.DOCKER_HOST = host;
const client = connectEngine({ dockerHost: host });
const docker = await client.docker();
await docker
  .getImage(BASE)
  .inspect()
  .catch(() => fail(`${BASE} is missing: run MLC_DEBIAN_PYTHON=1 bash scripts/docker-engine-up.sh`));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-bench-build-'));
const dir = path.join(tmp, 'tiny-train');
fs.cpSync(path.join(root, 'test', 'fixtures', 'projects-build', 'tiny-train'), dir, { recursive: true });
const scaffold = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'scaffold', dir, '--python', '3.11']);
if (scaffold.status !== 0) fail(`scaffold failed: ${scaffold.stderr}`);

const tags = { dev: `mlc-bench/build:dev-${process.pid}`, train: `mlc-bench/build:train-${process.pid}` };
const refTag = `mlc-bench/build:ref-${process.pid}`;
const buildArgs = { BASE_IMAGE: BASE };
const quiet = { hostNetwork: false, onProgress: () => undefined };

/** The baseline: the code COPYed onto the dev image, nothing else (its Dockerfile lives in the context too). */
const REF = '.bench-ref.Dockerfile';
fs.writeFileSync(path.join(dir, REF), `FROM ${tags.dev}\nCOPY --chown=vscode . /workspace\n`);

async function buildRef() {
  const stream = await docker.buildImage(await buildContextStream(dir, REF), { dockerfile: REF, t: refTag });
  await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err, events) => {
      const failed = events?.find((e) => e.error);
      if (err || failed) reject(err ?? new Error(failed.error));
      else resolve();
    }),
  );
}

const timed = async (fn) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

try {
  await buildTarget(client, { projectRoot: dir, target: 'dev', tag: tags.dev, buildArgs, ...quiet });
  await buildTarget(client, { projectRoot: dir, target: 'train', tag: tags.train, buildArgs, ...quiet });
  await buildRef();
  const ours = [];
  const ref = [];
  for (let i = 0; i < rounds; i++) {
    fs.appendFileSync(path.join(dir, 'train.py'), `# change ${i}\n`);
    const runOurs = async () =>
      ours.push(
        await timed(() =>
          buildTarget(client, { projectRoot: dir, target: 'train', tag: tags.train, buildArgs, ...quiet }),
        ),
      );
    const runRef = async () => ref.push(await timed(buildRef));
    if (i % 2 === 0) {
      await runOurs();
      await runRef();
    } else {
      await runRef();
      await runOurs();
    }
  }
  const size = async (tag) => (await docker.getImage(tag).inspect()).Size;
  const [trainSize, refSize] = [await size(tags.train), await size(refTag)];
  const timeRatio = median(ours) / median(ref);
  const sizeRatio = trainSize / refSize;
  console.log(`rebuild after a code change, median of ${rounds} (ms): train target ${median(ours).toFixed(0)}, `);
  console.log(`  baseline (COPY onto the dev image) ${median(ref).toFixed(0)}: ratio ${timeRatio.toFixed(2)} (<= 1.2)`);
  console.log(`image size: train ${trainSize} B, baseline ${refSize} B: ratio ${sizeRatio.toFixed(3)} (<= 1.05)`);
  if (timeRatio > 1.2 || sizeRatio > 1.05) process.exitCode = 1;
} finally {
  for (const t of [refTag, tags.train, tags.dev]) {
    await docker
      .getImage(t)
      .remove({ force: true })
      .catch(() => undefined);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}
