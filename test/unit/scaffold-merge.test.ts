/**
 * Merging GPU settings into existing devcontainer.json files (src/core/scaffold/merge.ts). Every variant in
 * test/fixtures/devcontainers/ is merged with the settings in support/wanted.json: afterwards every original comment,
 * key and value is still there (except the hard-coded GPU flags the merge removes on purpose), every untouched line is
 * still there verbatim, the result parses, has the wanted settings, keeps the file's line endings and indentation,
 * and a second merge changes nothing. Focused tests below pin each rule.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createScanner, type ParseError, parse, SyntaxKind } from 'jsonc-parser';
import { mergeDevcontainer } from '../../src/core/scaffold/merge';
import type { DevcontainerGpuSettings, MergeResult } from '../../src/core/scaffold/types';
import { devcontainerKind, missingGpuSettings } from '../../src/core/scaffold/validate';
import { FIXTURES } from './helpers';

const DIR = path.join(FIXTURES, 'devcontainers');
const WANTED = JSON.parse(fs.readFileSync(path.join(DIR, 'support', 'wanted.json'), 'utf8')) as DevcontainerGpuSettings;
const MALFORMED = new Set(['malformed.json']);

function fixtureNames(): string[] {
  return fs
    .readdirSync(DIR)
    .filter((n) => n.endsWith('.json'))
    .sort();
}

function read(name: string): string {
  return fs.readFileSync(path.join(DIR, name), 'utf8');
}

/** Every comment in the text, in order, as the jsonc-parser scanner sees them. */
function comments(text: string): string[] {
  const scanner = createScanner(text, false);
  const out: string[] = [];
  for (let k = scanner.scan(); k !== SyntaxKind.EOF; k = scanner.scan()) {
    if (k === SyntaxKind.LineCommentTrivia || k === SyntaxKind.BlockCommentTrivia) out.push(scanner.getTokenValue());
  }
  return out;
}

function parseStrict(text: string): unknown {
  const errors: ParseError[] = [];
  const value = parse(text.replace(/^\uFEFF/, ''), errors, { allowTrailingComma: true }) as unknown;
  assert.deepEqual(errors, [], 'the text parses');
  return value;
}

