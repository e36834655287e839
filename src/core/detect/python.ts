/**
 * A small Python lexer: just enough of Python's tokenizer to tell code from comments and strings, so that
 * `import torch` inside a docstring or a comment is not taken for an import. It never throws: unterminated
 * strings end at the end of their line (single-quoted) or of the text (triple-quoted), as a tolerant reader must.
 */
import { LineIndex, evidenceText } from '../util/text';
import {
  DISTRIBUTED_CONDITION,
  EXPORT_MODULES,
  FRAMEWORK_USE_PATTERNS,
  GPU_FALLBACK_PATTERNS,
  GPU_ONLY_PATTERNS,
  GPU_REQUIRED_PATTERNS,
  GPU_USE_PATTERNS,
  LAUNCHER_CODE_PATTERNS,
  TRAINING_PATTERNS,
  USAGE_PATTERNS,
  UTILITY_USES,
  type CodePattern,
} from './knowledge';
import type { Framework } from './types';

export interface PythonViews {
  /** Comments and every string's contents replaced by spaces (quotes and newlines kept: offsets and lines match). */
  code: string;
  /** Comments and triple-quoted strings blanked; single-line string contents kept. */
  codeWithStrings: string;
}

// One token of what is not code: a comment, a triple-quoted string, or a single-quoted string (which ends,
// unterminated, at its line's end). Escapes are consumed as pairs, so \" never closes a string.
const NOT_CODE =
  /#[^\n]*|"""(?:[^"\\]|\\[\s\S]|"(?!""))*(?:"""|$)|'''(?:[^'\\]|\\[\s\S]|'(?!''))*(?:'''|$)|"(?:[^"\\\n]|\\[\s\S])*"?|'(?:[^'\\\n]|\\[\s\S])*'?/g;

const blank = (s: string): string => (s.includes('\n') ? s.replace(/[^\n]/g, ' ') : ' '.repeat(s.length));

/** A string token with its contents blanked, quotes kept. */
function blankString(token: string): string {
  const q = token[0]!;
  const open = token.startsWith(q + q + q) ? 3 : 1;
  const closed = token.length >= open * 2 && token.endsWith(open === 3 ? q + q + q : q);
  const close = closed ? open : 0;
  return token.slice(0, open) + blank(token.slice(open, token.length - close)) + token.slice(token.length - close);
}

export function lexPython(src: string): PythonViews {
  // string prefixes (r, b, f, u, rb, ...) stay in the code: they are letters before the quote
  const code = src.replace(NOT_CODE, (t) => (t[0] === '#' ? blank(t) : blankString(t)));
  return { code, codeWithStrings: viewWithStrings(src) };
}

function viewWithStrings(src: string): string {
  return src.replace(NOT_CODE, (t) =>
    t[0] === '#' ? blank(t) : t.length >= 3 && t[1] === t[0] && t[2] === t[0] ? blankString(t) : t,
  );
}

function hasNeedle(text: string, needle: string | readonly string[] | undefined): boolean {
  if (needle === undefined) return true;
  if (typeof needle === 'string') return text.includes(needle);
  return needle.some((n) => text.includes(n));
}

/** A match found in the source that starts in code (not inside a comment or a string). */
function isCodeMatch(m: RegExpExecArray | null, code: string): boolean {
  return m !== null && code[m.index] === m[0][0];
}

export interface Hit {
  id: string;
  line: number;
  text: string;
}

/**
 * Where GPU code stands aside from the file's main path: in the `if __name__ == "__main__":` block (`main-block`),
 * or in a branch that only distributed training runs (`distributed`, see DISTRIBUTED_CONDITION).
 */
export type GpuCodePlace = 'main-block' | 'distributed';

/** GPU code found, with where it stands when that is aside from the main path. */
export interface GpuHit extends Hit {
  place?: GpuCodePlace;
}

