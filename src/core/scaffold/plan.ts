/**
 * Turning generated files into safe writes: a new file is created; an existing devcontainer.json is edited (merged,
 * comments kept); an existing .dockerignore gets the missing lines appended; any other existing file that differs is
 * a conflict. Nothing existing changes without the caller's consent (`force`, or the editor's confirmation); every
 * write is atomic and keeps the file's mode, owner and hard links.
 *
 * The project may be hostile (a repository just cloned): a planned path that leaves the project through a symlink, a
 * FIFO, device or socket where a file should be, an oversized file, or a file where a folder should be is 'unsafe':
 * it is neither read nor written, and the plan says why in one sentence. The devcontainer.json edited is the one the
 * Dev Container spec picks (see devcontainer/find.ts), so an existing `.devcontainer.json` is merged into, not shadowed.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { applyEdits, modify, parse as parseJsonc } from 'jsonc-parser';
import { writeFileAtomic } from '../util/atomic';
import { describeFsError, errorMessage } from '../util/errors';
import { UnsafePathError, assertInsideProject, mkdirInsideProject, readRegularFile } from '../util/safeFs';
import type { GeneratedFile, Scaffold } from './generate';
import { DEFAULT_DEVCONTAINER, findDevcontainerConfig } from '../devcontainer/find';
import { mergeDevcontainer } from './merge';
import type { MergeChange } from './types';

export type FileAction = 'create' | 'merge' | 'overwrite' | 'unchanged' | 'conflict' | 'invalid' | 'unsafe';

export interface PlannedFile {
  path: string;
  action: FileAction;
  /** What the file will contain after the write. */
  content: string;
  /** What it contains now, for an existing file (null for a new file and an unsafe one, which is not read). */
  existing: string | null;
  changes: MergeChange[];
  /** Why an 'unsafe' file is neither read nor written: one sentence naming it. */
  problem?: string;
}

/** The most a file the scaffold edits may have; a bigger one is not read (it is no hand-written configuration). */
const READ_CAP = 1024 * 1024;

/** Reads a planned file: null when it is missing, an UnsafePathError (or a file-system error) when it is refused. */
async function readPlanned(root: string, rel: string): Promise<string | null> {
  const abs = path.join(root, rel);
  await assertInsideProject(root, abs);
  await assertFoldersOnTheWay(root, rel);
  return readRegularFile(abs, { root, cap: READ_CAP });
}

/** Every existing folder on the way to `rel` is a folder ("is a file, not a folder" rather than ENOTDIR). */
async function assertFoldersOnTheWay(root: string, rel: string): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  let cur = path.resolve(root);
  for (const part of parts) {
    cur = path.join(cur, part);
    let st;
    try {
      st = await fs.stat(cur);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (!st.isDirectory()) {
      throw new UnsafePathError(
        `${path.relative(path.resolve(root), cur)} in ${root} is a file, not a folder; rename or remove it and try again.`,
        'not-a-folder',
        cur,
      );
    }
  }
}

/** One sentence about a planned file that cannot be read: the project-relative name, never a raw error code. */
function problemSentence(root: string, rel: string, err: unknown): string {
  if (err instanceof UnsafePathError) {
    return err.message.split(path.join(root, rel)).join(rel).split(path.resolve(root, rel)).join(rel);
  }
  return `${rel} in ${root} could not be read (${describeFsError(err)}), so it was left alone; check its permissions and try again.`;
}

function appendMissingLines(existing: string, wanted: string): string {
  const have = new Set(existing.split(/\r?\n/).map((l) => l.trim()));
  const missing = wanted.split('\n').filter((l) => l.trim() && !l.startsWith('#') && !have.has(l.trim()));
  if (missing.length === 0) return existing;
  const eol = existing.includes('\r\n') ? '\r\n' : '\n';
  const sep = existing.length === 0 || existing.endsWith('\n') ? '' : eol;
  return `${existing}${sep}${eol}# added by ML Containers: datasets, checkpoints, environments and caches${eol}${missing.join(eol)}${eol}`;
}

