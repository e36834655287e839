/**
 * Issue 12, part C: scaffolding a hostile (just cloned) repository. The scaffold writes nothing outside the project
 * (symlinks), keeps an existing file's mode, owner and hard links, reports a failed write in one sentence (read-only
 * folder, full disk), edits the devcontainer.json the spec picks (also `.devcontainer.json`), and reads only regular
 * files (a FIFO or a link to /dev/stdin or /dev/zero is refused, never waited on).
 *
 * These tests run as root (they chown, chattr, mount a tmpfs); each CLI run has a time limit so a hang fails.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { detectForScaffold, generateScaffold } from '../../../src/core/scaffold/generate';
import { ScaffoldWriteError, applyPlan, planScaffold } from '../../../src/core/scaffold/plan';
import { projectFacts, projectImageFacts } from '../../../src/core/compat/project';
import { writeFileAtomic } from '../../../src/core/util/atomic';
import { CLI, FIXTURES, runCli, tempDir } from '../helpers';

const SKLEARN = path.join(FIXTURES, 'projects', 'sklearn-cpu');
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

interface HeldResult {
  status: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs the CLI with stdin a pipe that stays open (so a read of /dev/stdin would block), killed after `ms`. */
function runCliHeld(args: string[], ms = 15_000): Promise<HeldResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, ms);
    child.on('close', (status) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ status, stdout, stderr, timedOut });
    });
  });
}

/** A copy of the small CPU fixture project in a fresh folder. */
function project(): { dir: string; cleanup: () => void } {
  const t = tempDir('mlc-hostile-scaffold-');
  fs.cpSync(SKLEARN, t.dir, { recursive: true });
  return t;
}

