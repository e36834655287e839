/**
 * Encoders for each place a value lands in a generated file, so that a value from a cloned repository (a file or
 * folder name) or from an option can never end a line, close a quote or start an instruction, a key or a command.
 *
 * Each encoder states what the reader of that place (BuildKit / the classic builder, /bin/sh, jsonc-parser, Docker's
 * --mount CSV) gets back. Values that a place cannot express exactly are refused by the caller (validation) or
 * written in their `visible` form, which is the value with every control character JSON-escaped.
 */

/**
 * Characters never written raw: C0 controls (newline included: callers that want a line break write it themselves),
 * DEL, C1 controls (U+009B is a terminal CSI), line and paragraph separators, bidirectional marks, overrides and
 * isolates, the byte-order mark, and lone surrogates (not representable in UTF-8).
 */
const UNSAFE_SOURCE =
  '[\\u0000-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ufeff]' +
  '|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const UNSAFE = new RegExp(UNSAFE_SOURCE, 'g');
const UNSAFE_TEST = new RegExp(UNSAFE_SOURCE);
/** What JSON.stringify leaves raw but a file must not hold raw (JSON.stringify escapes C0 and lone surrogates). */
const JSON_LEFT_RAW = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** True when `text` holds a character that must never be written raw (see UNSAFE_SOURCE). */
export function hasUnsafeChars(text: string): boolean {
  return UNSAFE_TEST.test(text);
}

/**
 * `text` with every unsafe character JSON-escaped (`\n`, `\t`, `\u001b`, …): one line, nothing a terminal or an
 * editor acts on. Text without such characters comes back unchanged.
 */
export function visible(text: string): string {
  return text.replace(UNSAFE, (c) => SHORT[c] ?? unicodeEscape(c));
}

/**
 * JSON text of `value`, like JSON.stringify, with the characters JSON.stringify leaves raw in strings (DEL, C1
 * controls, U+2028/U+2029, bidi controls, BOM) escaped as well: JSON.parse gives back exactly `value`.
 */
export function json(value: unknown): string {
  return JSON.stringify(value).replace(JSON_LEFT_RAW, unicodeEscape);
}

/** The text of a comment line (Dockerfile `#`, JSONC `//`): `visible`, so it can never end the comment early. */
export function commentText(text: string): string {
  return visible(text);
}

/**
 * A Dockerfile double-quoted value (LABEL, ENV): Docker reads back `visible(value)`; `"`, `\` and `$` are
 * backslash-escaped, so no variable is expanded and the quote cannot close early.
 */
export function dockerQuoted(value: string): string {
  return `"${visible(value).replace(/[\\"$]/g, '\\$&')}"`;
}

/**
 * A word that needs no quoting anywhere: in /bin/sh, in a Dockerfile instruction and in a Docker build source (no
 * glob character, no quote, `$`, backslash, space or control character, and no leading `-`, so never a flag).
 */
export function isPlainWord(text: string): boolean {
  return /^[A-Za-z0-9._+@%=:,/][A-Za-z0-9._+@%=:,/-]*$/.test(text);
}

/** A /bin/sh word that the shell reads back as exactly `text` (single-quoted unless plain). */
export function shellQuote(text: string): string {
  return isPlainWord(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * True when a file name can be a COPY source exactly: no unsafe character, no U+FFFD (a name that was not UTF-8 on
 * disk: the real name is unknown), no glob character (`*`, `?`, `[`: Docker matches sources as patterns).
 */
export function isCopyableName(name: string): boolean {
  return name.length > 0 && !hasUnsafeChars(name) && !/[\ufffd*?[]/.test(name);
}

/**
 * A Dockerfile `COPY` of `sources` to `dest`: the plain form when every word is plain, else the JSON array form,
 * each source escaped for the word processing Docker applies to COPY arguments after reading the JSON (`\`, `$`,
 * `'` and `"` get a backslash). Sources must pass isCopyableName.
 */
export function dockerCopy(sources: readonly string[], dest: string, flags = ''): string {
  const prefix = `COPY ${flags ? `${flags} ` : ''}`;
  if ([...sources, dest].every(isPlainWord)) return `${prefix}${[...sources, dest].join(' ')}`;
  for (const s of sources) {
    if (!isCopyableName(s)) throw new Error(`${json(s)} cannot be a COPY source`);
  }
  const words = [...sources, dest].map((s) => json(s.replace(/[\\$'"]/g, '\\$&')));
  return `${prefix}[${words.join(', ')}]`;
}

/**
 * One field of Docker's `--mount` value (a CSV record, Go's encoding/csv): quoted, with `"` doubled, when it holds a
 * comma or a quote, so `source=/a,target=/etc` stays one field. The value must have no line break.
 */
export function mountField(field: string): string {
  return /[",]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}
