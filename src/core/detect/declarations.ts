/**
 * Parsers for the files a Python project declares its environment in. Each takes the file's path (relative to the
 * project root) and text and returns what it declares; none of them throws: a malformed file yields a warning and
 * whatever could be read. Real parsers do the parsing (smol-toml, yaml, jsonc-parser, dockerfile-ast,
 * pip-requirements-js); this module only knows where in each format the interesting values live.
 */
import { DockerfileParser } from 'dockerfile-ast';
import { parse as parseJsonc, type ParseError, printParseErrorCode } from 'jsonc-parser';
import { parsePipRequirementsLine, type Requirement } from 'pip-requirements-js';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { errorMessage } from '../util/errors';
import { TOO_DEEP_WARNING, jsoncTooDeep, yamlTooDeep } from '../util/json';
import { LineIndex, evidenceText } from '../util/text';
import { normalizePackageName } from './knowledge';
import { lexPython } from './python';
import type { DetectionWarning } from './types';
import { cudaFromImage, cudaFromIndexUrl, cudaFromLocalVersion, majorMinor, pythonRequirement } from './versions';

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
  warnings: DetectionWarning[];
}

export function emptyDeclarations(): Declarations {
  return { packages: [], python: [], cuda: [], includes: [], commands: [], warnings: [] };
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
} as const;
/** CUDA pin ranks: the wheels the project installs beat the base image it happens to start from. */
export const CUDA_RANK = { wheel: 0, conda: 1, lock: 2, dockerfile: 3, devcontainer: 4 } as const;

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

