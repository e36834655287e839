/**
 * Nesting-depth checks for JSON, JSON with comments and YAML taken from a project that may be hostile. The parsers
 * the extension uses (jsonc-parser, yaml) descend recursively, so a file of a few thousand nested `[` overflows the
 * stack; these checks run first, in linear time and without recursion, and a file nested deeper than MAX_NESTING is
 * reported instead of parsed.
 */
import { Parser } from 'yaml';

/** Deepest nesting of arrays and objects (or YAML collections) a project file may have; real files stay under 20. */
export const MAX_NESTING = 256;

/** A file nested too deeply to be parsed safely; the message is one sentence that names the file. */
export class TooDeeplyNestedError extends Error {
  override readonly name = 'TooDeeplyNestedError';
  constructor(
    readonly file: string,
    readonly limit = MAX_NESTING,
  ) {
    super(`${file} is nested more than ${limit} levels deep, so it was not read; fix or replace the file.`);
  }
}

/** The detection warning's text (after the file name) for a file nested too deeply. */
export const TOO_DEEP_WARNING = `is nested more than ${MAX_NESTING} levels deep, so it was not read.`;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const STAR = 0x2a;
const LF = 0x0a;
const CR = 0x0d;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/**
 * True when JSON or JSON-with-comments text nests arrays and objects more than `limit` deep. Tokenises like
 * jsonc-parser's scanner (a string ends at its closing quote or at a line break, a backslash escapes any character,
 * `//` and `/* *\/` comments), so brackets inside strings and comments do not count. One pass, no recursion.
 */
export function jsoncTooDeep(text: string, limit = MAX_NESTING): boolean {
  const len = text.length;
  let depth = 0;
  let i = 0;
  while (i < len) {
    const c = text.charCodeAt(i++);
    if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      if (depth > 0) depth--;
    } else if (c === QUOTE) {
      while (i < len) {
        const s = text.charCodeAt(i);
        if (s === QUOTE) {
          i++;
          break;
        }
        if (s === LF || s === CR) break;
        i += s === BACKSLASH ? 2 : 1;
      }
    } else if (c === SLASH && i < len) {
      const n = text.charCodeAt(i);
      if (n === SLASH) {
        while (i < len && text.charCodeAt(i) !== LF && text.charCodeAt(i) !== CR) i++;
      } else if (n === STAR) {
        const end = text.indexOf('*/', i + 1);
        i = end === -1 ? len : end + 2;
      }
    }
  }
  return false;
}

/** Throws TooDeeplyNestedError (naming `file`) when jsoncTooDeep(text). */
export function assertJsoncDepth(text: string, file: string, limit = MAX_NESTING): void {
  if (jsoncTooDeep(text, limit)) throw new TooDeeplyNestedError(file, limit);
}

interface CstCollection {
  items: { key?: unknown; value?: unknown }[];
}

/**
 * True when YAML text nests collections (block or flow) more than `limit` deep. Uses the yaml package's own lexer
 * and parser, which keep an explicit stack (only composing documents recurses), and walks the syntax tree without
 * recursion, so the count is exactly what the composer would descend.
 */
export function yamlTooDeep(text: string, limit = MAX_NESTING): boolean {
  for (const token of new Parser().parse(text)) {
    const stack: [unknown, number][] = [[token.type === 'document' ? token.value : token, 1]];
    while (stack.length > 0) {
      const [node, depth] = stack.pop()!;
      if (!node || typeof node !== 'object' || !Array.isArray((node as Partial<CstCollection>).items)) continue;
      if (depth > limit) return true;
      for (const item of (node as CstCollection).items) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return false;
}