/** `path=value` for every leaf (array indices written as []), and `path` for every object key. */
function leaves(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v: unknown) => leaves(v, `${prefix}[]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...leaves(v, `${prefix}.${k}`)]);
  }
  return [`${prefix}=${JSON.stringify(value)}`];
}

/** The items of `a` not in `b`, counting repeats. */
function multisetMinus(a: string[], b: string[]): string[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  const out: string[] = [];
  for (const x of a) {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    else out.push(x);
  }
  return out;
}

function isSubsequence(sub: string[], seq: string[]): boolean {
  let i = 0;
  for (const s of seq) if (i < sub.length && s === sub[i]) i++;
  return i === sub.length;
}

/** True for a token of a hard-coded GPU flag (`--gpus all`, `--gpus=all`, `--runtime=nvidia`, or the value after). */
function isGpuToken(tokens: unknown[], i: number): boolean {
  const t = String(tokens[i]).trim();
  if (/^--(gpus|runtime)(\s|=|$)/.test(t)) return true;
  return i > 0 && (tokens[i - 1] === '--gpus' || tokens[i - 1] === '--runtime');
}

/**
 * The lines of `original` that are missing from `merged` in order, allowing a line to gain one comma (the merge adds
 * one after what was the last property) and ignoring lines where the merge had to change something inside the line:
 * a container written on one line that received items, or a removed GPU flag.
 */
function linesLost(original: string, merged: string): string[] {
  const mergedLines = merged.replace(/^\uFEFF/, '').split(/\r?\n/);
  const lost: string[] = [];
  let j = 0;
  for (const line of original.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    if (/[[{].*[\]}]/.test(line) || /"--(gpus|runtime)|"all"|"nvidia"|"\\"device/.test(line)) continue;
    const k = mergedLines.findIndex((m, idx) => idx >= j && (m === line || m.replace(',', '') === line));
    if (k < 0) lost.push(line);
    else j = k + 1;
  }
  return lost;
}

function indentUnit(text: string): { tabs: boolean; spaces: number } {
  const structural = text.split(/\r?\n/).filter((l) => /^[ \t]+["}\]]/.test(l));
  const tabs = structural.some((l) => l.startsWith('\t'));
  const widths = structural.filter((l) => l.startsWith(' ')).map((l) => /^ +/.exec(l)![0].length);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return { tabs, spaces: widths.reduce(gcd, 0) };
}

describe('scaffold merge: every devcontainer.json variant', () => {
  const names = fixtureNames();

  it('has at least 22 variants, covering the kinds the issue names', () => {
    assert.ok(names.length >= 22, `only ${names.length} variants`);
    for (const required of [
      'comments-everywhere.json',
      'trailing-commas.json',
      'tabs.json',
      'crlf.json',
      'four-spaces.json',
      'minimal-image.json',
      'dockerfile-build.json',
      'compose.json',
      'features.json',
      'gpus-two-tokens.json',
      'gpus-one-token.json',
      'gpus-equals.json',
      'runtime-nvidia.json',
      'shm-size-existing.json',
      'ipc-host.json',
      'mounts-same-target.json',
      'container-env.json',
      'extensions.json',
      'empty-object.json',
      'leading-comment.json',
      'malformed.json',
    ]) {
      assert.ok(names.includes(required), `variant ${required} is missing`);
    }
    // git must not normalise these (test/fixtures/devcontainers/.gitattributes): the tests rely on their bytes
    assert.match(read('crlf.json'), /\r\n/);
    assert.doesNotMatch(read('crlf.json'), /[^\r]\n/);
    assert.match(read('tabs.json'), /^\t"/m);
    assert.ok(read('bom.json').startsWith('\uFEFF'));
  });

  for (const name of names.filter((n) => !MALFORMED.has(n))) {
    describe(name, () => {
      const original = read(name);
      let result: MergeResult;
      before(() => {
        result = mergeDevcontainer(original, WANTED, { file: name });
      });

      it('the result parses and has the wanted settings', () => {
        assert.ok(!result.changes.some((c) => c.kind === 'manual' && c.path === ''), JSON.stringify(result.changes));
        const config = parseStrict(result.text) as Record<string, unknown>;
        assert.deepEqual(missingGpuSettings(config, WANTED), []);
        // the same, checked without the module's helpers
        const host = config.hostRequirements as Record<string, unknown>;
        assert.notEqual(host.gpu, undefined);
        const env = config.containerEnv as Record<string, unknown>;
        for (const key of Object.keys(WANTED.containerEnv)) assert.ok(key in env, key);
        const mounts = JSON.stringify(config.mounts);
        for (const target of ['/datasets', '/root/.cache/pip', '/root/.cache/huggingface', '/root/.cache/torch']) {
          assert.ok(mounts.includes(`target=${target}`) || mounts.includes(`"target":"${target}`), target);
        }
        const ids = (
          ((config.customizations as Record<string, unknown>).vscode as Record<string, unknown>).extensions as string[]
        ).map((e) => e.toLowerCase().replace(/^-/, ''));
        for (const id of WANTED.extensions) assert.ok(ids.includes(id), id);
        const runArgs = (config.runArgs ?? []) as string[];
        if (devcontainerKind(config) === 'compose') {
          assert.deepEqual(runArgs, (parseStrict(original) as Record<string, unknown>).runArgs ?? []);
        } else {
          assert.ok(
            runArgs.some((t) => /^--shm-size|^--ipc(=| )host/.test(t) || t === '--ipc'),
            'shared memory',
          );
          assert.equal(runArgs.filter((t) => /^--shm-size/.test(t)).length <= 1, true, 'one --shm-size at most');
          assert.ok(!runArgs.some((t) => /^--gpus|^--runtime/.test(t)), 'no hard-coded GPU flag');
          const u = runArgs.indexOf('--ulimit');
          assert.ok(u >= 0 && /^\w+=/.test(runArgs[u + 1] ?? ''), '--ulimit keeps its value next to it');
        }
      });

      it('keeps every comment, in order', () => {
        const before = comments(original);
        const after = comments(result.text);
        assert.ok(isSubsequence(before, after), `lost: ${JSON.stringify(multisetMinus(before, after))}`);
      });

      it('keeps every key and value, except the hard-coded GPU flags', () => {
        const orig = parseStrict(original) as Record<string, unknown>;
        const lost = multisetMinus(leaves(orig), leaves(parseStrict(result.text)));
        const runArgs = (Array.isArray(orig.runArgs) ? orig.runArgs : []) as unknown[];
        const gpu = runArgs.filter((_, i) => isGpuToken(runArgs, i)).map((t) => `.runArgs[]=${JSON.stringify(t)}`);
        assert.deepEqual(multisetMinus(lost, gpu), [], 'only GPU flags may go');
        const removed = result.changes.filter((c) => c.kind === 'removed');
        assert.equal(removed.length > 0, lost.length > 0, 'a removal is reported exactly when something went');
      });

      it('keeps every line it had no reason to touch, verbatim', () => {
        assert.deepEqual(linesLost(original, result.text), []);
      });

      it('keeps the line endings, the indentation and the byte order mark', () => {
        if (/\r\n/.test(original)) assert.doesNotMatch(result.text, /[^\r]\n/, 'CRLF everywhere');
        else assert.doesNotMatch(result.text, /\r/, 'LF only');
        const before = indentUnit(original);
        const after = indentUnit(result.text);
        if (before.tabs) assert.doesNotMatch(result.text, /^ +["{}[\]]/m, 'indented with tabs');
        else if (before.spaces > 0) {
          assert.equal(after.tabs, false, 'indented with spaces');
          assert.equal(after.spaces % before.spaces, 0, `indent is a multiple of ${before.spaces}`);
        }
        assert.equal(result.text.startsWith('\uFEFF'), original.startsWith('\uFEFF'));
        // what comes before the opening brace (comments, the BOM) is untouched
        const head = original.slice(0, original.indexOf('{'));
        assert.ok(result.text.startsWith(head));
      });

      it('merging again changes nothing', () => {
        const again = mergeDevcontainer(result.text, WANTED, { file: name });
        assert.equal(again.text, result.text);
        assert.deepEqual(
          again.changes.filter((c) => c.kind === 'added' || c.kind === 'removed'),
          [],
        );
      });
    });
  }

  it('malformed.json: unchanged text and one manual change that says where', () => {
    const text = read('malformed.json');
    const r = mergeDevcontainer(text, WANTED, { file: '.devcontainer/devcontainer.json' });
    assert.equal(r.text, text);
    assert.equal(r.changes.length, 1);
    assert.equal(r.changes[0]!.kind, 'manual');
    assert.match(r.changes[0]!.message, /\.devcontainer\/devcontainer\.json could not be parsed/);
    assert.match(r.changes[0]!.message, /line 4, column 3/);
  });
});