function addPackageCudaPin(out: Declarations, pkg: DeclaredPackage): void {
  const fromLabel = cudaFromLocalVersion(pkg.spec);
  if (fromLabel) {
    out.cuda.push({ version: fromLabel, rank: CUDA_RANK.wheel, file: pkg.file, line: pkg.line, text: pkg.text });
    return;
  }
  // NVIDIA's CUDA wheels carry the toolkit version: nvidia-cuda-runtime-cu12==12.1.105 pins CUDA 12.1.
  if (/^nvidia-cuda-(?:runtime|nvcc|cupti|nvrtc)-cu\d+$/.test(pkg.name)) {
    const v = /==\s*([\d.]+)/.exec(pkg.spec);
    const mm = v ? majorMinor(v[1]!) : null;
    if (mm) out.cuda.push({ version: mm, rank: CUDA_RANK.wheel, file: pkg.file, line: pkg.line, text: pkg.text });
  }
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
  const pkg: DeclaredPackage = { ...req, file, line, text: evidenceText(text) };
  out.packages.push(pkg);
  addPackageCudaPin(out, pkg);
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

function tomlWarning(file: string, err: unknown): DetectionWarning {
  const first = errorMessage(err).split('\n')[0] ?? '';
  return { file, message: `not valid TOML, so its dependencies were not read: ${first}` };
}

export function parsePyproject(file: string, text: string): Declarations {
  const out = emptyDeclarations();
  let doc: Record<string, Json>;
  try {
    doc = parseToml(text) as Record<string, Json>;
  } catch (err) {
    out.warnings.push(tomlWarning(file, err));
    return out;
  }
  const lines = new Locator(text);
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
        const spec =
          typeof value === 'string' ? value : isRecord(value) && typeof value.version === 'string' ? value.version : '';
        const site = siteFor(file, lines, rawName);
        if (normalizePackageName(rawName) === 'python') {
          const v = pythonPin(spec);
          if (v) out.python.push({ ...v, rank: PYTHON_RANK.pyproject, ...site });
          continue;
        }
        const extras = isRecord(value) ? strings(value.extras) : [];
        const pkg: DeclaredPackage = {
          name: normalizePackageName(rawName),
          extras,
          spec: spec === '*' ? '' : spec,
          ...site,
        };
        out.packages.push(pkg);
        addPackageCudaPin(out, pkg);
      }
    }
    if (Array.isArray(poetry.source)) {
      for (const src of poetry.source) {
        if (isRecord(src) && typeof src.url === 'string') {
          const site = siteFor(file, lines, src.url);
          pushIndexUrl(out, file, site.line, site.text, src.url);
        }
      }
    }
  }
  const uv = isRecord(tool.uv) ? tool.uv : undefined;
  if (uv) {
    const indexes = [...(Array.isArray(uv.index) ? uv.index : []), ...(isRecord(uv.pip) ? [uv.pip] : [])];
    for (const idx of indexes) {
      if (!isRecord(idx)) continue;
      for (const key of ['url', 'index-url', 'extra-index-url']) {
        for (const url of typeof idx[key] === 'string' ? [idx[key]] : strings(idx[key])) {
          const site = siteFor(file, lines, url);
          pushIndexUrl(out, file, site.line, site.text, url);
        }
      }
    }
    pep508(strings(uv['dev-dependencies']));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Pipfile (TOML)

export function parsePipfile(file: string, text: string): Declarations {
  const out = emptyDeclarations();
  let doc: Record<string, Json>;
  try {
    doc = parseToml(text) as Record<string, Json>;
  } catch (err) {
    out.warnings.push(tomlWarning(file, err));
    return out;
  }
  const lines = new Locator(text);
  for (const section of ['packages', 'dev-packages']) {
    const table = doc[section];
    if (!isRecord(table)) continue;
    for (const [rawName, value] of Object.entries(table)) {
      const spec =
        typeof value === 'string' ? value : isRecord(value) && typeof value.version === 'string' ? value.version : '';
      const extras = isRecord(value) ? strings(value.extras) : [];
      const pkg: DeclaredPackage = {
        name: normalizePackageName(rawName),
        extras,
        spec: spec === '*' ? '' : spec,
        ...siteFor(file, lines, rawName),
      };
      out.packages.push(pkg);
      addPackageCudaPin(out, pkg);
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
  if (Array.isArray(doc.source)) {
    for (const src of doc.source) {
      if (isRecord(src) && typeof src.url === 'string') {
        const site = siteFor(file, lines, src.url);
        pushIndexUrl(out, file, site.line, site.text, src.url);
      }
    }
  }
  return out;
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
      const pkg: DeclaredPackage = {
        name,
        extras: [],
        spec: version ? `${m[2] === '=' ? '==' : m[2]}${version}` : '',
        ...site,
      };
      out.packages.push(pkg);
      addPackageCudaPin(out, pkg);
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

export function parseLockFile(file: string, text: string, truncated: boolean): Declarations {
  const out = emptyDeclarations();
  let doc: Record<string, Json>;
  try {
    doc = parseToml(text) as Record<string, Json>;
  } catch (err) {
    if (!truncated) out.warnings.push(tomlWarning(file, err));
    return out;
  }
  const lines = new Locator(text);
  for (const pkg of Array.isArray(doc.package) ? doc.package : []) {
    if (!isRecord(pkg) || typeof pkg.name !== 'string') continue;
    const version = typeof pkg.version === 'string' ? pkg.version : '';
    const line = lines.lineStartingWith(`name = "${pkg.name}"`);
    const site = { file, line, text: evidenceText(lines.lines.lineText(line)) };
    out.packages.push({
      name: normalizePackageName(pkg.name),
      extras: [],
      spec: version ? `==${version}` : '',
      ...site,
    });
    const source = isRecord(pkg.source) ? pkg.source : {};
    const url =
      typeof source.registry === 'string' ? source.registry : typeof source.url === 'string' ? source.url : '';
    const cuda = cudaFromLocalVersion(version) ?? (url ? cudaFromIndexUrl(url) : null);
    if (cuda) out.cuda.push({ version: cuda, rank: CUDA_RANK.lock, ...site });
  }
  return out;
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
    } else if (keyword === 'RUN') {
      const cmd = expandArgs(content, args);
      for (const install of cmd.split(/&&|;|\|\|/)) {
        const m =
          /\bpip3?\s+install\s+(.*)$/.exec(install.trim()) ?? /\b-m\s+pip\s+install\s+(.*)$/.exec(install.trim());
        if (!m) continue;
        const tokens = m[1]!.trim().split(/\s+/);
        for (let i = 0; i < tokens.length; i++) {
          const t = tokens[i]!.replace(/^['"]|['"]$/g, '');
          if (/^(?:--(?:extra-)?index-url|-i|-f|--find-links)$/.test(t)) {
            pushIndexUrl(out, file, line, site.text, tokens[++i] ?? '');
          } else if (/^--(?:extra-)?index-url=/.test(t)) {
            pushIndexUrl(out, file, line, site.text, t.split('=')[1] ?? '');
          } else if (t === '-r' || t === '-c' || t === '--requirement') i++;
          else if (!t.startsWith('-') && t !== '.') pushRequirement(out, file, line, site.text, t);
        }
      }
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
      out.commands.push({ ...site, command: expandArgs(command, args) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// .devcontainer/devcontainer.json (JSON with comments)

export function parseDevcontainer(file: string, text: string): Declarations {
  const out = emptyDeclarations();
  if (jsoncTooDeep(text)) {
    out.warnings.push({ file, message: TOO_DEEP_WARNING });
    return out;
  }
  const errors: ParseError[] = [];
  const doc = parseJsonc(text, errors, { allowTrailingComma: true }) as Json;
  if (errors.length > 0) {
    const lines = new LineIndex(text);
    const e = errors[0]!;
    out.warnings.push({
      file,
      message: `not valid JSON with comments (${printParseErrorCode(e.error)} at line ${lines.lineAt(e.offset)}).`,
    });
  }
  if (isRecord(doc) && typeof doc.image === 'string') {
    const cuda = cudaFromImage(doc.image);
    if (cuda) {
      out.cuda.push({ version: cuda, rank: CUDA_RANK.devcontainer, ...siteFor(file, new Locator(text), doc.image) });
    }
  }
  return out;
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
  for (const w of b.warnings) a.warnings.push(w);
}
