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
  type CodePattern,
} from './knowledge';

export interface PythonViews {
  /** Comments and every string's contents replaced by spaces (quotes and newlines kept: offsets and lines match). */
  code: string;
  /** Comments and triple-quoted strings blanked; single-line string contents kept. */
  codeWithStrings: string;
}

const INTERESTING = /[#'"]/g;
const blank = (s: string): string => s.replace(/[^\n]/g, ' ');

export function lexPython(src: string): PythonViews {
  const code: string[] = [];
  const withStr: string[] = [];
  let copied = 0; // everything before this offset has been emitted
  INTERESTING.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = INTERESTING.exec(src)) !== null) {
    const start = m.index;
    const ch = m[0];
    const before = src.slice(copied, start);
    code.push(before);
    withStr.push(before);
    if (ch === '#') {
      let end = src.indexOf('\n', start);
      if (end === -1) end = src.length;
      const b = blank(src.slice(start, end));
      code.push(b);
      withStr.push(b);
      copied = end;
    } else {
      const triple = src.startsWith(ch + ch + ch, start);
      const open = triple ? 3 : 1;
      const closer = triple
        ? ch === '"'
          ? /\\[\s\S]|"""/g
          : /\\[\s\S]|'''/g
        : ch === '"'
          ? /\\[\s\S]|"|\n/g
          : /\\[\s\S]|'|\n/g;
      closer.lastIndex = start + open;
      let contentEnd = src.length;
      let end = src.length;
      let c: RegExpExecArray | null;
      while ((c = closer.exec(src)) !== null) {
        if (c[0].length === 2 && c[0][0] === '\\') continue;
        if (c[0] === '\n') {
          contentEnd = end = c.index;
        } else {
          contentEnd = c.index;
          end = c.index + c[0].length;
        }
        break;
      }
      const quoteOpen = src.slice(start, start + open);
      const content = src.slice(start + open, contentEnd);
      const quoteClose = src.slice(contentEnd, end);
      const blanked = blank(content);
      code.push(quoteOpen, blanked, quoteClose);
      withStr.push(quoteOpen, triple ? blanked : content, quoteClose);
      copied = end;
    }
    INTERESTING.lastIndex = copied;
  }
  const rest = src.slice(copied);
  code.push(rest);
  withStr.push(rest);
  return { code: code.join(''), codeWithStrings: withStr.join('') };
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
  /** Has `if __name__ == "__main__":`. */
  mainGuard: boolean;
  /** Has statements at module level that call something (a script, not only a library of definitions). */
  topLevelCall: boolean;
}

// `import a.b as c, d` and `from a.b import c`, at the start of a statement (line start or after `;`).
const IMPORT_RE = /(?:^|;)[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import\b|import[ \t]+([\w.][\w. \t,]*))/gm;
const MAIN_GUARD = /^if\s+__name__\s*==\s*(['"])__main__\1\s*:/m;
const TOP_LEVEL_CALL =
  /^(?!def\b|class\b|import\b|from\b|if\b|elif\b|else\b|try\b|except\b|finally\b|with\b|for\b|while\b|return\b|@|async\b)[A-Za-z_][\w.]*(?:\s*=\s*[\w.]+)?\s*\(/m;

/**
 * Reads the facts detection needs from Python source. `lineMap`, when given, maps a 1-based line of `src` to the
 * line in the file it came from (notebooks: cells are concatenated, and each maps back to its line in the .ipynb).
 */
export function analyzePython(src: string, lineMap?: (line: number) => number): PythonFacts {
  const { code, codeWithStrings } = lexPython(src);
  const lines = new LineIndex(src);
  const lineOf = (offset: number): number => lines.lineAt(offset);
  const fileLine = (line: number): number => (lineMap ? lineMap(line) : line);
  const hit = (id: string, offset: number): Hit => {
    const line = lineOf(offset);
    return { id, line: fileLine(line), text: evidenceText(lines.lineText(line)) };
  };

  const imports: Hit[] = [];
  const seen = new Set<string>();
  IMPORT_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IMPORT_RE.exec(code)) !== null) {
    const names = m[1] !== undefined ? [m[1]] : (m[2] ?? '').split(',').map((s) => s.trim().split(/[ \t]/)[0] ?? '');
    for (const name of names) {
      const top = name.split('.')[0];
      if (!top || seen.has(top)) continue; // relative imports (`from . import x`) have an empty first part
      seen.add(top);
      imports.push(hit(top, m.index + (m[0].startsWith(';') ? 1 : 0)));
    }
  }

  const scan = (patterns: readonly CodePattern[]): Hit[] => {
    const out: Hit[] = [];
    for (const p of patterns) {
      const r = p.re.exec(p.withStrings ? codeWithStrings : code);
      if (r) out.push(hit(p.id, r.index));
    }
    return out;
  };

  const launcherHints: (Hit & { launcher: string })[] = [];
  for (const p of LAUNCHER_CODE_PATTERNS) {
    const r = p.re.exec(p.withStrings ? codeWithStrings : code);
    if (r) launcherHints.push({ ...hit(p.id, r.index), launcher: p.launcher });
  }

  return {
    imports,
    training: scan(TRAINING_PATTERNS),
    gpuRequired: scan(GPU_REQUIRED_PATTERNS),
    gpuFallback: scan(GPU_FALLBACK_PATTERNS),
    launcherHints,
    mainGuard: MAIN_GUARD.test(codeWithStrings),
    topLevelCall: TOP_LEVEL_CALL.test(code),
  };
}
