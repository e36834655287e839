/**
 * Real projects, really built and trained (`npm run test:real`; a CI subset in `npm test`): for each real-corpus
 * training project (test/fixtures/real/<slug>), on a copy of it: detection as its expected.json says, the scaffold,
 * the `dev` and `train` targets built on the private engine with dependencies from PyPI through the caching mirror
 * (scripts/pypi-mirror-up.sh; BASE_IMAGE overridden with the Debian image made by debootstrap, since CUDA base images
 * cannot be pulled here), then a short training on the CPU through `ml-containers run` (the dev image, the project
 * mounted) whose log must show the training's own progress lines. MLC_REAL_PROJECTS=slug,slug picks projects.
 * Results (per project: detect, build dev, build train, train, seconds) go to test-results/real/results.json.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { satisfies } from '@renovatebot/pep440';
import { detectProject } from '../../src/core/detect/detect';
import { connectEngine } from '../../src/core/docker';
import { buildTarget } from '../../src/core/runs/build';
import { imageNameFor } from '../../src/core/runs/spec';
import { LABELS } from '../../src/core/runs/types';
import { CLI, DEBIAN_PYTHON, DEBIAN_PYTHON_VERSION, requireImage, ROOT, testDockerHost } from '../engine/helpers';
import { NOT_BUILT, NOT_TRAINED, TRAINING } from './projects';

interface Expected {
  repo: string;
  kind: string;
  profile: {
    isTrainingProject?: boolean;
    primaryFramework?: string | null;
    pythonVersion?: string | null;
    pythonRange?: string;
  };
  open?: { field: string }[];
  train?: { command: string[]; cpu: boolean; progress: string; seconds?: number };
}

interface Result {
  project: string;
  detect: string;
  buildDev: string;
  buildTrain: string;
  train: string;
  seconds: number;
}

const CORPUS = path.join(ROOT, 'test', 'fixtures', 'real');
const RESULTS = path.join(ROOT, 'test-results', 'real', 'results.json');
const chosen = process.env.MLC_REAL_PROJECTS?.split(',').filter(Boolean);

function corpus(): { slug: string; expected: Expected }[] {
  return fs
    .readdirSync(CORPUS)
    .filter((slug) => fs.existsSync(path.join(CORPUS, slug, 'expected.json')))
    .map((slug) => ({
      slug,
      expected: JSON.parse(fs.readFileSync(path.join(CORPUS, slug, 'expected.json'), 'utf8')) as Expected,
    }))
    .filter(({ slug, expected }) => expected.kind === 'training' && (!chosen || chosen.includes(slug)));
}

/** The local Debian images (scripts/docker-engine-up.sh, MLC_DEBIAN_SUITES) and their Python. */
const DEBIAN_IMAGES = [
  { python: '3.9', image: 'mlc-test/debian-python:bullseye' },
  { python: DEBIAN_PYTHON_VERSION, image: DEBIAN_PYTHON },
  { python: '3.13', image: 'mlc-test/debian-python:trixie' },
];

/**
 * The base image for a project: one whose Python its range allows, else the one nearest its pin, else bookworm's;
 * among the images this engine has. Says so when it is not the Python the project asks for.
 */
