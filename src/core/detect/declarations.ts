/**
 * Parsers for the files a Python project declares its environment in. Each takes the file's path (relative to the
 * project root) and text and returns what it declares; none of them throws: a malformed file yields a warning and
 * whatever could be read. Real parsers do the parsing (smol-toml, yaml, dockerfile-ast, pip-requirements-js, and
 * the devcontainer model for devcontainer.json); this module only knows where in each format the interesting values
 * live.
 */
import { DockerfileParser } from 'dockerfile-ast';
import { parsePipRequirementsLine, type Requirement } from 'pip-requirements-js';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import {
  DEVCONTAINER_CAP,
  type DevcontainerInspection,
  DevcontainerSyntaxError,
  parseDevcontainerLeniently,
} from '../devcontainer';
import { describeFsError, errorMessage } from '../util/errors';
import { TOO_DEEP_WARNING, TooDeeplyNestedError, yamlTooDeep } from '../util/json';
import { UnsafePathError } from '../util/safeFs';
import { LineIndex, evidenceText } from '../util/text';
import { normalizePackageName } from './knowledge';
import { lexPython } from './python';
import type { DetectionWarning } from './types';
import {
  cudaFromBuildLabel,
  cudaFromImage,
  cudaFromIndexUrl,
  cudaFromLocalVersion,
  majorMinor,
  pythonFromImage,
  pythonRequirement,
} from './versions';

/** Where a value was declared. */
export interface Site {
  file: string;
  line: number;
  text: string;
}

export interface DeclaredPackage extends Site {
  /** PEP 503-normalised distribution name. */
  name: string;
  extras: string[];
  /** The version specifier as written (`==2.1.0+cu121`, `>=4.30`), or '' when unpinned. */
  spec: string;
  /** A requirement installed from version control (`git+https://…`): its URL (pip needs git to install it). */
  vcs?: string;
}

/** A pin of Python or CUDA; `rank` orders sources (lower wins when two pins disagree). */
export interface Pin extends Site {
  version: string;
  rank: number;
  /** For a Python range (not a pin): what it allows, as PEP 440 (`>=3.8`); `version` is its lowest X.Y. */
  allows?: string;
}

/** A Python pin's version, and what a range allows; null when the specifier gives no lower bound. */
function pythonPin(spec: string): { version: string; allows?: string } | null {
  const r = pythonRequirement(spec);
  return r ? { version: r.version, ...(r.pinned ? {} : { allows: r.allows }) } : null;
}

export interface LaunchLine extends Site {
  command: string;
}

export interface Declarations {
  packages: DeclaredPackage[];
  python: Pin[];
  cuda: Pin[];
  /** Requirement files included with `-r` (relative to the project root), to be read next. */
  includes: Site[];
  /** Command lines from Dockerfile RUN/CMD/ENTRYPOINT instructions, for launcher detection. */
  commands: LaunchLine[];
  /**
   * Files read that only configure tools (a pyproject.toml with no project, build or dependency table, a setup.cfg
   * with no package options): they declare nothing to install, so they are no environment files.
   */
  toolConfigOnly: string[];
  warnings: DetectionWarning[];
}

export function emptyDeclarations(): Declarations {
  return { packages: [], python: [], cuda: [], includes: [], commands: [], toolConfigOnly: [], warnings: [] };
}

/** Pin ranks: an explicit pin in a Python version file beats one derived from a package manager's metadata. */
export const PYTHON_RANK = {
  pythonVersionFile: 0,
  runtimeTxt: 1,
  conda: 2,
  pipfile: 3,
  pyproject: 4,
  setupPy: 5,
  setupCfg: 6,
  dockerfile: 7,
} as const;
/**
 * CUDA pin ranks: the wheels the project installs beat the base image it happens to start from; an install command
 * (a README's `pip install`, a notebook's `!pip install`) is the weakest, below every environment file.
 */
export const CUDA_RANK = { wheel: 0, conda: 1, lock: 2, dockerfile: 3, devcontainer: 4, command: 5 } as const;

// ---------------------------------------------------------------------------------------------------------------
// PEP 508 requirement strings (shared by every format that embeds them)

/** A requirement line longer than this is not parsed (no package name or pin is that long). */
const MAX_REQUIREMENT_LENGTH = 4096;

/**
 * The common shape, `name[extra, ...] op version, op version`, in ASCII: parsed here in linear time, exactly as
 * pip-requirements-js's grammar would (which costs far more per line). Markers, URLs, parentheses, comments, `===`
 * and non-ASCII names go to the full grammar.
 */
const SIMPLE_REQUIREMENT =
  /^[ \t]*([A-Za-z0-9](?:[-_.]*[A-Za-z0-9])*)[ \t]*(?:\[[ \t]*((?:[A-Za-z0-9](?:[-_.]*[A-Za-z0-9])*(?:[ \t]*,[ \t]*[A-Za-z0-9](?:[-_.]*[A-Za-z0-9])*)*)?)[ \t]*\])?[ \t]*((?:==|!=|<=|>=|~=|<|>)[ \t]*[A-Za-z0-9_.*+!-]+(?:[ \t]*,[ \t]*(?:==|!=|<=|>=|~=|<|>)[ \t]*[A-Za-z0-9_.*+!-]+)*)?[ \t]*$/;
const VERSION_ONE = /(==|!=|<=|>=|~=|<|>)[ \t]*([A-Za-z0-9_.*+!-]+)/g;

