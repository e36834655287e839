/**
 * Project detection: a folder in, a ProjectProfile out. Walks the project (walk.ts), reads each interesting file
 * with a byte cap (Python sources, notebooks, environment files, scripts, READMEs), and weighs what it found:
 * code that imports and trains beats a declared dependency, which beats a README install line. Never throws for
 * what it finds inside the folder: unreadable, binary, malformed or huge files become warnings.
 */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import ignore from 'ignore';
import { type DevcontainerInspection, inspectDevcontainer } from '../devcontainer';
import { describeFsError, throwIfCancelled } from '../util/errors';
import { TooDeeplyNestedError } from '../util/json';
import { TimeSlicer, readCappedSync } from '../util/text';
import { findCondaInstalls, findLaunchCommands, type LaunchCommand } from './commands';
import {
  type Declarations,
  type DeclaredPackage,
  type Pin,
  emptyDeclarations,
  mergeDeclarations,
  parseCondaEnvironment,
  devcontainerDeclarations,
  parseDockerfile,
  parseLockFile,
  parsePipfile,
  parsePyproject,
  parsePythonVersionFile,
  parseInstallCommands,
  parseRequirement,
  parseRequirementsTxt,
  parseRuntimeTxt,
  parseSetupCfg,
  parseSetupPy,
} from './declarations';
import {
  CPU_FIRST,
  CPU_RUN_FLAG,
  EXAMPLE_FOLDER,
  FRAMEWORK_DISTRIBUTIONS,
  type FrameworkRef,
  GPU_BY_ITSELF,
  GPU_REQUEST_FALLS_BACK,
  IMPORT_FRAMEWORKS,
  NOT_ENTRYPOINT,
  PACKAGE_FRAMEWORKS,
  TRAINING_SCRIPT_NAME,
  normalizePackageName,
} from './knowledge';
import {
  type CodeFile,
  type CommandText,
  type ConsoleScript,
  authoredRuns,
  chooseLauncher,
  entrypointContext,
  findConsoleScripts,
  projectFiles,
  rankEntrypoints,
  resolveConfigFiles,
  resolveLaunch,
  trainingEvidence,
} from './entrypoints';
import { readNotebook } from './notebook';
import { thirdPartyDistributions } from './imports';
import { type GpuHit, type Hit, analyzePython } from './python';
import { analyzeRun } from './scripts';
import {
  type DetectOptions,
  type DetectionWarning,
  type Evidence,
  type EvidenceField,
  FRAMEWORKS,
  type Framework,
  type GpuNeed,
  type Launcher,
  type ProjectProfile,
} from './types';
import { pythonsAllowed } from './versions';
import { type FileKind, type WalkedFile, comparePaths, walkProject } from './walk';

export const DEFAULTS = {
  maxEntries: 200_000,
  maxBytesPerFile: 1024 * 1024,
  maxBytesPerDocument: 8 * 1024 * 1024,
  maxDepth: 24,
  /** Evidence entries kept per (field, value): enough to show, small enough for 5,000-file projects. */
  evidencePerValue: 8,
  maxEntrypoints: 20,
} as const;

/** Thrown when the folder to detect is not a readable folder (nothing inside it ever throws). */
export class DetectRootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DetectRootError';
  }
}

interface Collected {
  code: CodeFile[];
  declarations: Declarations;
  /** Launch commands from scripts, Dockerfiles (rank 0) and READMEs (rank 1). */
  launches: (LaunchCommand & { file: string; rank: number })[];
  /** Framework mentions in README install lines: the weakest evidence (corroboration only). */
  readmeInstalls: DeclaredPackage[];
  /** The packages the root README's `pip install` commands install: declarations of a project with no others. */
  readmePackages: DeclaredPackage[];
  /** Package installs inside notebooks (`!pip install torch`). */
  notebookInstalls: DeclaredPackage[];
  notebooks: number;
  warnings: DetectionWarning[];
  /** The devcontainer.json read (relative to the root), if any. */
  devcontainer?: string;
  /** READMEs and scripts (rank as in `launches`), searched for the console scripts' commands once those are known. */
  commandTexts: CommandText[];
  /** Console scripts the project declares (pyproject.toml, setup.py, setup.cfg). */
  consoleScripts: ConsoleScript[];
}