async function baseImageFor(docker: Docker, expected: Expected): Promise<{ image: string; note?: string }> {
  const exists = (image: string): Promise<boolean> =>
    docker
      .getImage(image)
      .inspect()
      .then(() => true)
      .catch(() => false);
  const have: typeof DEBIAN_IMAGES = [];
  for (const d of DEBIAN_IMAGES) if (await exists(d.image)) have.push(d);
  const { pythonVersion: pin, pythonRange: range } = expected.profile;
  const minor = (v: string): number => Number(v.split('.')[1]);
  // bookworm first among those a range allows: its layers are the ones every other project shares
  const preferred = [...have].sort((a, b) => Number(b.image === DEBIAN_PYTHON) - Number(a.image === DEBIAN_PYTHON));
  const allowed = range ? preferred.filter((d) => satisfies(`${d.python}.0`, range)) : [];
  const distance = (d: { python: string }): number => (pin ? Math.abs(minor(d.python) - minor(pin)) : 0);
  // a tie goes to the newer Python (a pin is usually a floor: `.python-version` beside `requires-python >=`)
  const nearest = pin
    ? [...have].sort((a, b) => distance(a) - distance(b) || minor(b.python) - minor(a.python))[0]
    : undefined;
  const pick = allowed[0] ?? nearest ?? have.find((d) => d.image === DEBIAN_PYTHON) ?? DEBIAN_IMAGES[1]!;
  const fits = range ? allowed.includes(pick) : !pin || pick.python === pin;
  if (fits) return { image: pick.image };
  return {
    image: pick.image,
    note: `asks for Python ${range ?? pin}: built with ${pick.python}, the nearest image here`,
  };
}

const secs = (t0: number): number => Math.round((Date.now() - t0) / 100) / 10;

/** The environment of the builds and of `ml-containers run`: the mirror as the index, no PyTorch wheel index. */
function buildEnv(mirror: string): NodeJS.ProcessEnv {
  return { ...process.env, PIP_INDEX_URL: mirror, MLC_FRAMEWORK_INDEX_URL: '', DOCKER_HOST: testDockerHost() };
}

