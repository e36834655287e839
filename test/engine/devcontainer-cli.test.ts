/**
 * The merged devcontainer.json variants (test/fixtures/devcontainers/, merged with support/wanted.json) checked by
 * the spec itself: its JSON schema (ajv, draft 2019-09) and its reference implementation, `@devcontainers/cli`
 * (`devcontainer read-configuration`), which must read each file, exit 0 and echo back hostRequirements.gpu, runArgs
 * and the mounts.
 *
 * Both tools live in test/devcontainers-cli/ (own package.json and lockfile, pinned), installed with
 * `npm ci --prefix test/devcontainers-cli`. Without them the suite skips with that command, and fails with CI=true.
 *
 * What read-configuration asks of Docker (@devcontainers/cli 0.89.0): it always runs `docker ps -q -a --filter
 * label=devcontainer.local_folder=…` to find an existing container (no engine: exit 1); with
 * --include-merged-configuration it also runs `docker inspect --type image <image>` (for a Dockerfile: its FROM image)
 * to read the image's devcontainer.metadata label, then falls back to the registry and `docker pull`; Features are
 * resolved from their OCI registry, and a Compose config runs `docker compose config`. Here `--docker-path` points at a
 * stub that answers exactly `ps` (no container) and `inspect --type image` (an image without metadata), the state of a
 * fresh machine, and fails anything else: so the checks need no engine and no network. Fixtures with Features or
 * Compose are read without the merged configuration (it would need their registry / the Compose CLI). When
 * DOCKER_HOST is set, every merged fixture is also read against that real engine with the real `docker`.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ParseError, parse } from 'jsonc-parser';
import { mergeDevcontainer } from '../../src/core/scaffold/merge';
import type { DevcontainerGpuSettings } from '../../src/core/scaffold/types';
import { devcontainerKind, isRecord, mountTarget } from '../../src/core/scaffold/validate';
import { FIXTURES, ROOT, tempDir } from '../unit/helpers';

const DIR = path.join(FIXTURES, 'devcontainers');
const TOOLS = path.join(ROOT, 'test', 'devcontainers-cli');
const DEVCONTAINER_JS = path.join(TOOLS, 'node_modules', '@devcontainers', 'cli', 'devcontainer.js');
const AJV_2019 = path.join(TOOLS, 'node_modules', 'ajv', 'dist', '2019.js');
const INSTALL = 'npm ci --prefix test/devcontainers-cli';
const CI = process.env.CI === 'true' || process.env.CI === '1';
const WANTED = JSON.parse(fs.readFileSync(path.join(DIR, 'support', 'wanted.json'), 'utf8')) as DevcontainerGpuSettings;
const MALFORMED = new Set(['malformed.json']);

type Config = Record<string, unknown>;

interface Ajv2019Like {
  compile(schema: unknown): ((data: unknown) => boolean) & { errors?: unknown[] | null };
}

function fixtureNames(): string[] {
  return fs
    .readdirSync(DIR)
    .filter((n) => n.endsWith('.json') && !MALFORMED.has(n))
    .sort();
}

function parseJsonc(text: string): Config {
  const errors: ParseError[] = [];
  const value = parse(text.replace(/^\uFEFF/, ''), errors, { allowTrailingComma: true }) as Config;
  assert.deepEqual(errors, []);
  return value;
}

function merged(name: string): string {
  return mergeDevcontainer(fs.readFileSync(path.join(DIR, name), 'utf8'), WANTED, { file: name }).text;
}

/** What is missing for these checks, or undefined when both tools are installed. */
function missingTools(): string | undefined {
  const missing = [DEVCONTAINER_JS, AJV_2019].filter((f) => !fs.existsSync(f));
  if (missing.length === 0) return undefined;
  return (
    `the reference tools for devcontainer.json are not installed (${missing.map((f) => path.relative(ROOT, f)).join(', ')}). ` +
    `Install them with \`${INSTALL}\` (pinned in test/devcontainers-cli/package-lock.json; about a second, no install scripts).`
  );
}