/** One sentence on one line, without raw error codes or temp-file names. */
function assertOneSentence(text: string): void {
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected: ${text}`);
  assert.doesNotMatch(text, /\b(EACCES|EPERM|ENOSPC|ENOTDIR|EROFS|ELOOP|EISDIR)\b|\.tmp\b|\n\s+at /, text);
}

const listTree = (dir: string): string[] =>
  (fs.readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/')).sort();

describe('hostile scaffold: never writes or reads through a link that leaves the project', () => {
  it('refuses .devcontainer -> a folder outside (no --force, --force and --dry-run) and names the link', () => {
    const { dir, cleanup } = project();
    const out = tempDir('mlc-elsewhere-');
    try {
      fs.symlinkSync(out.dir, path.join(dir, '.devcontainer'));
      for (const extra of [[], ['--force']]) {
        const r = runCli(['scaffold', dir, ...extra]);
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assertOneSentence(r.stderr);
        assert.match(r.stderr, /\.devcontainer\b.*link.*outside the project/);
        assert.deepEqual(fs.readdirSync(out.dir), [], 'nothing written outside the project');
        assert.ok(!fs.existsSync(path.join(dir, '.dockerignore')), 'nothing written at all');
      }
      // an existing file out there is not read either (its content appears nowhere)
      fs.writeFileSync(path.join(out.dir, 'devcontainer.json'), '{ "image": "SECRET-OUTSIDE" }\n');
      const dry = runCli(['scaffold', dir, '--dry-run']);
      assert.equal(dry.status, 1);
      assert.doesNotMatch(dry.stdout + dry.stderr, /SECRET-OUTSIDE/);
      assert.deepEqual(fs.readdirSync(out.dir), ['devcontainer.json']);
    } finally {
      cleanup();
      out.cleanup();
    }
  });

  it('refuses a file link to outside (.dockerignore -> a file elsewhere) without reading or replacing it', () => {
    const { dir, cleanup } = project();
    const out = tempDir('mlc-elsewhere-');
    try {
      const target = path.join(out.dir, 'ignore');
      fs.writeFileSync(target, 'SECRET-IGNORE\n');
      fs.symlinkSync(target, path.join(dir, '.dockerignore'));
      const r = runCli(['scaffold', dir, '--force']);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assertOneSentence(r.stderr);
      assert.match(r.stderr, /\.dockerignore/);
      assert.doesNotMatch(r.stdout + r.stderr, /SECRET-IGNORE/);
      assert.equal(fs.readFileSync(target, 'utf8'), 'SECRET-IGNORE\n');
      assert.ok(fs.lstatSync(path.join(dir, '.dockerignore')).isSymbolicLink());
    } finally {
      cleanup();
      out.cleanup();
    }
  });

  it('writes through a link that stays inside the project', () => {
    const { dir, cleanup } = project();
    try {
      fs.mkdirSync(path.join(dir, 'config', 'dc'), { recursive: true });
      fs.symlinkSync(path.join('config', 'dc'), path.join(dir, '.devcontainer'));
      const r = runCli(['scaffold', dir]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'config', 'dc')).sort(), ['Dockerfile', 'devcontainer.json']);
      assert.ok(fs.lstatSync(path.join(dir, '.devcontainer')).isSymbolicLink(), 'the link stays a link');
    } finally {
      cleanup();
    }
  });

  it('says ".devcontainer is a file, not a folder" instead of ENOTDIR', () => {
    const { dir, cleanup } = project();
    try {
      fs.writeFileSync(path.join(dir, '.devcontainer'), 'not a folder\n');
      for (const extra of [[], ['--force'], ['--dry-run']]) {
        const r = runCli(['scaffold', dir, ...extra]);
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assertOneSentence(r.stderr);
        assert.match(r.stderr, /\.devcontainer .*is a file, not a folder/);
      }
      assert.equal(fs.readFileSync(path.join(dir, '.devcontainer'), 'utf8'), 'not a folder\n');
      assert.ok(!fs.existsSync(path.join(dir, '.dockerignore')));
    } finally {
      cleanup();
    }
  });
});

describe('hostile scaffold: keeps the metadata of the files it changes', () => {
  before(function () {
    if (!isRoot) this.skip();
  });

  it('--force keeps a 0600 nobody:docker devcontainer.json as it was, and a hard-linked .dockerignore linked', () => {
    const { dir, cleanup } = project();
    try {
      const dc = path.join(dir, '.devcontainer', 'devcontainer.json');
      fs.mkdirSync(path.dirname(dc));
      fs.writeFileSync(dc, '{\n  // mine\n  "image": "python:3.11"\n}\n');
      const docker = Number(execFileSync('getent', ['group', 'docker'], { encoding: 'utf8' }).split(':')[2] ?? 0);
      const gid = docker || NOBODY;
      fs.chownSync(dc, NOBODY, gid);
      fs.chmodSync(dc, 0o600);
      const shared = path.join(dir, 'shared-ignore');
      fs.writeFileSync(shared, 'data/\n');
      fs.linkSync(shared, path.join(dir, '.dockerignore'));

      const r = runCli(['scaffold', dir, '--force']);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const st = fs.statSync(dc);
      assert.equal(st.mode & 0o7777, 0o600, `mode ${(st.mode & 0o7777).toString(8)}`);
      assert.equal(st.uid, NOBODY, 'owner kept');
      assert.equal(st.gid, gid, 'group kept');
      assert.match(fs.readFileSync(dc, 'utf8'), /\/\/ mine[\s\S]*"runArgs"/, 'merged');

      const di = fs.statSync(path.join(dir, '.dockerignore'));
      assert.equal(di.nlink, 2, 'the hard link stays');
      assert.equal(di.ino, fs.statSync(shared).ino);
      const text = fs.readFileSync(shared, 'utf8');
      assert.match(text, /^data\/\n[\s\S]*added by ML Containers/);
      assert.equal(text, fs.readFileSync(path.join(dir, '.dockerignore'), 'utf8'));
      assert.ok(
        listTree(dir).every((p) => !p.endsWith('.tmp')),
        'no temp files left',
      );
    } finally {
      cleanup();
    }
  });

  it('writeFileAtomic keeps mode and owner of the file it replaces, and creates new files as usual', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const f = path.join(dir, 'x.json');
      fs.writeFileSync(f, 'old');
      fs.chownSync(f, NOBODY, NOBODY);
      fs.chmodSync(f, 0o640);
      await writeFileAtomic(f, 'new');
      const st = fs.statSync(f);
      assert.deepEqual([st.mode & 0o7777, st.uid, st.gid, fs.readFileSync(f, 'utf8')], [0o640, NOBODY, NOBODY, 'new']);
      const g = path.join(dir, 'new.json');
      await writeFileAtomic(g, 'fresh');
      assert.equal(fs.readFileSync(g, 'utf8'), 'fresh');
      assert.equal(fs.statSync(g).uid, 0);
      // a hard-linked file shrinks correctly when rewritten in place
      fs.writeFileSync(f, 'a much longer old content');
      fs.linkSync(f, path.join(dir, 'y.json'));
      await writeFileAtomic(f, 'short', { keepHardLinks: true });
      assert.equal(fs.readFileSync(path.join(dir, 'y.json'), 'utf8'), 'short');
      assert.deepEqual(fs.readdirSync(dir).sort(), ['new.json', 'x.json', 'y.json']);
      // without keepHardLinks (our own state files) the other link is never written through
      await writeFileAtomic(f, 'state');
      assert.deepEqual(
        [fs.readFileSync(f, 'utf8'), fs.readFileSync(path.join(dir, 'y.json'), 'utf8')],
        ['state', 'short'],
      );
    } finally {
      cleanup();
    }
  });
});

describe('hostile scaffold: a failed write says which files were written and which not', () => {
  const mounts: string[] = [];
  const immutable: string[] = [];
  before(function () {
    if (!isRoot) this.skip();
  });
  after(() => {
    for (const p of immutable) spawnSync('chattr', ['-i', p]);
    for (const m of mounts) spawnSync('umount', [m]);
  });

  it('a read-only folder (chattr +i): one sentence naming the written and the unwritten files', () => {
    const { dir, cleanup } = project();
    try {
      fs.mkdirSync(path.join(dir, '.devcontainer'));
      immutable.push(dir);
      execFileSync('chattr', ['+i', dir]);
      const r = runCli(['scaffold', dir, '--dockerfile-at', 'root']);
      execFileSync('chattr', ['-i', dir]);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assertOneSentence(r.stderr);
      assert.match(r.stderr, /[Ww]rote \.devcontainer\/devcontainer\.json/);
      assert.match(r.stderr, /Dockerfile and \.dockerignore were not written/);
      assert.match(r.stderr, /not allowed|read-only|permission/);
      assert.ok(fs.existsSync(path.join(dir, '.devcontainer', 'devcontainer.json')));
      assert.ok(!fs.existsSync(path.join(dir, 'Dockerfile')));
      assert.match(r.stdout, /^Dockerfile: create \(NOT written\)$/m);
      assert.deepEqual(
        listTree(dir).filter((p) => p.includes('.tmp')),
        [],
      );
    } finally {
      spawnSync('chattr', ['-i', dir]);
      cleanup();
    }
  });

  it('run as nobody on a root-owned project: nothing written, in one sentence', () => {
    const { dir, cleanup } = project();
    try {
      fs.chmodSync(dir, 0o755);
      const r = spawnSync(
        'setpriv',
        ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI, 'scaffold', dir],
        { encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assertOneSentence(r.stderr);
      assert.match(r.stderr, /[Nn]othing was written/);
      assert.match(r.stderr, /permission/);
      assert.deepEqual(listTree(dir), ['requirements.txt', 'runtime.txt', 'train.py']);
    } finally {
      cleanup();
    }
  });

  it('a full disk (64k tmpfs): one sentence, no ENOSPC, no temp file left', () => {
    const { dir: base, cleanup } = tempDir();
    const mnt = path.join(base, 'mnt');
    fs.mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
      mounts.push(mnt);
      fs.cpSync(SKLEARN, mnt, { recursive: true });
      // fill the disk, then free one page: the first file fits, the next ones do not
      const filler = path.join(mnt, 'filler');
      const fd = fs.openSync(filler, 'w');
      let size = 0;
      try {
        for (;;) size += fs.writeSync(fd, Buffer.alloc(4096, 1));
      } catch {
        // ENOSPC
      }
      fs.closeSync(fd);
      fs.truncateSync(filler, Math.max(0, size - 4096));
      const r = runCli(['scaffold', mnt]);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assertOneSentence(r.stderr);
      assert.match(r.stderr, /disk is full; free some space and try again\.$/m);
      assert.match(
        r.stderr,
        /Wrote \.devcontainer\/devcontainer\.json, but \.devcontainer\/Dockerfile and \.dockerignore were not written/,
      );
      assert.deepEqual(
        listTree(mnt).filter((p) => p.includes('.tmp')),
        [],
        'no temp file left',
      );
      assert.ok(!fs.existsSync(path.join(mnt, '.dockerignore')));
    } finally {
      spawnSync('umount', [mnt]);
      mounts.splice(mounts.indexOf(mnt), 1);
      cleanup();
    }
  });

  it('applyPlan throws a ScaffoldWriteError that lists both sides (the sentence the editor shows)', async function () {
    const { dir, cleanup } = project();
    try {
      const d = await detectForScaffold(dir);
      const plan = await planScaffold(dir, generateScaffold(d.profile, d.packages, {}));
      fs.mkdirSync(path.join(dir, '.devcontainer'));
      execFileSync('chattr', ['+i', path.join(dir, '.devcontainer')]);
      immutable.push(path.join(dir, '.devcontainer'));
      await assert.rejects(applyPlan(dir, plan, { force: false }), (err: unknown) => {
        assert.ok(err instanceof ScaffoldWriteError);
        assert.deepEqual(err.written, []);
        assert.deepEqual(err.notWritten, [
          '.devcontainer/devcontainer.json',
          '.devcontainer/Dockerfile',
          '.dockerignore',
        ]);
        assertOneSentence(err.message);
        return true;
      });
    } finally {
      spawnSync('chattr', ['-i', path.join(dir, '.devcontainer')]);
      cleanup();
    }
  });
});

describe('hostile scaffold: edits the devcontainer.json the spec picks', () => {
  it('merges into an existing root .devcontainer.json instead of creating a second one', () => {
    const { dir, cleanup } = project();
    try {
      const root = path.join(dir, '.devcontainer.json');
      fs.writeFileSync(root, '{\n  // my root config\n  "image": "python:3.11"\n}\n');
      const r = runCli(['scaffold', dir, '--force', '--json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { files: { path: string; action: string; written: boolean }[] };
      assert.deepEqual(out.files[0], { ...out.files[0], path: '.devcontainer.json', action: 'merge', written: true });
      assert.ok(!fs.existsSync(path.join(dir, '.devcontainer', 'devcontainer.json')), 'no second config');
      const merged = fs.readFileSync(root, 'utf8');
      assert.match(merged, /\/\/ my root config/);
      assert.match(merged, /--shm-size=/);
    } finally {
      cleanup();
    }
  });

  it('a generated config moved to the root has its Dockerfile path relative to the root (scaffold again: unchanged)', async () => {
    const { dir, cleanup } = project();
    try {
      assert.equal(runCli(['scaffold', dir]).status, 0);
      const text = fs.readFileSync(path.join(dir, '.devcontainer', 'devcontainer.json'), 'utf8');
      fs.rmSync(path.join(dir, '.devcontainer', 'devcontainer.json'));
      const moved = text
        .replace('"dockerfile": "Dockerfile"', '"dockerfile": ".devcontainer/Dockerfile"')
        .replace('"context": ".."', '"context": "."');
      fs.writeFileSync(path.join(dir, '.devcontainer.json'), moved);
      const d = await detectForScaffold(dir);
      const plan = await planScaffold(dir, generateScaffold(d.profile, d.packages, { hostMemBytes: 0 }));
      const dc = plan.find((p) => p.path.endsWith('devcontainer.json'))!;
      assert.equal(dc.path, '.devcontainer.json');
      const build = (parseJsonc(dc.content) as { build: { dockerfile: string; context: string } }).build;
      assert.deepEqual(build, { ...build, dockerfile: '.devcontainer/Dockerfile', context: '.' });
      const again = runCli(['scaffold', dir, '--json']);
      assert.equal(again.status, 0, again.stderr);
      const files = (JSON.parse(again.stdout) as { files: { path: string; action: string }[] }).files;
      assert.deepEqual(files[0], { ...files[0], path: '.devcontainer.json', action: 'unchanged' });
      assert.ok(!fs.existsSync(path.join(dir, '.devcontainer', 'devcontainer.json')));
    } finally {
      cleanup();
    }
  });

  it('with both, edits .devcontainer/devcontainer.json (first in the search order); a sub-folder config is third', () => {
    const { dir, cleanup } = project();
    try {
      const mine = '{ "image": "python:3.11" }\n';
      fs.mkdirSync(path.join(dir, '.devcontainer', 'gpu'), { recursive: true });
      fs.writeFileSync(path.join(dir, '.devcontainer', 'gpu', 'devcontainer.json'), mine);
      fs.writeFileSync(path.join(dir, '.devcontainer.json'), mine);
      fs.writeFileSync(path.join(dir, '.devcontainer', 'devcontainer.json'), mine);
      let r = runCli(['scaffold', dir, '--force']);
      assert.equal(r.status, 0, r.stderr);
      assert.notEqual(fs.readFileSync(path.join(dir, '.devcontainer', 'devcontainer.json'), 'utf8'), mine);
      assert.equal(fs.readFileSync(path.join(dir, '.devcontainer.json'), 'utf8'), mine);
      assert.equal(fs.readFileSync(path.join(dir, '.devcontainer', 'gpu', 'devcontainer.json'), 'utf8'), mine);

      // only the sub-folder config: it is the one edited
      fs.rmSync(path.join(dir, '.devcontainer', 'devcontainer.json'));
      fs.rmSync(path.join(dir, '.devcontainer.json'));
      r = runCli(['scaffold', dir, '--force', '--json']);
      assert.equal(r.status, 0, r.stderr);
      const files = (JSON.parse(r.stdout) as { files: { path: string; action: string }[] }).files;
      assert.equal(files[0]!.path, '.devcontainer/gpu/devcontainer.json');
      assert.match(fs.readFileSync(path.join(dir, '.devcontainer', 'gpu', 'devcontainer.json'), 'utf8'), /shm-size/);
      assert.ok(!fs.existsSync(path.join(dir, '.devcontainer', 'devcontainer.json')));
    } finally {
      cleanup();
    }
  });
});

describe('hostile scaffold: reads only regular files (FIFOs, /dev/stdin, /dev/zero)', () => {
  const cases: { name: string; make: (dir: string) => void; args: string[]; file: RegExp; ok?: boolean }[] = [
    {
      name: 'a FIFO devcontainer.json (--force)',
      make: (dir) => {
        fs.mkdirSync(path.join(dir, '.devcontainer'));
        execFileSync('mkfifo', [path.join(dir, '.devcontainer', 'devcontainer.json')]);
      },
      args: ['--force'],
      file: /\.devcontainer\/devcontainer\.json.*FIFO/,
    },
    {
      name: 'a FIFO .dockerignore (--force)',
      make: (dir) => execFileSync('mkfifo', [path.join(dir, '.dockerignore')]),
      args: ['--force'],
      file: /\.dockerignore.*FIFO/,
    },
    {
      name: 'a FIFO root Dockerfile (--force --dockerfile-at root)',
      make: (dir) => execFileSync('mkfifo', [path.join(dir, 'Dockerfile')]),
      args: ['--force', '--dockerfile-at', 'root'],
      file: /Dockerfile.*FIFO/,
    },
    {
      name: 'a FIFO root Dockerfile the scaffold does not write (--force): detection does not hang',
      make: (dir) => execFileSync('mkfifo', [path.join(dir, 'Dockerfile')]),
      args: ['--force'],
      file: /./,
      ok: true,
    },
    {
      name: 'devcontainer.json -> /dev/stdin (--dry-run)',
      make: (dir) => {
        fs.mkdirSync(path.join(dir, '.devcontainer'));
        fs.symlinkSync('/dev/stdin', path.join(dir, '.devcontainer', 'devcontainer.json'));
      },
      args: ['--dry-run'],
      file: /\.devcontainer\/devcontainer\.json/,
    },
    {
      name: 'Dockerfile -> /dev/stdin (--dry-run --dockerfile-at root)',
      make: (dir) => fs.symlinkSync('/dev/stdin', path.join(dir, 'Dockerfile')),
      args: ['--dry-run', '--dockerfile-at', 'root'],
      file: /Dockerfile/,
    },
    {
      name: '.dockerignore -> /dev/zero (--force)',
      make: (dir) => fs.symlinkSync('/dev/zero', path.join(dir, '.dockerignore')),
      args: ['--force'],
      file: /\.dockerignore/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { dir, cleanup } = project();
      try {
        c.make(dir);
        const before = listTree(dir);
        const r = await runCliHeld(['scaffold', dir, ...c.args]);
        assert.equal(r.timedOut, false, `hung: ${r.stdout}${r.stderr}`);
        if (c.ok) {
          assert.equal(r.status, 0, r.stderr);
          assert.ok(fs.lstatSync(path.join(dir, 'Dockerfile')).isFIFO());
          return;
        }
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assertOneSentence(r.stderr);
        assert.match(r.stderr, c.file);
        assert.match(r.stderr, /not a regular file|outside the project/);
        assert.deepEqual(listTree(dir), before, 'nothing written, nothing replaced');
      } finally {
        cleanup();
      }
    });
  }
});

describe('hostile checks: the devcontainer.json and Dockerfile the checks read', () => {
  it('projectFacts reads the root .devcontainer.json; a FIFO config or Dockerfile is skipped, not waited on', async () => {
    const { dir, cleanup } = project();
    try {
      fs.writeFileSync(path.join(dir, '.devcontainer.json'), '{ "runArgs": ["--shm-size=8g"] }\n');
      fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM nvidia/cuda:12.1.1-runtime-ubuntu22.04\n');
      const d = await detectForScaffold(dir);
      const facts = await projectFacts(dir, d);
      assert.deepEqual([facts.devcontainer?.file, facts.devcontainer?.shmBytes], ['.devcontainer.json', 8 * 1024 ** 3]);
      assert.ok(d.profile.envFiles.includes('Dockerfile'));
      // swapped for FIFOs after detection (or a link to /dev/zero): nothing blocks, the facts fall back
      fs.rmSync(path.join(dir, '.devcontainer.json'));
      fs.rmSync(path.join(dir, 'Dockerfile'));
      execFileSync('mkfifo', [path.join(dir, '.devcontainer.json')]);
      fs.symlinkSync('/dev/zero', path.join(dir, 'Dockerfile'));
      const slow = setTimeout(() => assert.fail('a read blocked'), 10_000);
      try {
        assert.equal((await projectFacts(dir, d)).devcontainer, null);
        const image = await projectImageFacts(dir, d);
        assert.ok(!image.notes.some((n) => n.includes('Dockerfile')), image.notes.join(' '));
      } finally {
        clearTimeout(slow);
      }
    } finally {
      cleanup();
    }
  });
});
