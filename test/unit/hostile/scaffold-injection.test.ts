/**
 * Issue 12, part A: nothing from a cloned repository (file and folder names) or from an option reaches a generated
 * file raw. Each reproduction of the issue, exactly, through the built CLI on real folders: a name that used to end a
 * comment and become a RUN line, a folder name that used to turn devcontainer.json into another object, options that
 * injected a RUN line or a mount field, and a --cuda that was written as a claim about another image.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { createScanner, parse as parseJsonc, type ParseError, SyntaxKind } from 'jsonc-parser';
import type { ProjectProfile } from '../../../src/core/detect/types';
import { generateScaffold, ScaffoldOptionError } from '../../../src/core/scaffold/generate';
import { FIXTURES, runCli, tempDir } from '../helpers';
import { copySources, csvFields, shellWords } from './scaffold-parse';

const TINY = path.join(FIXTURES, 'projects-build', 'tiny-train');
const TRAIN_PY = fs.readFileSync(path.join(TINY, 'train.py'));
const REQS = fs.readFileSync(path.join(TINY, 'requirements.txt'));
/** Control characters, DEL, C1 controls, separators and bidi controls: never raw in a generated file. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

interface Project {
  dir: string;
  cleanup: () => void;
}

/** A project folder `name` (inside a fresh temporary folder) holding `files`. */
function project(files: Record<string, Buffer | string>, name = 'proj'): Project {
  const tmp = tempDir('mlc-hostile-scaffold-');
  const dir = path.join(tmp.dir, name);
  fs.mkdirSync(dir);
  for (const [rel, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, rel), content);
  return { dir, cleanup: tmp.cleanup };
}

function scaffoldCli(dir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return runCli(['scaffold', dir, ...args]);
}

const read = (dir: string, rel: string): string => fs.readFileSync(path.join(dir, rel), 'utf8');

/** The instructions of a Dockerfile: keyword and raw arguments, comments left out. */
function instructions(text: string): { keyword: string; args: string }[] {
  return DockerfileParser.parse(text)
    .getInstructions()
    .map((i) => ({ keyword: i.getKeyword(), args: i.getRawArgumentsContent() ?? '' }));
}