export async function planScaffold(root: string, scaffold: Scaffold): Promise<PlannedFile[]> {
  const out: PlannedFile[] = [];
  for (const f of scaffold.files) {
    const target = f.path === DEFAULT_DEVCONTAINER ? await relocateDevcontainer(root, f) : f;
    out.push(await planFile(root, target, scaffold));
  }
  return out;
}

/**
 * The generated devcontainer.json, moved to the configuration the project already uses (the spec's search order),
 * with build.dockerfile and build.context rewritten relative to that file's folder.
 */
async function relocateDevcontainer(root: string, f: GeneratedFile): Promise<GeneratedFile> {
  const used = await findDevcontainerConfig(root);
  if (used === null || used === f.path) return f;
  const from = path.posix.dirname(f.path);
  const to = path.posix.dirname(used);
  const rebase = (rel: string): string =>
    path.posix.relative(to === '.' ? '' : to, path.posix.normalize(path.posix.join(from, rel))) || '.';
  const build = (parseJsonc(f.content) as { build?: Record<string, unknown> } | undefined)?.build;
  let content = f.content;
  for (const key of ['dockerfile', 'context'] as const) {
    const value = build?.[key];
    if (typeof value === 'string') content = applyEdits(content, modify(content, ['build', key], rebase(value), {}));
  }
  return { path: used, content };
}

async function planFile(root: string, f: GeneratedFile, scaffold: Scaffold): Promise<PlannedFile> {
  let existing: string | null;
  try {
    existing = await readPlanned(root, f.path);
  } catch (err) {
    const problem = problemSentence(root, f.path, err);
    return { path: f.path, action: 'unsafe', content: f.content, existing: null, changes: [], problem };
  }
  if (existing === null) return { path: f.path, action: 'create', content: f.content, existing, changes: [] };
  if (existing === f.content) return { path: f.path, action: 'unchanged', content: existing, existing, changes: [] };
  if (f.path.endsWith('devcontainer.json')) {
    const merged = mergeDevcontainer(existing, scaffold.settings, { file: f.path });
    // a file the merge cannot edit comes back unchanged with exactly one whole-file 'manual' change
    const only = merged.changes.length === 1 ? merged.changes[0] : undefined;
    const unparseable = merged.text === existing && only?.kind === 'manual' && only.path === '';
    if (unparseable) return { path: f.path, action: 'invalid', content: existing, existing, changes: merged.changes };
    return {
      path: f.path,
      action: merged.text === existing ? 'unchanged' : 'merge',
      content: merged.text,
      existing,
      changes: merged.changes,
    };
  }
  if (path.basename(f.path) === '.dockerignore') {
    const content = appendMissingLines(existing, f.content);
    return { path: f.path, action: content === existing ? 'unchanged' : 'merge', content, existing, changes: [] };
  }
  return { path: f.path, action: 'conflict', content: f.content, existing, changes: [] };
}

/** Files whose write changes something that exists (needs consent). */
export const needsConsent = (p: PlannedFile): boolean =>
  p.action === 'merge' || p.action === 'conflict' || p.action === 'overwrite';

/**
 * One sentence for a plan with unsafe files (null when it has none): nothing is written then, and the first unsafe
 * file says why. The CLI and the editor show this same sentence.
 */
export function unsafeSentence(plan: readonly PlannedFile[]): string | null {
  const unsafe = plan.filter((p) => p.action === 'unsafe');
  if (unsafe.length === 0) return null;
  return `Nothing was written: ${unsafe[0]!.problem ?? `${unsafe[0]!.path} cannot be written safely.`}`;
}

/**
 * One sentence for a plan that cannot be written at all (null when it can): an unsafe file (see unsafeSentence), or a
 * devcontainer.json the merge cannot edit, with the merge's words on where and why. Nothing is written then.
 */
