/**
 * Issue 12, part A, as properties (fast-check): for any project folder name, entry-script name, requirements-file
 * names, detected pins and options, with line breaks, quotes, `$()`, backslashes, NUL, lone surrogates, Latin-1
 * bytes, terminal escapes, commas and `=`, the generator either refuses an option with a ScaffoldOptionError, or
 * writes a Dockerfile and a devcontainer.json that read back (with the readers of test/unit/hostile/scaffold-parse.ts,
 * as strict as Docker, /bin/sh and Docker's --mount) to exactly the intended values, with the same instructions and
 * keys as the same project with clean names. Pure: synthetic profiles, no disk.
 *
 * MLC_PROPERTY_RUNS sets the number of runs per file type (default 10000).
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import * as fc from 'fast-check';
import { createScanner, parse as parseJsonc, type ParseError, SyntaxKind } from 'jsonc-parser';
import { type Launcher, LAUNCHERS, type ProjectProfile } from '../../../src/core/detect/types';
import {
  FETCH_SCRIPT,
  generateScaffold,
  launcherCommand,
  type Scaffold,
  type ScaffoldOptions,
  ScaffoldOptionError,
} from '../../../src/core/scaffold/generate';
import { KNOWN_CUDA_VERSIONS } from '../../../src/core/scaffold/stack';
import { visible } from '../../../src/core/util/encode';
import { copySources, csvFields, dockerLabels, shellWords } from './scaffold-parse';

const RUNS = Number(process.env.MLC_PROPERTY_RUNS ?? 10_000);

// Values ------------------------------------------------------------------------------------------------------------

/** Pieces an attacker would put in a name or a value. */
const PIECES = [
  '\n',
  '\r',
  '\r\n',
  '\t',
  '\0',
  '"',
  "'",
  '`',
  '$',
  '$(touch /pwned)',
  '${HOME}',
  '\\',
  '\\n',
  ',',
  '=',
  ' ',
  '#',
  '//',
  '/*',
  '*/',
  '[',
  '*',
  '?',
  '\x1b[31m',
  '\x1b]0;title\x07',
  '\u009b',
  '\u0085',
  '\u007f',
  '\u2028',
  '\u2029',
  '\u202e',
  '\ufeff',
  '\ud800',
  '\udc80',
  '\ufffd',
  'é',
  '\u{1f600}',
  '{"initializeCommand": "x"}',
  '\nRUN touch /pwned #',
  ',target=/etc',
  '--from=x',
  '-',
  'requirements',
  '.txt',
];
const latin1 = fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => Buffer.from(b).toString('latin1'));
const hostileText = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...PIECES) },
      { weight: 2, arbitrary: fc.string({ maxLength: 4 }) },
      { weight: 1, arbitrary: latin1 },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
    ),
    { maxLength: 6 },
  )
  .map((a) => a.join(''));

/** Never written raw into a generated file (line breaks only as the file's own). */
const RAW_UNSAFE =
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a value holds a character that a generated file may not hold raw inside a value (a line break too). */
const hasUnsafe = (v: string): boolean => v.includes('\n') || RAW_UNSAFE.test(v);

