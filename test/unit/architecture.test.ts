/** The core must run in plain Node: the lint rule that enforces it must really fail on a `vscode` import. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import { ROOT } from './helpers';

describe('architecture', () => {
  it('the lint rule rejects a vscode import in src/core and src/cli, and allows it in src/extension', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const code = "import * as vscode from 'vscode';\nexport const x = vscode;\n";
    for (const file of ['src/core/probe.ts', 'src/cli/probe.ts']) {
      const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
      assert.ok(
        result?.messages.some((m) => m.ruleId === '@typescript-eslint/no-restricted-imports'),
        `${file}: expected the restricted-import rule to fire`,
      );
    }
    const [ok] = await eslint.lintText(code, { filePath: path.join(ROOT, 'src/extension/probe.ts') });
    assert.ok(!ok?.messages.some((m) => m.ruleId === '@typescript-eslint/no-restricted-imports'));
  });

  it('no module under src/core imports vscode (checked on the sources, not only by the linter)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, d.name);
        if (d.isDirectory()) walk(p);
        else if (
          /\.ts$/.test(d.name) &&
          /from ['"]vscode['"]|require\(['"]vscode['"]\)/.test(fs.readFileSync(p, 'utf8'))
        ) {
          offenders.push(p);
        }
      }
    };
    walk(path.join(ROOT, 'src', 'core'));
    walk(path.join(ROOT, 'src', 'cli'));
    assert.deepEqual(offenders, []);
  });
});
