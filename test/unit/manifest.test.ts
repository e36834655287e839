/** The extension manifest: every contributed command is implemented, every referenced file exists and parses. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ParseError, parse } from 'jsonc-parser';
import { ROOT } from './helpers';

interface Manifest {
  name: string;
  publisher: string;
  engines: { vscode: string };
  icon?: string;
  contributes: {
    commands: { command: string; title: string; category: string }[];
    snippets: { language: string; path: string }[];
    viewsContainers: { activitybar: { icon: string }[] };
    configuration: { properties: Record<string, { description?: string; markdownDescription?: string }> };
  };
  devDependencies: Record<string, string>;
}

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;

describe('extension manifest', () => {
  it('names and engine match what the project promises', () => {
    assert.equal(manifest.name, 'ml-containers');
    assert.equal(manifest.engines.vscode, '^1.100.0');
    assert.match(manifest.devDependencies['@types/vscode']!, /^~?1\.100\./);
  });

  // that each one is registered is checked in real VS Code (test/integration/suite/commands.test.ts)
  it('every contributed command is in the ML Containers category with the mlContainers prefix', () => {
    for (const c of manifest.contributes.commands) {
      assert.equal(c.category, 'ML Containers', c.command);
      assert.match(c.command, /^mlContainers\./);
    }
  });

  it('every setting has a description and the mlContainers prefix', () => {
    for (const [key, p] of Object.entries(manifest.contributes.configuration.properties)) {
      assert.match(key, /^mlContainers\./);
      assert.ok(p.description ?? p.markdownDescription, `${key} has no description`);
    }
  });

  it('icons and snippet files exist; snippets parse', () => {
    for (const f of [manifest.icon!, ...manifest.contributes.viewsContainers.activitybar.map((a) => a.icon)]) {
      assert.ok(fs.existsSync(path.join(ROOT, f)), f);
    }
    for (const s of manifest.contributes.snippets) {
      const errors: ParseError[] = [];
      const doc = parse(fs.readFileSync(path.join(ROOT, s.path), 'utf8'), errors, {
        allowTrailingComma: true,
      }) as Record<string, { prefix: string; body: string[] }>;
      assert.deepEqual(errors, [], s.path);
      for (const [name, snippet] of Object.entries(doc)) {
        assert.ok(snippet.prefix && snippet.body.length > 0, `${s.path}: ${name}`);
      }
    }
  });
});

describe('activation cost', () => {
  it('the bundle activation loads stays small: the heavy half is only required on first use', () => {
    const activation = fs.readFileSync(path.join(ROOT, 'dist', 'extension.js'), 'utf8');
    assert.ok(activation.length < 200 * 1024, `dist/extension.js is ${activation.length} bytes`);
    for (const heavyModule of ['dockerode', 'smol-toml', 'dockerfile-ast', 'jsonc-parser', 'ohm-js']) {
      assert.ok(
        !activation.includes(`node_modules/${heavyModule}/`),
        `${heavyModule} is bundled into the activation bundle`,
      );
    }
    assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'lazy.js')), 'dist/lazy.js is missing');
  });
});