type ParsedRequirement = { name: string; extras: string[]; spec: string };

/** The requirement when `spec` has the common shape (see SIMPLE_REQUIREMENT), else undefined. */
function simpleRequirement(spec: string): ParsedRequirement | undefined {
  const simple = SIMPLE_REQUIREMENT.exec(spec);
  if (!simple) return undefined;
  const extras = simple[2] ? simple[2].split(',').map((e) => e.trim()) : [];
  const versions = simple[3] ? [...simple[3].matchAll(VERSION_ONE)].map((m) => `${m[1]}${m[2]}`) : [];
  return { name: normalizePackageName(simple[1]!), extras, spec: versions.join(',') };
}

/** Parses one PEP 508 requirement string; null when it is not one (URLs, paths, editable installs). */
export function parseRequirement(spec: string): ParsedRequirement | null {
  if (spec.length > MAX_REQUIREMENT_LENGTH) return null;
  const simple = simpleRequirement(spec);
  if (simple) return simple;
  let req: Requirement | null;
  try {
    req = parsePipRequirementsLine(spec);
  } catch {
    return null;
  }
  if (!req || (req.type !== 'ProjectName' && req.type !== 'ProjectURL')) return null;
  const version = req.type === 'ProjectName' ? (req.versionSpec ?? []).map((v) => `${v.operator}${v.version}`) : [];
  return { name: normalizePackageName(req.name), extras: req.extras ?? [], spec: version.join(',') };
}

/** Records a declared package, and the CUDA version its pin names, if any. */
function pushPackage(out: Declarations, pkg: DeclaredPackage): void {
  out.packages.push(pkg);
  addPackageCudaPin(out, pkg);
}

function addPackageCudaPin(out: Declarations, pkg: DeclaredPackage, rank: number = CUDA_RANK.wheel): void {
  const version = packageCuda(pkg);
  if (version) out.cuda.push({ version, rank, file: pkg.file, line: pkg.line, text: pkg.text });
}

/**
 * The CUDA version a package's pin names: a local version label (`torch==2.1.0+cu121` -> 12.1, jaxlib's
 * `+cuda11.cudnn82` -> 11), or the version of one of NVIDIA's CUDA wheels, which carry the toolkit's
 * (`nvidia-cuda-runtime-cu12==12.1.105` -> 12.1).
 */
function packageCuda(pkg: Pick<DeclaredPackage, 'name' | 'spec'>): string | null {
  const fromLabel = cudaFromLocalVersion(pkg.spec) ?? cudaFromBuildLabel(pkg.spec);
  if (fromLabel) return fromLabel;
  if (!/^nvidia-cuda-(?:runtime|nvcc|cupti|nvrtc)-cu\d+$/.test(pkg.name)) return null;
  const v = /==\s*([\d.]+)/.exec(pkg.spec);
  return v ? majorMinor(v[1]!) : null;
}

/**
 * Requirements per file that may go to the full PEP 508 grammar (markers, URLs, typos: about 0.2 ms each); past this
 * many, such lines are skipped with one warning, so a file of 200,000 of them still takes a second, not a minute.
 */
const MAX_FULL_PARSES = 5000;
const fullParses = new WeakMap<Declarations, number>();

/** Records a PEP 508 requirement; false when `spec` is not one. */
function pushRequirement(out: Declarations, file: string, line: number, text: string, spec: string): boolean {
  let req = spec.length > MAX_REQUIREMENT_LENGTH ? null : simpleRequirement(spec);
  if (req === undefined) {
    const n = (fullParses.get(out) ?? 0) + 1;
    fullParses.set(out, n);
    if (n > MAX_FULL_PARSES) {
      if (n === MAX_FULL_PARSES + 1) {
        out.warnings.push({
          file,
          message: `has more than ${MAX_FULL_PARSES} requirements with markers, URLs or unusual syntax; from line ${line} on, those were not read.`,
        });
      }
      return true;
    }
    req = parseRequirement(spec);
  }
  if (!req) return false;
  pushPackage(out, { ...req, file, line, text: evidenceText(text) });
  return true;
}

function pushIndexUrl(out: Declarations, file: string, line: number, text: string, url: string): void {
  const cuda = cudaFromIndexUrl(url);
  if (cuda) out.cuda.push({ version: cuda, rank: CUDA_RANK.wheel, file, line, text: evidenceText(text) });
}

// ---------------------------------------------------------------------------------------------------------------
// requirements*.txt (pip's requirements file format: options, includes, continuations, comments)

const PIP_OPTION_WITH_VALUE =
  /^(-r|--requirement|-c|--constraint|-i|--index-url|--extra-index-url|-f|--find-links|-e|--editable|--trusted-host|--hash|--config-settings|-C|--global-option|--install-option)(?:[ \t]*=[ \t]*|[ \t]+)?(\S+)?/;

/** A requirement from version control, editable or not: `git+https://…/repo.git@ref#egg=name`. */
const VCS_REQUIREMENT = /^(?:(?:-e|--editable)[ \t=]+)?((?:git|hg|svn|bzr)\+\S+)/;