/** Merges `text` with WANTED overridden by `over`. */
function merge(text: string, over: Partial<DevcontainerGpuSettings> = {}): MergeResult {
  return mergeDevcontainer(text, { ...WANTED, ...over });
}

function runArgsOf(text: string): unknown[] {
  return ((parseStrict(text) as Record<string, unknown>).runArgs ?? []) as unknown[];
}

const ONLY_RUN_ARGS: Partial<DevcontainerGpuSettings> = { mounts: [], containerEnv: {}, extensions: [] };

describe('scaffold merge: hostRequirements.gpu', () => {
  it('is added when absent, with the why as a comment above a new hostRequirements', () => {
    const r = merge('{\n  "image": "python:3.11"\n}\n', { gpu: true });
    assert.deepEqual((parseStrict(r.text) as Record<string, unknown>).hostRequirements, { gpu: true });
    assert.match(r.text, /\/\/ GPUs where the machine has them.*\n {2}"hostRequirements"/);
    const c = r.changes.find((x) => x.path === 'hostRequirements.gpu')!;
    assert.equal(c.kind, 'added');
    assert.match(c.message, /hostRequirements\.gpu = true/);
  });

  it('says what Dev Containers does with it when the caller gives no why', () => {
    const optional = merge('{ "image": "x" }', { why: {} });
    assert.match(optional.changes[0]!.message, /only where Docker has the NVIDIA runtime/);
    assert.doesNotMatch(optional.text, /\/\//, 'no comment without a why');
    const required = merge('{ "image": "x" }', { gpu: true, why: {} });
    assert.match(required.changes[0]!.message, /= true: .*warns where it does not/);
  });

  it('is added inside an existing hostRequirements, next to what is there', () => {
    const r = merge('{\n  "image": "x",\n  "hostRequirements": { "cpus": 4 }\n}\n');
    assert.match(r.text, /"hostRequirements": \{ "cpus": 4, "gpu": "optional" \}/);
  });

  for (const value of ['true', 'false', '"optional"', '{ "cores": 2, "memory": "8gb" }']) {
    it(`the user's value ${value} is kept`, () => {
      const text = `{\n  "image": "x",\n  "hostRequirements": {\n    "gpu": ${value} // mine\n  }\n}\n`;
      const r = merge(text);
      assert.ok(r.text.includes(`"gpu": ${value} // mine`));
      const c = r.changes.find((x) => x.path === 'hostRequirements.gpu')!;
      assert.equal(c.kind, 'kept');
    });
  }

  it('a hostRequirements that is not an object is left alone with a manual change', () => {
    const text = '{\n  "image": "x",\n  "hostRequirements": "big"\n}\n';
    const r = merge(text, ONLY_RUN_ARGS);
    assert.ok(r.text.includes('"hostRequirements": "big"'));
    assert.ok(r.changes.some((c) => c.kind === 'manual' && c.path === 'hostRequirements'));
  });
});

describe('scaffold merge: runArgs', () => {
  it('adds the missing groups with a flag and its value adjacent', () => {
    const r = merge('{\n  "image": "x",\n  "runArgs": ["--init"]\n}\n', ONLY_RUN_ARGS);
    assert.deepEqual(runArgsOf(r.text), [
      '--init',
      '--shm-size=16g',
      '--ulimit',
      'memlock=-1',
      '--ulimit',
      'stack=67108864',
    ]);
    assert.match(r.text, /"runArgs": \["--init", "--shm-size=16g", "--ulimit", "memlock=-1", /, 'stays on one line');
  });

  it('writes a new runArgs one group a line', () => {
    const r = merge('{\n  "image": "x"\n}\n', ONLY_RUN_ARGS);
    assert.match(r.text, /\n {4}"--ulimit", "memlock=-1",\n {4}"--ulimit", "stack=67108864"\n {2}\]/);
  });

  const shm: Array<[string, string[]]> = [
    ['--shm-size=1g', ['--shm-size=1g']],
    ['--shm-size 2g (two tokens)', ['--shm-size', '2g']],
    ['--ipc=host', ['--ipc=host']],
    ['--ipc host (two tokens)', ['--ipc', 'host']],
  ];
  for (const [label, tokens] of shm) {
    it(`does not add a second shared-memory setting next to ${label}`, () => {
      const r = merge(`{ "image": "x", "runArgs": ${JSON.stringify(tokens)} }`, ONLY_RUN_ARGS);
      const args = runArgsOf(r.text);
      assert.deepEqual(args.slice(0, tokens.length), tokens);
      assert.ok(!args.slice(tokens.length).some((t) => /shm|ipc/.test(String(t))), JSON.stringify(args));
      assert.ok(r.changes.some((c) => c.kind === 'kept' && c.path === 'runArgs'));
    });
  }

  it('matches an existing --ulimit by its name, whatever its value', () => {
    const r = merge('{ "image": "x", "runArgs": ["--ulimit", "memlock=-1:-1"] }', ONLY_RUN_ARGS);
    assert.deepEqual(runArgsOf(r.text), ['--ulimit', 'memlock=-1:-1', '--shm-size=16g', '--ulimit', 'stack=67108864']);
  });

  const gpuForms: Array<[string, string[], string[]]> = [
    ['--gpus all (two tokens)', ['--gpus', 'all', '--init'], ['--init']],
    ['"--gpus all" (one token)', ['--init', '--gpus all'], ['--init']],
    ['--gpus=all', ['--gpus=all'], []],
    ['--gpus "device=0,1"', ['--gpus', '"device=0,1"', '--network=host'], ['--network=host']],
    ['--gpus 2', ['--cap-add=SYS_PTRACE', '--gpus', '2'], ['--cap-add=SYS_PTRACE']],
    [
      '--runtime=nvidia',
      ['--runtime=nvidia', '-e', 'NVIDIA_VISIBLE_DEVICES=all'],
      ['-e', 'NVIDIA_VISIBLE_DEVICES=all'],
    ],
    ['--runtime nvidia', ['--init', '--runtime', 'nvidia'], ['--init']],
  ];
  for (const [label, tokens, kept] of gpuForms) {
    it(`removes the hard-coded ${label} and says why`, () => {
      const r = merge(`{\n  "image": "x",\n  "runArgs": ${JSON.stringify(tokens)}\n}\n`, ONLY_RUN_ARGS);
      const args = runArgsOf(r.text);
      assert.deepEqual(args.slice(0, kept.length), kept, 'the other tokens stay, in order');
      assert.ok(!args.some((t) => /--gpus|--runtime|^all$|^nvidia$|device=/.test(String(t))), JSON.stringify(args));
      const removed = r.changes.filter((c) => c.kind === 'removed');
      assert.equal(removed.length, 1);
      assert.match(removed[0]!.message, /machines without an NVIDIA GPU/);
      assert.match(removed[0]!.message, /hostRequirements\.gpu/);
      if (label.includes('one token')) assert.match(removed[0]!.message, /unknown flag "--gpus all"/);
      assert.equal((parseStrict(r.text) as Record<string, { gpu: unknown }>).hostRequirements!.gpu, 'optional');
    });
  }

  it('removing GPU flags keeps the comments around them, each on a sensible line', () => {
    const text = [
      '{',
      '  "image": "x",',
      '  "runArgs": [',
      '    "--init", // reaps zombies',
      '    // GPUs',
      '    "--gpus", /* two tokens */ "all",',
      '    "--gpus=all" // the same again',
      '  ]',
      '}',
      '',
    ].join('\n');
    const r = merge(text, { ...ONLY_RUN_ARGS, runArgs: [], why: {} });
    assert.equal(
      r.text,
      [
        '{',
        '  "image": "x",',
        '  "runArgs": [',
        '    "--init" // reaps zombies',
        '    // GPUs',
        '    /* two tokens */',
        '    // the same again',
        '  ],',
        '  "hostRequirements": {',
        '    "gpu": "optional"',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('reports a non-GPU flag written as one token, without changing it', () => {
    const r = merge('{ "image": "x", "runArgs": ["--shm-size 8g"] }', ONLY_RUN_ARGS);
    assert.equal(runArgsOf(r.text)[0], '--shm-size 8g');
    const m = r.changes.find((c) => c.kind === 'manual')!;
    assert.match(m.message, /"--shm-size 8g" as one token/);
  });

  it('a runArgs that is not a list is left alone with a manual change', () => {
    const r = merge('{ "image": "x", "runArgs": "--gpus all" }', ONLY_RUN_ARGS);
    assert.ok(r.text.includes('"runArgs": "--gpus all"'));
    assert.ok(r.changes.some((c) => c.kind === 'manual' && c.path === 'runArgs'));
  });
});

describe('scaffold merge: mounts, containerEnv, extensions', () => {
  it('mounts are compared by target (string or object form, trailing slash or not)', () => {
    const text = JSON.stringify(
      {
        image: 'x',
        mounts: [
          'type=bind,src=/nas/data,dst=/datasets/',
          { source: 'pip', target: '/root/.cache/pip', type: 'volume' },
        ],
      },
      null,
      2,
    );
    const r = merge(text);
    const mounts = (parseStrict(r.text) as { mounts: unknown[] }).mounts;
    assert.equal(mounts.length, 4);
    assert.deepEqual(mounts.slice(0, 2), JSON.parse(text).mounts);
    assert.equal(r.changes.filter((c) => c.path === 'mounts' && c.kind === 'kept').length, 2);
    assert.equal(r.changes.filter((c) => c.path === 'mounts' && c.kind === 'added').length, 2);
  });

  it("containerEnv gets the missing keys and keeps the user's values", () => {
    const r = merge('{\n  "image": "x",\n  "containerEnv": {\n    "HF_HOME": "/big/hf"\n  }\n}\n');
    const env = (parseStrict(r.text) as { containerEnv: Record<string, string> }).containerEnv;
    assert.deepEqual(env, { HF_HOME: '/big/hf', PIP_CACHE_DIR: '/root/.cache/pip', TORCH_HOME: '/root/.cache/torch' });
    assert.match(r.changes.find((c) => c.path === 'containerEnv.HF_HOME')!.message, /Kept your .*"\/big\/hf"/);
  });

  it('extensions: case-insensitive ids, and an exclusion ("-id") is respected', () => {
    const text =
      '{ "image": "x", "customizations": { "vscode": { "extensions": ["MS-Python.Python", "-ms-toolsai.jupyter"] } } }';
    const r = merge(text);
    const ext = (parseStrict(r.text) as { customizations: { vscode: { extensions: string[] } } }).customizations.vscode
      .extensions;
    assert.deepEqual(ext, ['MS-Python.Python', '-ms-toolsai.jupyter']);
  });

  it('customizations.vscode.extensions is created inside what exists', () => {
    const r = merge('{\n  "image": "x",\n  "customizations": {\n    "codespaces": {}\n  }\n}\n');
    const c = (parseStrict(r.text) as { customizations: Record<string, unknown> }).customizations;
    assert.deepEqual(c, { codespaces: {}, vscode: { extensions: ['ms-python.python', 'ms-toolsai.jupyter'] } });
  });

  it('a customizations that is not an object is left alone with a manual change', () => {
    const r = merge('{ "image": "x", "customizations": [] }');
    assert.ok(r.text.includes('"customizations": []'));
    assert.ok(r.changes.some((c) => c.kind === 'manual' && c.path === 'customizations'));
  });
});

describe('scaffold merge: Docker Compose', () => {
  const text = read('compose.json');

  it('adds hostRequirements.gpu but says that Compose ignores it, with the compose snippet', () => {
    const r = merge(text);
    assert.equal((parseStrict(r.text) as Record<string, { gpu: unknown }>).hostRequirements!.gpu, 'optional');
    const gpu = r.changes.find((c) => c.kind === 'manual' && /hostRequirements\.gpu/.test(c.message))!;
    assert.ok(gpu, JSON.stringify(r.changes));
    for (const part of [
      'deploy',
      'resources',
      'reservations',
      'devices',
      'driver: nvidia',
      'count: all',
      'capabilities: [gpu]',
    ]) {
      assert.ok(gpu.message.includes(part), part);
    }
    assert.match(gpu.message, /service "trainer" in docker-compose\.yml/);
  });

  it('adds no runArgs (Compose ignores them) but says to set shm_size and ulimits', () => {
    const r = merge(text);
    assert.equal((parseStrict(r.text) as Record<string, unknown>).runArgs, undefined);
    assert.ok(r.changes.some((c) => c.kind === 'manual' && c.message.includes('shm_size: "16g"')));
    assert.ok(r.changes.some((c) => c.kind === 'manual' && c.message.includes('memlock: -1')));
    const ipc = merge(text, { runArgs: ['--ipc=host'] });
    assert.ok(ipc.changes.some((c) => c.kind === 'manual' && c.message.includes('ipc: host')));
  });

  it('leaves runArgs of a Compose config alone', () => {
    const r = merge('{ "dockerComposeFile": "c.yml", "service": "s", "runArgs": ["--gpus", "all"] }');
    assert.deepEqual(runArgsOf(r.text), ['--gpus', 'all']);
  });
});

describe('scaffold merge: never throws, never loses text', () => {
  const bad: Array<[string, string, RegExp]> = [
    ['empty', '', /is empty/],
    ['only whitespace and a comment', '  // nothing yet\n', /is empty/],
    ['a list', '[1, 2]', /does not hold a JSON object/],
    ['null', 'null', /does not hold a JSON object/],
    ['an unterminated comment', '{ "image": "x" /* oops', /could not be parsed/],
    ['an unterminated string', '{ "image": "x', /could not be parsed/],
    ['two objects', '{}\n{}', /could not be parsed \(EndOfFileExpected at line 2, column 1\)/],
    ['a missing comma', '{\n  "a": 1\n  "b": 2\n}', /line 3/],
    ['garbage', '\u0000\u0001<xml/>', /could not be parsed/],
  ];
  for (const [label, text, message] of bad) {
    it(`${label}: unchanged, one manual change`, () => {
      const r = merge(text);
      assert.equal(r.text, text);
      assert.equal(r.changes.length, 1);
      assert.equal(r.changes[0]!.kind, 'manual');
      assert.equal(r.changes[0]!.path, '', "path '' marks a file that could not be merged at all");
      assert.match(r.changes[0]!.message, message);
    });
  }

  it('every truncation of a real file either merges cleanly or comes back unchanged', () => {
    const text = read('comments-everywhere.json');
    for (let n = 0; n <= text.length; n++) {
      const cut = text.slice(0, n);
      const r = merge(cut);
      if (r.text === cut) {
        assert.ok(
          r.changes.length === 1 && r.changes[0]!.kind === 'manual',
          `at ${n}: unchanged text comes with a manual change`,
        );
        continue;
      }
      const errors: ParseError[] = [];
      parse(r.text, errors, { allowTrailingComma: true });
      assert.deepEqual(errors, [], `at ${n}: the merged text parses`);
      assert.ok(isSubsequence(comments(cut), comments(r.text)), `at ${n}: comments kept`);
    }
  });

  it('keeps a comment after the last property on its own line (where jsonc-parser format would move it)', () => {
    const text = '{\n  "image": "x", // about the image\n  "init": true // about init\n}\n';
    const r = merge(text, ONLY_RUN_ARGS);
    assert.ok(r.text.startsWith('{\n  "image": "x", // about the image\n  "init": true, // about init\n'), r.text);
  });

  it('a single-line file stays on one line', () => {
    const r = merge('{ "image": "x" }');
    assert.equal(r.text.split('\n').length, 1);
    assert.deepEqual(missingGpuSettings(parseStrict(r.text), WANTED), []);
  });
});
