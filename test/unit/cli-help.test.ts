import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../src/cli/main';
import type { CliCommand } from '../../src/cli/usage';
import { ROOT, runCli, tempDir } from './helpers';

/** The synopsis: the usage text up to its first blank line (the command line(s) a user copies). */
function synopsis(command: CliCommand): string {
  return command.usage.split(/\n\s*\n/)[0]!;
}

/** The flags the usage text names for this command (quoted commands of other commands, in backticks, left out). */
function mentionedFlags(command: CliCommand): Set<string> {
  const text = command.usage.replace(/`[^`]*`/g, '');
  return new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
}

/** The line of the option list that describes `--name` (with its short form first, when it has one). */
function descriptionLine(command: CliCommand, name: string, short: string | undefined): string | undefined {
  const flag = short ? `-${short}, --${name}` : `--${name}`;
  const escaped = flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^ {2,}${escaped}(?![\\w-])`, 'm').exec(command.usage)?.[0];
}

describe('ml-containers <command> --help', () => {
  it('lists the commands of the CLI', () => {
    assert.ok(COMMANDS.length >= 13, `${COMMANDS.length} commands`);
    for (const c of COMMANDS) assert.ok(c.options, `${c.name} exposes the options it parses`);
  });

  for (const command of COMMANDS) {
    describe(command.name, () => {
      it('names every option it accepts in its synopsis', () => {
        const missing = Object.keys(command.options).filter((name) => !synopsis(command).includes(`--${name}`));
        assert.deepEqual(
          missing,
          [],
          `the synopsis of ${command.name} lacks ${missing.map((m) => `--${m}`).join(' ')}`,
        );
      });

      it('describes every option it accepts on a line of its own (with the short form, when there is one)', () => {
        const missing = Object.entries(command.options)
          .filter(([name, o]) => descriptionLine(command, name, o.short) === undefined)
          .map(([name, o]) => (o.short ? `-${o.short}, --${name}` : `--${name}`));
        assert.deepEqual(missing, [], `the help of ${command.name} does not describe ${missing.join(' ')}`);
      });

      it('mentions no flag it does not accept', () => {
        const accepted = new Set(Object.keys(command.options));
        const unknown = [...mentionedFlags(command)].filter((f) => !accepted.has(f));
        assert.deepEqual(unknown, [], `${command.name} --help mentions ${unknown.map((u) => `--${u}`).join(' ')}`);
      });
    });
  }

  it('--help prints the usage text and exits 0, for every command', () => {
    for (const command of COMMANDS) {
      const r = runCli([command.name, '--help']);
      assert.equal(r.status, 0, `${command.name}: ${r.stderr}`);
      assert.equal(r.stdout, `Usage: ${command.usage}\n`, command.name);
    }
  });
});

describe('ml-containers scaffold output', () => {
  it('says each state once: a file left as it is reads "unchanged", not "unchanged (unchanged)"', () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.cpSync(path.join(ROOT, 'examples', 'pytorch-mnist'), dir, { recursive: true });
      const first = runCli(['scaffold', dir]);
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /^\.devcontainer\/devcontainer\.json: create \(written\)$/m);
      const again = runCli(['scaffold', dir]);
      assert.equal(again.status, 0, again.stderr);
      const lines = again.stdout.split('\n').filter((l) => /^[.\w/-]+: /.test(l));
      assert.ok(lines.length >= 3, again.stdout);
      for (const line of lines) assert.match(line, /^[.\w/-]+: unchanged$/, line);
      const dry = runCli(['scaffold', dir, '--dry-run']);
      assert.doesNotMatch(dry.stdout, /unchanged \(unchanged\)/);
    } finally {
      cleanup();
    }
  });
});