function assertNoRawControl(text: string, what: string): void {
  const m = RAW_UNSAFE.exec(text);
  assert.equal(m, null, `${what} holds a raw U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Every comment of a JSONC text. */
function jsoncComments(text: string): string[] {
  const scanner = createScanner(text, false);
  const out: string[] = [];
  for (let k = scanner.scan(); k !== SyntaxKind.EOF; k = scanner.scan()) {
    if (k === SyntaxKind.LineCommentTrivia || k === SyntaxKind.BlockCommentTrivia) out.push(scanner.getTokenValue());
  }
  return out;
}

function parseDevcontainer(text: string): Record<string, unknown> {
  const errors: ParseError[] = [];
  const value = parseJsonc(text, errors, { allowTrailingComma: true }) as Record<string, unknown>;
  assert.deepEqual(errors, [], 'devcontainer.json parses without an error');
  return value;
}

describe('hostile scaffold: names from the repository never become instructions', function () {
  this.timeout(60_000);

  it('a training script named "train\\nRUN touch pwned-at-build #.py" stays the entry point (--dockerfile-at root)', () => {
    const name = 'train\nRUN touch pwned-at-build #.py';
    const hostile = project({ [name]: TRAIN_PY, 'requirements.txt': REQS });
    const clean = project({ 'train.py': TRAIN_PY, 'requirements.txt': REQS });
    try {
      const r = scaffoldCli(hostile.dir, '--dockerfile-at', 'root');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(scaffoldCli(clean.dir, '--dockerfile-at', 'root').status, 0);
      const text = read(hostile.dir, 'Dockerfile');
      assertNoRawControl(text.replace(/\n/g, ''), 'the Dockerfile');
      const got = instructions(text);
      // the same instructions as the clean project, none of them running the name
      assert.deepEqual(
        got.map((i) => i.keyword),
        instructions(read(clean.dir, 'Dockerfile')).map((i) => i.keyword),
      );
      assert.deepEqual(
        got.filter((i) => /pwned/.test(i.args)).map((i) => i.keyword),
        ['ENTRYPOINT'],
      );
      // the entry point is the file, exactly (the exec form's JSON, as Docker reads it)
      const entry = got.find((i) => i.keyword === 'ENTRYPOINT')!;
      assert.deepEqual(JSON.parse(entry.args), ['python', name]);
      // the comment that names it shows the line break escaped
      assert.match(text, /^# python train\\nRUN touch pwned-at-build #\.py \(no distributed launcher detected\)\./m);
    } finally {
      hostile.cleanup();
      clean.cleanup();
    }
  });

  it('a requirements file named "requirements\\nRUN touch pwned-req #.txt" is left out with a warning, never copied raw', () => {
    const name = 'requirements\nRUN touch pwned-req #.txt';
    const hostile = project({ 'train.py': TRAIN_PY, 'requirements.txt': REQS, [name]: '' });
    const clean = project({ 'train.py': TRAIN_PY, 'requirements.txt': REQS });
    try {
      const r = scaffoldCli(hostile.dir, '--dockerfile-at', 'root');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /requirements file "requirements\\nRUN touch pwned-req #\.txt" was left out/);
      assert.equal(scaffoldCli(clean.dir, '--dockerfile-at', 'root').status, 0);
      const text = read(hostile.dir, 'Dockerfile');
      assertNoRawControl(text.replace(/\n/g, ''), 'the Dockerfile');
      const got = instructions(text);
      const want = instructions(read(clean.dir, 'Dockerfile'));
      assert.deepEqual(got, want, 'exactly the instructions of the project without that file');
      assert.deepEqual(copySources(got.find((i) => i.keyword === 'COPY')!.args), ['requirements.txt']);
      // a comment says why, escaped
      assert.match(text, /^# Warning: The requirements file "requirements\\nRUN touch pwned-req #\.txt" was left out/m);
    } finally {
      hostile.cleanup();
      clean.cleanup();
    }
  });

  it('the same, when it is the only requirements file: no pip step at all', () => {
    const name = 'requirements\nRUN touch pwned-req #.txt';
    const hostile = project({ 'train.py': TRAIN_PY, [name]: '' });
    try {
      const r = scaffoldCli(hostile.dir, '--dockerfile-at', 'root', '--json');
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { installer: string; warnings: string[] };
      assert.equal(out.installer, 'none');
      assert.equal(out.warnings.length, 1);
      const got = instructions(read(hostile.dir, 'Dockerfile'));
      assert.ok(!got.some((i) => /pwned/.test(i.args)), JSON.stringify(got));
      assert.ok(
        !/pwned/.test(
          String(parseDevcontainer(read(hostile.dir, '.devcontainer/devcontainer.json')).postCreateCommand),
        ),
      );
    } finally {
      hostile.cleanup();
    }
  });

  it('requirements files with spaces, quotes, $() and backslashes are copied and installed by their exact names', () => {
    const odd = `requirements $(touch pwned) 'q' "d" \\b.txt`;
    const hostile = project({ 'train.py': TRAIN_PY, 'requirements-dev.txt': REQS, [odd]: REQS });
    try {
      const r = scaffoldCli(hostile.dir);
      assert.equal(r.status, 0, r.stderr);
      const got = instructions(read(hostile.dir, '.devcontainer/Dockerfile'));
      const copy = got.find((i) => i.keyword === 'COPY')!;
      assert.ok(copy.args.startsWith('['), `the JSON form: ${copy.args}`);
      const sources = copySources(copy.args);
      assert.deepEqual([...sources].sort(), ['requirements-dev.txt', odd].sort());
      // both are installed, each by its name as the shell reads it, in the same order
      const run = got.filter((i) => i.keyword === 'RUN').pop()!;
      assert.deepEqual(shellWords(run.args), [
        ...['umask', '0002', '&&'],
        ...['pip', 'install', ...sources.flatMap((f) => ['-r', f])],
      ]);
      const post = parseDevcontainer(read(hostile.dir, '.devcontainer/devcontainer.json')).postCreateCommand;
      assert.deepEqual(
        shellWords(String(post)),
        sources.flatMap((f, k) => [...(k ? ['&&'] : []), 'pip', 'install', '-r', f]),
      );
    } finally {
      hostile.cleanup();
    }
  });

  it('a folder name with a line break cannot turn devcontainer.json into another object', () => {
    // (a folder name cannot hold "/": the rest of the header line follows the injected object)
    const folder = 'proj\n{"initializeCommand": "touch mlc-pwned-on-host"}\n';
    const hostile = project({ 'train.py': TRAIN_PY, 'requirements.txt': REQS }, folder);
    const clean = project({ 'train.py': TRAIN_PY, 'requirements.txt': REQS });
    try {
      const r = scaffoldCli(hostile.dir);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(scaffoldCli(clean.dir).status, 0);
      const text = read(hostile.dir, '.devcontainer/devcontainer.json');
      assertNoRawControl(text.replace(/\n/g, ''), 'devcontainer.json');
      const json = parseDevcontainer(text);
      const want = parseDevcontainer(read(clean.dir, '.devcontainer/devcontainer.json'));
      assert.equal(json.initializeCommand, undefined);
      assert.deepEqual(Object.keys(json), Object.keys(want), 'the same keys as for a clean folder name');
      assert.equal(json.name, `${folder} (CPU)`, 'the name is the folder name, exactly');
      assert.deepEqual({ ...json, name: want.name }, want);
      // the header comment shows it escaped, on one line
      assert.ok(jsoncComments(text)[0]!.includes('proj\\n{"initializeCommand"'), jsoncComments(text)[0]);
      // the Dockerfile too: the same instructions, the label shows it escaped
      const df = instructions(read(hostile.dir, '.devcontainer/Dockerfile'));
      assert.deepEqual(
        df.map((i) => i.keyword),
        instructions(read(clean.dir, '.devcontainer/Dockerfile')).map((i) => i.keyword),
      );
    } finally {
      hostile.cleanup();
      clean.cleanup();
    }
  });
});

describe('hostile scaffold: options are validated or encoded for their place', function () {
  this.timeout(60_000);
  let proj: Project;
  beforeEach(() => {
    proj = project({ 'train.py': TRAIN_PY, 'requirements.txt': REQS });
  });
  afterEach(() => proj.cleanup());

  const nothingWritten = (): void => assert.ok(!fs.existsSync(path.join(proj.dir, '.devcontainer')), 'nothing written');

  it('--base-image with a line break is refused (exit 2, one sentence), nothing written', () => {
    const r = scaffoldCli(proj.dir, '--base-image', 'python:3.12\nRUN touch /pwned');
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /--base-image must be a Docker image reference .*, got "python:3\.12\\nRUN touch \/pwned"\./,
    );
    // one sentence on one line (the usage follows, as for every usage error)
    assert.match(r.stderr.split('\n')[0]!, /^ml-containers scaffold: --base-image .*\.$/);
    nothingWritten();
  });

  it('--base-image that is a reference is written as it is', () => {
    const ref = 'registry.example.com:5000/team/img:1.0@sha256:' + 'a'.repeat(64);
    const r = scaffoldCli(proj.dir, '--base-image', ref);
    assert.equal(r.status, 0, r.stderr);
    const arg = instructions(read(proj.dir, '.devcontainer/Dockerfile')).find((i) => i.keyword === 'ARG')!;
    assert.equal(arg.args, `BASE_IMAGE=${ref}`);
  });

  it('--datasets with a comma stays one mount source (quoted for --mount), never target=/etc', () => {
    const datasets = '/data,target=/etc';
    const r = scaffoldCli(proj.dir, '--datasets', datasets);
    assert.equal(r.status, 0, r.stderr);
    const json = parseDevcontainer(read(proj.dir, '.devcontainer/devcontainer.json'));
    const mount = (json.mounts as string[])[0]!;
    // Docker reads --mount as a CSV record (Go encoding/csv): exactly these four fields
    assert.deepEqual(csvFields(mount), [
      'source=/data,target=/etc',
      'target=/datasets',
      'type=bind',
      'consistency=cached',
    ]);
  });

  it('--datasets that is relative or has a line break is refused (exit 2)', () => {
    for (const d of ['data', '/data\n/etc', '']) {
      const r = scaffoldCli(proj.dir, '--datasets', d);
      if (d === '') {
        assert.equal(r.status, 0, 'an empty --datasets means none');
        fs.rmSync(path.join(proj.dir, '.devcontainer'), { recursive: true });
        fs.rmSync(path.join(proj.dir, '.dockerignore'));
        continue;
      }
      assert.equal(r.status, 2, `${JSON.stringify(d)}: ${r.stderr}`);
      assert.match(r.stderr, /datasets folder .* must be an absolute path/);
      nothingWritten();
    }
  });

  it('--cuda 99.9 is refused with the versions ML Containers knows (exit 2)', () => {
    const r = scaffoldCli(proj.dir, '--framework', 'pytorch', '--cuda', '99.9');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--cuda must be a CUDA version ML Containers knows \(10\.0, .*12\.8, .*\), got "99\.9"\./);
    nothingWritten();
  });

  it('a known --cuda without an nvidia/cuda tag of its own says which image it really is', () => {
    const r = scaffoldCli(proj.dir, '--framework', 'pytorch', '--cuda', '12.3', '--json', '--dry-run');
    assert.equal(r.status, 0, r.stderr);
    const stack = (JSON.parse(r.stdout) as { stack: { baseImage: string; why: string[] } }).stack;
    assert.equal(stack.baseImage, 'nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04');
    assert.ok(
      stack.why.some((w) => w.includes("NVIDIA's image for CUDA 12.2, the newest known one at or below CUDA 12.3")),
      stack.why.join('\n'),
    );
    assert.ok(!stack.why.some((w) => /image for CUDA 12\.3/.test(w)), stack.why.join('\n'));
  });

  it('the core refuses the same options with a typed error (what the extension shows)', () => {
    const profile: ProjectProfile = {
      root: '/w/proj',
      isTrainingProject: true,
      frameworks: ['pytorch'],
      primaryFramework: 'pytorch',
      envFiles: [],
      pythonVersion: null,
      entrypoints: ['train.py'],
      launcher: null,
      cudaHint: null,
      needsGpu: 'yes',
      notebooks: 0,
      evidence: [],
      warnings: [],
    };
    const cases: [object, string][] = [
      [{ baseImage: 'a\nRUN x' }, 'base-image'],
      [{ cuda: '99.9' }, 'cuda'],
      [{ python: '3.11"' }, 'python'],
      [{ datasetsPath: 'rel/path' }, 'datasets'],
      [{ datasetsPath: '/a\u001b[31m' }, 'datasets'],
      [{ mode: 'x' }, 'mode'],
    ];
    for (const [opts, option] of cases) {
      assert.throws(
        () => generateScaffold(profile, [], opts),
        (err: unknown) => err instanceof ScaffoldOptionError && err.option === option && !/\n/.test(err.message),
        JSON.stringify(opts),
      );
    }
  });
});

describe('hostile scaffold: detected values that are not versions are left out', () => {
  it('a Python or CUDA pin, or a framework pin, with a line break or quotes never reaches a file', () => {
    const profile: ProjectProfile = {
      root: '/w/proj',
      isTrainingProject: true,
      frameworks: ['pytorch'],
      primaryFramework: 'pytorch',
      envFiles: ['requirements.txt'],
      pythonVersion: '3.11\nRUN touch /pwned',
      entrypoints: ['train.py'],
      launcher: null,
      cudaHint: '12.1"$(touch /pwned)',
      needsGpu: 'yes',
      notebooks: 0,
      evidence: [],
      warnings: [],
    };
    const packages = [
      { name: 'torch', spec: '==2.3.1$(touch /pwned)', extras: [], file: 'requirements.txt', line: 1, text: 'torch' },
    ];
    const s = generateScaffold(profile, packages as never, {});
    assert.equal(s.warnings.length, 2, s.warnings.join('\n'));
    // only the warning comments name them (escaped); no instruction and no value does
    const dockerfile = s.files.find((f) => f.path.endsWith('Dockerfile'))!.content;
    assert.ok(!instructions(dockerfile).some((i) => /pwned/.test(i.args)), dockerfile);
    assertNoRawControl(dockerfile.replace(/\n/g, ''), 'the Dockerfile');
    assert.match(dockerfile, /^# Warning: The project's Python pin "3\.11\\nRUN touch \/pwned" is not X\.Y/m);
    const dc = s.files.find((f) => f.path.endsWith('devcontainer.json'))!.content;
    assert.ok(!/pwned/.test(JSON.stringify(parseDevcontainer(dc))), dc);
    assert.equal(s.stack.frameworkVersion, null);
    const run = shellWords(
      instructions(s.files.find((f) => f.path.endsWith('Dockerfile'))!.content)
        .filter((i) => i.keyword === 'RUN')
        .pop()!.args,
    );
    assert.ok(!run.some((w) => w.includes('pwned')), run.join(' '));
  });
});
