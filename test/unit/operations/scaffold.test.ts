/**
 * Add GPU Dev Container as one operation (scaffoldProject), on copies of the fixture projects: new files are written
 * without asking, a change to an existing file only with the port's consent, nothing at all when the port cancels;
 * option, write and cancellation errors come out typed and unchanged; and neither face (the CLI, the editor) runs the
 * steps itself.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DetectRootError } from '../../../src/core/detect';
import {
  type PlannedScaffold,
  type ScaffoldConsent,
  type ScaffoldPort,
  type ScaffoldResult,
  scaffoldProject,
} from '../../../src/core/operations/scaffold';
import { ScaffoldOptionError } from '../../../src/core/scaffold/generate';
import { type PlannedFile, ScaffoldWriteError } from '../../../src/core/scaffold/plan';
import { isCancellation } from '../../../src/core/util/errors';
import { FIXTURES, ROOT, tempDir } from '../helpers';

const NEW_FILES = ['.devcontainer/devcontainer.json', '.devcontainer/Dockerfile', '.dockerignore'];
const MINE =
  '{\n  // team settings: keep\n  "name": "ours",\n  "image": "python:3.11",\n  "runArgs": ["--gpus", "all"]\n}\n';

/** Every file under `dir` with its content, to tell whether anything changed. */
function snapshot(dir: string): Record<string, string> {
  const files = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((p) =>
    fs.lstatSync(path.join(dir, p)).isFile(),
  );
  return Object.fromEntries(
    files.sort().map((p) => [p.split(path.sep).join('/'), fs.readFileSync(path.join(dir, p), 'utf8')]),
  );
}

/** A port that answers `answer` and records what it was shown. */
function port(answer: ScaffoldConsent | (() => Promise<ScaffoldConsent>)): {
  port: ScaffoldPort;
  asked: PlannedFile[][];
  planned: PlannedScaffold[];
} {
  const asked: PlannedFile[][] = [];
  const planned: PlannedScaffold[] = [];
  return {
    asked,
    planned,
    port: {
      planned: (p) => planned.push(p),
      confirm: (changes) => {
        asked.push([...changes]);
        return typeof answer === 'string' ? Promise.resolve(answer) : answer();
      },
    },
  };
}

const neverAsked = (): Promise<ScaffoldConsent> => Promise.reject(new Error('consent was asked'));

/** A fresh copy of a fixture project for each test (with `mine` as its devcontainer.json when given). */
function eachCopyOf(fixture: string, mine?: string): { dir: string; dc: string } {
  const at = { dir: '', dc: '' };
  let cleanup = (): void => undefined;
  beforeEach(() => {
    const t = tempDir('mlc-scaffold-op-');
    fs.cpSync(path.join(FIXTURES, 'projects', fixture), t.dir, { recursive: true });
    cleanup = t.cleanup;
    at.dir = t.dir;
    at.dc = path.join(t.dir, '.devcontainer', 'devcontainer.json');
    if (mine === undefined) return;
    fs.mkdirSync(path.dirname(at.dc));
    fs.writeFileSync(at.dc, mine);
  });
  afterEach(() => cleanup());
  return at;
}

/** Runs the operation on `dir` and checks that no file there changed. */
async function writesNothing(dir: string, p: ScaffoldPort, signal?: AbortSignal): Promise<ScaffoldResult> {
  const before = snapshot(dir);
  const r = await scaffoldProject({ projectRoot: dir }, signal, p).finally(() =>
    assert.deepEqual(snapshot(dir), before, 'nothing written'),
  );
  assert.deepEqual(r.written, []);
  return r;
}

