/**
 * What the command line says about a hostile repository (issue 12): a missing folder, a file name that is not UTF-8,
 * folders too deep to walk, and terminal escape sequences in file names, which must reach the terminal as visible
 * text, never as commands to it (while a container's own log output still passes through raw).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../../src/cli/main';
import { type Io, terminalIo } from '../../../src/cli/usage';
import { detectProject } from '../../../src/core/detect';
import { neutralizeControls } from '../../../src/core/util/text';
import { runCli, tempDir, writeTree } from '../helpers';

const TRAIN = 'import torch\nloss.backward()\n';
/** Every character a terminal acts on: C0 (but tab and newline), DEL, C1. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('hostile repository: CLI messages', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('detect on a folder that does not exist says so and exits 1', () => {
    const r = runCli(['detect', '/nonexistent']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'ml-containers detect: /nonexistent does not exist. Pass the folder of a project.\n');
  });

  it('a file name that is not UTF-8 is skipped with a warning, not reported as having disappeared', async () => {
    writeTree(dir, { 'train.py': TRAIN });
    fs.writeFileSync(
      Buffer.concat([Buffer.from(`${dir}/bad`), Buffer.from([0xff, 0xfe]), Buffer.from('.py')]),
      'import jax\n',
    );
    fs.mkdirSync(Buffer.concat([Buffer.from(`${dir}/pkg`), Buffer.from([0xc3, 0x28])]));
    // a valid name that holds U+FFFD itself is read as usual
    writeTree(dir, { 'ok\uFFFD.py': 'import tensorflow\n' });
    const p = await detectProject(dir);
    assert.deepEqual(p.frameworks, ['pytorch', 'tensorflow']);
    assert.deepEqual(p.warnings, [
      {
        file: 'bad\uFFFD\uFFFD.py',
        message: 'has a name that is not valid UTF-8, so this file was skipped; rename it to read it.',
      },
      {
        file: 'pkg\uFFFD(/',
        message: 'has a name that is not valid UTF-8, so this folder was skipped; rename it to read it.',
      },
    ]);
    assert.ok(p.warnings.every((w) => !/disappeared/.test(w.message)));
  });

  it('folders deeper than the walk goes are skipped with a warning', async () => {
    const deep = Array.from({ length: 30 }, (_, i) => `d${i}`).join('/');
    writeTree(dir, { 'train.py': TRAIN, [`${deep}/model.py`]: 'import jax\n' });
    const p = await detectProject(dir);
    assert.deepEqual(p.frameworks, ['pytorch']);
    assert.equal(p.warnings.length, 1);
    assert.equal(p.warnings[0]!.file, `${Array.from({ length: 25 }, (_, i) => `d${i}`).join('/')}/`);
    assert.equal(p.warnings[0]!.message, 'is more than 24 folders deep; detection did not look below that depth.');
  });

  it('terminal escapes in file names reach the terminal as visible text, in detect and detect --json', () => {
    const evil = 'x\u001b]0;pwned\u0007\u001b[2J\r\u009b31m\u007f.py';
    writeTree(dir, {
      'train.py': TRAIN,
      [evil]: 'import jax\nloss.backward()\nif __name__ == "__main__":\n  main()\n',
    });
    const human = runCli(['detect', dir]);
    assert.equal(human.status, 0, human.stderr);
    assert.doesNotMatch(human.stdout, CONTROLS);
    assert.match(human.stdout, /x\\u001b\]0;pwned\\u0007\\u001b\[2J\\r\\u009b31m\\u007f\.py/);

    const json = runCli(['detect', dir, '--json']);
    assert.equal(json.status, 0, json.stderr);
    assert.doesNotMatch(json.stdout, CONTROLS);
    const p = JSON.parse(json.stdout) as { entrypoints: string[] };
    assert.ok(p.entrypoints.includes(evil), 'the JSON still holds the real name');
  });

  it('a file name with a line break stays on its own line in detect (no line can be spoofed)', () => {
    const evil = 'train\nRUN touch pwned #.py';
    writeTree(dir, { [evil]: 'import torch\nloss.backward()\nif __name__ == "__main__":\n  main()\n' });
    const human = runCli(['detect', dir]);
    assert.equal(human.status, 0, human.stderr);
    assert.doesNotMatch(human.stdout, /^RUN touch/m);
    assert.match(human.stdout, /Entry points +train\\nRUN touch pwned #\.py$/m);
  });

  it('error messages neutralise escapes too', () => {
    const r = runCli(['detect', path.join(dir, 'no\u001b[31mpe')]);
    assert.equal(r.status, 1);
    assert.doesNotMatch(r.stderr, CONTROLS);
    assert.match(r.stderr, /no\\u001b\[31mpe does not exist\./);
  });

  it('out and err are neutralised, write (a container log) stays raw', async () => {
    const seen: { out: string[]; err: string[]; write: (string | Uint8Array)[] } = { out: [], err: [], write: [] };
    const raw: Io = {
      out: (t) => seen.out.push(t),
      err: (t) => seen.err.push(t),
      write: (c) => seen.write.push(c),
    };
    const io = terminalIo(raw);
    io.out('a\u001b[31mb\tc\nd');
    io.err('\u009b2J');
    const log = Buffer.from('\u001b[32mepoch 1\r\u001b[Kepoch 2\n');
    io.write!(log);
    assert.deepEqual(seen.out, ['a\\u001b[31mb\tc\nd']);
    assert.deepEqual(seen.err, ['\\u009b2J']);
    assert.deepEqual(seen.write, [log]);

    // without a write, the log still reaches out unchanged (colours and \r progress bars included)
    const lines: string[] = [];
    terminalIo({ out: (t) => lines.push(t), err: () => undefined }).write!(log);
    assert.deepEqual(lines, ['\u001b[32mepoch 1\r\u001b[Kepoch 2']);

    // main hands commands the neutralising Io
    const out: string[] = [];
    const code = await main(['detect', path.join(dir, '\u001b]0;x\u0007')], {
      out: (t) => out.push(t),
      err: (t) => out.push(t),
    });
    assert.equal(code, 1);
    assert.doesNotMatch(out.join('\n'), CONTROLS);
  });

  it('neutralizeControls keeps text, tabs, newlines and non-ASCII, and escapes the rest as JSON does', () => {
    assert.equal(neutralizeControls('plain\ttext\nü 日本 \u00a0'), 'plain\ttext\nü 日本 \u00a0');
    assert.equal(neutralizeControls('\u0000\u001b\r\u007f\u0080\u009f'), '\\u0000\\u001b\\u000d\\u007f\\u0080\\u009f');
    const value = { s: 'a\u007fb\u009bc\u001bd' };
    assert.deepEqual(JSON.parse(neutralizeControls(JSON.stringify(value))), value);
  });
});