/** Whether a requirements file name can be named exactly by a COPY and a shell command (the test's own rule). */
function expressible(name: string): boolean {
  return !hasUnsafe(name) && !/[\ufffd*?[]/.test(name);
}

const VALID_IMAGES = [
  'python:3.12-slim-bookworm',
  'nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04',
  'localhost:5000/team/img:1.0',
  `ghcr.io/o/i@sha256:${'ab'.repeat(32)}`,
  'mlc-test/busybox:latest',
];
const VALID_DATASETS = ['/data', '/mnt/data sets', 'C:\\data', '/data,target=/etc', '/a"b', "/x'y$HOME"];

interface Case {
  folder: string;
  entry: string;
  reqs: string[];
  conda: boolean;
  framework: 'pytorch' | 'tensorflow' | 'jax' | null;
  launcher: Launcher | null;
  pythonVersion: string | null;
  cudaHint: string | null;
  /** Options, and which of them came from the hostile arbitrary (those may be refused). */
  opts: ScaffoldOptions;
  hostileOpts: string[];
}

function maybe<T>(
  valid: fc.Arbitrary<T>,
  name: string,
): fc.Arbitrary<{ value: T | string | undefined; hostile: string[] }> {
  // hostile options are one case in ten each, so that most cases get to the files
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant({ value: undefined, hostile: [] as string[] }) },
    { weight: 4, arbitrary: valid.map((v) => ({ value: v, hostile: [] as string[] })) },
    { weight: 1, arbitrary: hostileText.map((v) => ({ value: v, hostile: [name] })) },
  );
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    folder: hostileText,
    entry: hostileText,
    reqs: fc.uniqueArray(hostileText, { maxLength: 3 }),
    mainReq: fc.boolean(),
    conda: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    framework: fc.constantFrom(null, 'pytorch' as const, 'tensorflow' as const, 'jax' as const),
    launcher: fc.constantFrom(null, ...LAUNCHERS),
    pythonVersion: fc.oneof(fc.constant(null), fc.constantFrom('3.10', '3.11'), hostileText),
    cudaHint: fc.oneof(fc.constant(null), fc.constantFrom('12.1', '11.8', '12.3'), hostileText),
    baseImage: maybe(fc.constantFrom(...VALID_IMAGES), 'base-image'),
    datasets: fc.oneof(
      { weight: 9, arbitrary: maybe(fc.constantFrom(...VALID_DATASETS), 'datasets') },
      { weight: 1, arbitrary: hostileText.map((t) => ({ value: `/${t}`, hostile: ['datasets'] })) },
    ),
    cuda: maybe(fc.constantFrom(...KNOWN_CUDA_VERSIONS), 'cuda'),
    python: maybe(fc.constantFrom('3.10', '3.12'), 'python'),
    mode: fc.constantFrom('both' as const, 'dev' as const, 'train' as const),
    dockerfileAt: fc.constantFrom('devcontainer' as const, 'root' as const),
  })
  .map((r) => {
    const opts: ScaffoldOptions = { mode: r.mode, dockerfileAt: r.dockerfileAt, hostMemBytes: 32 * 1024 ** 3 };
    if (r.baseImage.value !== undefined) opts.baseImage = r.baseImage.value;
    if (r.datasets.value !== undefined) opts.datasetsPath = r.datasets.value;
    if (r.cuda.value !== undefined) opts.cuda = r.cuda.value;
    if (r.python.value !== undefined) opts.python = r.python.value;
    const reqs = [
      ...(r.mainReq ? ['requirements.txt'] : []),
      ...r.reqs.map((t) => `requirements${t.replace(/\//g, '_')}.txt`),
    ];
    return {
      folder: `p${r.folder.replace(/\//g, '_')}`,
      entry: `${r.entry}.py`,
      reqs: [...new Set(reqs)],
      conda: r.conda,
      framework: r.framework,
      launcher: r.launcher,
      pythonVersion: r.pythonVersion,
      cudaHint: r.cudaHint,
      opts,
      hostileOpts: [...r.baseImage.hostile, ...r.datasets.hostile, ...r.cuda.hostile, ...r.python.hostile],
    };
  });

function profileOf(c: Case): ProjectProfile {
  return {
    root: `/w/${c.folder}`,
    isTrainingProject: true,
    frameworks: c.framework ? [c.framework] : [],
    primaryFramework: c.framework,
    envFiles: [...c.reqs, ...(c.conda ? ['environment.yml'] : [])],
    pythonVersion: c.pythonVersion,
    entrypoints: [c.entry],
    launcher: c.launcher,
    cudaHint: c.cudaHint,
    needsGpu: c.framework ? 'yes' : 'no',
    notebooks: 0,
    evidence: [],
    warnings: [],
  };
}

const PLAIN_VERSION = /^\d{1,2}\.\d{1,3}$/;

/** The same project with clean names: the usable requirements files renamed, the unusable ones and bad pins gone. */
function twinOf(c: Case): { profile: ProjectProfile; usable: string[]; skipped: string[]; opts: ScaffoldOptions } {
  const usable = c.reqs.filter(expressible);
  const skipped = c.reqs.filter((r) => !expressible(r));
  const clean = usable.map((r, i) => (/^requirements\.txt$/i.test(r) ? r : `requirements-${i}.txt`));
  const p = profileOf(c);
  const opts = { ...c.opts };
  if (opts.datasetsPath) opts.datasetsPath = '/data';
  return {
    profile: {
      ...p,
      root: '/w/project',
      entrypoints: ['train.py'],
      envFiles: [...clean, ...(c.conda ? ['environment.yml'] : [])],
      pythonVersion: c.pythonVersion !== null && PLAIN_VERSION.test(c.pythonVersion) ? c.pythonVersion : null,
      cudaHint: c.cudaHint !== null && PLAIN_VERSION.test(c.cudaHint) ? c.cudaHint : null,
    },
    usable,
    skipped,
    opts,
  };
}

/** Generates, or returns null when an option was refused (and checks the refusal was allowed). */
function generate(c: Case): Scaffold | null {
  try {
    return generateScaffold(profileOf(c), [], c.opts);
  } catch (err) {
    assert.ok(err instanceof ScaffoldOptionError, `not a ScaffoldOptionError: ${String(err)}`);
    assert.ok(
      c.hostileOpts.includes(err.option),
      `refused --${err.option}, which was valid: ${JSON.stringify(c.opts)}`,
    );
    assert.ok(!hasUnsafe(err.message), `the message is escaped: ${JSON.stringify(err.message)}`);
    return null;
  }
}

