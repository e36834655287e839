/**
 * Project detection: a folder in, a ProjectProfile out. Walks the project (walk.ts), reads each interesting file
 * with a byte cap (Python sources, notebooks, environment files, scripts, READMEs), and weighs what it found:
 * code that imports and trains beats a declared dependency, which beats a README install line. Never throws for
 * what it finds inside the folder: unreadable, binary, malformed or huge files become warnings.
 */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { describeFsError, throwIfCancelled } from '../util/errors';
import { TimeSlicer, readCappedSync } from '../util/text';
import { findCondaInstalls, findLaunchCommands, findPipInstalls, type LaunchCommand } from './commands';
import {
  type Declarations,
  type DeclaredPackage,
  type Pin,
  emptyDeclarations,
  mergeDeclarations,
  parseCondaEnvironment,
  parseDevcontainer,
  parseDockerfile,
  parseLockFile,
  parsePipfile,
  parsePyproject,
  parsePythonVersionFile,
  parseRequirement,
  parseRequirementsTxt,
  parseRuntimeTxt,
  parseSetupCfg,
  parseSetupPy,
} from './declarations';
import {
  GPU_CAPABLE,
  IMPORT_FRAMEWORKS,
  NOT_ENTRYPOINT,
  PACKAGE_FRAMEWORKS,
  TRAINING_SCRIPT_NAME,
  normalizePackageName,
} from './knowledge';
import { readNotebook } from './notebook';
import { type PythonFacts, analyzePython } from './python';
import {
  type DetectOptions,
  type DetectionWarning,
  type Evidence,
  type EvidenceField,
  FRAMEWORKS,
  type Framework,
  type GpuNeed,
  LAUNCHERS,
  type Launcher,
  type ProjectProfile,
} from './types';
import { pythonsAllowed } from './versions';
import { type WalkedFile, comparePaths, walkProject } from './walk';

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

interface CodeFile {
  rel: string;
  facts: PythonFacts;
  notebook: boolean;
}

interface Collected {
  code: CodeFile[];
  declarations: Declarations;
  /** Launch commands from scripts, Dockerfiles (rank 0) and READMEs (rank 1). */
  launches: (LaunchCommand & { file: string; rank: number })[];
  /** Framework mentions in README install lines: the weakest evidence (corroboration only). */
  readmeInstalls: DeclaredPackage[];
  /** Package installs inside notebooks (`!pip install torch`). */
  notebookInstalls: DeclaredPackage[];
  notebooks: number;
  warnings: DetectionWarning[];
}

export async function detectProject(dir: string, options: DetectOptions = {}): Promise<ProjectProfile> {
  return (await detectProjectDetailed(dir, options)).profile;
}