function skipOrFail(ctx: Mocha.Context): void {
  const missing = missingTools();
  if (!missing) return;
  if (CI) throw new Error(`With CI=true nothing skips: ${missing}`);
  console.warn(`      skipped: ${missing}`);
  ctx.skip();
}

/**
 * A workspace folder holding the merged file as .devcontainer/devcontainer.json, with the Dockerfile or compose files
 * it names (from test/fixtures/devcontainers/support/).
 */
function workspace(root: string, name: string, text: string): string {
  const ws = path.join(root, name.replace(/\.json$/, ''));
  const dc = path.join(ws, '.devcontainer');
  fs.mkdirSync(dc, { recursive: true });
  fs.writeFileSync(path.join(dc, 'devcontainer.json'), text);
  const config = parseJsonc(text);
  const build = isRecord(config.build) ? config.build : {};
  const dockerfile = typeof build.dockerfile === 'string' ? build.dockerfile : config.dockerFile;
  if (typeof dockerfile === 'string') {
    const target = path.resolve(dc, dockerfile);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(DIR, 'support', 'Dockerfile'), target);
  }
  const compose = config.dockerComposeFile;
  const composeFiles = typeof compose === 'string' ? [compose] : Array.isArray(compose) ? (compose as string[]) : [];
  composeFiles.forEach((f, i) => {
    const target = path.resolve(dc, f);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (i === 0) fs.copyFileSync(path.join(DIR, 'support', 'docker-compose.yml'), target);
    else fs.writeFileSync(target, 'services:\n  trainer:\n    environment:\n      - EXTRA=1\n');
  });
  return ws;
}

/**
 * A stand-in for the docker CLI that answers the two calls read-configuration makes on a machine without a container
 * for the folder, logs every call (one JSON argv a line) and fails any other.
 */
function writeStubDocker(dir: string): { docker: string; log: string } {
  const docker = path.join(dir, 'docker');
  const log = path.join(dir, 'docker-calls.log');
  const image = {
    Id: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
    Config: { User: '', Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: null },
    Os: 'linux',
    Architecture: 'amd64',
  };
  const script = [
    `#!${process.execPath}`,
    `const args = process.argv.slice(2);`,
    `require('fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + '\\n');`,
    `if (args[0] === 'ps') process.exit(0);`,
    `if (args[0] === 'inspect' && args[1] === '--type' && args[2] === 'image') {`,
    `  process.stdout.write(JSON.stringify([${JSON.stringify(image)}]));`,
    `  process.exit(0);`,
    `}`,
    `process.stderr.write('stub docker: ' + args.join(' ') + ' is not supported by the test stub\\n');`,
    `process.exit(1);`,
    '',
  ].join('\n');
  fs.writeFileSync(docker, script, { mode: 0o755 });
  return { docker, log };
}

interface ReadResult {
  status: number | null;
  out: { configuration: Config; mergedConfiguration?: Config };
  stderr: string;
}

/** `devcontainer read-configuration` on a workspace folder (argv array, no shell). */
function readConfiguration(ws: string, opts: { docker?: string; merged: boolean }): ReadResult {
  const args = [DEVCONTAINER_JS, 'read-configuration', '--workspace-folder', ws, '--log-format', 'json'];
  if (opts.docker) args.push('--docker-path', opts.docker);
  if (opts.merged) args.push('--include-merged-configuration');
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
  const stdout = String(r.stdout);
  const stderr = String(r.stderr);
  let out = { configuration: {} };
  if (r.status === 0) out = JSON.parse(stdout) as typeof out;
  return { status: r.status, out, stderr };
}

/** The last lines of the CLI's log, for a failure message. */
function tail(stderr: string): string {
  return stderr.trim().split('\n').slice(-8).join('\n');
}