describe('real projects: detected, scaffolded, built and trained for real', function () {
  this.timeout(3_600_000);
  const mirror = process.env.MLC_PYPI_MIRROR ?? '';
  const results: Result[] = [];
  let docker: Docker;
  let tmp = '';
  const projects = corpus();

  before(async function () {
    assert.ok(
      mirror,
      'MLC_PYPI_MIRROR is not set: start the caching PyPI mirror (scripts/pypi-mirror-up.sh prints its URL)',
    );
    if (chosen) {
      const unknown = chosen.filter((s) => !projects.some((p) => p.slug === s));
      assert.deepEqual(unknown, [], 'MLC_REAL_PROJECTS names training projects of test/fixtures/real');
    }
    docker = await connectEngine({ env: { DOCKER_HOST: testDockerHost() } }).docker();
    await requireImage(docker, DEBIAN_PYTHON, 'run `MLC_DEBIAN_PYTHON=1 bash scripts/docker-engine-up.sh`');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-real-'));
  });

  after(function () {
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    console.log(
      ['| project | detect | build dev | build train | train | seconds |', '|---|---|---|---|---|---|']
        .concat(
          results.map(
            (r) => `| ${r.project} | ${r.detect} | ${r.buildDev} | ${r.buildTrain} | ${r.train} | ${r.seconds} |`,
          ),
        )
        .join('\n'),
    );
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('covers every training project of the corpus: trained here, or the reason it is not', function () {
    for (const { slug, expected } of projects) {
      const plan = TRAINING[slug];
      assert.ok(plan || NOT_TRAINED[slug], `${slug}: add it to TRAINING or NOT_TRAINED (test/real/projects.ts)`);
      if (plan) assert.ok(expected.train?.cpu, `${slug}: trained on the CPU here, so expected.json says it can`);
      if (NOT_BUILT[slug]) assert.ok(!plan && NOT_TRAINED[slug], `${slug}: not built here, so not trained either`);
    }
  });

  for (const { slug, expected } of projects) {
    describe(`${slug} (${expected.repo})`, function () {
      const plan = TRAINING[slug];
      const result: Result = { project: slug, detect: '-', buildDev: '-', buildTrain: '-', train: '-', seconds: 0 };
      let t0 = 0;
      let dir = '';
      const tags = { dev: `mlc-real/${slug}:dev`, train: `mlc-real/${slug}:train` };
      const log: string[] = [];
      let baseImage = DEBIAN_PYTHON;

      before(function () {
        t0 = Date.now();
        dir = path.join(tmp, slug);
        fs.cpSync(path.join(CORPUS, slug, 'repo'), dir, { recursive: true });
        plan?.prepare?.(dir);
        results.push(result);
      });

      after(async function () {
        result.seconds = secs(t0);
        if (NOT_BUILT[slug]) result.buildDev = result.buildTrain = `not here: ${NOT_BUILT[slug]}`;
        if (!plan) result.train = `not here: ${NOT_TRAINED[slug]}`;
        // the run's container (kept by ml-containers for its logs), then the images: the disk is not endless
        const runs = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${dir}`] } });
        for (const c of runs) {
          await docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => undefined);
        }
        // ours, and the one `ml-containers run` built (named after the project folder)
        for (const tag of [tags.train, tags.dev, imageNameFor(dir, 'dev')]) {
          await docker
            .getImage(tag)
            .remove({ force: true })
            .catch(() => undefined);
        }
        if (this.currentTest?.state === 'failed') console.log(log.slice(-60).join('\n'));
      });

      it('is detected as its expected.json says', async function () {
        const profile = await detectProject(dir);
        const open = new Set((expected.open ?? []).map((o) => o.field));
        assert.equal(profile.isTrainingProject, true);
        if (!open.has('primaryFramework') && expected.profile.primaryFramework !== undefined) {
          assert.equal(profile.primaryFramework, expected.profile.primaryFramework);
        }
        result.detect = 'ok';
      });

      it('is scaffolded', function () {
        const r = spawnSync(process.execPath, [CLI, 'scaffold', dir, '--force', '--json'], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
      });

      for (const target of NOT_BUILT[slug] ? [] : (['dev', 'train'] as const)) {
        it(`builds its ${target} target with its dependencies from PyPI`, async function () {
          const t = Date.now();
          const base = await baseImageFor(docker, expected);
          if (base.note) log.push(`${slug} ${base.note}`);
          const env = buildEnv(mirror);
          const saved = { ...process.env };
          Object.assign(process.env, env);
          try {
            await buildTarget(connectEngine({ env }), {
              projectRoot: dir,
              target,
              tag: tags[target],
              buildArgs: { BASE_IMAGE: base.image, PYTHON_VERSION: '' },
              onProgress: (line) => log.push(line),
            });
          } catch (err) {
            // the build's own words, for the CI log: the lines that say why (not the thousand before them)
            const why = log.filter((l) => /error|not allowed|cannot|failed|no matching/i.test(l)).slice(-15);
            throw new Error(
              `${(err as Error).message}\n--- from the build log (base ${base.image}):\n${why.join('\n')}`,
            );
          } finally {
            process.env = saved;
          }
          result[target === 'dev' ? 'buildDev' : 'buildTrain'] =
            `ok (${secs(t)} s)${base.note ? `; ${base.note}` : ''}`;
          baseImage = base.image;
        });
      }

      if (plan) {
        it('trains on the CPU through `ml-containers run`: exit 0 and its own progress lines', function () {
          const t = Date.now();
          const train = expected.train!;
          const command = [...(plan.before ?? []), shellJoin(plan.command ?? train.command)].join(' && ');
          const args = ['run', dir, '--target', 'dev', '--gpus', 'none'];
          args.push('--build-arg', `BASE_IMAGE=${baseImage}`, '--build-arg', 'PYTHON_VERSION=');
          const r = spawnSync(process.execPath, [CLI, ...args, '--', 'sh', '-c', command], {
            encoding: 'utf8',
            env: buildEnv(mirror),
            timeout: Math.max(600, (train.seconds ?? 120) * 5) * 1000,
            maxBuffer: 64 * 1024 * 1024,
          });
          log.push(r.stdout, r.stderr);
          assert.equal(r.status, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
          assert.match(r.stdout, new RegExp(train.progress, 'm'), 'the training prints its own progress');
          result.train = `ok (${secs(t)} s)`;
        });
      }
    });
  }
});

/** A command line for `sh -c` from argv: each word single-quoted (the corpus's own commands, no user input). */
function shellJoin(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