/** What later steps (compatibility checks, scaffolding) need beyond the profile's contract fields. */
export interface ProjectDetails {
  profile: ProjectProfile;
  /** Every package the environment files declare (requirements, pyproject, conda, Pipfile, setup, locks, Dockerfiles). */
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
  return { profile: buildProfile(root, walk.files, collected), packages: collected.declarations.packages, usage };
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

async function collect(root: string, files: readonly WalkedFile[], options: DetectOptions): Promise<Collected> {
  const out: Collected = {
    code: [],
    declarations: emptyDeclarations(),
    launches: [],
    readmeInstalls: [],
    notebookInstalls: [],
    notebooks: 0,
    warnings: [],
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
    const cap = f.kind === 'python' || f.kind === 'script' || f.kind === 'readme' ? capSource : capDocument;
    const r = read(f, cap);
    if (!r) return;
    const { text, truncated } = r;
    const decl = (d: Declarations): void => mergeDeclarations(out.declarations, d);
    switch (f.kind) {
      case 'python':
        out.code.push({ rel: f.rel, facts: analyzePython(text), notebook: false });
        break;
      case 'notebook': {
        out.notebooks++;
        const nb = readNotebook(text, truncated);
        if (nb.problem) out.warnings.push({ file: f.rel, message: nb.problem });
        out.code.push({ rel: f.rel, facts: analyzePython(nb.code, nb.lineMap), notebook: true });
        for (const i of findPipInstalls(nb.magics)) {
          const req = parseRequirement(i.spec);
          if (req) out.notebookInstalls.push({ ...req, file: f.rel, line: nb.lineMap(i.line), text: i.text });
        }
        break;
      }
      case 'requirements':
        parsedRequirements.add(f.rel);
        decl(parseRequirementsTxt(f.rel, text));
        break;
      case 'pyproject':
        decl(parsePyproject(f.rel, text));
        break;
      case 'conda':
        decl(parseCondaEnvironment(f.rel, text));
        break;
      case 'pipfile':
        decl(parsePipfile(f.rel, text));
        break;
      case 'setup.py':
        decl(parseSetupPy(f.rel, text));
        out.code.push({ rel: f.rel, facts: analyzePython(text), notebook: false });
        break;
      case 'setup.cfg':
        decl(parseSetupCfg(f.rel, text));
        break;
      case 'lock':
        decl(parseLockFile(f.rel, text, truncated));
        break;
      case 'dockerfile': {
        const d = parseDockerfile(f.rel, text);
        for (const c of d.commands) {
          for (const l of findLaunchCommands(c.command)) {
            out.launches.push({ ...l, line: c.line, text: c.text, file: f.rel, rank: 0 });
          }
        }
        decl(d);
        break;
      }
      case 'devcontainer':
        decl(parseDevcontainer(f.rel, text));
        break;
      case 'python-version':
        decl(parsePythonVersionFile(f.rel, text));
        break;
      case 'runtime.txt':
        decl(parseRuntimeTxt(f.rel, text));
        break;
      case 'script':
        for (const l of findLaunchCommands(text)) out.launches.push({ ...l, file: f.rel, rank: 0 });
        break;
      case 'readme':
        for (const l of findLaunchCommands(text)) out.launches.push({ ...l, file: f.rel, rank: 1 });
        for (const i of [...findPipInstalls(text), ...findCondaInstalls(text)]) {
          const req = parseRequirement(i.spec.replace(/^([\w.-]+)=(?!=)/, '$1=='));
          if (req) out.readmeInstalls.push({ ...req, file: f.rel, line: i.line, text: i.text });
        }
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
  // a range is never called a pin: `>=3.8` allows 3.8 and on; one that allows the version used does not disagree
  const says = (p: Pin): string => (p.allows ? `allows ${p.allows}` : `pins ${p.version}`);
  for (const other of sorted) {
    if (other.version === pin.version || reported.has(`${other.file}:${other.version}`)) continue;
    if (other.allows && pythonsAllowed({ allows: other.allows }).includes(pin.version)) continue;
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

  // --- frameworks: code imports (training code counts most), then declarations; README installs only as a last resort
  const scores = new Map<Framework, number>();
  const bump = (fw: Framework, by: number): void => void scores.set(fw, (scores.get(fw) ?? 0) + by);
  const trainingCode = c.code.filter((f) => f.facts.training.length > 0 && !NOT_ENTRYPOINT.test(f.rel));
  for (const f of c.code) {
    const weight = f.facts.training.length > 0 ? 3 : 1;
    const counted = new Set<Framework>();
    // direct imports first, so `import torch` is the evidence for PyTorch even below `import lightning`
    for (const implied of [false, true]) {
      for (const imp of f.facts.imports) {
        const ref = IMPORT_FRAMEWORKS[imp.id];
        if (!ref) continue;
        for (const fw of implied ? (ref.implies ?? []) : ref.is ? [ref.is] : []) {
          if (counted.has(fw)) continue;
          counted.add(fw);
          bump(fw, implied ? 0.5 : weight);
          evidence.add('frameworks', fw, f.rel, imp.line, imp.text);
        }
      }
    }
  }
  const declaredPackages = [...c.declarations.packages, ...c.notebookInstalls];
  const countedDecl = new Set<string>();
  for (const implied of [false, true]) {
    for (const p of declaredPackages) {
      const ref = PACKAGE_FRAMEWORKS[p.name];
      if (!ref) continue;
      for (const fw of implied ? (ref.implies ?? []) : ref.is ? [ref.is] : []) {
        const key = `${fw}\u0000${p.file}`;
        if (countedDecl.has(key)) continue;
        countedDecl.add(key);
        bump(fw, implied ? 0.5 : 2);
        evidence.add('frameworks', fw, p.file, p.line, p.text);
      }
    }
  }
  // a README install line only corroborates a framework the code or declarations already show (never adds one)
  for (const p of c.readmeInstalls) {
    const ref = PACKAGE_FRAMEWORKS[normalizePackageName(p.name)];
    for (const fw of [...(ref?.is ? [ref.is] : []), ...(ref?.implies ?? [])]) {
      if (!scores.has(fw)) continue;
      bump(fw, 0.25);
      evidence.add('frameworks', fw, p.file, p.line, p.text);
    }
  }
  const frameworks = FRAMEWORKS.filter((fw) => scores.has(fw));
  let primaryFramework: Framework | null = null;
  for (const fw of frameworks) {
    if (primaryFramework === null || scores.get(fw)! > scores.get(primaryFramework)!) primaryFramework = fw;
  }
  const codeUsesMl = c.code.some((f) => f.facts.imports.some((i) => IMPORT_FRAMEWORKS[i.id]));

  // --- training project: code that trains, in a project whose code uses an ML framework
  const isTrainingProject = codeUsesMl && trainingCode.length > 0;
  if (isTrainingProject) {
    for (const f of trainingCode) {
      const h = f.facts.training[0]!;
      evidence.add('isTrainingProject', 'true', f.rel, h.line, h.text);
    }
  }

  // --- launch commands: which scripts they run, resolved against the command's folder or the root
  const resolveScript = (from: string, script: string): string | null => {
    const candidates = [
      path.posix.normalize(path.posix.join(path.posix.dirname(from), script)),
      path.posix.normalize(script),
    ];
    return candidates.find((p) => pythonFiles.has(p)) ?? null;
  };
  const launches = c.launches.map((l) => ({ ...l, resolved: l.script ? resolveScript(l.file, l.script) : null }));
  const launched = new Set(launches.map((l) => l.resolved).filter((s): s is string => s !== null));

  // --- entry points
  const entrypoints: string[] = [];
  if (isTrainingProject) {
    const ranked: { rel: string; order: number }[] = [];
    for (const f of c.code) {
      if (f.notebook || NOT_ENTRYPOINT.test(f.rel)) continue;
      const trains = f.facts.training.length > 0;
      const runnable = f.facts.mainGuard || f.facts.topLevelCall;
      const trainName = TRAINING_SCRIPT_NAME.test(path.posix.basename(f.rel));
      const isLaunched = launched.has(f.rel);
      if ((isLaunched && (trains || trainName)) || (runnable && (trains || trainName))) {
        ranked.push({ rel: f.rel, order: isLaunched ? 0 : trainName ? 1 : 2 });
      }
    }
    ranked.sort((a, b) => a.order - b.order || comparePaths(a.rel, b.rel));
    for (const r of ranked.slice(0, DEFAULTS.maxEntrypoints)) {
      entrypoints.push(r.rel);
      const l = launches.find((x) => x.resolved === r.rel);
      const f = c.code.find((x) => x.rel === r.rel)!;
      if (l) evidence.add('entrypoints', r.rel, l.file, l.line, l.text);
      const h = f.facts.training[0];
      if (h) evidence.add('entrypoints', r.rel, r.rel, h.line, h.text);
      else evidence.add('entrypoints', r.rel, r.rel, 1, path.posix.basename(r.rel));
    }
  }

  // --- launcher: an explicit command wins (scripts over READMEs, ones that run an entry point first); else code hints
  let launcher: Launcher | null = null;
  if (isTrainingProject) {
    const explicit = launches
      .filter((l): l is typeof l & { launcher: Launcher } => l.launcher !== 'python')
      .map((l) => ({ l, score: l.rank * 2 + (l.resolved && entrypoints.includes(l.resolved) ? 0 : 1) }))
      .sort((a, b) => a.score - b.score || LAUNCHERS.indexOf(a.l.launcher) - LAUNCHERS.indexOf(b.l.launcher));
    if (explicit.length > 0) {
      launcher = explicit[0]!.l.launcher;
      for (const { l } of explicit) {
        if (l.launcher === launcher) evidence.add('launcher', launcher, l.file, l.line, l.text);
      }
    } else {
      const preferred: Launcher[] = ['deepspeed', 'horovod', 'accelerate', 'torchrun'];
      const scope = c.code.filter((f) => entrypoints.includes(f.rel) || f.facts.training.length > 0);
      const hints = scope.flatMap((f) => f.facts.launcherHints.map((h) => ({ ...h, file: f.rel })));
      for (const want of preferred) {
        const found = hints.filter((h) => h.launcher === want);
        if (found.length === 0) continue;
        launcher = want;
        for (const h of found) evidence.add('launcher', want, h.file, h.line, h.text);
        break;
      }
    }
  }

  // --- Python and CUDA pins
  const py = choosePin(c.declarations.python, 'Python', warnings);
  if (py) for (const p of py.agreeing) evidence.add('pythonVersion', py.pin.version, p.file, p.line, p.text);
  const cuda = choosePin(c.declarations.cuda, 'CUDA', warnings);
  if (cuda) for (const p of cuda.agreeing) evidence.add('cudaHint', cuda.pin.version, p.file, p.line, p.text);

  // --- GPU need: code that insists on CUDA without a CPU fallback (or DeepSpeed) -> yes; a GPU framework -> optional
  let needsGpu: GpuNeed = 'no';
  const hard = c.code.filter(
    (f) => !NOT_ENTRYPOINT.test(f.rel) && f.facts.gpuRequired.length > 0 && f.facts.gpuFallback.length === 0,
  );
  if (hard.length > 0 || launcher === 'deepspeed') {
    needsGpu = 'yes';
    for (const f of hard) for (const h of f.facts.gpuRequired) evidence.add('needsGpu', 'yes', f.rel, h.line, h.text);
    if (launcher === 'deepspeed' && hard.length === 0) {
      const l = launches.find((x) => x.launcher === 'deepspeed');
      if (l) evidence.add('needsGpu', 'yes', l.file, l.line, l.text);
    }
  } else if (frameworks.some((fw) => GPU_CAPABLE.has(fw))) {
    needsGpu = 'optional';
    const fallbacks = c.code.flatMap((f) => f.facts.gpuFallback.map((h) => ({ ...h, file: f.rel })));
    for (const h of fallbacks) evidence.add('needsGpu', 'optional', h.file, h.line, h.text);
    if (fallbacks.length === 0) {
      const e = evidence.result(1).find((x) => x.field === 'frameworks' && GPU_CAPABLE.has(x.value as Framework));
      if (e) evidence.add('needsGpu', 'optional', e.file, e.line, e.text);
    }
  }

  return {
    root,
    isTrainingProject,
    frameworks,
    primaryFramework,
    envFiles: files.filter((f) => f.envFile).map((f) => f.rel),
    pythonVersion: py?.pin.version ?? null,
    ...(py?.pin.allows ? { pythonRange: py.pin.allows } : {}),
    entrypoints,
    launcher,
    cudaHint: cuda?.pin.version ?? null,
    needsGpu,
    notebooks: c.notebooks,
    evidence: evidence.result(DEFAULTS.evidencePerValue),
    warnings: dedupeWarnings(warnings),
  };
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
