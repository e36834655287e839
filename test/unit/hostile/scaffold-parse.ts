/**
 * Readers of the generated files for the hostile-scaffold tests, each as strict as the program that reads that
 * place for real: Docker's word processing of COPY sources and quoted LABEL values (BuildKit's shell lexer, which the
 * classic builder shares), /bin/sh words, and Docker's --mount value (a CSV record, Go's encoding/csv). Each throws
 * where the real reader would expand a variable, run a command or see another field, so a test that reads a value
 * back also proves that nothing else was read.
 */
import { type Dockerfile, DockerfileParser } from 'dockerfile-ast';
import { FETCH_SCRIPT, FRAMEWORK_INDEX_FLAGS } from '../../../src/core/scaffold/generate';

/** Docker's processing of one unquoted word (COPY source): `\x` is x, quotes group, `$` would expand (throws). */
export function dockerWord(word: string): string {
  let out = '';
  for (let i = 0; i < word.length; i++) {
    const c = word[i]!;
    if (c === '\\') {
      i++;
      if (i < word.length) out += word[i];
    } else if (c === "'") {
      const end = word.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated single quote in ${JSON.stringify(word)}`);
      out += word.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const { value, end } = doubleQuoted(word, i, false);
      out += value;
      i = end;
    } else if (c === '$') {
      throw new Error(`${JSON.stringify(word)} would expand a variable`);
    } else out += c;
  }
  return out;
}

/** A double-quoted Docker word starting at `start`: `\"`, `\$`, `\\` are escapes, any other `\` stays. */
function doubleQuoted(word: string, start: number, allowVariable: boolean): { value: string; end: number } {
  let out = '';
  for (let i = start + 1; i < word.length; i++) {
    const c = word[i]!;
    if (c === '"') return { value: out, end: i };
    if (c === '$' && !allowVariable) throw new Error(`${JSON.stringify(word)} would expand a variable`);
    if (c === '\\' && i + 1 < word.length && ['"', '$', '\\'].includes(word[i + 1]!)) {
      out += word[i + 1];
      i++;
    } else out += c;
  }
  throw new Error(`unterminated double quote in ${JSON.stringify(word)}`);
}

/** The value Docker reads from a LABEL value written as one double-quoted word. */
export function dockerQuotedValue(raw: string, allowVariable = false): string {
  if (!raw.startsWith('"')) throw new Error(`not a quoted value: ${raw}`);
  const { value, end } = doubleQuoted(raw, 0, allowVariable);
  if (end !== raw.length - 1) throw new Error(`text after the closing quote: ${raw}`);
  return value;
}

/** The sources of a COPY's arguments, as Docker reads them (the JSON form first decoded as JSON). */
export function copySources(args: string): string[] {
  let words: string[];
  if (args.trimStart().startsWith('[')) {
    const parsed = JSON.parse(args) as unknown;
    if (!Array.isArray(parsed) || !parsed.every((w) => typeof w === 'string')) throw new Error(`bad JSON: ${args}`);
    words = parsed as string[];
  } else {
    words = args.trim().split(/[ \t]+/);
    if (words.some((w) => w.startsWith('--'))) throw new Error(`a flag among the sources: ${args}`);
  }
  return words.slice(0, -1).map(dockerWord);
}

/** The LABEL key/values of a Dockerfile, as Docker reads them (the python label keeps its ${PYTHON_VERSION}). */
export function dockerLabels(text: string, parsed?: Dockerfile): Record<string, string> {
  const lines = text.split('\n');
  const out: Record<string, string> = {};
  for (const i of (parsed ?? DockerfileParser.parse(text)).getInstructions()) {
    if (i.getKeyword() !== 'LABEL') continue;
    for (const p of (i as unknown as { getProperties(): LabelProperty[] }).getProperties()) {
      const r = p.getValueRange();
      if (!r || r.start.line !== r.end.line) throw new Error(`a label value over several lines: ${p.getName()}`);
      const raw = lines[r.start.line]!.slice(r.start.character, r.end.character);
      out[p.getName()] = dockerQuotedValue(raw, p.getName() === 'org.ml-containers.python');
    }
  }
  return out;
}

interface LabelProperty {
  getName(): string;
  getValueRange(): { start: { line: number; character: number }; end: { line: number; character: number } } | null;
}

/**
 * The words /bin/sh reads in a simple command line (`&&` kept as a word). Throws on anything the shell would
 * expand or treat as an operator: `$`, a backquote, `;`, `|`, `<`, `>`, `(`, `)`, a lone `&`, `#` starting a word.
 */
export function shellWords(text: string): string[] {
  // the generator's own fixed shell (the build's network, the framework index flags) is the only expansion allowed
  const line = text
    .replace(new RegExp(`^\\. ${FETCH_SCRIPT.replace(/\./g, '\\.')} && `), '')
    .split(FRAMEWORK_INDEX_FLAGS)
    .join('--framework-index');
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated single quote: ${line}`);
      cur += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '$' || line[i] === '`') throw new Error(`expansion in double quotes: ${line}`);
        if (line[i] === '\\' && ['"', '\\', '$', '`'].includes(line[i + 1] ?? '')) i++;
        cur += line[i];
      }
      if (i >= line.length) throw new Error(`unterminated double quote: ${line}`);
      inWord = true;
    } else if (c === '\\') {
      cur += line[++i] ?? '';
      inWord = true;
    } else if (c === '&' && line[i + 1] === '&' && !inWord && /[ \t]/.test(line[i + 2] ?? ' ')) {
      words.push('&&');
      i++;
    } else if ('$`;|&<>()\n'.includes(c) || (c === '#' && !inWord)) {
      throw new Error(`${JSON.stringify(c)} would be read by the shell in ${JSON.stringify(line)}`);
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** The fields of one CSV record as Go's encoding/csv reads it (what `docker run --mount` does); throws where it errs. */
export function csvFields(record: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (record[i] === '"') {
      for (i++; ; i++) {
        if (i >= record.length) throw new Error(`extraneous or missing " in quoted field: ${record}`);
        if (record[i] === '"') {
          if (record[i + 1] === '"') {
            field += '"';
            i++;
          } else break;
        } else field += record[i];
      }
      i++;
      if (i < record.length && record[i] !== ',') throw new Error(`extraneous " in field: ${record}`);
    } else {
      const end = record.indexOf(',', i);
      field = record.slice(i, end < 0 ? record.length : end);
      if (field.includes('"')) throw new Error(`bare " in non-quoted field: ${record}`);
      if (/[\r\n]/.test(field)) throw new Error(`a line break ends the record: ${record}`);
      i = end < 0 ? record.length : end;
    }
    fields.push(field);
    if (i >= record.length) return fields;
    i++; // the comma
  }
}
