/* eslint-disable @typescript-eslint/no-explicit-any -- generated manifests are walked as plain JSON */
/**
 * Issue 12, part D, properties: argv elements, environment names and values, project names and sweep parameters
 * made of newlines, quotes, `: `, `#`, `- `, `{}`, `[]`, `&*!|>%@\``, YAML 1.1 special words, numbers in every
 * notation, NUL and control characters, terminal escapes, latin1 bytes and lone surrogates. For each manifest kind
 * (Job, Indexed Job + ConfigMap, PyTorchJob) the YAML is either refused with a ClusterValueError, for exactly the
 * values no process can receive, or it reads back (YAML 1.1 and 1.2, after a trip through UTF-8 bytes) to exactly the
 * objects, with argv, env and labels as given or as dnsLabel makes them; names and label values are always valid;
 * a sample is validated with the Kubernetes schemas. MLC_PROPERTY_RUNS sets the runs per kind (default 10,000).
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { Composer, Parser } from 'yaml';
import {
  clusterManifests,
  type ClusterJobRequest,
  dnsLabel,
  type Manifest,
  manifestsToYaml,
} from '../../../src/core/k8s/manifests';
import { ClusterValueError, isDnsLabel, isDnsSubdomain, isWellFormed } from '../../../src/core/k8s/validate';
import { commandFor, expandGrid } from '../../../src/core/runs/sweep';
import { hasKubectl, kubectlReads, YAML_SPECIALS } from './k8s-strings';

const RUNS = Number(process.env.MLC_PROPERTY_RUNS) || 10_000;
const IMAGE = 'ghcr.io/team/mnist@sha256:1f5dca2a1efc4195dea21e9291c7350a4dfb8516f462d4bff235fca86f219304';

// --- generators
const digits = (radix: number): fc.Arbitrary<string> =>
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map((n) => n.toString(radix));
const withUnderscores = (s: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc
    .tuple(s, fc.nat())
    .map(([t, k]) =>
      t.length > 1 ? `${t.slice(0, 1 + (k % (t.length - 1)))}_${t.slice(1 + (k % (t.length - 1)))}` : t,
    );
/** Numbers as YAML 1.1 and 1.2 read them: ints in every base, floats, exponents, sexagesimal, specials. */
const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('', '+', '-').chain((sign) =>
    fc.oneof(
      digits(10).map((d) => `${sign}${d}`),
      digits(16).map((d) => `${sign}0x${d}`),
      digits(8).map((d) => `${sign}0o${d}`),
      digits(8).map((d) => `${sign}0${d}`),
      digits(2).map((d) => `${sign}0b${d}`),
      withUnderscores(digits(10)).map((d) => `${sign}${d}`),
      fc.tuple(fc.nat(999), fc.nat(59), fc.nat(59)).map(([a, b, c]) => `${sign}${a}:${b}:${c}`),
      fc.tuple(fc.nat(), fc.integer({ min: -400, max: 400 })).map(([m, e]) => `${sign}${m}e${e}`),
      fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `${sign}${a}.${b}`),
      fc.constantFrom('.inf', '.Inf', '.INF', '.nan', '.NaN', '.NAN', 'Infinity', 'NaN').map((s) => `${sign}${s}`),
    ),
  ),
);
/** Pieces that mean something to YAML, a shell or a terminal. */
const PIECES = [
  ...YAML_SPECIALS,
  ': ',
  ':',
  ' #',
  '#',
  '- ',
  '-',
  '? ',
  '{',
  '}',
  '[',
  ']',
  ',',
  '&',
  '*',
  '!',
  '|',
  '>',
  '%',
  '@',
  '`',
  '"',
  "'",
  '\\',
  '\n',
  '\r',
  '\t',
  ' ',
  '\0',
  '\x1b[2J',
  '\x1b]0;title\x07',
  '\x9b31m',
  '$(id)',
  '${HOME}',
  '=',
  '---',
  '...',
  '\u0085',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffe',
  '\uffff',
  '\u007f',
  '😀',
  'é',
];
const SAFE_PIECES = PIECES.filter((p) => !p.includes('\0'));
/** Text a process can receive, made of everything that means something to YAML, a shell or a terminal. */
const receivableText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...YAML_SPECIALS),
  numberText,
  fc.array(fc.constantFrom(...SAFE_PIECES), { maxLength: 6 }).map((a) => a.join('')),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.constantFrom(...SAFE_PIECES.filter((p) => p.length === 1)), maxLength: 12 }),
  fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b).toString('latin1')),
);
/** Sometimes text no process can receive: a NUL, or a lone surrogate (which cannot travel as UTF-8). */
const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 40, arbitrary: receivableText },
  { weight: 1, arbitrary: fc.tuple(receivableText, receivableText).map(([x, y]) => `${x}\0${y}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(receivableText, fc.integer({ min: 0xd800, max: 0xdfff }))
      .map(([x, c]) => x + String.fromCharCode(c)),
  },
);
const envName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,12}$/) },
  { weight: 1, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'PYTHONUNBUFFERED', 'yes', 'on', 'y') },
);
const env = fc.dictionary(envName, hostileText, { maxKeys: 4 });
const argv = fc.array(hostileText, { minLength: 1, maxLength: 6 });

// --- what a refusal must be for, and what a YAML 1.1/1.2 reader must get
const receivable = (s: string): boolean => !s.includes('\0') && isWellFormed(s);
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
function acceptable(req: ClusterJobRequest, extraArgv: string[][] = [], texts: string[] = []): boolean {
  const lists = [req.command, ...(req.torchrunScript ? [req.torchrunScript] : []), ...extraArgv];
  return (
    lists.every((l) => l.every(receivable) && (l.length === 0 || l[0] !== '')) &&
    Object.entries(req.env).every(([k, v]) => ENV_NAME.test(k) && receivable(v)) &&
    [req.projectName, req.suffix ?? '', ...texts].every(receivable)
  );
}

// YAML 1.1 printable characters (go-yaml refuses the rest in a stream), minus the ones it reads as line breaks
const NOT_RAW = /[^\t\n\u0020-\u007e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]/u;
const LABEL_VALUE = /^(?:(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

let validators: Record<string, { validate(data: unknown): void }> | undefined;

/** The manifests read back from their YAML (through UTF-8 bytes) in both YAML versions equal the objects. */
function checkYaml(manifests: Manifest[], run: number): any[] {
  const text = manifestsToYaml(manifests);
  assert.doesNotMatch(text, NOT_RAW);
  const bytes = Buffer.from(text, 'utf8').toString('utf8');
  assert.equal(bytes, text);
  const json = JSON.stringify(manifests);
  // one lexing, composed twice: the YAML version decides how each scalar resolves (1.1: `on` is true, 0b1 is 1)
  const tokens = Array.from(new Parser().parse(bytes));
  for (const version of ['1.1', '1.2'] as const) {
    const docs = Array.from(new Composer({ version, prettyErrors: false }).compose(tokens));
    for (const d of docs) assert.deepEqual(d.errors, [], `YAML ${version}`);
    const back = docs.map((d) => d.toJSON());
    // key order is kept, so equal objects print the same; deepEqual only to say how they differ
    if (JSON.stringify(back) !== json) assert.deepEqual(back, JSON.parse(json), `YAML ${version}`);
  }
  for (const m of manifests) {
    assert.ok(m.kind === 'ConfigMap' ? isDnsSubdomain(m.metadata.name) : isDnsLabel(m.metadata.name), m.metadata.name);
    for (const [k, v] of Object.entries(m.metadata.labels as Record<string, string>)) {
      assert.ok(v.length <= 63 && LABEL_VALUE.test(v), `label ${k}=${v}`);
    }
    // a sample through the Kubernetes schemas (the PyTorchJob's pod templates are checked in k8s.test.ts)
    if (validators && run % 100 === 0 && m.kind !== 'PyTorchJob') validators[m.kind]!.validate(m);
  }
  return JSON.parse(json);
}

const envOf = (req: ClusterJobRequest): { name: string; value: string }[] =>
  Object.entries({ PYTHONUNBUFFERED: '1', ...req.env }).map(([name, value]) => ({ name, value }));

describe(`hostile k8s properties (${RUNS} runs per manifest kind)`, function () {
  this.timeout(300_000);

  before(async () => {
    const esm = new Function('s', 'return import(s)') as (s: string) => Promise<Record<string, any>>;
    const { Job } = await esm('kubernetes-models/batch/v1');
    const { ConfigMap } = await esm('kubernetes-models/v1');
    validators = {
      Job: { validate: (d) => new Job(d).validate() },
      ConfigMap: { validate: (d) => new ConfigMap(d).validate() },
    };
  });

  let accepted = 0;
  let refused = 0;
  beforeEach(() => (accepted = refused = 0));
  // the property is not vacuous: most generated requests make manifests, some are refused
  afterEach(function () {
    if (this.currentTest?.state !== 'passed') return;
    assert.ok(accepted >= (accepted + refused) / 3, `only ${accepted} of ${accepted + refused} made manifests`);
    assert.ok(refused > 0 || accepted + refused < 1000, 'nothing was refused');
  });
  const refusedOrCheck = (req: ClusterJobRequest, ok: boolean, check: (m: Manifest[]) => void): void => {
    if (!ok) {
      assert.throws(() => clusterManifests(req), ClusterValueError);
      refused++;
      return;
    }
    check(clusterManifests(req));
    accepted++;
  };

  afterEach(function () {
    if (process.env.MLC_PROPERTY_STATS) console.log(`${this.currentTest?.title}: ${accepted} made, ${refused} refused`);
  });

  it('Job: argv, env, labels come back exactly', () => {
    let run = 0;
    fc.assert(
      fc.property(argv, env, hostileText, hostileText, (command, environment, projectName, suffix) => {
        const req: ClusterJobRequest = {
          projectName,
          image: IMAGE,
          command,
          gpus: 1,
          nodes: 1,
          env: environment,
          shmSize: '8g',
          suffix,
          namespace: 'ml-team',
        };
        refusedOrCheck(req, acceptable(req), (manifests) => {
          const [job] = checkYaml(manifests, run++);
          const c = job.spec.template.spec.containers[0];
          assert.deepEqual(c.command, command);
          assert.deepEqual(c.env, envOf(req));
          assert.equal(job.metadata.labels['app.kubernetes.io/name'], dnsLabel(projectName, 40));
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('Indexed Job + ConfigMap: every variant argv and parameter comes back exactly', () => {
    let run = 0;
    const grid = fc.dictionary(
      fc.oneof(fc.stringMatching(/^[a-z]{1,3}$/), hostileText),
      fc.array(hostileText, { minLength: 1, maxLength: 3 }),
      { minKeys: 1, maxKeys: 2 },
    );
    const template = grid.chain((g) =>
      fc.tuple(
        fc.constant(g),
        fc.array(fc.oneof(hostileText, fc.constantFrom(...Object.keys(g).map((k) => `--${k}={${k}}`))), {
          minLength: 1,
          maxLength: 4,
        }),
      ),
    );
    fc.assert(
      fc.property(
        template,
        env,
        hostileText,
        fc.integer({ min: 1, max: 30 }),
        ([g, tmpl], environment, id, maxParallel) => {
          // the template's {name} placeholders are filled by the parameters' values, literally
          const expanded = expandGrid(g).map((v) => ({
            ...v,
            command: commandFor(['python', ...tmpl], v.params),
            state: 'queued' as const,
            runId: null,
            gpus: [],
            exitCode: null,
            explanation: null,
          }));
          const req: ClusterJobRequest = {
            projectName: 'sweep-project',
            image: IMAGE,
            command: [],
            gpus: 1,
            nodes: 1,
            env: environment,
            shmSize: '16Gi',
            suffix: 'x1',
            sweep: { id, variants: expanded, maxParallel },
          };
          const texts = [id, ...expanded.flatMap((v) => Object.entries(v.params).flat())];
          refusedOrCheck(
            req,
            acceptable(
              req,
              expanded.map((v) => v.command),
              texts,
            ),
            (manifests) => {
              const [cm, job] = checkYaml(manifests, run++);
              expanded.forEach((v, i) => assert.deepEqual(JSON.parse(cm.data[`${i}.json`]), v.command));
              assert.deepEqual(
                JSON.parse(cm.data['variants.json']),
                expanded.map((v, i) => ({ index: i, params: v.params })),
              );
              assert.equal(job.spec.completions, expanded.length);
              assert.deepEqual(job.spec.template.spec.containers[0].env, envOf(req));
              assert.equal(job.metadata.labels['ml-containers/sweep'], dnsLabel(id));
            },
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('PyTorchJob: the torchrun script and its arguments, or a command, come back exactly', () => {
    let run = 0;
    fc.assert(
      fc.property(
        fc.boolean(),
        argv,
        env,
        fc.integer({ min: 2, max: 16 }),
        fc.integer({ min: 0, max: 8 }),
        (ownCommand, args, environment, nodes, gpus) => {
          const req: ClusterJobRequest = {
            projectName: 'multi',
            image: IMAGE,
            command: ownCommand ? args : [],
            torchrunScript: ownCommand ? undefined : args,
            gpus,
            nodes,
            env: environment,
            shmSize: '32Gi',
            suffix: 'pj',
          };
          refusedOrCheck(req, acceptable(req), (manifests) => {
            const [pj] = checkYaml(manifests, run++);
            const expected = ownCommand
              ? args
              : ['torchrun', `--nnodes=${nodes}`, `--nproc_per_node=${Math.max(1, gpus)}`, ...args];
            for (const role of ['Master', 'Worker']) {
              const c = pj.spec.pytorchReplicaSpecs[role].template.spec.containers[0];
              assert.deepEqual(c.command, expected);
              assert.deepEqual(c.env, envOf(req));
            }
            assert.equal(pj.spec.pytorchReplicaSpecs.Worker.replicas, nodes - 1);
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("kubectl's own decoder (go-yaml, YAML 1.1) reads generated strings back exactly, as our emitter writes them", function () {
    hasKubectl();
    // one kubeconfig of many strings, one kubectl: the runs as a count of strings, at most 20,000
    const strings = fc.sample(receivableText, Math.min(RUNS, 20_000));
    assert.deepEqual(kubectlReads(strings), strings);
  });
});