export async function detectProject(dir: string, options: DetectOptions = {}): Promise<ProjectProfile> {
  return (await detectProjectDetailed(dir, options)).profile;
}

/** What later steps (compatibility checks, scaffolding) need beyond the profile's contract fields. */
export interface ProjectDetails {
  profile: ProjectProfile;
  /**
   * Every package the environment files declare (requirements, pyproject, conda, Pipfile, setup, locks, Dockerfiles);
   * for a project with no environment file, also the packages its own commands install: its root README's
   * `pip install` commands, then its notebooks' `!pip install` lines (their `file` is the README or the notebook).
   */
  packages: DeclaredPackage[];
  /** Usage facts from the code, e.g. `dataloader-workers`: ids of USAGE_PATTERNS found in project code. */
  usage: Set<string>;
}

export async function detectProjectDetailed(dir: string, options: DetectOptions = {}): Promise<ProjectDetails> {
  const root = path.resolve(dir);
  try {
    if (!(await stat(root)).isDirectory()) throw new DetectRootError(`${root} is not a folder.`);
  } catch (err) {
    if (err instanceof DetectRootError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new DetectRootError(`${root} does not exist.`);
    throw new DetectRootError(`${root} cannot be opened: ${describeFsError(err)}.`);
  }
  const walk = await walkProject(root, {
    maxEntries: options.maxEntries ?? DEFAULTS.maxEntries,
    maxDepth: options.maxDepth ?? DEFAULTS.maxDepth,
    exclude: options.exclude ?? [],
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const collected = await collect(root, walk.files, options);
  pushAll(collected.warnings, walk.warnings);
  const usage = new Set(collected.code.flatMap((f) => f.facts.usage.map((h) => h.id)));
  const profile = buildProfile(root, walk.files, collected);
  const packages = collected.declarations.packages;
  return {
    profile,
    packages:
      profile.envFiles.length > 0
        ? packages
        : [
            ...packages,
            ...collected.readmePackages,
            ...collected.notebookInstalls,
            ...importedPackages(collected.code, walk.files),
          ],
    usage,
  };
}

/**
 * For a project with no environment file: the distributions its code imports (neither the standard library nor its
 * own modules), each at its first import, so that the scaffold installs what the code needs and says where it saw it.
 */
function importedPackages(code: readonly CodeFile[], files: readonly WalkedFile[]): DeclaredPackage[] {
  const local = new Set<string>();
  for (const f of files) {
    if (!f.rel.endsWith('.py')) continue;
    const parts = f.rel.split('/');
    parts.forEach((p, i) => local.add(i === parts.length - 1 ? p.slice(0, -3) : p));
  }
  const sites = new Map<string, Hit & { file: string }>();
  for (const f of code) {
    for (const hit of f.facts.modules) {
      for (const dist of thirdPartyDistributions([hit.id], local).known) {
        if (!sites.has(dist)) sites.set(dist, { ...hit, file: f.rel });
      }
    }
  }
  return [...sites].map(([name, site]) => ({
    name,
    extras: [],
    spec: '',
    file: site.file,
    line: site.line,
    text: site.text,
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** Appends without spreading into push(), which overflows the stack for a few hundred thousand items. */
function pushAll<T>(to: T[], items: readonly T[]): void {
  for (const item of items) to.push(item);
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

type DeclarationParser = (file: string, text: string, truncated: boolean) => Declarations;

/** The parser of each kind of environment file the walk finds. */
const DECLARATION_PARSERS: Partial<Record<FileKind, DeclarationParser>> = {
  requirements: parseRequirementsTxt,
  pyproject: parsePyproject,
  conda: parseCondaEnvironment,
  pipfile: parsePipfile,
  'setup.py': parseSetupPy,
  'setup.cfg': parseSetupCfg,
  lock: parseLockFile,
  dockerfile: parseDockerfile,
  'python-version': parsePythonVersionFile,
  'runtime.txt': parseRuntimeTxt,
};

/**
 * The project's devcontainer.json: the one the Dev Container spec picks (the file every other part of the extension
 * reads), through the devcontainer model; null when there is none or the detection's exclude patterns name it.
 */
async function specDevcontainer(root: string, options: DetectOptions): Promise<DevcontainerInspection | null> {
  throwIfCancelled(options.signal);
  const found = await inspectDevcontainer(root);
  const excluded = ignore({ allowRelativePaths: true }).add(options.exclude ?? []);
  return found && !excluded.ignores(found.file) ? found : null;
}

async function collect(root: string, files: readonly WalkedFile[], options: DetectOptions): Promise<Collected> {
  const out: Collected = {
    code: [],
    declarations: emptyDeclarations(),
    launches: [],
    readmeInstalls: [],
    readmePackages: [],
    notebookInstalls: [],
    notebooks: 0,
    warnings: [],
    commandTexts: [],
    consoleScripts: [],
  };
  const capSource = options.maxBytesPerFile ?? DEFAULTS.maxBytesPerFile;
  const capDocument = options.maxBytesPerDocument ?? DEFAULTS.maxBytesPerDocument;
  const parsedRequirements = new Set<string>();

  const read = (f: { rel: string; abs: string }, cap: number): { text: string; truncated: boolean } | null => {
    let r;
    try {
      r = readCappedSync(f.abs, cap);
    } catch (err) {
      out.warnings.push({ file: f.rel, message: `${describeFsError(err)}, so it was skipped.` });
      return null;
    }
    if (r.binary) {
      out.warnings.push({ file: f.rel, message: 'is binary, not text, so it was skipped.' });
      return null;
    }
    if (r.truncated) {
      out.warnings.push({ file: f.rel, message: `is ${sizeText(r.size)}; only its first ${sizeText(cap)} were read.` });
    }
    if (r.invalidUtf8) {
      out.warnings.push({ file: f.rel, message: 'is not valid UTF-8; it was read with replacement characters.' });
    }
    return { text: r.text, truncated: r.truncated };
  };

  const handle = async (f: WalkedFile): Promise<void> => {
    throwIfCancelled(options.signal);
    if (f.kind === 'devcontainer') return; // read below, as the Dev Container spec picks it
    const cap = f.kind === 'python' || f.kind === 'script' || f.kind === 'readme' ? capSource : capDocument;
    const r = read(f, cap);
    if (!r) return;
    const { text, truncated } = r;
    const declared = DECLARATION_PARSERS[f.kind]?.(f.rel, text, truncated);
    if (declared) {
      // Dockerfile RUN, CMD and ENTRYPOINT lines launch like a script's
      for (const c of declared.commands) {
        for (const l of findLaunchCommands(c.command)) {
          out.launches.push({ ...l, line: c.line, text: c.text, file: f.rel, rank: 0 });
        }
      }
      mergeDeclarations(out.declarations, declared);
    }
    if (f.kind === 'pyproject' || f.kind === 'setup.py' || f.kind === 'setup.cfg') {
      pushAll(out.consoleScripts, findConsoleScripts(f.rel, text));
    }
    switch (f.kind) {
      case 'python':
      case 'setup.py': {
        const facts = analyzePython(text);
        const runs = facts.training.length > 0 || facts.mainGuard || facts.topLevelCall;
        out.code.push({ rel: f.rel, facts, notebook: false, run: runs ? analyzeRun(text) : null });
        break;
      }
      case 'notebook': {
        out.notebooks++;
        const nb = readNotebook(text, truncated);
        if (nb.problem) out.warnings.push({ file: f.rel, message: nb.problem });
        out.code.push({ rel: f.rel, facts: analyzePython(nb.code, nb.lineMap), notebook: true, run: null });
        const installs = parseInstallCommands(f.rel, nb.magics);
        for (const p of installs.packages) out.notebookInstalls.push({ ...p, line: nb.lineMap(p.line) });
        for (const p of installs.cuda) out.declarations.cuda.push({ ...p, line: nb.lineMap(p.line) });
        break;
      }
      case 'requirements':
        parsedRequirements.add(f.rel);
        break;
      case 'script':
        for (const l of findLaunchCommands(text)) out.launches.push({ ...l, file: f.rel, rank: 0 });
        out.commandTexts.push({ file: f.rel, rank: 0, text });
        break;
      case 'readme':
        for (const l of findLaunchCommands(text)) out.launches.push({ ...l, file: f.rel, rank: 1 });
        out.commandTexts.push({ file: f.rel, rank: 1, text });
        readReadmeInstalls(out, f.rel, text);
        break;
    }
  };

  // small files, read and analysed one after another in short slices: faster than thousands of async reads,
  // and the event loop (the editor) still gets a turn every few milliseconds
  const slicer = new TimeSlicer();
  for (const f of files) {
    await handle(f);
    await slicer.maybeYield();
  }
  await resolveConfigFiles(root, out.launches);
  const devcontainer = await specDevcontainer(root, options);
  if (devcontainer) {
    mergeDeclarations(out.declarations, devcontainerDeclarations(devcontainer));
    // listed with the environment files when it is a file that was read (not one refused or unreadable)
    if (devcontainer.dc || devcontainer.problem instanceof TooDeeplyNestedError) out.devcontainer = devcontainer.file;
  }

  // `-r other.txt` includes, relative to the including file, followed transitively (each file once)
  const queue = [...out.declarations.includes];
  out.declarations.includes = [];
  for (let guard = 0; queue.length > 0 && guard < 100; guard++) {
    const inc = queue.shift()!;
    const rel = path.posix.normalize(path.posix.join(path.posix.dirname(inc.file), inc.text));
    if (rel.startsWith('..') || path.posix.isAbsolute(rel)) {
      out.warnings.push({
        file: inc.file,
        message: `line ${inc.line} includes ${inc.text}, which is outside the project; it was not read.`,
      });
      continue;
    }
    if (parsedRequirements.has(rel)) continue;
    parsedRequirements.add(rel);
    let st;
    try {
      st = await stat(path.join(root, rel));
    } catch {
      out.warnings.push({ file: inc.file, message: `line ${inc.line} includes ${inc.text}, which does not exist.` });
      continue;
    }
    if (!st.isFile()) continue;
    const r = read({ rel, abs: path.join(root, rel) }, capDocument);
    if (!r) continue;
    const d = parseRequirementsTxt(rel, r.text);
    pushAll(queue, d.includes);
    d.includes = [];
    mergeDeclarations(out.declarations, d);
  }
  pushAll(out.warnings, out.declarations.warnings);
  out.declarations.warnings = [];
  return out;
}

/**
 * A README's install commands: their packages corroborate frameworks (conda's too), their CUDA builds are the
 * weakest CUDA pins, and the root README's pip packages are what a project with no environment file installs.
 */
function readReadmeInstalls(out: Collected, file: string, text: string): void {
  const pip = parseInstallCommands(file, text);
  pushAll(out.readmeInstalls, pip.packages);
  if (!file.includes('/')) pushAll(out.readmePackages, pip.packages);
  pushAll(out.declarations.cuda, pip.cuda);
  for (const i of findCondaInstalls(text)) {
    const req = parseRequirement(i.spec.replace(/^([\w.-]+)=(?!=)/, '$1=='));
    if (req) out.readmeInstalls.push({ ...req, file, line: i.line, text: i.text });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Weighing

const FIELD_ORDER: readonly EvidenceField[] = [
  'isTrainingProject',
  'frameworks',
  'entrypoints',
  'launcher',
  'pythonVersion',
  'cudaHint',
  'needsGpu',
];

class EvidenceList {
  private readonly items: Evidence[] = [];
  private readonly counts = new Map<string, number>();
  private readonly seen = new Set<string>();

  add(field: EvidenceField, value: string, file: string, line: number, text: string): void {
    const key = `${field}\u0000${value}`;
    const exact = `${key}\u0000${file}\u0000${line}`;
    if (this.seen.has(exact)) return;
    this.seen.add(exact);
    this.items.push({ field, value, file, line, text });
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Sorted by field, value, file, line; at most `perValue` entries per (field, value). */
  result(perValue: number): Evidence[] {
    const sorted = [...this.items].sort(
      (a, b) =>
        FIELD_ORDER.indexOf(a.field) - FIELD_ORDER.indexOf(b.field) ||
        (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) ||
        comparePaths(a.file, b.file) ||
        a.line - b.line,
    );
    const kept = new Map<string, number>();
    return sorted.filter((e) => {
      const key = `${e.field}\u0000${e.value}`;
      const n = (kept.get(key) ?? 0) + 1;
      kept.set(key, n);
      return n <= perValue;
    });
  }
}

/** The pin to use among several: lowest rank, then first by path; a warning for each pin that disagrees. */
function choosePin(
  pins: readonly Pin[],
  what: string,
  warnings: DetectionWarning[],
): { pin: Pin; agreeing: Pin[] } | null {
  if (pins.length === 0) return null;
  const sorted = [...pins].sort((a, b) => a.rank - b.rank || comparePaths(a.file, b.file) || a.line - b.line);
  const pin = sorted[0]!;
  const reported = new Set<string>();
  // a range is never called a pin: `>=3.8` allows 3.8 and on; a range and a version it allows do not disagree
  const says = (p: Pin): string => (p.allows ? `allows ${p.allows}` : `pins ${p.version}`);
  for (const other of sorted) {
    if (other.version === pin.version || reported.has(`${other.file}:${other.version}`)) continue;
    if (other.allows && pythonsAllowed({ allows: other.allows }).includes(pin.version)) continue;
    if (pin.allows && !other.allows && pythonsAllowed({ allows: pin.allows }).includes(other.version)) continue;
    reported.add(`${other.file}:${other.version}`);
    warnings.push({
      file: other.file,
      message: `line ${other.line} ${says(other).replace(' ', ` ${what} `)}, but ${pin.file} line ${pin.line} ${says(pin)}; using ${pin.version}.`,
    });
  }
  return { pin, agreeing: sorted.filter((p) => p.version === pin.version) };
}

function buildProfile(root: string, files: readonly WalkedFile[], c: Collected): ProjectProfile {
  const evidence = new EvidenceList();
  const warnings = c.warnings;
  const pythonFiles = new Set(files.filter((f) => f.kind === 'python' || f.kind === 'setup.py').map((f) => f.rel));

  // --- frameworks: what the code uses (training code counts most); declarations add a framework only to a project
  // whose code imports none (a lock file's transitive packages never do), README installs only corroborate
  const scores = new Map<Framework, number>();
  const bump = (fw: Framework, by: number): void => void scores.set(fw, (scores.get(fw) ?? 0) + by);
  const trainingCode = c.code.filter((f) => f.facts.training.length > 0 && !NOT_ENTRYPOINT.test(f.rel));
  for (const f of c.code) {
    const weight = f.facts.training.length > 0 ? 3 : 1;
    for (const u of codeFrameworks(f)) {
      bump(u.framework, u.implied ? 0.5 : weight);
      evidence.add('frameworks', u.framework, f.rel, u.hit.line, u.hit.text);
    }
  }
  const lockFiles = new Set(files.filter((f) => f.kind === 'lock').map((f) => f.rel));
  const declaredPackages = byFrameworkDistribution([...c.declarations.packages, ...c.notebookInstalls]);
  const refFrameworks = (ref: FrameworkRef | undefined, implied: boolean): readonly Framework[] =>
    implied ? (ref?.implies ?? []) : ref?.is ? [ref.is] : [];
  const everyFramework = (ref: FrameworkRef | undefined): Framework[] => [
    ...refFrameworks(ref, false),
    ...refFrameworks(ref, true),
  ];
  const allowed = new Set(scores.keys());
  if (allowed.size === 0) {
    for (const p of declaredPackages.filter((x) => !lockFiles.has(x.file))) {
      for (const fw of everyFramework(PACKAGE_FRAMEWORKS[p.name])) allowed.add(fw);
    }
  }
  const countedDecl = new Set<string>();
  for (const implied of [false, true]) {
    for (const p of declaredPackages) {
      for (const fw of refFrameworks(PACKAGE_FRAMEWORKS[p.name], implied)) {
        const key = `${fw}\u0000${p.file}`;
        if (!allowed.has(fw) || countedDecl.has(key)) continue;
        countedDecl.add(key);
        bump(fw, implied ? 0.5 : 2);
        evidence.add('frameworks', fw, p.file, p.line, p.text);
      }
    }
  }
  for (const p of c.readmeInstalls) {
    for (const fw of everyFramework(PACKAGE_FRAMEWORKS[normalizePackageName(p.name)])) {
      if (!scores.has(fw)) continue;
      bump(fw, 0.25);
      evidence.add('frameworks', fw, p.file, p.line, p.text);
    }
  }
  const frameworks = FRAMEWORKS.filter((fw) => scores.has(fw));
  const primaryFramework = primaryOf(frameworks, scores, trainingCode);
  const codeUsesMl = c.code.some((f) => f.facts.imports.some((i) => IMPORT_FRAMEWORKS[i.id]));

  // --- the authors' commands, then training project, entry points and launcher (entrypoints.ts)
  const project = projectFiles(pythonFiles);
  const launches = c.launches.map((l) => ({ ...l, resolved: resolveLaunch(project, l) }));
  const runs = authoredRuns(launches, c.commandTexts, c.consoleScripts, c.code, project);
  const ctx = entrypointContext(c.code, runs, project);
  const trains = trainingEvidence(ctx);
  const isTrainingProject = codeUsesMl && trains.length > 0;
  const entrypoints: string[] = [];
  let launcher: Launcher | null = null;
  let launcherArgs: string[] = [];
  if (isTrainingProject) {
    for (const e of trains) evidence.add('isTrainingProject', 'true', e.file, e.line, e.text);
    for (const r of rankEntrypoints(ctx, DEFAULTS.maxEntrypoints)) {
      entrypoints.push(r.rel);
      for (const e of r.evidence) evidence.add('entrypoints', r.rel, e.file, e.line, e.text);
    }
    const choice = chooseLauncher(ctx, entrypoints);
    ({ launcher, launcherArgs } = choice);
    for (const e of choice.evidence) evidence.add('launcher', launcher!, e.file, e.line, e.text);
  }

  // --- Python and CUDA pins
  const py = choosePin(c.declarations.python, 'Python', warnings);
  if (py) for (const p of py.agreeing) evidence.add('pythonVersion', py.pin.version, p.file, p.line, p.text);
  const cuda = choosePin(c.declarations.cuda, 'CUDA', warnings);
  if (cuda) for (const p of cuda.agreeing) evidence.add('cudaHint', cuda.pin.version, p.file, p.line, p.text);

  // --- GPU need
  const needsGpu = gpuNeed(c, { frameworks, launcher, launches, pythonFiles }, evidence);

  return {
    root,
    isTrainingProject,
    frameworks,
    primaryFramework,
    envFiles: envFiles(files, c.devcontainer, c.declarations.toolConfigOnly),
    pythonVersion: py?.pin.version ?? null,
    ...(py?.pin.allows ? { pythonRange: py.pin.allows } : {}),
    entrypoints,
    launcher,
    ...(launcherArgs.length > 0 ? { launcherArgs } : {}),
    cudaHint: cuda?.pin.version ?? null,
    needsGpu,
    notebooks: c.notebooks,
    evidence: evidence.result(DEFAULTS.evidencePerValue),
    warnings: dedupeWarnings(warnings),
  };
}

interface GpuContext {
  frameworks: readonly Framework[];
  launcher: Launcher | null;
  launches: readonly (LaunchCommand & { file: string; resolved: string | null })[];
  pythonFiles: ReadonlySet<string>;
}

/**
 * Whether the project needs a GPU (GpuNeed). `yes`: GPU-only code on the main path of a file that has no CPU
 * fallback, code no fallback helps (8-bit loading), or the DeepSpeed launcher. GPU-only code aside from the main
 * path does not make the project GPU-only (see gpuCodeAside); with a CPU fallback, device-aware code, a trainer or a
 * framework that takes a GPU by itself (GPU_BY_ITSELF), the project uses a GPU when there is one: `optional`.
 * Anything else never uses one: `no` (`import torch` alone moves nothing to a GPU).
 */
function gpuNeed(c: Collected, ctx: GpuContext, evidence: EvidenceList): GpuNeed {
  const aside = gpuCodeAside(c, ctx);
  const main = (f: CodeFile, hits: readonly GpuHit[]): GpuHit[] => hits.filter((h) => !aside(f, h));
  const hard = c.code.flatMap((f) =>
    [...(f.facts.gpuFallback.length === 0 ? main(f, f.facts.gpuRequired) : []), ...main(f, f.facts.gpuOnly)].map(
      (h) => ({ ...h, file: f.rel }),
    ),
  );
  if (hard.length > 0 || ctx.launcher === 'deepspeed') {
    for (const h of hard) evidence.add('needsGpu', 'yes', h.file, h.line, h.text);
    const l = ctx.launches.find((x) => x.launcher === 'deepspeed');
    if (hard.length === 0 && l) evidence.add('needsGpu', 'yes', l.file, l.line, l.text);
    return 'yes';
  }
  if (ctx.frameworks.length === 0) return 'no';
  const fallbacks = c.code.flatMap((f) => f.facts.gpuFallback.map((h) => ({ ...h, file: f.rel })));
  const uses = c.code.flatMap((f) =>
    [...f.facts.gpuRequired, ...f.facts.gpuOnly, ...f.facts.gpuUse].map((h) => ({ ...h, file: f.rel })),
  );
  const byItself = ctx.frameworks.filter((fw) => GPU_BY_ITSELF.has(fw));
  if (fallbacks.length + uses.length + byItself.length === 0) return 'no';
  for (const h of fallbacks) evidence.add('needsGpu', 'optional', h.file, h.line, h.text);
  const use = uses.sort((a, b) => comparePaths(a.file, b.file) || a.line - b.line)[0];
  if (fallbacks.length === 0 && use) evidence.add('needsGpu', 'optional', use.file, use.line, use.text);
  const e = evidence.result(1).find((x) => x.field === 'frameworks' && byItself.includes(x.value as Framework));
  if (fallbacks.length === 0 && !use && e) evidence.add('needsGpu', 'optional', e.file, e.line, e.text);
  return 'optional';
}

/**
 * Where GPU-only code stands aside from the project's main path, so that it does not make the project GPU-only:
 * - in a branch only distributed training runs (`if args.distributed:`, `if world_size > 1:`);
 * - in the `__main__` demo of a library module (a module of a package, or one the project imports) that no command
 *   runs and whose name does not say it trains;
 * - in a notebook or an examples folder, when the project's other code falls back to the CPU (they are examples);
 * - in a script a README or script command runs on the CPU (`--device cpu`, `--no-cuda`);
 * - in tests and packaging files;
 * - `device="cuda"` given to XGBoost or LightGBM, which fall back to the CPU when there is no GPU.
 */
function gpuCodeAside(c: Collected, ctx: GpuContext): (f: CodeFile, h: GpuHit) => boolean {
  const launched = new Set(ctx.launches.flatMap((l) => (l.resolved ? [l.resolved] : [])));
  const cpuRuns = new Set(ctx.launches.flatMap((l) => (l.resolved && CPU_RUN_FLAG.test(l.text) ? [l.resolved] : [])));
  const imported = new Set(c.code.flatMap((f) => f.facts.imports.map((i) => i.id)));
  const example = (f: CodeFile): boolean => f.notebook || EXAMPLE_FOLDER.test(f.rel);
  const mainFallsBack = c.code.some((f) => !example(f) && f.facts.gpuFallback.length > 0);
  const libraryModule = (rel: string): boolean => {
    const dir = path.posix.dirname(rel);
    const name = path.posix.basename(rel, '.py');
    if (dir === '.' ? !imported.has(name) : !ctx.pythonFiles.has(`${dir}/__init__.py`)) return false;
    return !launched.has(rel) && !TRAINING_SCRIPT_NAME.test(path.posix.basename(rel));
  };
  const fallsBackByItself = (f: CodeFile): boolean => {
    const used = codeFrameworks(f).map((u) => u.framework);
    return used.some((fw) => GPU_REQUEST_FALLS_BACK.has(fw)) && used.every((fw) => CPU_FIRST.has(fw));
  };
  return (f, h) =>
    h.place === 'distributed' ||
    (h.place === 'main-block' && libraryModule(f.rel)) ||
    (example(f) && mainFallsBack) ||
    cpuRuns.has(f.rel) ||
    NOT_ENTRYPOINT.test(f.rel) ||
    (h.id === 'cuda-device-literal' && fallsBackByItself(f));
}

/**
 * The frameworks a file's code uses, each with the line that shows it: its imports (each framework an import is
 * first, then those it implies; not an import the file only uses as a utility or an export target) and the
 * frameworks it reaches through another's import (`from tensorflow import keras`).
 */
function codeFrameworks(f: CodeFile): { framework: Framework; hit: Hit; implied: boolean }[] {
  const out: { framework: Framework; hit: Hit; implied: boolean }[] = [];
  const add = (framework: Framework, hit: Hit, implied: boolean): void => {
    if (!out.some((u) => u.framework === framework)) out.push({ framework, hit, implied });
  };
  const imports = f.facts.imports.filter((i) => !f.facts.utilityImports.includes(i.id));
  for (const imp of imports) {
    const is = IMPORT_FRAMEWORKS[imp.id]?.is;
    if (is) add(is, imp, false);
  }
  for (const u of f.facts.frameworkUses) add(u.framework, u, false);
  for (const imp of imports) for (const fw of IMPORT_FRAMEWORKS[imp.id]?.implies ?? []) add(fw, imp, true);
  return out;
}

/**
 * Declared packages with each framework's own distribution first (torch before torchvision, jax before flax), so that
 * a file's evidence for a framework is the line that pins the framework itself.
 */
function byFrameworkDistribution(packages: DeclaredPackage[]): DeclaredPackage[] {
  const own = (p: DeclaredPackage): number => {
    const is = PACKAGE_FRAMEWORKS[p.name]?.is;
    return is && FRAMEWORK_DISTRIBUTIONS[is].includes(p.name) ? 0 : 1;
  };
  return packages
    .map((p, i) => ({ p, i, own: own(p) }))
    .sort((a, b) => a.own - b.own || a.i - b.i)
    .map((x) => x.p);
}

/**
 * The framework the training loop is written against: a trainer that runs the loop (Lightning's Trainer over
 * LightningModules, a Hugging Face Trainer) when training code uses one, the one most such files use; otherwise the
 * framework with the most weight (code that trains counts most). Ties go to FRAMEWORKS order.
 */
function primaryOf(
  frameworks: readonly Framework[],
  scores: ReadonlyMap<Framework, number>,
  trainingCode: readonly CodeFile[],
): Framework | null {
  const loops = new Map<Framework, number>();
  for (const f of trainingCode) {
    const fw = loopFramework(f);
    if (fw && frameworks.includes(fw)) loops.set(fw, (loops.get(fw) ?? 0) + 1);
  }
  const weights = loops.size > 0 ? loops : scores;
  let best: Framework | null = null;
  for (const fw of frameworks) {
    if (weights.has(fw) && (best === null || weights.get(fw)! > weights.get(best)!)) best = fw;
  }
  return best;
}

/** The trainer framework that runs a training file's loop, if one does. */
function loopFramework(f: CodeFile): Framework | null {
  const uses = new Set(codeFrameworks(f).map((u) => u.framework));
  const trains = new Set(f.facts.training.map((h) => h.id));
  const trainer = trains.has('hf-trainer') || trains.has('trainer-train');
  if (uses.has('lightning') && (trainer || trains.has('lightning-module') || trains.has('fit'))) return 'lightning';
  if (uses.has('transformers') && trainer) return 'transformers';
  return null;
}

/**
 * The environment files the walk found and the devcontainer.json read, top-level files first; not a pyproject.toml
 * or setup.cfg that only configures tools (`toolConfigOnly`).
 */
function envFiles(
  files: readonly WalkedFile[],
  devcontainer: string | undefined,
  toolConfigOnly: readonly string[],
): string[] {
  const listed = files.filter((f) => f.envFile && !toolConfigOnly.includes(f.rel)).map((f) => f.rel);
  if (devcontainer === undefined || listed.includes(devcontainer)) return listed;
  return [...listed, devcontainer].sort(comparePaths);
}

function dedupeWarnings(warnings: readonly DetectionWarning[]): DetectionWarning[] {
  const seen = new Set<string>();
  return warnings
    .filter((w) => {
      const k = `${w.file}\u0000${w.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => comparePaths(a.file, b.file) || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}
