/**
 * A small Python lexer: just enough of Python's tokenizer to tell code from comments and strings, so that
 * `import torch` inside a docstring or a comment is not taken for an import. It never throws: unterminated
 * strings end at the end of their line (single-quoted) or of the text (triple-quoted), as a tolerant reader must.
 */
import { LineIndex, evidenceText } from '../util/text';
import {
  GPU_FALLBACK_PATTERNS,
  GPU_REQUIRED_PATTERNS,
  LAUNCHER_CODE_PATTERNS,
  TRAINING_PATTERNS,
  USAGE_PATTERNS,
  type CodePattern,
} from './knowledge';

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

export interface PythonFacts {
  /** Top-level absolute import names, first occurrence of each. */
  imports: Hit[];
  training: Hit[];
  gpuRequired: Hit[];
  gpuFallback: Hit[];
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
  const seen = new Set<string>();
  const collectImports = (re: RegExp): void => {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(code)) !== null) {
      const names = m[1] !== undefined ? [m[1]] : (m[2] ?? '').split(',').map((s) => s.trim().split(/[ \t]/)[0] ?? '');
      for (const name of names) {
        const top = name.split('.')[0];
        if (!top || seen.has(top)) continue; // relative imports (`from . import x`) have an empty first part
        seen.add(top);
        imports.push(hit(top, m.index + (m[0].startsWith(';') ? 1 : 0)));
      }
    }
  };
  collectImports(IMPORT_RE);
  if (code.includes(';')) collectImports(IMPORT_AFTER_SEMICOLON);
  imports.sort((a, b) => a.line - b.line);

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

  return {
    imports,
    training: scan(TRAINING_PATTERNS),
    gpuRequired: scan(GPU_REQUIRED_PATTERNS),
    gpuFallback: scan(GPU_FALLBACK_PATTERNS),
    usage: scan(USAGE_PATTERNS),
    launcherHints,
    mainGuard: isCodeMatch(MAIN_GUARD.exec(src), code),
    topLevelCall: TOP_LEVEL_CALL.test(code),
  };
}
