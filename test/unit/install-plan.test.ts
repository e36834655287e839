/**
 * What `npm start` and `npm test` install, read from the installer's plan (MLC_INSTALL_DRY_RUN=1: it prints what it
 * would install and changes nothing). Opening the editor needs code-server and its build prerequisites only: never a
 * container engine, a browser or kubectl next to what the user already has.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from './helpers';

const NOT_FOR_THE_EDITOR = [
  'docker.io',
  'docker-registry',
  'busybox-static',
  'busybox',
  'chromium',
  'kubernetes-client',
  'kubectl',
  'debootstrap',
];

interface Plan {
  status: number | null;
  out: string;
  apt: string[];
  steps: string[];
}

/** The plan lines (`[…] plan: apt packages: a b c`, `[…] plan: step: …`) of a dry run. */
function plan(cmd: string, args: string[], env: Record<string, string> = {}): Plan {
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, MLC_INSTALL_DRY_RUN: '1', ...env },
  });
  const out = `${r.stdout}${r.stderr}`;
  const apt = /plan: apt packages: (.*)$/m.exec(out)?.[1]?.trim().split(/\s+/) ?? [];
  const steps = [...out.matchAll(/plan: step: (.*)$/gm)].map((m) => m[1]!);
  return { status: r.status, out, apt, steps };
}

describe('what npm start installs (the installer plan, MLC_INSTALL_DRY_RUN=1)', () => {
  it('install-test-deps.sh --editor-only: code-server and its build prerequisites, no engine, browser or kubectl', () => {
    const p = plan('bash', [path.join('scripts', 'install-test-deps.sh'), '--editor-only']);
    assert.equal(p.status, 0, p.out);
    for (const pkg of ['libkrb5-dev', 'g++', 'make', 'python3', 'ripgrep']) assert.ok(p.apt.includes(pkg), p.out);
    assert.deepEqual(
      p.apt.filter((pkg) => NOT_FOR_THE_EDITOR.includes(pkg)),
      [],
      p.out,
    );
    assert.ok(
      p.steps.some((s) => /code-server 4\.100\.3/.test(s)),
      p.out,
    );
    assert.deepEqual(
      p.steps.filter((s) => /docker|engine|chromium|devcontainers/i.test(s)),
      [],
      p.out,
    );
  });

  it('npm start without desktop `code` runs the editor-only plan (and builds nothing in a dry run)', () => {
    const p = plan(process.execPath, [path.join('scripts', 'start.mjs')], { ML_CONTAINERS_USE_CODE_SERVER: '1' });
    assert.equal(p.status, 0, p.out);
    assert.match(p.out, /mode: editor-only/);
    assert.ok(p.apt.length > 0, p.out);
    assert.deepEqual(
      p.apt.filter((pkg) => NOT_FOR_THE_EDITOR.includes(pkg)),
      [],
      p.out,
    );
    assert.deepEqual(
      p.steps.filter((s) => /docker|engine/i.test(s)),
      [],
      p.out,
    );
  });

  it('the full test setup (npm test) still plans the engine, the browser and the reference CLI', () => {
    const p = plan('bash', [path.join('scripts', 'install-test-deps.sh')]);
    assert.equal(p.status, 0, p.out);
    assert.ok(p.apt.includes('chromium'), p.out);
    assert.ok(
      p.steps.some((s) => /docker-engine-up\.sh --install-only/.test(s)),
      p.out,
    );
    assert.ok(
      p.steps.some((s) => /@devcontainers\/cli/.test(s)),
      p.out,
    );
  });
});