describe('one operation: Add GPU Dev Container, on a project without a dev container', () => {
  const at = eachCopyOf('pytorch-ddp');

  it('writes the new files without asking; a second run finds them unchanged', async () => {
    const p = port(neverAsked);
    const ignoreAtPlan: boolean[] = [];
    p.port.planned = () => ignoreAtPlan.push(fs.existsSync(path.join(at.dir, '.dockerignore')));
    const r = await scaffoldProject({ projectRoot: at.dir, dockerfileAt: 'devcontainer' }, undefined, p.port);
    assert.deepEqual(r.written, NEW_FILES);
    assert.deepEqual([r.unchanged, r.skipped, r.declined, r.refused], [[], [], [], null]);
    assert.deepEqual(ignoreAtPlan, [false], 'the plan is reported before anything is written');
    assert.deepEqual(
      r.plan.map((f) => [f.path, f.action]),
      NEW_FILES.map((f) => [f, 'create']),
    );
    assert.deepEqual([r.root, r.stack.framework], [at.dir, 'pytorch']);
    const read = (f: string): string => fs.readFileSync(path.join(at.dir, f), 'utf8');
    assert.deepEqual(
      NEW_FILES.map(read),
      r.plan.map((f) => f.content),
    );

    const again = await writesNothing(at.dir, p.port);
    assert.deepEqual([again.unchanged, again.skipped], [NEW_FILES, []]);
  });

  it('option errors are typed ScaffoldOptionErrors, thrown before the project is read', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ mode: 'everything' }, 'mode'],
      [{ dockerfileAt: 'elsewhere' }, 'dockerfile-at'],
      [{ datasetsPath: 'data/relative' }, 'datasets'],
      [{ python: 'three' }, 'python'],
    ];
    for (const [bad, option] of cases) {
      const p = port(neverAsked);
      // the folder does not exist: an option error comes first
      const opts = { projectRoot: path.join(at.dir, 'no-such-project'), ...bad };
      await assert.rejects(scaffoldProject(opts, undefined, p.port), (err: unknown) => {
        assert.ok(err instanceof ScaffoldOptionError, String(err));
        assert.equal(err.option, option);
        assert.equal(err.message.trim().split('\n').length, 1);
        return true;
      });
      assert.deepEqual(p.planned, []);
    }
  });

  it('a folder that does not exist: the DetectRootError, unchanged', async () => {
    const missing = path.join(at.dir, 'no-such-project');
    await assert.rejects(scaffoldProject({ projectRoot: missing }, undefined, port(neverAsked).port), DetectRootError);
  });

  it('neither face detects, generates, plans or writes itself: both go through scaffoldProject', () => {
    for (const face of ['src/cli/commands/scaffold.ts', 'src/extension/commands/scaffold.ts']) {
      const text = fs.readFileSync(path.join(ROOT, face), 'utf8');
      assert.doesNotMatch(text, /\b(detectForScaffold|generateScaffold|planScaffold|applyPlan|needsConsent)\b/, face);
      assert.match(text, /\bscaffoldProject\(/, face);
    }
  });
});

