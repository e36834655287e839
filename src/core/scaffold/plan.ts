/**
 * Turning generated files into safe writes: a new file is created; an existing devcontainer.json is edited (merged,
 * comments kept); an existing .dockerignore gets the missing lines appended; any other existing file that differs is
 * a conflict. Nothing existing changes without the caller's consent (`force`, or the editor's confirmation); every
 * write is atomic.
 */
import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { writeFileAtomic } from '../util/atomic';
import type { GeneratedFile, Scaffold } from './generate';
import { mergeDevcontainer } from './merge';
import type { MergeChange } from './types';

export type FileAction = 'create' | 'merge' | 'overwrite' | 'unchanged' | 'conflict' | 'invalid';

export interface PlannedFile {
  path: string;
  action: FileAction;
  /** What the file will contain after the write. */
  content: string;
  /** What it contains now, for an existing file. */
  existing: string | null;
  changes: MergeChange[];
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
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
  for (const f of scaffold.files) out.push(await planFile(root, f, scaffold));
  return out;
}

async function planFile(root: string, f: GeneratedFile, scaffold: Scaffold): Promise<PlannedFile> {
  const existing = await readIfExists(path.join(root, f.path));
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

/** Writes the planned files (atomically); conflicts are written only with `force`. Returns the paths written. */
export async function applyPlan(
  root: string,
  plan: readonly PlannedFile[],
  opts: { force: boolean },
): Promise<string[]> {
  const written: string[] = [];
  for (const p of plan) {
    if (p.action === 'unchanged' || p.action === 'invalid') continue;
    if (needsConsent(p) && !opts.force) continue;
    const file = path.join(root, p.path);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, p.content);
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
