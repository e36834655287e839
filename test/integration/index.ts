// extensionTestsPath entry: VS Code's extension host loads this module and calls run() once the extension under
// development is registered. It runs every compiled *.test.js under ./suite with mocha.
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

function findTests(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .map((f) => path.join(dir, f))
    .sort();
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60000, reporter: 'spec', forbidOnly: true });
  // MLC_TEST_GREP=<text>: run only the tests whose title contains it (while working on one part)
  if (process.env.MLC_TEST_GREP) mocha.grep(process.env.MLC_TEST_GREP);
  const suiteDir = path.join(__dirname, 'suite');
  const files = findTests(suiteDir);
  for (const f of files) mocha.addFile(f);

  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const total = mocha.suite.total();
        const passes = runner.stats?.passes ?? total - failures;
        const pending = runner.stats?.pending ?? 0;
        // plain summary line for people and CI parsers
        console.log(`${passes} passed, ${failures} failed`);
        if (pending > 0) console.log(`(${pending} pending)`);
        if (files.length === 0 || total === 0) {
          reject(new Error(`no integration tests found (looked for *.test.js under ${suiteDir})`));
        } else if (failures > 0) {
          reject(new Error(`${failures} integration test(s) failed`));
        } else {
          resolve();
        }
      });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
