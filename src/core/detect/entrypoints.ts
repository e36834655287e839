/**
 * Entry points and launcher: which scripts a user runs to train, in the order that matters, and how they are started.
 * The authors' own commands (run scripts, Makefiles, Dockerfiles, then READMEs, in their order) are their word: the
 * scripts they run come first, and the launcher is the one they start the first of them with. Without such a command,
 * a script is one that trains when run (see scripts.ts); a library module's argument-less `__main__` demo is not.
 */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { type LaunchCommand, findProgramCommands } from './commands';
import { NOT_ENTRYPOINT, TRAINING_SCRIPT_NAME } from './knowledge';
import type { PythonFacts } from './python';
import type { RunFacts } from './scripts';
import { type Evidence, LAUNCHERS, type Launcher } from './types';
import { comparePaths } from './walk';

export interface CodeFile {
  rel: string;
  facts: PythonFacts;
  notebook: boolean;
  /** How the file runs; null for notebooks and for files that can neither run nor train. */
  run: RunFacts | null;
}

/** A launch command found in a file: rank 0 in scripts, Makefiles and Dockerfiles, rank 1 in READMEs. */
export type FoundLaunch = LaunchCommand & { file: string; rank: number };

/** A README or script (rank as a FoundLaunch's), searched for the commands of the project's console scripts. */
export interface CommandText {
  file: string;
  rank: number;
  text: string;
}

/** A console script the project installs: its name and the module its function lives in. */
export interface ConsoleScript {
  name: string;
  module: string;
}

/** An authors' command, resolved to the project file it runs (null: a file that is not in the project). */
export interface AuthoredRun {
  file: string;
  line: number;
  text: string;
  rank: number;
  launcher: Launcher | 'python';
  resolved: string | null;
  configFile: string | null;
  /** Where the launcher of a console script's command was seen (the program's own code). */
  launcherHint?: Ev;
}

/** Where a value was seen: an evidence entry without its field and value. */
type Ev = Omit<Evidence, 'field' | 'value'>;

// ---------------------------------------------------------------------------------------------------------------
// Console scripts