export function refusalSentence(plan: readonly PlannedFile[]): string | null {
  const invalid = plan.find((p) => p.action === 'invalid');
  const why = invalid && (invalid.changes[0]?.message ?? `${invalid.path} could not be parsed; fix it and try again.`);
  return unsafeSentence(plan) ?? (why === undefined ? null : `Nothing was written: ${why}`);
}

const listOf = (paths: readonly string[]): string =>
  paths.length <= 1 ? (paths[0] ?? '') : `${paths.slice(0, -1).join(', ')} and ${paths[paths.length - 1]}`;

const DENIED = { why: 'permission was denied (it or its folder is read-only for you)', todo: 'make it writable' };
const FULL = { why: 'the disk is full', todo: 'free some space' };

/** Why a write failed and what to do, by the file system's error code. */
const WRITE_FAILURES = new Map<string, { why: string; todo: string }>([
  ['EACCES', DENIED],
  ['EPERM', DENIED],
  ['EROFS', { why: 'the file system is read-only', todo: 'scaffold a writable copy of the project' }],
  ['ENOSPC', FULL],
  ['EDQUOT', { ...FULL, why: 'your disk quota is used up' }],
  ['EISDIR', { why: 'a folder of that name is in the way', todo: 'rename or remove the folder' }],
  ['ENAMETOOLONG', { why: 'the path is too long', todo: 'scaffold from a shorter path' }],
]);

function writeFailure(err: unknown): { why: string; todo: string } {
  if (err instanceof UnsafePathError) return { why: err.message.replace(/\.$/, ''), todo: '' };
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (
    WRITE_FAILURES.get(code ?? '') ?? {
      why: `the system refused it (${code ?? 'unknown error'})`,
      todo: 'check the folder',
    }
  );
}

/**
 * A write that failed part-way: which planned files were written before it and which were not. Its message is one
 * sentence for the user (what was written, what not, why, what to do), never a raw error code or a temp file's name.
 */
export class ScaffoldWriteError extends Error {
  override readonly name = 'ScaffoldWriteError';
  constructor(
    readonly written: string[],
    readonly notWritten: string[],
    readonly failed: string,
    override readonly cause: unknown,
  ) {
    const { why, todo } = writeFailure(cause);
    const were = notWritten.length > 1 ? 'were' : 'was';
    const head = written.length
      ? `Wrote ${listOf(written)}, but ${listOf(notWritten)} ${were} not written`
      : `Nothing was written (${listOf(notWritten)})`;
    super(`${head}: ${failed} could not be written because ${why}${todo ? `; ${todo} and try again` : ''}.`);
  }
}

/**
 * Writes the planned files (atomically, inside the project only); conflicts are written only with `force`; unchanged,
 * invalid and unsafe files never. Returns the paths written; a failed write throws a ScaffoldWriteError that lists
 * the files written before it and the ones not written (it stops at the first failure).
 */
export async function applyPlan(
  root: string,
  plan: readonly PlannedFile[],
  opts: { force: boolean },
): Promise<string[]> {
  const todo = plan.filter(
    (p) => !['unchanged', 'invalid', 'unsafe'].includes(p.action) && (opts.force || !needsConsent(p)),
  );
  const written: string[] = [];
  for (const [i, p] of todo.entries()) {
    try {
      const file = path.join(root, p.path);
      await mkdirInsideProject(root, path.dirname(file));
      await assertInsideProject(root, file);
      await writeFileAtomic(file, p.content, { keepHardLinks: true });
    } catch (err) {
      throw new ScaffoldWriteError(
        written,
        todo.slice(i).map((t) => t.path),
        p.path,
        err instanceof Error ? err : new Error(errorMessage(err)),
      );
    }
    written.push(p.path);
  }
  return written;
}

/** A unified diff of one planned file (for --dry-run and the editor's confirmation). */
export function unifiedDiff(p: PlannedFile): string {
  return createTwoFilesPatch(
    p.existing === null ? '/dev/null' : `a/${p.path}`,
    `b/${p.path}`,
    p.existing ?? '',
    p.content,
    '',
    '',
    {
      context: 3,
    },
  );
}