/** The settings the merge wrote, as read back by the CLI, must equal what jsonc-parser reads in the file. */
function assertEchoes(read: Config, expected: Config, what: string): void {
  const gpu = (c: Config): unknown => (isRecord(c.hostRequirements) ? c.hostRequirements.gpu : undefined);
  assert.notEqual(gpu(expected), undefined);
  assert.deepEqual(gpu(read), gpu(expected), `${what}: hostRequirements.gpu`);
  assert.deepEqual(read.runArgs, expected.runArgs, `${what}: runArgs`);
  const targets = (c: Config): unknown[] => (Array.isArray(c.mounts) ? c.mounts.map(mountTarget) : []);
  assert.deepEqual(targets(read), targets(expected), `${what}: mount targets`);
  for (const m of WANTED.mounts) assert.ok(targets(read).includes(mountTarget(m)), `${what}: mount ${m}`);
}

describe('devcontainer.json: the spec schema accepts every merged variant', function () {
  let validate: ((data: unknown) => boolean) & { errors?: unknown[] | null };

  before(async function () {
    skipOrFail(this);
    const mod = (await import(AJV_2019)) as { default: new (opts: object) => Ajv2019Like };
    const schema = JSON.parse(fs.readFileSync(path.join(DIR, 'schema', 'devContainer.base.schema.json'), 'utf8'));
    validate = new mod.default({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
  });

  it('the schema rejects what it should (a control)', () => {
    assert.equal(validate({ image: 'x', hostRequirements: { gpu: 'yes' } }), false);
    assert.equal(validate({ image: 'x', runArgs: '--gpus all' }), false);
    assert.equal(validate({ image: 'x', hostRequirements: { gpu: 'optional' }, runArgs: ['--shm-size=1g'] }), true);
  });

  for (const name of fixtureNames()) {
    it(name, () => {
      const original = parseJsonc(fs.readFileSync(path.join(DIR, name), 'utf8'));
      if (devcontainerKind(original) === 'none') {
        // `{}` is valid only while empty: with any property the spec wants an image, a Dockerfile or Compose
        assert.equal(validate(parseJsonc(merged(name))), false);
        return;
      }
      assert.ok(validate(original), `the fixture itself: ${JSON.stringify(validate.errors)}`);
      assert.ok(validate(parseJsonc(merged(name))), `merged: ${JSON.stringify(validate.errors)}`);
    });
  }
});

describe('devcontainer.json: @devcontainers/cli read-configuration reads every merged variant', function () {
  let tmp: { dir: string; cleanup: () => void } | undefined;
  let stub: { docker: string; log: string };

  before(function () {
    skipOrFail(this);
    tmp = tempDir('mlc-devcontainer-cli-');
    stub = writeStubDocker(tmp.dir);
    if (!process.env.DOCKER_HOST) {
      console.log(
        '      (DOCKER_HOST is not set: read-configuration runs with a stub docker only; with DOCKER_HOST set, ' +
          'every variant is also read against that engine)',
      );
    }
  });
  after(() => tmp?.cleanup());

  it('is the pinned version', () => {
    const r = spawnSync(process.execPath, [DEVCONTAINER_JS, '--version'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const lock = JSON.parse(fs.readFileSync(path.join(TOOLS, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    assert.equal(String(r.stdout).trim(), lock.packages['node_modules/@devcontainers/cli']!.version);
  });

  for (const name of fixtureNames()) {
    const text = merged(name);
    const config = parseJsonc(text);
    const kind = devcontainerKind(config);
    const hasFeatures = isRecord(config.features) && Object.keys(config.features).length > 0;
    const withMerged = (kind === 'image' || kind === 'dockerfile') && !hasFeatures;
    const how = withMerged
      ? 'with the merged configuration'
      : `configuration only (${kind}${hasFeatures ? ', Features' : ''})`;
    it(`${name}: exits 0 and echoes the GPU settings, ${how}`, () => {
      const ws = workspace(tmp!.dir, name, text);
      const r = readConfiguration(ws, { docker: stub.docker, merged: withMerged });
      assert.equal(r.status, 0, tail(r.stderr));
      assertEchoes(r.out.configuration, config, name);
      if (withMerged) assertEchoes(r.out.mergedConfiguration ?? {}, config, `${name} (merged configuration)`);
    });
  }

  it('asked Docker nothing but `ps` and `inspect --type image`', () => {
    const calls = fs
      .readFileSync(stub.log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    assert.ok(calls.length > 0);
    const other = calls.filter((c) => c[0] !== 'ps' && !(c[0] === 'inspect' && c[1] === '--type' && c[2] === 'image'));
    assert.deepEqual(other, []);
  });
});

const dockerHost = process.env.DOCKER_HOST;
if (dockerHost) {
  describe(`devcontainer.json: read-configuration against the real engine at ${dockerHost}`, function () {
    let tmp: { dir: string; cleanup: () => void } | undefined;
    before(function () {
      skipOrFail(this);
      tmp = tempDir('mlc-devcontainer-cli-engine-');
    });
    after(() => tmp?.cleanup());

    for (const name of fixtureNames()) {
      it(`${name}: exits 0 with the real docker CLI (it runs docker ps)`, () => {
        const text = merged(name);
        const r = readConfiguration(workspace(tmp!.dir, name, text), { merged: false });
        assert.equal(
          r.status,
          0,
          `${tail(r.stderr)}\n(read-configuration needs \`docker\` on the PATH and the engine)`,
        );
        const config = parseJsonc(text);
        assert.deepEqual(r.out.configuration.hostRequirements, config.hostRequirements);
        assert.deepEqual(r.out.configuration.runArgs, config.runArgs);
      });
    }

    it('with the merged configuration, for an image the engine has (it runs docker inspect)', function () {
      const image = 'mlc-test/busybox:latest'; // imported by scripts/docker-engine-up.sh
      const has = spawnSync('docker', ['image', 'inspect', image], { encoding: 'utf8', timeout: 30_000 });
      if (has.status !== 0) {
        const why = `${image} is not in the engine at ${dockerHost} (scripts/docker-engine-up.sh imports it)`;
        if (CI) throw new Error(why);
        console.warn(`      skipped: ${why}`);
        this.skip();
      }
      const text = merged('minimal-image.json').replace('mcr.microsoft.com/devcontainers/python:3.11', image);
      const config = parseJsonc(text);
      assert.equal(config.image, image);
      const r = readConfiguration(workspace(tmp!.dir, 'engine-image.json', text), { merged: true });
      assert.equal(r.status, 0, tail(r.stderr));
      assertEchoes(r.out.mergedConfiguration ?? {}, config, 'merged configuration');
    });
  });
}

describe('generated dev containers: the spec schema and @devcontainers/cli accept every scaffold', function () {
  const SCAFFOLDS = path.join(FIXTURES, 'scaffold');
  let tmp: { dir: string; cleanup: () => void } | undefined;
  let stub: { docker: string; log: string };
  let validate: ((data: unknown) => boolean) & { errors?: unknown[] | null };

  before(async function () {
    skipOrFail(this);
    tmp = tempDir('mlc-scaffold-cli-');
    stub = writeStubDocker(tmp.dir);
    const mod = (await import(AJV_2019)) as { default: new (opts: object) => Ajv2019Like };
    const schema = JSON.parse(fs.readFileSync(path.join(DIR, 'schema', 'devContainer.base.schema.json'), 'utf8'));
    validate = new mod.default({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
  });
  after(() => tmp?.cleanup());

  for (const name of fs.readdirSync(SCAFFOLDS)) {
    it(`${name}: valid by the schema, read back by read-configuration with the Dockerfile's base image`, () => {
      const ws = path.join(tmp!.dir, name);
      fs.cpSync(path.join(SCAFFOLDS, name), ws, { recursive: true });
      const text = fs.readFileSync(path.join(ws, '.devcontainer', 'devcontainer.json'), 'utf8');
      const config = parseJsonc(text);
      assert.ok(validate(config), JSON.stringify(validate.errors));
      const r = readConfiguration(ws, { docker: stub.docker, merged: true });
      assert.equal(r.status, 0, tail(r.stderr));
      const read = r.out.configuration;
      assert.deepEqual(read.runArgs, config.runArgs);
      assert.deepEqual(read.hostRequirements, config.hostRequirements);
      assert.deepEqual((read.build as { target?: string } | undefined)?.target, 'dev');
      assert.deepEqual(r.out.mergedConfiguration?.runArgs, config.runArgs);
    });
  }
});
