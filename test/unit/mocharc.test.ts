import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, tempDir, writeTree } from './helpers';

const MOCHA = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');

/** Runs mocha on `spec` with the options of a tier's .mocharc.json (its spec list replaced by `spec`). */
function mochaWith(
  mocharc: Record<string, unknown>,
  dir: string,
  spec: string,
): { status: number | null; out: string } {
  const config = path.join(dir, `.mocharc-${path.basename(spec)}.json`);
  fs.writeFileSync(config, JSON.stringify({ ...mocharc, spec: [spec] }));
  const r = spawnSync(process.execPath, [MOCHA, '--config', config], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('mocha configuration of the test tiers', () => {
  for (const tier of ['unit', 'engine']) {
    it(`a test left with .only fails the ${tier} tier instead of silently running alone`, () => {
      const mocharc = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', tier, '.mocharc.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      assert.equal(mocharc['forbid-only'], true, `test/${tier}/.mocharc.json sets forbid-only`);
      const { dir, cleanup } = tempDir();
      try {
        writeTree(dir, {
          'only.spec.js': "describe('a suite', () => { it.only('the one', () => {}); it('another', () => {}); });\n",
        });
        const spec = path.join(dir, 'only.spec.js');
        const r = mochaWith(mocharc, dir, spec);
        assert.notEqual(r.status, 0, r.out);
        assert.match(r.out, /\.only`? forbidden/i);
        // the same file without the tier's forbid-only passes: the option is what fails the run
        const control = mochaWith({ ...mocharc, 'forbid-only': false }, dir, spec);
        assert.equal(control.status, 0, control.out);
      } finally {
        cleanup();
      }
    });
  }

  it('runs every test file in exactly one tier (the devcontainer CLI checks in the engine tier)', () => {
    const files = (tier: string): Set<string> => {
      // mocha's own resolution of the tier's spec list: a dry run lists every test with its file, running none
      const r = spawnSync(
        process.execPath,
        [MOCHA, '--config', path.join('test', tier, '.mocharc.json'), '--dry-run', '--reporter', 'json'],
        { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, DOCKER_HOST: '' } },
      );
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(r.stdout) as { tests: { file: string }[] };
      return new Set(report.tests.map((t) => path.relative(ROOT, t.file)));
    };
    const unit = files('unit');
    const engine = files('engine');
    assert.ok(unit.has(path.join('out', 'test', 'unit', 'mocharc.test.js')), [...unit].join('\n'));
    assert.deepEqual(
      [...unit].filter((f) => engine.has(f)),
      [],
      'test files that run in both the unit and the engine tier',
    );
    assert.ok(engine.has(path.join('out', 'test', 'engine', 'devcontainer-cli.test.js')), [...engine].join('\n'));
  });
});
