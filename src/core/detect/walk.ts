/**
 * The project walk: lists the files detection looks into, fast, and never gets stuck. It respects .gitignore files
 * at every level (and extra exclude patterns), skips VCS folders, node_modules, virtual environments, conda
 * environments and site-packages, does not enter symlinked folders (so symlink loops and links to dataset mounts
 * cost nothing), and stops after a maximum number of entries or depth, saying so in a warning.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { describeFsError, throwIfCancelled } from '../util/errors';
import { readCappedSync } from '../util/text';
import type { DetectionWarning } from './types';

export type FileKind =
  | 'python'
  | 'notebook'
  | 'requirements'
  | 'pyproject'
  | 'conda'
  | 'pipfile'
  | 'setup.py'
  | 'setup.cfg'
  | 'lock'
  | 'dockerfile'
  | 'devcontainer'
  | 'python-version'
  | 'runtime.txt'
  | 'script'
  | 'readme';

export interface WalkedFile {
  /** Path relative to the root, with `/` separators. */
  rel: string;
  abs: string;
  kind: FileKind;
  /** True for the environment files the profile lists in `envFiles`. */
  envFile: boolean;
}

export interface WalkResult {
  files: WalkedFile[];
  /** Files and folders seen (the bench compares this with a bare walk). */
  entries: number;
  warnings: DetectionWarning[];
}

export interface WalkOptions {
  maxEntries: number;
  maxDepth: number;
  exclude: string[];
  signal?: AbortSignal;
}

/** Folders never worth entering. */
const SKIP_DIRS = new Set([
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  '__pycache__',
  'site-packages',
  'dist-packages',
  '.venv',
  'venv',
  '.tox',
  '.nox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.ipynb_checkpoints',
  '.ml-containers',
  '.eggs',
  '.cache',
  '.idea',
  'wandb',
  'mlruns',
]);

const ENV_AT_ANY_DEPTH_LE_1: readonly [RegExp, FileKind][] = [
  [/^requirements[^/]*\.txt$/i, 'requirements'],
  [/^pyproject\.toml$/, 'pyproject'],
  [/^environment\.ya?ml$/, 'conda'],
  [/^Pipfile$/, 'pipfile'],
  [/^setup\.py$/, 'setup.py'],
  [/^setup\.cfg$/, 'setup.cfg'],
  [/^(?:uv|poetry)\.lock$/, 'lock'],
  [/^Dockerfile(?:[.-][^/]+)?$/, 'dockerfile'],
];

const SCRIPT =
  /^(?:[^/]+\.(?:sh|bash|zsh|slurm|sbatch|pbs|job|mk)|Makefile|makefile|GNUmakefile|Justfile|justfile|Procfile)$/;
const README = /^readme(?:\.(?:md|rst|txt|markdown))?$/i;

/** Classifies a file by its name and depth (0 = in the root). */
export function classify(name: string, depth: number, parentName: string): { kind: FileKind; envFile: boolean } | null {
  if (name.endsWith('.py')) {
    if (depth <= 1 && name === 'setup.py') return { kind: 'setup.py', envFile: true };
    return { kind: 'python', envFile: false };
  }
  if (name.endsWith('.ipynb')) return { kind: 'notebook', envFile: false };
  if (depth <= 1) {
    for (const [re, kind] of ENV_AT_ANY_DEPTH_LE_1) if (re.test(name)) return { kind, envFile: true };
    if (depth === 1 && parentName === '.devcontainer' && name === 'devcontainer.json') {
      return { kind: 'devcontainer', envFile: true };
    }
  }
  if (depth === 0 && name === '.python-version') return { kind: 'python-version', envFile: false };
  if (depth === 0 && name === 'runtime.txt') return { kind: 'runtime.txt', envFile: false };
  if (depth <= 1 && README.test(name)) return { kind: 'readme', envFile: false };
  if (depth <= 3 && SCRIPT.test(name)) return { kind: 'script', envFile: false };
  return null;
}

interface IgnoreScope {
  /** Root-relative folder the rules are relative to ('' for the root). */
  base: string;
  rules: Ignore;
}

function isIgnored(scopes: readonly IgnoreScope[], rel: string, isDir: boolean): boolean {
  for (const s of scopes) {
    const sub = s.base ? rel.slice(s.base.length + 1) : rel;
    if (s.rules.ignores(isDir ? `${sub}/` : sub)) return true;
  }
  return false;
}

/**
 * Reads a folder's .gitignore (capped), or undefined when it has none or it cannot be read. Only a regular file (or
 * a link to one) is read: a FIFO named .gitignore would block the walk forever, a device would never end.
 */
async function loadGitignore(
  absDir: string,
  base: string,
  dirent: Dirent,
  warnings: DetectionWarning[],
): Promise<IgnoreScope | undefined> {
  const rel = base ? `${base}/.gitignore` : '.gitignore';
  const file = path.join(absDir, '.gitignore');
  try {
    if (!dirent.isFile() && !(dirent.isSymbolicLink() && (await stat(file)).isFile())) {
      warnings.push({ file: rel, message: 'is not a regular file, so its rules were ignored.' });
      return undefined;
    }
    const { text, binary } = readCappedSync(file, 256 * 1024);
    if (binary) {
      warnings.push({ file: rel, message: 'is binary, so its rules were ignored.' });
      return undefined;
    }
    return { base, rules: ignore({ allowRelativePaths: true }).add(text) };
  } catch (err) {
    warnings.push({ file: rel, message: `${describeFsError(err)}, so its rules were ignored.` });
    return undefined;
  }
}