export interface PythonFacts {
  /** Top-level absolute import names, first occurrence of each. */
  imports: Hit[];
  /** Every absolute module the file imports, dotted (`torch.utils.tensorboard`), first occurrence of each. */
  modules: Hit[];
  /**
   * Import names the file uses only as a utility of another framework's code (UTILITY_USES: hiding TensorFlow's
   * GPUs, saving a model in its format) or as an export target (EXPORT_MODULES): not a framework of the file.
   */
  utilityImports: string[];
  /** Frameworks used through another framework's import (`from tensorflow import keras`), by framework. */
  frameworkUses: (Hit & { framework: Framework })[];
  training: Hit[];
  /**
   * Code that fails without a GPU unless the file has a CPU fallback: the first hit of each pattern on the main
   * path, and of each place aside from it. A device default of a function's parameter (`device="cuda"` in a `def`)
   * is not one: callers pass their own.
   */
  gpuRequired: GpuHit[];
  /** Code that fails without a GPU whatever fallback the file has (GPU_ONLY_PATTERNS), placed as gpuRequired. */
  gpuOnly: GpuHit[];
  gpuFallback: Hit[];
  /** Device-aware code (GPU_USE_PATTERNS): it uses a GPU when there is one. */
  gpuUse: Hit[];
  launcherHints: (Hit & { launcher: string })[];
  /** Usage facts other features need (e.g. DataLoader worker processes). */
  usage: Hit[];
  /** Has `if __name__ == "__main__":`. */
  mainGuard: boolean;
  /** Has statements at module level that call something (a script, not only a library of definitions). */
  topLevelCall: boolean;
}