describe("one operation: Add GPU Dev Container, on a project with the team's devcontainer.json", () => {
  const at = eachCopyOf('sklearn-cpu', MINE);
  const DC = '.devcontainer/devcontainer.json';

  it('a refusal (cancel) leaves everything as it was, the new files included', async () => {
    const r = await writesNothing(at.dir, port('cancel').port);
    assert.deepEqual([r.skipped, r.refused], [NEW_FILES, null]);
    assert.deepEqual(
      r.declined.map((f) => f.path),
      [DC],
    );
  });

  it('"keep" leaves the existing devcontainer.json byte for byte and writes the new files', async () => {
    const r = await scaffoldProject({ projectRoot: at.dir }, undefined, port('keep').port);
    assert.equal(fs.readFileSync(at.dc, 'utf8'), MINE);
    assert.deepEqual([r.written, r.skipped], [['.devcontainer/Dockerfile', '.dockerignore'], [DC]]);
    assert.deepEqual(
      r.declined.map((f) => [f.path, f.action]),
      [[DC, 'merge']],
    );
  });

  it('merges it only after consent, shown its current and proposed text', async () => {
    const p = port('apply');
    p.port.confirm = (changes) => {
      p.asked.push([...changes]);
      assert.equal(fs.readFileSync(at.dc, 'utf8'), MINE, 'nothing is written before the answer');
      assert.ok(!fs.existsSync(path.join(at.dir, '.dockerignore')), 'not even the new files');
      return Promise.resolve('apply');
    };
    const r = await scaffoldProject({ projectRoot: at.dir }, undefined, p.port);
    const change = p.asked[0]?.[0];
    assert.deepEqual(
      [p.asked.length, p.asked[0]?.length, change?.path, change?.action, change?.existing],
      [1, 1, DC, 'merge', MINE],
    );
    const merged = fs.readFileSync(at.dc, 'utf8');
    assert.equal(merged, change?.content);
    assert.match(merged, /\/\/ team settings: keep\n {2}"name": "ours",/, 'comments and keys kept');
    assert.match(merged, /"hostRequirements"/);
    assert.doesNotMatch(merged, /"--gpus"/);
    assert.deepEqual([r.written, r.declined], [NEW_FILES, []]);
  });

  it('a dry run asks nothing and writes nothing, and says what would change', async () => {
    const before = snapshot(at.dir);
    const r = await scaffoldProject({ projectRoot: at.dir, dryRun: true }, undefined, port(neverAsked).port);
    assert.deepEqual(snapshot(at.dir), before);
    assert.deepEqual(
      r.plan.map((f) => f.action),
      ['merge', 'create', 'create'],
    );
    assert.deepEqual([r.written, r.skipped, r.declined], [[], NEW_FILES, []]);
  });

  it('an unsafe file (a link out of the project): nothing asked, nothing written, one sentence', async () => {
    const out = tempDir('mlc-elsewhere-');
    try {
      fs.writeFileSync(path.join(out.dir, 'ignore'), 'SECRET\n');
      fs.symlinkSync(path.join(out.dir, 'ignore'), path.join(at.dir, '.dockerignore'));
      const r = await writesNothing(at.dir, port(neverAsked).port);
      assert.match(r.refused ?? '', /^Nothing was written: \.dockerignore .*outside the project/);
      assert.equal(fs.readFileSync(path.join(out.dir, 'ignore'), 'utf8'), 'SECRET\n');
    } finally {
      out.cleanup();
    }
  });

  it('a devcontainer.json that cannot be parsed: nothing asked, nothing written, the sentence says where', async () => {
    fs.writeFileSync(at.dc, '{ "image": "x", "runArgs": [ \n');
    const r = await writesNothing(at.dir, port(neverAsked).port);
    assert.match(
      r.refused ?? '',
      /^Nothing was written: \.devcontainer\/devcontainer\.json could not be parsed \(\w+ at line \d+, column \d+\)/,
    );
  });

  it('a write that fails part-way throws the ScaffoldWriteError, naming what was written', async () => {
    // the project changes while the user reads the diff: a folder now stands where the Dockerfile goes
    const p = port(() => {
      fs.mkdirSync(path.join(at.dir, '.devcontainer', 'Dockerfile'));
      return Promise.resolve('apply');
    });
    await assert.rejects(scaffoldProject({ projectRoot: at.dir }, undefined, p.port), (err: unknown) => {
      assert.ok(err instanceof ScaffoldWriteError, String(err));
      assert.deepEqual([err.written, err.notWritten], [[DC], ['.devcontainer/Dockerfile', '.dockerignore']]);
      assert.match(
        err.message,
        /^Wrote \S+, but .* were not written: \S+ could not be written because a folder of that name is in the way; rename or remove the folder and try again\.$/,
      );
      return true;
    });
    assert.notEqual(fs.readFileSync(at.dc, 'utf8'), MINE);
    assert.ok(!fs.existsSync(path.join(at.dir, '.dockerignore')));
  });

  it('cancelled while the user is asked: a CancellationError, and nothing written', async () => {
    const abort = new AbortController();
    const p = port(() => {
      abort.abort();
      return Promise.resolve('apply');
    });
    await assert.rejects(writesNothing(at.dir, p.port, abort.signal), (err: unknown) => isCancellation(err));
  });
});
