/** Test data and helpers shared by the hostile k8s tests (not a test file itself). */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { toYaml } from '../../../src/core/k8s/manifests';
import { tempDir } from '../helpers';

/** Strings that a YAML 1.1 or 1.2 reader turns into something else when they are written plain. */
export const YAML_SPECIALS = [
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE'],
  ...['on', 'On', 'ON', 'off', 'Off', 'OFF', 'null', 'Null', 'NULL', '~', ''],
  ...['0', '1', '-1', '+1', '007', '1_000', '0b1', '0b1_0', '0o17', '0x1F', '0xdead_beef', '017', '1:20', '190:20:30'],
  ...['-0', '1.5', '1e3', '1E-3', '1.0e+3', '.5', '6.8523015e+5', '685.230_15e+03', '685_230.15', '1_2.5'],
  ...['.inf', '-.inf', '+.INF', '.Inf', '.nan', '.NaN', '.NAN', '190:20:30.15'],
  ...[
    '2001-12-14',
    '2001-12-14t21:59:43.10-05:00',
    '2001-12-14 21:59:43.10 -5',
    '2002-12-14',
    '2001-12-15T02:59:43.1Z',
  ],
  ...['<<', '=', '!', '!!str', '&a', '*a', '|', '>', '%YAML 1.1', '@x', '`x`', '#', '# c', '- x', '? x', ': x', 'a: b'],
  ...[
    '{}',
    '[]',
    '{a: 1}',
    '[1, 2]',
    '"q"',
    "'q'",
    'a #b',
    'a\nb',
    '\n',
    ' lead',
    'trail ',
    '\t',
    'x\r\ny',
    '---',
    '...',
  ],
  ...[
    '\u0085nel',
    'ls\u2028ps\u2029',
    '\ufeffbom',
    '\u007fdel',
    '\u009bcsi',
    '\x1b[31mred\x1b[0m',
    '\x07\b\v\f',
    'é😀',
  ],
];

/**
 * What kubectl's own YAML decoder (sigs.k8s.io/yaml over go-yaml, YAML 1.1: the one `kubectl apply` uses) reads for
 * each string, written by our emitter into a kubeconfig and printed back as JSON by `kubectl config view`.
 */
export function kubectlReads(strings: string[]): string[] {
  const { dir, cleanup } = tempDir('mlc-k8s-kubeconfig-');
  try {
    const file = path.join(dir, 'config');
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      contexts: strings.map((s, i) => ({ name: `c${i}`, context: { cluster: `x${s}` } })),
    };
    fs.writeFileSync(file, toYaml(config));
    const out = execFileSync('kubectl', ['config', 'view', '--kubeconfig', file, '-o', 'json'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const contexts = (JSON.parse(out) as { contexts: { name: string; context: { cluster: string; user?: string } }[] })
      .contexts;
    const byName = new Map(contexts.map((c) => [c.name, c.context]));
    return strings.map((_, i) => {
      const c = byName.get(`c${i}`);
      assert.ok(c, `kubectl lost context c${i}`);
      assert.equal(c.cluster.slice(0, 1), 'x');
      return c.cluster.slice(1);
    });
  } finally {
    cleanup();
  }
}

export function hasKubectl(): boolean {
  const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (r.error) throw new Error('kubectl is not installed: install it (Debian: kubernetes-client) to run this test.');
  return true;
}