function assertAcceptedOptions(c: Case, s: Scaffold): void {
  if (c.opts.baseImage !== undefined) {
    assert.equal(s.stack.baseImage, c.opts.baseImage);
    assert.match(c.opts.baseImage, /^[A-Za-z0-9._:/@[\]-]+$/, 'an accepted base image has only reference characters');
  }
  if (c.opts.python !== undefined) assert.match(c.opts.python, /^3\.\d+$/);
  if (c.opts.cuda !== undefined) assert.ok(KNOWN_CUDA_VERSIONS.includes(c.opts.cuda));
}

const fileOf = (s: Scaffold, suffix: string): string | undefined =>
  s.files.find((f) => f.path.endsWith(suffix))?.content;

/** The main requirements files: requirements.txt (any case) when there is one, else all. */
function mainOf(names: string[]): string[] {
  const main = names.filter((n) => /^requirements\.txt$/i.test(n));
  return main.length ? main : names;
}

// Dockerfile --------------------------------------------------------------------------------------------------------

interface ReadDockerfile {
  labels: Record<string, string>;
  keywords: string[];
  comments: number;
  args: string[];
}

function readDockerfile(text: string): ReadDockerfile {
  const df = DockerfileParser.parse(text);
  const instr = df.getInstructions();
  // dockerfile-ast reads "# Training environment for p=, …" as a directive (BuildKit's stricter rule does not, and
  // the first line always starts with those fixed words): count it as the comment it is, but never a real one
  const directives = df.getDirectives().map((d) => d.getName().toLowerCase());
  assert.ok(!directives.some((d) => ['syntax', 'escape', 'check'].includes(d)), directives.join());
  return {
    labels: dockerLabels(text, df),
    keywords: instr.map((i) => i.getKeyword()),
    comments: df.getComments().length + directives.length,
    args: instr.map((i) => i.getRawArgumentsContent() ?? ''),
  };
}

function checkDockerfile(c: Case): void {
  const s = generate(c);
  if (!s) return;
  assertAcceptedOptions(c, s);
  const twin = twinOf(c);
  const t = generateScaffold(twin.profile, [], twin.opts);
  const text = fileOf(s, 'Dockerfile')!;
  const clean = fileOf(t, 'Dockerfile')!;
  assert.equal(RAW_UNSAFE.exec(text), null, 'no raw control, separator or bidi character');
  const got = readDockerfile(text);
  const want = readDockerfile(clean);
  assert.deepEqual(got.keywords, want.keywords, 'the instructions of the clean project');
  // one comment more for each warning (a requirements file left out, a pin that is not a version)
  assert.equal(got.comments, want.comments + s.warnings.length, 'the comments of the clean project, and the warnings');
  assert.ok(s.warnings.length >= twin.skipped.length);

  // ARG defaults, exactly
  const arg = (name: string, r: ReadDockerfile): string | undefined =>
    r.args.find((a, i) => r.keywords[i] === 'ARG' && a.startsWith(`${name}=`))?.slice(name.length + 1);
  assert.equal(arg('BASE_IMAGE', got), s.stack.baseImage);
  assert.equal(arg('PYTHON_VERSION', got), s.stack.pythonFromImage ? '' : s.stack.python);
  assert.equal(arg('BASE_IMAGE', got), arg('BASE_IMAGE', want));

  // LABEL values as Docker reads them: the title is the folder name, control characters escaped
  const labels = got.labels;
  assert.deepEqual(labels, { ...want.labels, 'org.opencontainers.image.title': visible(c.folder) });
  if (!hasUnsafe(c.folder)) assert.equal(labels['org.opencontainers.image.title'], c.folder);

  // COPY of the requirements files and pip install: their exact names
  if (s.installer === 'pip') {
    const copy = got.args.find((a, i) => got.keywords[i] === 'COPY' && !a.startsWith('--chown'))!;
    assert.deepEqual(copySources(copy), twin.usable);
    // the install steps take the build's network and leave the environment group-writable before pip runs
    const prefix = `. ${FETCH_SCRIPT} && umask 0002 && `;
    const pip = got.args
      .filter((a, i) => got.keywords[i] === 'RUN' && a.startsWith(`${prefix}pip install`) && a.includes(' -r '))
      .map((a) => a.slice(prefix.length));
    assert.equal(pip.length, 1);
    const words = shellWords(pip[0]!);
    assert.deepEqual(
      words.filter((_, i) => words[i - 1] === '-r'),
      mainOf(twin.usable),
    );
  } else {
    assert.equal(twin.usable.length > 0 && !c.conda, false, `installer ${s.installer} with usable requirements`);
  }

  // ENTRYPOINT: the launcher and the script, exactly (exec form: JSON)
  if ((c.opts.mode ?? 'both') !== 'dev') {
    const entry = got.args[got.keywords.lastIndexOf('ENTRYPOINT')]!;
    const argv = JSON.parse(entry) as string[];
    assert.deepEqual(argv, launcherCommand(profileOf(c)).argv);
    assert.ok(argv.includes(c.entry) || argv.includes(`./${c.entry}`), JSON.stringify(argv));
    assert.equal(argv.length, (JSON.parse(want.args[want.keywords.lastIndexOf('ENTRYPOINT')]!) as string[]).length);
  }
}