export async function walkProject(root: string, opts: WalkOptions): Promise<WalkResult> {
  const files: WalkedFile[] = [];
  const warnings: DetectionWarning[] = [];
  let entries = 0;
  let stopped = false;
  let tooDeep = false;
  const rootScopes: IgnoreScope[] = [];
  if (opts.exclude.length > 0) {
    rootScopes.push({ base: '', rules: ignore({ allowRelativePaths: true }).add(opts.exclude) });
  }

  const visit = async (absDir: string, rel: string, depth: number, scopes: IgnoreScope[]): Promise<void> => {
    throwIfCancelled(opts.signal);
    let dirents: Dirent[];
    try {
      dirents = await readdir(absDir, { withFileTypes: true });
    } catch (err) {
      warnings.push({ file: rel ? `${rel}/` : '.', message: `${describeFsError(err)}, so this folder was skipped.` });
      return;
    }
    // a virtual environment or conda environment under any name: not project code
    if (rel && dirents.some((d) => d.name === 'pyvenv.cfg' || (d.name === 'conda-meta' && d.isDirectory()))) return;
    entries += dirents.length;
    if (entries > opts.maxEntries) {
      if (!stopped) {
        stopped = true;
        warnings.push({
          file: '.',
          message: `has more than ${opts.maxEntries} files and folders; detection looked at the first ones only (setting mlContainers.detection.maxFiles).`,
        });
      }
      return;
    }
    let here = scopes;
    const gitignore = dirents.find((d) => d.name === '.gitignore' && !d.isDirectory());
    if (gitignore) {
      const scope = await loadGitignore(absDir, rel, gitignore, warnings);
      if (scope) here = [...scopes, scope];
    }
    // a name that is not valid UTF-8 comes back with U+FFFD in it and cannot be opened by that name
    const undecodable = dirents.some((d) => d.name.includes('\uFFFD')) ? await undecodableNames(absDir) : undefined;
    const parentName = path.basename(absDir);
    const subdirs: Promise<void>[] = [];
    for (const d of dirents) {
      const name = d.name;
      const childRel = rel ? `${rel}/${name}` : name;
      if (d.isDirectory()) {
        if (SKIP_DIRS.has(name) || name.endsWith('.egg-info')) continue;
        if (isIgnored(here, childRel, true)) continue;
        if (undecodable?.has(name)) {
          warnings.push({ file: `${childRel}/`, message: NOT_UTF8_NAME('folder') });
          continue;
        }
        if (depth + 1 > opts.maxDepth) {
          if (!tooDeep) {
            tooDeep = true;
            warnings.push({
              file: `${childRel}/`,
              message: `is more than ${opts.maxDepth} folders deep; detection did not look below that depth.`,
            });
          }
          continue;
        }
        subdirs.push(visit(path.join(absDir, name), childRel, depth + 1, here));
        continue;
      }
      const cls = classify(name, depth, parentName);
      if (!cls) continue;
      if (d.isSymbolicLink()) {
        // a linked file is read like any other; a link to a folder, a FIFO or a missing target is not
        try {
          if (!(await stat(path.join(absDir, name))).isFile()) continue;
        } catch {
          continue;
        }
      } else if (!d.isFile()) {
        continue;
      }
      if (isIgnored(here, childRel, false)) continue;
      if (undecodable?.has(name)) {
        warnings.push({ file: childRel, message: NOT_UTF8_NAME('file') });
        continue;
      }
      files.push({ rel: childRel, abs: path.join(absDir, name), kind: cls.kind, envFile: cls.envFile });
    }
    await Promise.all(subdirs);
  };

  await visit(root, '', 0, rootScopes);
  files.sort((a, b) => comparePaths(a.rel, b.rel));
  return { files, entries, warnings };
}

const NOT_UTF8_NAME = (what: string): string =>
  `has a name that is not valid UTF-8, so this ${what} was skipped; rename it to read it.`;

/**
 * The names in a folder (as Node decodes them, with U+FFFD) whose bytes are not valid UTF-8. Read again as bytes only
 * for a folder where some name has a U+FFFD, which a valid name may also hold.
 */
async function undecodableNames(absDir: string): Promise<Set<string>> {
  const out = new Set<string>();
  try {
    for (const raw of await readdir(absDir, { encoding: 'buffer' })) {
      try {
        strictUtf8.decode(raw);
      } catch {
        out.add(raw.toString('utf8'));
      }
    }
  } catch {
    // the folder went away between the two reads: its entries fail on their own
  }
  return out;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Top-level files first, then by path: the order envFiles and evidence are reported in. */
export function comparePaths(a: string, b: string): number {
  const da = a.split('/').length;
  const db = b.split('/').length;
  if (da !== db) return da - db;
  return a < b ? -1 : a > b ? 1 : 0;
}