/** The package a VCS requirement names: its `#egg=`/`name @` name, else the repository's. */
function vcsPackage(url: string): { name: string; extras: string[]; spec: string; vcs: string } {
  const egg = /[#&]egg=([A-Za-z0-9._-]+)/.exec(url)?.[1];
  const repo = /\/([A-Za-z0-9._-]+?)(?:\.git)?(?:@[^/#]*)?(?:#.*)?$/.exec(url)?.[1];
  return { name: normalizePackageName(egg ?? repo ?? 'unknown'), extras: [], spec: '', vcs: url };
}

/** Invalid lines reported one by one per requirements file; the rest are counted in one more warning. */
const MAX_LINE_WARNINGS = 20;

export function parseRequirementsTxt(file: string, text: string): Declarations {
  const out = emptyDeclarations();
  const rawLines = text.split(/\r?\n/);
  let invalid = 0;
  for (let i = 0; i < rawLines.length; i++) {
    const startLine = i + 1;
    // continuations are decided on each physical line and joined once, so thousands of them stay linear
    const pieces = [rawLines[i]!];
    while (/(?:^|[^\\])\\$/.test(pieces[pieces.length - 1]!) && i + 1 < rawLines.length) {
      pieces[pieces.length - 1] = pieces[pieces.length - 1]!.slice(0, -1);
      pieces.push(rawLines[++i]!);
    }
    const logical = pieces.join(' ');
    // pip strips comments that start a line or follow whitespace (URL fragments like #egg= stay)
    const line = logical.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const vcs = VCS_REQUIREMENT.exec(line);
    if (vcs) {
      out.packages.push({ ...vcsPackage(vcs[1]!), file, line: startLine, text: evidenceText(logical) });
      continue;
    }
    if (line.startsWith('-')) {
      const m = PIP_OPTION_WITH_VALUE.exec(line);
      if (!m) continue; // flags like --pre, --no-binary :all: carry nothing detection needs
      const [, opt, value = ''] = m;
      if (opt === '-r' || opt === '--requirement') out.includes.push({ file, line: startLine, text: value });
      else if (['-i', '--index-url', '--extra-index-url', '-f', '--find-links'].includes(opt!)) {
        pushIndexUrl(out, file, startLine, logical, value);
      }
      continue;
    }
    // per-requirement options (--hash=..., --config-settings) follow the specifier
    // (one whitespace character before the option: `\s+` would retry every run of spaces, quadratic on a long line)
    const spec = line.replace(/\s--?[a-z][\w-]*(?:[= ]\S+)?/g, '').trim();
    if (!pushRequirement(out, file, startLine, logical, spec) && !/[/:\\]|^\./.test(spec)) {
      // URLs, paths and VCS links are valid pip lines that name no package detection needs; anything else is a typo
      if (++invalid <= MAX_LINE_WARNINGS) {
        out.warnings.push({ file, message: `line ${startLine} is not a valid requirement: ${evidenceText(logical)}` });
      }
    }
  }
  if (invalid > MAX_LINE_WARNINGS) {
    const more = invalid - MAX_LINE_WARNINGS;
    out.warnings.push({
      file,
      message: `has ${more} more line${more > 1 ? 's' : ''} that are not valid requirements.`,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// pyproject.toml (PEP 621, PEP 735 dependency groups, Poetry, uv)

type Json = unknown;
const isRecord = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: Json): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Finds the lines values stand on in one file, for evidence. Declarations are mostly read in file order, so each
 * search starts where the previous one matched and wraps around once; answers are remembered per needle; and the
 * text all searches may scan together is bounded (past it the answer is line 1), so a file of 100,000 entries costs
 * linear time, not 100,000 scans of the whole file.
 */
class Locator {
  readonly lines: LineIndex;
  private from = 0;
  private budget: number;
  private readonly known = new Map<string, number>();

  constructor(readonly text: string) {
    this.lines = new LineIndex(text);
    this.budget = 64 * text.length + 4_000_000;
  }

  /** The 1-based line where `needle` stands as a whole token outside a comment line, or 1. */
  tokenLine(needle: string): number {
    return this.line(`t\u0000${needle}`, new RegExp(`(?<![\\w.-])${escapeRegExp(needle)}(?![\\w-])`, 'g'), true);
  }

  /** The 1-based line that starts with `prefix`, or 1. */
  lineStartingWith(prefix: string): number {
    return this.line(`s\u0000${prefix}`, new RegExp(`^${escapeRegExp(prefix)}`, 'gm'), false);
  }

  private line(key: string, re: RegExp, skipComments: boolean): number {
    const cached = this.known.get(key);
    if (cached !== undefined) return cached;
    const found = this.search(re, skipComments);
    const line = found === -1 ? 1 : this.lines.lineAt(found);
    this.known.set(key, line);
    return line;
  }

  private search(re: RegExp, skipComments: boolean): number {
    const text = this.text;
    for (const [start, stop] of [
      [this.from, text.length],
      [0, this.from],
    ] as const) {
      re.lastIndex = start;
      while (this.budget > 0) {
        const at = re.lastIndex;
        const m = re.exec(text);
        this.budget -= (m ? re.lastIndex : text.length) - at + 1;
        if (!m || m.index >= stop) break;
        if (m[0].length === 0) re.lastIndex++;
        if (skipComments && /^\s*#/.test(this.lines.lineText(this.lines.lineAt(m.index)))) continue;
        this.from = m.index + m[0].length;
        return m.index;
      }
    }
    return -1;
  }
}

function siteFor(file: string, loc: Locator, needle: string): Site {
  const line = needle ? loc.tokenLine(needle) : 1;
  return { file, line, text: evidenceText(loc.lines.lineText(line)) };
}

/**
 * The declarations of a TOML file, which `read` takes from its document (`lines` finds evidence lines in the text);
 * text that is not TOML gives a warning instead (none when `quiet`).
 */
function fromToml(
  file: string,
  text: string,
  read: (doc: Record<string, Json>, lines: Locator, out: Declarations) => void,
  quiet = false,
): Declarations {
  const out = emptyDeclarations();
  let doc: Record<string, Json>;
  try {
    doc = parseToml(text) as Record<string, Json>;
  } catch (err) {
    const first = errorMessage(err).split('\n')[0] ?? '';
    if (!quiet) out.warnings.push({ file, message: `not valid TOML, so its dependencies were not read: ${first}` });
    return out;
  }
  read(doc, new Locator(text), out);
  return out;
}

/** The version a Poetry or Pipfile dependency table gives a package (`"==1.0"`, `{ version = "==1.0" }`), or ''. */
const tableSpec = (value: Json): string =>
  typeof value === 'string' ? value : isRecord(value) && typeof value.version === 'string' ? value.version : '';

/** Records a package of a Poetry or Pipfile dependency table (`*` pins nothing). */
function pushTablePackage(out: Declarations, rawName: string, value: Json, site: Site): void {
  const spec = tableSpec(value);
  const extras = isRecord(value) ? strings(value.extras) : [];
  pushPackage(out, { name: normalizePackageName(rawName), extras, spec: spec === '*' ? '' : spec, ...site });
}

/** Records the CUDA version of package index URLs found in a file, with the line each stands on. */
function pushIndexUrls(out: Declarations, file: string, lines: Locator, urls: readonly string[]): void {
  for (const url of urls) {
    const site = siteFor(file, lines, url);
    pushIndexUrl(out, file, site.line, site.text, url);
  }
}

/** The `url` of each `[[source]]` entry (Poetry, Pipfile). */
const sourceUrls = (sources: Json): string[] =>
  Array.isArray(sources)
    ? sources.flatMap((src) => (isRecord(src) && typeof src.url === 'string' ? [src.url] : []))
    : [];

export function parsePyproject(file: string, text: string): Declarations {
  return fromToml(file, text, (doc, lines, out) => readPyproject(file, doc, lines, out));
}

/** The tables of a pyproject.toml that declare a project or its environment (any other only configures tools). */
const PYPROJECT_ENVIRONMENT = ['project', 'build-system', 'dependency-groups'];
const PYPROJECT_ENVIRONMENT_TOOLS = ['poetry', 'uv', 'pdm', 'pixi'];

function readPyproject(file: string, doc: Record<string, Json>, lines: Locator, out: Declarations): void {
  const tools = isRecord(doc.tool) ? Object.keys(doc.tool) : [];
  if (!PYPROJECT_ENVIRONMENT.some((k) => k in doc) && !PYPROJECT_ENVIRONMENT_TOOLS.some((t) => tools.includes(t))) {
    out.toolConfigOnly.push(file);
  }
  const pep508 = (specs: string[]): void => {
    for (const s of specs) {
      const site = siteFor(file, lines, s);
      pushRequirement(out, file, site.line, site.text, s);
    }
  };
  const project = isRecord(doc.project) ? doc.project : {};
  pep508(strings(project.dependencies));
  if (isRecord(project['optional-dependencies'])) {
    for (const v of Object.values(project['optional-dependencies'])) pep508(strings(v));
  }
  if (isRecord(doc['dependency-groups'])) for (const v of Object.values(doc['dependency-groups'])) pep508(strings(v));
  if (typeof project['requires-python'] === 'string') {
    const v = pythonPin(project['requires-python']);
    if (v) {
      out.python.push({ ...v, rank: PYTHON_RANK.pyproject, ...siteFor(file, lines, 'requires-python') });
    }
  }

  const tool = isRecord(doc.tool) ? doc.tool : {};
  const poetry = isRecord(tool.poetry) ? tool.poetry : undefined;
  if (poetry) {
    const tables: Json[] = [poetry.dependencies, poetry['dev-dependencies']];
    if (isRecord(poetry.group)) {
      for (const g of Object.values(poetry.group)) if (isRecord(g)) tables.push(g.dependencies);
    }
    for (const table of tables) {
      if (!isRecord(table)) continue;
      for (const [rawName, value] of Object.entries(table)) {
        const site = siteFor(file, lines, rawName);
        if (normalizePackageName(rawName) !== 'python') pushTablePackage(out, rawName, value, site);
        else {
          const v = pythonPin(tableSpec(value));
          if (v) out.python.push({ ...v, rank: PYTHON_RANK.pyproject, ...site });
        }
      }
    }
    pushIndexUrls(out, file, lines, sourceUrls(poetry.source));
  }
  const uv = isRecord(tool.uv) ? tool.uv : undefined;
  if (uv) {
    const indexes = [...(Array.isArray(uv.index) ? uv.index : []), ...(isRecord(uv.pip) ? [uv.pip] : [])];
    for (const idx of indexes) {
      if (!isRecord(idx)) continue;
      for (const key of ['url', 'index-url', 'extra-index-url']) {
        pushIndexUrls(out, file, lines, typeof idx[key] === 'string' ? [idx[key]] : strings(idx[key]));
      }
    }
    pep508(strings(uv['dev-dependencies']));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Pipfile (TOML)

export function parsePipfile(file: string, text: string): Declarations {
  return fromToml(file, text, (doc, lines, out) => readPipfile(file, doc, lines, out));
}

function readPipfile(file: string, doc: Record<string, Json>, lines: Locator, out: Declarations): void {
  for (const section of ['packages', 'dev-packages']) {
    const table = doc[section];
    if (!isRecord(table)) continue;
    for (const [rawName, value] of Object.entries(table)) {
      pushTablePackage(out, rawName, value, siteFor(file, lines, rawName));
    }
  }
  const requires = isRecord(doc.requires) ? doc.requires : {};
  for (const key of ['python_version', 'python_full_version']) {
    if (typeof requires[key] === 'string') {
      const v = majorMinor(requires[key]);
      if (v) out.python.push({ version: v, rank: PYTHON_RANK.pipfile, ...siteFor(file, lines, key) });
      break;
    }
  }
  pushIndexUrls(out, file, lines, sourceUrls(doc.source));
}

// ---------------------------------------------------------------------------------------------------------------
// environment.yml (conda), including its pip section

const CONDA_SPEC = /^(?:[\w.-]+::)?([A-Za-z0-9_.-]+)\s*(?:(==|=|>=|<=|>|<|~=|!=)\s*([^\s=]+))?/;

export function parseCondaEnvironment(file: string, text: string): Declarations {
  const out = emptyDeclarations();
  let doc: Json;
  try {
    if (yamlTooDeep(text)) {
      out.warnings.push({ file, message: TOO_DEEP_WARNING });
      return out;
    }
    doc = parseYaml(text);
  } catch (err) {
    out.warnings.push({
      file,
      message: `not valid YAML, so its dependencies were not read: ${errorMessage(err).split('\n')[0]}`,
    });
    return out;
  }
  if (!isRecord(doc)) {
    if (doc != null) out.warnings.push({ file, message: 'not a conda environment file (no top-level mapping).' });
    return out;
  }
  const lines = new Locator(text);
  const deps = Array.isArray(doc.dependencies) ? doc.dependencies : [];
  for (const dep of deps) {
    if (typeof dep === 'string') {
      const m = CONDA_SPEC.exec(dep.trim());
      if (!m) continue;
      const name = normalizePackageName(m[1]!);
      const version = m[3] ?? '';
      const site = siteFor(file, lines, dep.trim());
      if (name === 'python') {
        const v = pythonPin(`${m[2] === '=' ? '==' : (m[2] ?? '')}${version}`);
        if (v) out.python.push({ ...v, rank: PYTHON_RANK.conda, ...site });
        continue;
      }
      if (['pytorch-cuda', 'cudatoolkit', 'cuda-version', 'cuda-toolkit', 'cuda', 'cuda-runtime'].includes(name)) {
        const v = majorMinor(version);
        if (v) out.cuda.push({ version: v, rank: CUDA_RANK.conda, ...site });
      }
      pushPackage(out, { name, extras: [], spec: version ? `${m[2] === '=' ? '==' : m[2]}${version}` : '', ...site });
    } else if (isRecord(dep) && Array.isArray(dep.pip)) {
      for (const p of strings(dep.pip)) {
        const site = siteFor(file, lines, p.trim());
        const opt = /^(?:--(?:extra-)?index-url|-i|-f|--find-links)[ =]+(\S+)/.exec(p.trim());
        if (opt) pushIndexUrl(out, file, site.line, site.text, opt[1]!);
        else pushRequirement(out, file, site.line, site.text, p.trim());
      }
    } else if (dep !== null && typeof dep !== 'string') {
      out.warnings.push({
        file,
        message: `has a dependency entry that is neither a string nor a pip list: ${JSON.stringify(dep).slice(0, 60)}`,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// setup.py (read, never run) and setup.cfg

/** String literals inside a keyword argument's list, e.g. install_requires=[...], extras_require={...}. */
function literalsAfter(src: string, code: string, keyword: string): { value: string; offset: number }[] {
  const re = new RegExp(`\\b${keyword}\\s*=\\s*([\\[{(])`, 'g');
  const out: { value: string; offset: number }[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(code)) !== null) {
    const open = m[1]!;
    const close = open === '[' ? ']' : open === '{' ? '}' : ')';
    let depth = 0;
    let end = code.length;
    for (let i = m.index + m[0].length - 1; i < code.length; i++) {
      const c = code[i];
      if (c === open) depth++;
      else if (c === close && --depth === 0) {
        end = i;
        break;
      }
    }
    // literals are searched in this argument's text only, and the next keyword after it: each character once
    const region = src.slice(0, end);
    const lit = /(['"])((?:\\.|(?!\1)[^\\\n])*)\1/g;
    lit.lastIndex = m.index;
    let s: RegExpExecArray | null;
    while ((s = lit.exec(region)) !== null) {
      if (code[s.index] === s[1]) out.push({ value: s[2]!, offset: s.index });
    }
    re.lastIndex = Math.max(re.lastIndex, end);
  }
  return out;
}

export function parseSetupPy(file: string, text: string): Declarations {
  const out = emptyDeclarations();
  const { code } = lexPython(text);
  const lines = new LineIndex(text);
  // extras_require keys are strings too; only values that parse as requirements are kept
  for (const kw of ['install_requires', 'extras_require', 'tests_require', 'setup_requires']) {
    for (const { value, offset } of literalsAfter(text, code, kw)) {
      if (kw === 'extras_require' && !/[<>=~[]|^[A-Za-z0-9][\w.-]*$/.test(value)) continue;
      const line = lines.lineAt(offset);
      pushRequirement(out, file, line, lines.lineText(line), value);
    }
  }
  const pr = /\bpython_requires\s*=\s*(['"])([^'"\n]*)\1/.exec(text);
  if (pr && code[pr.index] === 'p') {
    const v = pythonPin(pr[2]!);
    const line = lines.lineAt(pr.index);
    if (v) {
      out.python.push({ ...v, rank: PYTHON_RANK.setupPy, file, line, text: evidenceText(lines.lineText(line)) });
    }
  }
  return out;
}

/** configparser's format as setup.cfg uses it: `[section]`, `key = value`, indented continuation lines. */
export function parseSetupCfg(file: string, text: string): Declarations {
  const out = emptyDeclarations();
  const values: { section: string; key: string; parts: { text: string; line: number }[] }[] = [];
  let section = '';
  let current: (typeof values)[number] | undefined;
  const rows = text.split(/\r?\n/);
  rows.forEach((raw, i) => {
    if (/^\s*[#;]/.test(raw) || raw.trim() === '') return;
    const sec = /^\[([^\]]+)\]/.exec(raw);
    if (sec) {
      section = sec[1]!.trim();
      current = undefined;
      return;
    }
    if (/^\s/.test(raw) && current) {
      current.parts.push({ text: raw.trim(), line: i + 1 });
      return;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!kv) {
      out.warnings.push({ file, message: `line ${i + 1} is not "key = value": ${evidenceText(raw)}` });
      return;
    }
    current = { section, key: kv[1]!.trim(), parts: kv[2] ? [{ text: kv[2].trim(), line: i + 1 }] : [] };
    values.push(current);
  });
  // [options] and [options.*] configure the package; [metadata] alone names it, and the rest configure tools
  const sections = new Set(values.map((v) => v.section));
  if (![...sections].some((sec) => sec === 'options' || sec.startsWith('options.'))) out.toolConfigOnly.push(file);
  for (const v of values) {
    const isDeps =
      (v.section === 'options' && ['install_requires', 'tests_require', 'setup_requires'].includes(v.key)) ||
      v.section === 'options.extras_require';
    if (isDeps) {
      for (const p of v.parts) {
        const spec = p.text.replace(/\s+#.*$/, '').replace(/;?\s*$/, '');
        pushRequirement(out, file, p.line, rows[p.line - 1] ?? '', spec);
      }
    } else if (v.section === 'options' && v.key === 'python_requires' && v.parts[0]) {
      const version = pythonPin(v.parts[0].text);
      if (version) {
        out.python.push({
          ...version,
          rank: PYTHON_RANK.setupCfg,
          file,
          line: v.parts[0].line,
          text: evidenceText(rows[v.parts[0].line - 1] ?? ''),
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Lock files (uv.lock, poetry.lock): resolved packages, and the index they came from

/** A lock file cut off at the read cap (`truncated`) is not valid TOML: the cap's own warning says so. */
export function parseLockFile(file: string, text: string, truncated: boolean): Declarations {
  return fromToml(file, text, (doc, lines, out) => readLockFile(file, doc, lines, out), truncated);
}

function readLockFile(file: string, doc: Record<string, Json>, lines: Locator, out: Declarations): void {
  for (const pkg of Array.isArray(doc.package) ? doc.package : []) {
    if (!isRecord(pkg) || typeof pkg.name !== 'string') continue;
    const version = typeof pkg.version === 'string' ? pkg.version : '';
    const line = lines.lineStartingWith(`name = "${pkg.name}"`);
    const site = { file, line, text: evidenceText(lines.lines.lineText(line)) };
    const locked: DeclaredPackage = {
      name: normalizePackageName(pkg.name),
      extras: [],
      spec: version ? `==${version}` : '',
      ...site,
    };
    out.packages.push(locked);
    const source = isRecord(pkg.source) ? pkg.source : {};
    const url =
      typeof source.registry === 'string' ? source.registry : typeof source.url === 'string' ? source.url : '';
    const cuda = packageCuda(locked) ?? (url ? cudaFromIndexUrl(url) : null);
    if (cuda) out.cuda.push({ version: cuda, rank: CUDA_RANK.lock, ...site });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile: base image (with ARG defaults), pip installs, launch commands

/** Expands `$VAR` and `${VAR}` (with `:-`/`:+` forms) from Dockerfile ARG defaults; unknown ones stay as written. */
export function expandArgs(value: string, args: ReadonlyMap<string, string>): string {
  return value.replace(
    /\$\{(\w+)(?::?[-+][^}]*)?\}|\$(\w+)/g,
    (whole, a: string | undefined, b: string | undefined) => {
      return args.get((a ?? b)!) ?? whole;
    },
  );
}

export function parseDockerfile(file: string, text: string): Declarations {
  const out = emptyDeclarations();
  let instructions;
  try {
    instructions = DockerfileParser.parse(text).getInstructions();
  } catch (err) {
    out.warnings.push({ file, message: `could not be parsed as a Dockerfile: ${errorMessage(err)}` });
    return out;
  }
  const lines = new LineIndex(text);
  const args = new Map<string, string>();
  for (const ins of instructions) {
    const keyword = ins.getKeyword().toUpperCase();
    const content = ins.getArgumentsContent() ?? '';
    const line = ins.getRange().start.line + 1;
    const site = { file, line, text: evidenceText(lines.lineText(line)) };
    // the line of an instruction continued over lines (`\`) that holds a value, for evidence
    const siteOf = (needle: string): Site => {
      for (let l = line; l <= ins.getRange().end.line + 1; l++) {
        if (lines.lineText(l).includes(needle)) return { file, line: l, text: evidenceText(lines.lineText(l)) };
      }
      return site;
    };
    if (keyword === 'ARG') {
      const m = /^(\w+)=("?)([^"\s]*)\2/.exec(content.trim());
      if (m) args.set(m[1]!, expandArgs(m[3]!, args));
    } else if (keyword === 'FROM') {
      const image = expandArgs(
        content
          .trim()
          .split(/\s+/)
          .find((t) => !t.startsWith('--')) ?? '',
        args,
      );
      const cuda = cudaFromImage(image);
      if (cuda) out.cuda.push({ version: cuda, rank: CUDA_RANK.dockerfile, ...site });
      const python = pythonFromImage(image);
      if (python) out.python.push({ version: python, rank: PYTHON_RANK.dockerfile, ...site });
    } else if (keyword === 'RUN') {
      const cmd = expandArgs(content, args);
      for (const install of cmd.split(/&&|;|\|\|/)) {
        const m = PIP_INSTALL.exec(install.trim());
        if (m) pushPipArguments(out, siteOf, m[1]!, CUDA_RANK.wheel);
      }
      pushDockerPython(out, siteOf, cmd);
      out.commands.push({ ...site, command: cmd });
    } else if (keyword === 'CMD' || keyword === 'ENTRYPOINT') {
      let command = content.trim();
      if (command.startsWith('[')) {
        try {
          const argv = JSON.parse(command) as unknown;
          if (Array.isArray(argv)) command = argv.map(String).join(' ');
        } catch {
          // shell form with a bracket: keep as written
        }
      }
      pushDockerPython(out, siteOf, command);
      out.commands.push({ ...site, command: expandArgs(command, args) });
    }
  }
  return out;
}

/** `pip install …`, `pip3 install …`, `python3.10 -m pip install …`, `uv pip install …`: what follows `install`. */
const PIP_INSTALL = /(?:^|[\s`!%$])(?:pip3?|uv\s+pip|python[\d.]*\s+-m\s+pip)\s+install\s+([^`\n#]*)/;
/** pip options whose value is the next word (and names no package to install). */
const PIP_VALUE_OPTION =
  /^(?:-r|--requirement|-c|--constraint|-e|--editable|-t|--target|--prefix|--root|--src|--upgrade-strategy|--platform|--python-version|--implementation|--abi|--only-binary|--no-binary|--trusted-host|--cache-dir|--progress-bar|--config-settings|-C)$/;

/**
 * Records what the arguments of one `pip install` declare: each package (a parsed requirement), and the CUDA version
 * of its index URLs and wheel labels at `cudaRank`. Requirement files, editable installs and the project itself
 * (`.`) name no package here.
 */
function pushPipArguments(out: Declarations, siteOf: (word: string) => Site, args: string, cudaRank: number): void {
  const tokens = args.trim().split(/\s+/);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!.replace(/^['"]|['"]$/g, '');
    const option = /^(?:--(?:extra-)?index-url|-i|-f|--find-links)(?:=(.*))?$/.exec(t);
    if (option) {
      const url = option[1] ?? tokens[++i] ?? '';
      const cuda = cudaFromIndexUrl(url);
      if (cuda) out.cuda.push({ version: cuda, rank: cudaRank, ...siteOf(url) });
    } else if (PIP_VALUE_OPTION.test(t)) i++;
    else if (t !== '' && !t.startsWith('-') && !t.startsWith('.')) {
      const req = parseRequirement(t);
      if (!req) continue;
      const pkg = { ...req, ...siteOf(t) };
      out.packages.push(pkg);
      addPackageCudaPin(out, pkg, cudaRank);
    }
  }
}

/**
 * The Python a Dockerfile instruction installs or runs (`apt-get install python3.10`, `python3.10 -m pip`,
 * `ENTRYPOINT ["python3.10"]`, `conda install python=3.10`): the first one a Dockerfile names.
 */
function pushDockerPython(out: Declarations, siteOf: (word: string) => Site, command: string): void {
  if (out.python.length > 0) return;
  const m = /(?<![\w.-])python(?:3\.(\d+)(?![\d])|={1,2}3\.(\d+))/.exec(command);
  if (m) out.python.push({ version: `3.${Number(m[1] ?? m[2])}`, rank: PYTHON_RANK.dockerfile, ...siteOf(m[0]) });
}

// ---------------------------------------------------------------------------------------------------------------
// Install commands (a README's `pip install`, a notebook's `!pip install`): the weakest declarations, for a project
// that has no environment file

/** Where a README's `pip install` is a command, not prose: a code block, inline code, or a line that is a command. */
const COMMAND_LINE = /^\s*(?:[$>]\s*|[!%])?(?:pip3?|uv\s+pip|python[\d.]*\s+-m\s+pip)\s+install\b/;

/**
 * What the `pip install` commands of a README or of a notebook's `!pip` lines declare: the packages they install,
 * and the CUDA build their index URL (`--index-url …/cu118`) or wheel label (`torch==2.1.0+cu118`) names, at the
 * weakest CUDA rank. Commands are read in fenced code blocks, indented blocks, inline code and lines that are a
 * command; never in prose.
 */
export function parseInstallCommands(file: string, text: string): Declarations {
  const out = emptyDeclarations();
  const rows = text.split(/\r?\n/);
  let fenced = false;
  for (let i = 0; i < rows.length; i++) {
    const start = i;
    let raw = rows[i]!;
    if (/^\s*(?:```|~~~)/.test(raw)) {
      fenced = !fenced;
      continue;
    }
    // a shell command continued over lines (`\` at the end) is one command
    while (raw.endsWith('\\') && i + 1 < rows.length) raw = `${raw.slice(0, -1)} ${rows[++i]!.trim()}`;
    const m = PIP_INSTALL.exec(raw);
    if (!m) continue;
    const inCode =
      fenced || /^(?: {4}|\t)/.test(raw) || COMMAND_LINE.test(raw) || raw.slice(0, m.index + 1).includes('`');
    if (!inCode) continue;
    const site = { file, line: start + 1, text: evidenceText(raw) };
    pushPipArguments(out, () => site, m[1]!.split(/&&|;|\|\|/)[0]!, CUDA_RANK.command);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// devcontainer.json: the one the Dev Container spec picks, read and parsed by the devcontainer model

/** What a devcontainer.json declares: the CUDA version of its image; and a warning when it could not be read whole. */
export function devcontainerDeclarations({ file, dc, problem }: DevcontainerInspection): Declarations {
  const out = emptyDeclarations();
  if (problem !== undefined) out.warnings.push({ file, message: devcontainerProblem(problem) });
  const image = dc?.json.image;
  const cuda = typeof image === 'string' ? cudaFromImage(image) : null;
  if (dc && cuda) {
    const site = siteFor(file, new Locator(dc.text), image as string);
    out.cuda.push({ version: cuda, rank: CUDA_RANK.devcontainer, ...site });
  }
  return out;
}

/** The declarations of a devcontainer.json's text, as devcontainerDeclarations reads them from a project. */
export function parseDevcontainer(file: string, text: string): Declarations {
  try {
    const { dc, error } = parseDevcontainerLeniently(text, file);
    return devcontainerDeclarations({ file, dc, problem: error });
  } catch (problem) {
    return devcontainerDeclarations({ file, problem });
  }
}

/** The warning (after the file name) for a devcontainer.json that could not be read whole. */
function devcontainerProblem(problem: unknown): string {
  if (problem instanceof TooDeeplyNestedError) return TOO_DEEP_WARNING;
  if (problem instanceof DevcontainerSyntaxError) {
    return `not valid JSON with comments (${problem.code} at line ${problem.line}).`;
  }
  if (!(problem instanceof UnsafePathError)) return `${describeFsError(problem)}, so it was skipped.`;
  if (problem.reason === 'outside-project') return 'leads out of the project through a link, so it was not read.';
  const mib = DEVCONTAINER_CAP / (1024 * 1024);
  if (problem.reason === 'too-large') return `is more than ${mib} MiB, so it was not read.`;
  return 'is not a regular file, so it was skipped.';
}

// ---------------------------------------------------------------------------------------------------------------
// .python-version and runtime.txt

export function parsePythonVersionFile(file: string, text: string): Declarations {
  const out = emptyDeclarations();
  const rows = text.split(/\r?\n/);
  const idx = rows.findIndex((r) => r.trim() !== '' && !r.trim().startsWith('#'));
  if (idx === -1) return out;
  const v = majorMinor(rows[idx]!);
  if (v && /^\s*(?:(?:c?python|cpython)-?)?\d/i.test(rows[idx]!)) {
    out.python.push({
      version: v,
      rank: PYTHON_RANK.pythonVersionFile,
      file,
      line: idx + 1,
      text: evidenceText(rows[idx]!),
    });
  } else {
    out.warnings.push({ file, message: `does not name a CPython version: ${evidenceText(rows[idx]!)}` });
  }
  return out;
}

export function parseRuntimeTxt(file: string, text: string): Declarations {
  const out = emptyDeclarations();
  const rows = text.split(/\r?\n/);
  const idx = rows.findIndex((r) => /^\s*python-\d+\.\d+/i.test(r));
  if (idx !== -1) {
    const v = majorMinor(rows[idx]!)!;
    out.python.push({ version: v, rank: PYTHON_RANK.runtimeTxt, file, line: idx + 1, text: evidenceText(rows[idx]!) });
  }
  return out;
}

/** Appends b's findings to a. */
export function mergeDeclarations(a: Declarations, b: Declarations): void {
  // one push at a time: spreading 200,000 packages into push() overflows the stack
  for (const p of b.packages) a.packages.push(p);
  for (const p of b.python) a.python.push(p);
  for (const p of b.cuda) a.cuda.push(p);
  for (const i of b.includes) a.includes.push(i);
  for (const c of b.commands) a.commands.push(c);
  for (const f of b.toolConfigOnly) a.toolConfigOnly.push(f);
  for (const w of b.warnings) a.warnings.push(w);
}