// `import a.b as c, d` and `from a.b import c`, at the start of a statement (line start or after `;`).
const IMPORT_RE = /^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import\b|import[ \t]+([\w.][\w. \t,]*))/gm;
const IMPORT_AFTER_SEMICOLON = /;[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import\b|import[ \t]+([\w.][\w. \t,]*))/g;
const MAIN_GUARD = /^if\s+__name__\s*==\s*(['"])__main__\1\s*:/m;
const TOP_LEVEL_CALL =
  /^(?!def\b|class\b|import\b|from\b|if\b|elif\b|else\b|try\b|except\b|finally\b|with\b|for\b|while\b|return\b|@|async\b)[A-Za-z_][\w.]*(?:\s*=\s*[\w.]+)?\s*\(/m;

/**
 * Reads the facts detection needs from Python source. `lineMap`, when given, maps a 1-based line of `src` to the
 * line in the file it came from (notebooks: cells are concatenated, and each maps back to its line in the .ipynb).
 */
export function analyzePython(src: string, lineMap?: (line: number) => number): PythonFacts {
  const code = src.replace(NOT_CODE, (t) => (t[0] === '#' ? blank(t) : blankString(t)));
  // the view with single-line strings is built only for files that could match a pattern needing it
  let withStrings: string | undefined;
  const textFor = (p: CodePattern): string | undefined => {
    if (!p.withStrings) return hasNeedle(code, p.needle) ? code : undefined;
    if (!hasNeedle(src, p.needle)) return undefined;
    return (withStrings ??= viewWithStrings(src));
  };
  const lines = new LineIndex(src);
  const lineOf = (offset: number): number => lines.lineAt(offset);
  const fileLine = (line: number): number => (lineMap ? lineMap(line) : line);
  const hit = (id: string, offset: number): Hit => {
    const line = lineOf(offset);
    return { id, line: fileLine(line), text: evidenceText(lines.lineText(line)) };
  };

  const imports: Hit[] = [];
  const modules: Hit[] = [];
  const seen = new Set<string>();
  const seenModules = new Set<string>();
  const collectImports = (re: RegExp): void => {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(code)) !== null) {
      const names = m[1] !== undefined ? [m[1]] : (m[2] ?? '').split(',').map((s) => s.trim().split(/[ \t]/)[0] ?? '');
      for (const name of names) {
        const top = name.split('.')[0];
        if (!top) continue; // relative imports (`from . import x`) have an empty first part
        const at = m.index + (m[0].startsWith(';') ? 1 : 0);
        if (!seenModules.has(name)) {
          seenModules.add(name);
          modules.push(hit(name, at));
        }
        if (seen.has(top)) continue;
        seen.add(top);
        imports.push(hit(top, at));
      }
    }
  };
  collectImports(IMPORT_RE);
  if (code.includes(';')) collectImports(IMPORT_AFTER_SEMICOLON);
  imports.sort((a, b) => a.line - b.line);
  modules.sort((a, b) => a.line - b.line);

  const scan = (patterns: readonly CodePattern[]): Hit[] => {
    const out: Hit[] = [];
    for (const p of patterns) {
      const text = textFor(p);
      if (text === undefined) continue;
      const r = p.re.exec(text);
      if (r) out.push(hit(p.id, r.index));
    }
    return out;
  };

  const launcherHints: (Hit & { launcher: string })[] = [];
  for (const p of LAUNCHER_CODE_PATTERNS) {
    const text = textFor(p);
    if (text === undefined) continue;
    const r = p.re.exec(text);
    if (r) launcherHints.push({ ...hit(p.id, r.index), launcher: p.launcher });
  }
  const frameworkUses = FRAMEWORK_USE_PATTERNS.flatMap((p) => {
    const r = hasNeedle(code, p.needle) ? p.re.exec(code) : null;
    return r ? [{ ...hit(p.id, r.index), framework: p.framework }] : [];
  });

  const mainGuard = MAIN_GUARD.exec(src);
  const places = new GpuPlaces(code, () => (withStrings ??= viewWithStrings(src)), lines, mainGuard);
  // GPU code of each pattern: the first hit on the main path, and the first of each place aside from it
  const scanPlaced = (patterns: readonly CodePattern[]): GpuHit[] => {
    const out: GpuHit[] = [];
    for (const p of patterns) {
      const text = textFor(p);
      if (text === undefined) continue;
      const placesSeen = new Set<GpuCodePlace | undefined>();
      const re = globalOf(p.re);
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      for (let n = 0; n < MAX_GPU_MATCHES && (m = re.exec(text)) !== null; n++) {
        if (m[0].length === 0) re.lastIndex++;
        if (inDefSignature(code, m.index)) continue;
        const place = places.placeOf(lineOf(m.index));
        if (placesSeen.has(place)) continue;
        placesSeen.add(place);
        out.push({ ...hit(p.id, m.index), ...(place ? { place } : {}) });
        if (place === undefined) break; // the main path's hit decides; later places aside add nothing
      }
    }
    return out;
  };

  return {
    imports,
    modules,
    utilityImports: utilityImports(code, imports),
    frameworkUses,
    training: scan(TRAINING_PATTERNS),
    gpuRequired: scanPlaced(GPU_REQUIRED_PATTERNS),
    gpuOnly: scanPlaced(GPU_ONLY_PATTERNS),
    gpuFallback: scan(GPU_FALLBACK_PATTERNS),
    gpuUse: scan(GPU_USE_PATTERNS),
    usage: scan(USAGE_PATTERNS),
    launcherHints,
    mainGuard: isCodeMatch(mainGuard, code),
    topLevelCall: TOP_LEVEL_CALL.test(code),
  };
}

/** Matches of one GPU pattern looked at per file, at most: where each stands costs a look at its surroundings. */
const MAX_GPU_MATCHES = 200;

const globalRes = new WeakMap<RegExp, RegExp>();

/** The same regular expression with the `g` flag, to walk every match. */
function globalOf(re: RegExp): RegExp {
  let g = globalRes.get(re);
  if (!g) {
    g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    globalRes.set(re, g);
  }
  return g;
}

const DEF_START = /^[ \t]*(?:async[ \t]+)?def[ \t]+\w+[ \t]*\(/gm;
/** How far back a `def` is looked for: no parameter list is longer. */
const SIGNATURE_WINDOW = 4000;

/** True when `offset` (in the code view) stands in the parameter list of a `def`: a parameter's default value. */
export function inDefSignature(code: string, offset: number): boolean {
  const window = code.slice(Math.max(0, offset - SIGNATURE_WINDOW), offset);
  let open = -1;
  DEF_START.lastIndex = 0;
  for (let m = DEF_START.exec(window); m !== null; m = DEF_START.exec(window)) open = m.index + m[0].length;
  if (open === -1) return false;
  let depth = 1;
  for (let i = open; i < window.length; i++) {
    if (window[i] === '(') depth++;
    else if (window[i] === ')' && --depth === 0) return false;
  }
  return true;
}

/** The indentation of a line, in characters; -1 for a line with no code. */
const indentOf = (line: string): number => (line.trim() === '' ? -1 : line.length - line.trimStart().length);

const IF_HEADER = /^[ \t]*(?:if|elif)[ \t]+(.+?):/;
/** Lines looked at above GPU code for the `if` it stands in, at most. */
const MAX_LOOKBACK = 2000;

/** Where a line of GPU code stands: on the main path (undefined), in the `__main__` block, in a distributed branch. */
class GpuPlaces {
  private codeLines: string[] | undefined;
  private stringLines: string[] | undefined;
  private mainBlock: { from: number; to: number } | null | undefined;

  constructor(
    private readonly code: string,
    private readonly withStrings: () => string,
    private readonly lines: LineIndex,
    private readonly guard: RegExpExecArray | null,
  ) {}

  /** The lines of the `if __name__ == "__main__":` block (after the guard, up to the next top-level line). */
  private main(): { from: number; to: number } | null {
    if (this.mainBlock !== undefined) return this.mainBlock;
    if (!isCodeMatch(this.guard, this.code)) return (this.mainBlock = null);
    const from = this.lines.lineAt(this.guard!.index);
    const rows = this.rows();
    let to = rows.length;
    for (let l = from + 1; l <= rows.length; l++) {
      if (indentOf(rows[l - 1]!) === 0) {
        to = l - 1;
        break;
      }
    }
    return (this.mainBlock = { from, to });
  }

  private rows(): string[] {
    return (this.codeLines ??= this.code.split('\n'));
  }

  placeOf(line: number): GpuCodePlace | undefined {
    if (this.inDistributedBranch(line)) return 'distributed';
    const main = this.main();
    if (main && line > main.from && line <= main.to) return 'main-block';
    return undefined;
  }

  /** True when an `if` around the line (or one that starts it, `if ddp: x.cuda()`) runs only in distributed training. */
  private inDistributedBranch(line: number): boolean {
    const rows = this.rows();
    const distributed = (l: number): boolean => {
      const header = IF_HEADER.exec(rows[l - 1]!);
      if (!header) return false;
      // the condition as written (strings kept: `"WORLD_SIZE" in os.environ`), unless it is a negation
      this.stringLines ??= this.withStrings().split('\n');
      const written = IF_HEADER.exec(this.stringLines[l - 1] ?? '')?.[1] ?? header[1]!;
      return !/^\s*not\b/.test(written) && DISTRIBUTED_CONDITION.test(written);
    };
    if (distributed(line)) return true;
    let indent = indentOf(rows[line - 1] ?? '');
    for (let l = line - 1; l >= 1 && indent > 0 && line - l <= MAX_LOOKBACK; l--) {
      const i = indentOf(rows[l - 1]!);
      if (i === -1 || i >= indent) continue;
      indent = i;
      if (distributed(l)) return true;
    }
    return false;
  }
}

/** Import names the file uses only as a utility (UTILITY_USES) or an export target (EXPORT_MODULES). */
function utilityImports(code: string, imports: readonly Hit[]): string[] {
  const names = new Set(imports.map((i) => i.id));
  const out = new Set<string>();
  for (const [module, target] of Object.entries(EXPORT_MODULES)) if (names.has(module)) out.add(target);
  for (const [module, uses] of Object.entries(UTILITY_USES)) {
    if (!names.has(module) || out.has(module)) continue;
    // `import tensorflow as tf` (or plain `import tensorflow`) is the only way the file imports it
    const forms = [...code.matchAll(new RegExp(`^[ \\t]*(?:from|import)[ \\t]+${module}\\b.*$`, 'gm'))];
    const plain = forms.map((f) =>
      new RegExp(`^[ \\t]*import[ \\t]+${module}(?:[ \\t]+as[ \\t]+(\\w+))?[ \\t]*$`).exec(f[0]),
    );
    if (plain.length === 0 || plain.some((p) => p === null)) continue;
    const aliases = new Set(plain.map((p) => p![1] ?? module));
    const paths = [...aliases].flatMap((a) => [...code.matchAll(new RegExp(`(?<![\\w.])${a}\\.([\\w.]+)`, 'g'))]);
    if (paths.length > 0 && paths.every((m) => uses.test(m[1]!))) out.add(module);
  }
  return [...out];
}