const ENTRY_POINT_LINE = /^\s*["']?([A-Za-z][\w.-]*)["']?\s*=\s*["']?([A-Za-z_]\w*(?:\.\w+)*):\w+(?:\.\w+)*["']?/;

/**
 * Console scripts declared in pyproject.toml (`[project.scripts]`, `[tool.poetry.scripts]`), setup.cfg
 * (`console_scripts` of `[options.entry_points]`) or setup.py (`console_scripts=[…]` strings).
 */
export function findConsoleScripts(rel: string, text: string): ConsoleScript[] {
  const out: ConsoleScript[] = [];
  const add = (line: string): void => {
    const m = ENTRY_POINT_LINE.exec(line);
    if (m) out.push({ name: m[1]!, module: m[2]! });
  };
  const base = path.posix.basename(rel);
  if (base === 'setup.py') {
    const at = text.indexOf('console_scripts');
    for (const m of at < 0 ? [] : text.slice(at).matchAll(/["']([^"'\n]+:[^"'\n]+)["']/g)) add(m[1]!);
    return out;
  }
  let section = '';
  let group = '';
  for (const line of text.split('\n')) {
    const header = /^\s*\[([^\]]+)\]/.exec(line);
    if (header) {
      section = header[1]!.trim();
      continue;
    }
    if (base !== 'setup.cfg') {
      if (/(?:^|\.)scripts$/.test(section)) add(line);
      continue;
    }
    // setup.cfg: `console_scripts =` then indented `name = module:function` lines (other groups are plugins)
    const key = /^([^\s=#;][^=]*?)\s*=\s*(.*)$/.exec(line);
    if (key) group = key[1]!;
    if (section === 'options.entry_points' && group === 'console_scripts') add(key ? key[2]! : line);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Resolving commands and imports to project files

class ProjectFiles {
  constructor(readonly python: ReadonlySet<string>) {}

  /** A script as written in a command in `from`: relative to that file's folder, else to the root. */
  file(from: string, written: string): string | null {
    const tries = [path.posix.join(path.posix.dirname(from), written), written].map((p) => path.posix.normalize(p));
    return tries.find((p) => this.python.has(p)) ?? null;
  }

  /** A module's file: `a.b` -> a/b.py or a/b/__init__.py (or __main__.py to run it), from `bases`. */
  module(name: string, bases: readonly string[], run = false): string | null {
    const rel = name.split('.').join('/');
    for (const base of bases) {
      const stem = path.posix.join(base, rel);
      for (const p of [`${stem}.py`, `${stem}/${run ? '__main__' : '__init__'}.py`]) if (this.python.has(p)) return p;
    }
    return null;
  }

  /** A module run with `-m` from a command in `from`: from the command's folder, the root, or `src/`. */
  runModule(from: string, name: string): string | null {
    return this.module(name, [path.posix.dirname(from), '.', 'src'], true);
  }

  /** An import in `from`: relative (`.train`) from its package, else from its folder, the root or `src/`. */
  imported(from: string, name: string): string | null {
    const dots = /^\.*/.exec(name)![0].length;
    if (dots === 0) return this.module(name, [path.posix.dirname(from), '.', 'src']);
    let base = path.posix.dirname(from);
    for (let i = 1; i < dots; i++) base = path.posix.dirname(base);
    return this.module(name.slice(dots), [base]);
  }

  /** Inside a package: its folder has an `__init__.py`. */
  inPackage(rel: string): boolean {
    return this.python.has(path.posix.join(path.posix.dirname(rel), '__init__.py'));
  }
}

/** The launcher a program's own code starts scripts with (its launcher API, e.g. `accelerate.commands.launch`). */
function programLauncher(code: readonly CodeFile[], target: string): { launcher: Launcher; hint: Ev } | null {
  const folder = path.posix.basename(target) === '__init__.py' ? `${path.posix.dirname(target)}/` : null;
  const scope = code.filter((f) => f.rel === target || (folder !== null && f.rel.startsWith(folder)));
  for (const want of LAUNCHERS) {
    for (const f of scope) {
      const h = f.facts.launcherHints.find((x) => x.launcher === want);
      if (h) return { launcher: want, hint: { file: f.rel, line: h.line, text: h.text } };
    }
  }
  return null;
}

/** The project file a console script's command runs: its subcommand's module in the package, else its own. */
function programTarget(
  files: ProjectFiles,
  code: readonly CodeFile[],
  script: ConsoleScript,
  subcommand: string | null,
): { target: string | null; runs: string | null } {
  const target = files.module(script.module, ['.', 'src']);
  if (!target) return { target: null, runs: null };
  if (subcommand) {
    const top = files.module(script.module.split('.')[0]!, ['.', 'src']);
    const pkg = top && path.posix.basename(top) === '__init__.py' ? `${path.posix.dirname(top)}/` : null;
    const name = `${subcommand.replace(/-/g, '_')}.py`;
    const trains = (rel: string): number => (code.find((f) => f.rel === rel)?.facts.training.length ? 0 : 1);
    const found = [...files.python]
      .filter((p) => pkg !== null && p.startsWith(pkg) && path.posix.basename(p) === name)
      .sort((a, b) => trains(a) - trains(b) || a.split('/').length - b.split('/').length || comparePaths(a, b));
    if (found[0]) return { target, runs: found[0] };
  }
  return { target, runs: target };
}

/** The project file a launch command runs: its script or its `-m` module; null when it is not in the project. */
export function resolveLaunch(files: ProjectFiles, l: FoundLaunch): string | null {
  return l.script ? files.file(l.file, l.script) : l.module ? files.runModule(l.file, l.module) : null;
}

/**
 * The authors' commands, each with the project file it runs, in the authors' order: scripts, Makefiles and
 * Dockerfiles first, then READMEs (top level first), each in line order.
 */
export function authoredRuns(
  launches: readonly (FoundLaunch & { resolved: string | null })[],
  texts: readonly CommandText[],
  consoleScripts: readonly ConsoleScript[],
  code: readonly CodeFile[],
  files: ProjectFiles,
): AuthoredRun[] {
  const out: AuthoredRun[] = launches.map((l) => ({
    file: l.file,
    line: l.line,
    text: l.text,
    rank: l.rank,
    launcher: l.launcher,
    resolved: l.resolved,
    configFile: l.configFile,
  }));
  const programs = [...new Set(consoleScripts.map((s) => s.name))];
  const programCommands = texts.flatMap((t) =>
    findProgramCommands(t.text, programs).map((p) => ({ ...p, file: t.file, rank: t.rank })),
  );
  for (const c of programCommands) {
    const script = consoleScripts.find((s) => s.name === c.program);
    if (!script) continue;
    const { target, runs } = programTarget(files, code, script, c.subcommand);
    if (!target) continue;
    const launch = programLauncher(code, target);
    out.push({
      file: c.file,
      line: c.line,
      text: c.text,
      rank: c.rank,
      launcher: launch?.launcher ?? 'python',
      resolved: runs,
      configFile: null,
      ...(launch ? { launcherHint: launch.hint } : {}),
    });
  }
  return out.sort((a, b) => a.rank - b.rank || comparePaths(a.file, b.file) || a.line - b.line);
}

// ---------------------------------------------------------------------------------------------------------------
// Entry points

export interface EntrypointContext {
  code: readonly CodeFile[];
  runs: readonly AuthoredRun[];
  files: ProjectFiles;
  /** The first of the authors' commands that runs each file, and its place among them. */
  launched: ReadonlyMap<string, { run: AuthoredRun; order: number }>;
  /** The files with training code. */
  training: ReadonlySet<string>;
}

export function projectFiles(python: ReadonlySet<string>): ProjectFiles {
  return new ProjectFiles(python);
}

export function entrypointContext(
  code: readonly CodeFile[],
  runs: readonly AuthoredRun[],
  files: ProjectFiles,
): EntrypointContext {
  const launched = new Map<string, { run: AuthoredRun; order: number }>();
  runs.forEach(
    (run, order) => run.resolved && !launched.has(run.resolved) && launched.set(run.resolved, { run, order }),
  );
  const training = new Set(code.filter((f) => f.facts.training.length > 0).map((f) => f.rel));
  return { code, runs, files, launched, training };
}

/**
 * The call in the code `f` runs of the training code of another project module, if any: a function named for
 * training (`train.train_and_evaluate(…)`); from a script named for training, any of its functions (a `train.py`
 * that runs `from src.training import main; main()`).
 */
function trainingCall(ctx: EntrypointContext, f: CodeFile): Ev | null {
  const anyName = TRAINING_SCRIPT_NAME.test(path.posix.basename(f.rel));
  for (const c of f.run?.importedCalls ?? []) {
    if (!c.named && !anyName) continue;
    for (const m of c.modules) {
      const target = ctx.files.imported(f.rel, m);
      if (target && target !== f.rel && ctx.training.has(target)) {
        return { file: f.rel, line: c.line, text: c.text };
      }
    }
  }
  return null;
}

/**
 * A library module's demo: a module of a package, not named for training, that reads no arguments and trains only
 * from its `__main__` block (a usage example or smoke test of the module, not a script a user trains with).
 */
function isDemo(ctx: EntrypointContext, f: CodeFile): boolean {
  return (
    ctx.files.inPackage(f.rel) &&
    !TRAINING_SCRIPT_NAME.test(path.posix.basename(f.rel)) &&
    f.run !== null &&
    !f.run.hasCli &&
    f.run.runsTraining?.from !== 'module'
  );
}

/**
 * The code whose training makes this a training project: notebooks and scripts that train, and library code that
 * trains outside a `__main__` block; not a library module's demo block, nor tests.
 */
export function trainingEvidence(ctx: EntrypointContext): Ev[] {
  return ctx.code.flatMap((f) => {
    const h = f.facts.training[0];
    if (!h || NOT_ENTRYPOINT.test(f.rel)) return [];
    const demoOnly = !f.notebook && !ctx.launched.has(f.rel) && !f.run?.trainsOutsideMain && isDemo(ctx, f);
    return demoOnly ? [] : [{ file: f.rel, line: h.line, text: h.text }];
  });
}

/**
 * The entry points, best first: the scripts the authors' commands run (in their order), then scripts named for
 * training, then other scripts that train when run (by path); each with the evidence for it. `max` caps the list
 * after ranking.
 */
export function rankEntrypoints(ctx: EntrypointContext, max: number): { rel: string; evidence: Ev[] }[] {
  const ranked: { rel: string; key: number; evidence: Ev[] }[] = [];
  for (const f of ctx.code) {
    if (f.notebook || NOT_ENTRYPOINT.test(f.rel)) continue;
    const { run, order } = ctx.launched.get(f.rel) ?? {};
    const calls = trainingCall(ctx, f);
    const trains = run ? f.facts.training.length > 0 || calls : (f.run?.runsTraining || calls) && !isDemo(ctx, f);
    if (!trains) continue;
    const h = f.facts.training[0];
    const training = h ? { file: f.rel, line: h.line, text: h.text } : calls!;
    const named = TRAINING_SCRIPT_NAME.test(path.posix.basename(f.rel));
    const key = order ?? ctx.runs.length + (named ? 0 : 1);
    ranked.push({ rel: f.rel, key, evidence: run ? [run, training] : [training] });
  }
  ranked.sort((a, b) => a.key - b.key || comparePaths(a.rel, b.rel));
  return ranked.slice(0, max).map(({ rel, evidence }) => ({ rel, evidence }));
}

// ---------------------------------------------------------------------------------------------------------------
// Launcher

export interface LauncherChoice {
  launcher: Launcher | null;
  /** The launcher's options the authors' command gives that the train image keeps (an Accelerate config file). */
  launcherArgs: string[];
  evidence: Ev[];
}

/**
 * The launcher: the one the authors' commands start the first entry point with; for a first entry point they run
 * with plain `python`, the launcher its own code expects (`LOCAL_RANK`, `Accelerator()`), if any: a variant script
 * meant for torchrun does not make the project's launcher. Without a command for it: an explicit launcher command
 * anywhere (scripts before READMEs), else what the training code expects.
 */
export function chooseLauncher(ctx: EntrypointContext, entrypoints: readonly string[]): LauncherChoice {
  const first = entrypoints[0];
  const ofFirst = first ? ctx.runs.filter((r) => r.resolved === first) : [];
  const explicit = (ofFirst.length > 0 ? ofFirst : ctx.runs)
    .filter((r): r is AuthoredRun & { launcher: Launcher } => r.launcher !== 'python')
    .map((r) => ({ r, score: r.resolved && entrypoints.includes(r.resolved) ? 0 : 1 }))
    .sort((a, b) => a.r.rank - b.r.rank || a.score - b.score)
    .map(({ r }) => r);
  if (explicit.length > 0) {
    const launcher = explicit[0]!.launcher;
    const chosen = explicit.filter((r) => r.launcher === launcher);
    const all = ctx.runs.filter((r) => r.launcher === launcher);
    return {
      launcher,
      launcherArgs: configArgs(chosen),
      evidence: [...all, ...chosen.flatMap((r) => (r.launcherHint ? [r.launcherHint] : []))],
    };
  }
  const scope = ctx.code.filter((f) =>
    ofFirst.length > 0 ? f.rel === first : entrypoints.includes(f.rel) || f.facts.training.length > 0,
  );
  const hints = scope.flatMap((f) => f.facts.launcherHints.map((h) => ({ ...h, file: f.rel })));
  for (const want of ['deepspeed', 'horovod', 'accelerate', 'torchrun'] as const) {
    const found = hints.filter((h) => h.launcher === want);
    if (found.length > 0) return { launcher: want, launcherArgs: [], evidence: found };
  }
  return { launcher: null, launcherArgs: [], evidence: [] };
}

/** `--config_file <file>` of the first command that gives one (see resolveConfigFiles). */
function configArgs(runs: readonly AuthoredRun[]): string[] {
  const file = runs.find((r) => r.configFile)?.configFile;
  return file ? ['--config_file', file] : [];
}

/**
 * Each launch command's configuration file as a path from the root when it is a file of the project (relative to
 * the command's folder, else to the root), else null: a file that is not there would fail the launch in an image.
 */
export async function resolveConfigFiles(root: string, launches: FoundLaunch[]): Promise<void> {
  for (const l of launches) {
    if (!l.configFile) continue;
    const written = l.configFile;
    l.configFile = null;
    for (const p of [path.posix.join(path.posix.dirname(l.file), written), written].map((x) =>
      path.posix.normalize(x),
    )) {
      if (p.startsWith('..') || path.posix.isAbsolute(p)) continue;
      const st = await stat(path.join(root, p)).catch(() => null);
      if (st?.isFile()) {
        l.configFile = p;
        break;
      }
    }
  }
}
