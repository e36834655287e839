/**
 * The editor's commands, read from the sources (the unit tier runs without VS Code): every command package.json
 * contributes has exactly one definition under src/extension/commands, every definition is contributed, and the one
 * list activation registers (COMMANDS in commands/index.ts) holds each definition once. That each contributed command
 * is really registered is checked in VS Code (test/integration/suite/commands.test.ts).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './helpers';

const COMMANDS_DIR = path.join(ROOT, 'src', 'extension', 'commands');

function sources(dir: string): { file: string; text: string }[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return d.name.endsWith('.ts') ? [{ file: path.relative(ROOT, p), text: fs.readFileSync(p, 'utf8') }] : [];
  });
}

/** A call of the `command(…)` or `optionsCommand(…)` factory (not its declaration). */
const CALL = /(?<!function )\b(?:command|optionsCommand)(?:<[^>]*>)?\(/g;
/** A definition: an exported constant made by the factory, its id a string literal. */
const DEFINITION = /export const (\w+)(?::\s*CommandDef)?\s*=\s*(?:command|optionsCommand)(?:<[^>]*>)?\(\s*'([^']+)'/g;

interface Definition {
  name: string;
  id: string;
  file: string;
}

const files = sources(COMMANDS_DIR);
const definitions: Definition[] = files.flatMap(({ file, text }) =>
  [...text.matchAll(DEFINITION)].map((m) => ({ name: m[1]!, id: m[2]!, file })),
);
const contributed = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    contributes: { commands: { command: string }[] };
  }
).contributes.commands.map((c) => c.command);

/** The names listed in `COMMANDS = [ … ]` of commands/index.ts. */
function listed(): string[] {
  const index = fs.readFileSync(path.join(COMMANDS_DIR, 'index.ts'), 'utf8');
  const list = /export const COMMANDS: readonly CommandDef\[\] = \[([^\]]*)\]/.exec(index);
  assert.ok(list, 'commands/index.ts has no `export const COMMANDS: readonly CommandDef[] = [ … ]`');
  return list[1]!
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

describe('command definitions', () => {
  it('each command(…) call is an exported definition whose id is a literal (so that none is missed below)', () => {
    // the factories' own file (optionsCommand is made with command) defines no command
    const calls = files
      .filter(({ file }) => !file.endsWith('commands/command.ts'))
      .flatMap(({ file, text }) => [...text.matchAll(CALL)].map(() => file));
    assert.ok(definitions.length >= 20, `only ${definitions.length} definitions found`);
    assert.deepEqual(sorted(definitions.map((d) => d.file)), sorted(calls));
  });

  it('every contributed command has exactly one definition, and every definition is contributed', () => {
    const ids = definitions.map((d) => d.id);
    const counts = contributed.map((id) => `${id}: ${ids.filter((x) => x === id).length}`);
    assert.deepEqual(
      counts,
      contributed.map((id) => `${id}: 1`),
    );
    const extra = definitions.filter((d) => !contributed.includes(d.id)).map((d) => `${d.id} (${d.file})`);
    assert.deepEqual(extra, [], 'defined but not contributed in package.json');
  });

  it('COMMANDS lists each definition once, and nothing else', () => {
    assert.deepEqual(sorted(listed()), sorted(definitions.map((d) => d.name)));
  });

  it('activation registers the commands only through COMMANDS', () => {
    const direct = sources(path.join(ROOT, 'src', 'extension'))
      .filter(({ text }) => /\bregisterCommand\(/.test(text))
      .map((f) => f.file);
    const expected = ['index.ts', 'register.ts'].map((f) => path.join('src', 'extension', 'commands', f));
    assert.deepEqual(sorted(direct), sorted(expected));
  });
});
