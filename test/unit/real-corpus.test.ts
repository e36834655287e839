/**
 * Detection against real public repositories copied at pinned commits (test/fixtures/real/<slug>/repo), compared
 * with a profile written by hand from each repository (expected.json; the reasons are in NOTES.md). Every folder of
 * test/fixtures/real that has an expected.json is a case.
 *
 * How each `profile` key is compared:
 * - `frameworks`, `envFiles`: as sets.
 * - `entrypoints`: `first` is our first entry point (null: we report none), every `includes` path is one of ours,
 *   no `excludes` path is one of ours.
 * - `frameworkPin`: the profile has no field that holds framework versions, so a pin is checked by evidence: one of
 *   the `frameworks` evidence entries for that framework must cite the pinned version (the line that pins it).
 * - any other key (`isTrainingProject`, `primaryFramework`, `pythonVersion`, `pythonRange`, `launcher`, `needsGpu`,
 *   `cudaHint`, …): equal to ours, a missing value of ours counting as null.
 *
 * A known disagreement is listed in expected.json's `open` with the value we give (`ours`). For such a field the
 * test asserts that our output still equals `ours`, so fixing the bug fails the test until the entry is removed; the
 * expected value itself is never bent towards our output. For `entrypoints.includes`/`.excludes`, `ours` is the
 * part of the expected list that we do list, sorted.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectProject, type ProjectProfile } from '../../src/core/detect';
import { FIXTURES } from './helpers';

const REAL = path.join(FIXTURES, 'real');
const MAX_FILE_BYTES = 300 * 1024;
const MAX_FIXTURE_BYTES = 1.5 * 1024 * 1024;

interface OpenDisagreement {
  field: string;
  ours: unknown;
  why: string;
}

interface Expected {
  repo: string;
  commit: string;
  subdir?: string;
  licence: string;
  kind: string;
  profile: Record<string, unknown>;
  open?: OpenDisagreement[];
}

interface EntrypointExpectation {
  first?: string | null;
  includes?: string[];
  excludes?: string[];
}

/** One compared field: its name as `open` entries use it, what we should give, and what we give. */
interface FieldCheck {
  field: string;
  expected: unknown;
  ours: (p: ProjectProfile) => unknown;
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();
const listedByUs = (p: ProjectProfile, paths: readonly string[]): string[] =>
  sorted(paths.filter((x) => p.entrypoints.includes(x)));

function entrypointChecks(e: EntrypointExpectation): FieldCheck[] {
  const checks: FieldCheck[] = [];
  if (e.first !== undefined) {
    checks.push({ field: 'entrypoints.first', expected: e.first, ours: (p) => p.entrypoints[0] ?? null });
  }
  const includes = e.includes ?? [];
  checks.push({ field: 'entrypoints.includes', expected: sorted(includes), ours: (p) => listedByUs(p, includes) });
  const excludes = e.excludes ?? [];
  checks.push({ field: 'entrypoints.excludes', expected: [], ours: (p) => listedByUs(p, excludes) });
  return checks;
}

/** True when `text` names `version` as a whole version (1.7.0 in `pytorch=1.7.0`, not in `1.7.01` or `11.7.0`). */
function citesVersion(text: string, version: string): boolean {
  const v = version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^0-9.])${v}($|[^0-9])`).test(text);
}

function frameworkPinChecks(pins: Record<string, string>): FieldCheck[] {
  return Object.entries(pins).map(([fw, version]) => ({
    field: `frameworkPin.${fw}`,
    expected: version,
    ours: (p) =>
      p.evidence.some((e) => e.field === 'frameworks' && e.value === fw && citesVersion(e.text, version))
        ? version
        : null,
  }));
}

function fieldChecks(profile: Record<string, unknown>): FieldCheck[] {
  return Object.entries(profile).flatMap(([key, value]): FieldCheck[] => {
    if (key === 'entrypoints') return entrypointChecks(value as EntrypointExpectation);
    if (key === 'frameworkPin') return frameworkPinChecks(value as Record<string, string>);
    if (key === 'frameworks' || key === 'envFiles') {
      return [{ field: key, expected: sorted(value as string[]), ours: (p) => sorted(p[key]) }];
    }
    return [{ field: key, expected: value, ours: (p) => (p as unknown as Record<string, unknown>)[key] ?? null }];
  });
}

/** Every file under dir with its size, walking folders (no symbolic links in fixtures). */
function fileSizes(dir: string): { rel: string; bytes: number }[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap((d) => {
    if (!d.isFile()) return [];
    const abs = path.join(d.parentPath, d.name);
    return [{ rel: path.relative(dir, abs), bytes: fs.statSync(abs).size }];
  });
}

function checkFixtureFiles(dir: string, expected: Expected): void {
  assert.match(expected.commit, /^[0-9a-f]{40}$/, 'expected.commit must be a 40-hex commit');
  const repo = path.join(dir, 'repo');
  assert.ok(fs.statSync(repo).isDirectory(), `${repo} is missing`);
  const licences = fs.readdirSync(repo).filter((n) => n === 'LICENSE' || n.startsWith('LICENSE.'));
  assert.ok(licences.length > 0, 'repo/ has no LICENSE or LICENSE.* file');
  const notes = path.join(dir, 'NOTES.md');
  assert.ok(fs.existsSync(notes), 'NOTES.md is missing');
  assert.ok(fs.readFileSync(notes, 'utf8').includes(expected.commit), 'NOTES.md does not name the commit');
  const sizes = fileSizes(dir);
  const big = sizes.filter((f) => f.bytes > MAX_FILE_BYTES).map((f) => f.rel);
  assert.deepEqual(big, [], 'files over 300 KB');
  const total = sizes.reduce((n, f) => n + f.bytes, 0);
  assert.ok(total <= MAX_FIXTURE_BYTES, `the fixture holds ${total} bytes, over 1.5 MB`);
}

function checkOpenEntries(expected: Expected, checks: readonly FieldCheck[]): void {
  const open = expected.open ?? [];
  const fields = open.map((o) => o.field);
  assert.equal(new Set(fields).size, fields.length, `an open field is listed twice: ${fields.join(', ')}`);
  for (const o of open) {
    assert.ok(typeof o.why === 'string' && o.why.trim() !== '', `open ${o.field} gives no reason`);
    const check = checks.find((c) => c.field === o.field);
    assert.ok(check, `open ${o.field} names no field that expected.profile checks`);
    assert.notDeepEqual(o.ours, check.expected, `open ${o.field} records the expected value: no disagreement`);
  }
}

function readCases(): { slug: string; dir: string; expected: Expected }[] {
  return fs
    .readdirSync(REAL, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(REAL, d.name, 'expected.json')))
    .map((d) => d.name)
    .sort()
    .map((slug) => {
      const dir = path.join(REAL, slug);
      return { slug, dir, expected: JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected };
    });
}

describe('detect: real repositories against hand-written profiles (test/fixtures/real)', () => {
  const cases = readCases();

  it('has real repositories to compare against', () => {
    assert.ok(cases.length >= 10, `only ${cases.length} fixtures with expected.json under ${REAL}`);
  });

  after(() => {
    const lines = cases.map(({ slug, expected }) => {
      const open = expected.open ?? [];
      return `  ${slug}: ${open.length} open${open.length ? ` (${open.map((o) => o.field).join(', ')})` : ''}`;
    });
    const total = cases.reduce((n, c) => n + (c.expected.open?.length ?? 0), 0);
    console.log(`\nReal corpus: ${total} open disagreements in ${cases.length} projects\n${lines.join('\n')}`);
  });

  for (const { slug, dir, expected } of cases) {
    describe(`${slug} (${expected.repo}${expected.subdir ? `/${expected.subdir}` : ''})`, () => {
      const checks = fieldChecks(expected.profile);
      let profile: ProjectProfile;
      before(async () => {
        profile = await detectProject(path.join(dir, 'repo'));
      });

      it('fixture: 40-hex commit, LICENSE, NOTES.md naming the commit, size limits, well-formed open entries', () => {
        checkFixtureFiles(dir, expected);
        checkOpenEntries(expected, checks);
      });

      for (const check of checks) {
        const open = expected.open?.find((o) => o.field === check.field);
        it(open ? `${check.field} (open: we give ${JSON.stringify(open.ours)})` : check.field, () => {
          const ours = check.ours(profile);
          if (!open) {
            assert.deepEqual(ours, check.expected, `${slug}: ${check.field} differs from the hand-written profile`);
            return;
          }
          assert.deepEqual(
            ours,
            open.ours,
            `${slug}: ${check.field} changed from the open disagreement's ${JSON.stringify(open.ours)}; if it now ` +
              `equals the expected ${JSON.stringify(check.expected)}, remove the open entry`,
          );
        });
      }
    });
  }
});