// devcontainer.json -------------------------------------------------------------------------------------------------

function parseJson(text: string): Record<string, unknown> {
  const errors: ParseError[] = [];
  const v = parseJsonc(text, errors, { allowTrailingComma: true }) as Record<string, unknown>;
  assert.deepEqual(errors, [], 'parses without an error');
  return v;
}

function checkDevcontainer(c: Case): void {
  const s = generate(c);
  if (!s) return;
  assertAcceptedOptions(c, s);
  const text = fileOf(s, 'devcontainer.json');
  if (text === undefined) return; // --mode train writes none
  const twin = twinOf(c);
  const t = generateScaffold(twin.profile, [], twin.opts);
  assert.equal(RAW_UNSAFE.exec(text), null, 'no raw control, separator or bidi character');
  const got = parseJson(text);
  const want = parseJson(fileOf(t, 'devcontainer.json')!);
  assert.deepEqual(Object.keys(got), Object.keys(want), 'the keys of the clean project, in order');

  // every comment is a whole // line comment, nothing else
  const scanner = createScanner(text, false);
  for (let k = scanner.scan(); k !== SyntaxKind.EOF; k = scanner.scan()) {
    assert.notEqual(k, SyntaxKind.BlockCommentTrivia, 'no block comment');
    if (k === SyntaxKind.LineCommentTrivia) assert.ok(!RAW_UNSAFE.test(scanner.getTokenValue()));
  }

  const suffix = (want.name as string).slice('project'.length);
  assert.equal(got.name, `${path.basename(profileOf(c).root)}${suffix}`, 'the name is the folder name, exactly');
  for (const key of ['build', 'hostRequirements', 'runArgs', 'containerEnv', 'customizations', 'remoteUser']) {
    assert.deepEqual(got[key], want[key], key);
  }
  const mounts = got.mounts as string[];
  const wantMounts = want.mounts as string[];
  assert.equal(mounts.length, wantMounts.length);
  if (c.opts.datasetsPath) {
    assert.deepEqual(csvFields(mounts[0]!), [
      `source=${c.opts.datasetsPath}`,
      'target=/datasets',
      'type=bind',
      'consistency=cached',
    ]);
    assert.deepEqual(mounts.slice(1), wantMounts.slice(1));
  } else assert.deepEqual(mounts, wantMounts);

  if (s.installer === 'pip') {
    const words = shellWords(got.postCreateCommand as string);
    assert.deepEqual(
      words,
      mainOf(twin.usable).flatMap((r, i) => [...(i ? ['&&'] : []), 'pip', 'install', '-r', r]),
    );
  } else assert.deepEqual(got.postCreateCommand, want.postCreateCommand);
}

describe(`hostile scaffold properties (${RUNS} runs per file type; MLC_PROPERTY_RUNS)`, function () {
  this.timeout(300_000);

  it('Dockerfile: refused with ScaffoldOptionError, or read back to exactly the intended values', () => {
    fc.assert(fc.property(caseArb, checkDockerfile), { numRuns: RUNS });
  });

  it('devcontainer.json: refused with ScaffoldOptionError, or read back to exactly the intended values', () => {
    fc.assert(fc.property(caseArb, checkDevcontainer), { numRuns: RUNS });
  });

  it('the generators reach the interesting cases (a control)', () => {
    let skipped = 0;
    let refused = 0;
    let odd = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        skipped += twinOf(c).skipped.length > 0 ? 1 : 0;
        odd += twinOf(c).usable.some((r) => !/^[\w.-]+$/.test(r)) ? 1 : 0;
        try {
          generateScaffold(profileOf(c), [], c.opts);
        } catch {
          refused++;
        }
      }),
      { numRuns: 1000 },
    );
    const seen = JSON.stringify({ skipped, odd, refused });
    assert.ok(skipped > 100 && odd > 100 && refused > 100 && refused < 700, seen);
    if (process.env.MLC_PROPERTY_STATS) console.log(`      of 1000 cases: ${seen}`);
  });
});
