/**
 * The cluster jobs applied from a project, kept in `.ml-containers/cluster-jobs.json` (newest last). The file is
 * project content (a cloned repository may carry one): only records whose every field is what we write are kept, so
 * a record cannot widen a kubectl label selector, name another namespace, or put control characters in a view.
 */
import type { RunStore } from '../runs/store';
import { writeFileAtomic } from '../util/atomic';
import { readRegularFile } from '../util/safeFs';
import { type ClusterJobRecord, clusterJobsFile } from './cluster';
import { isDnsLabel } from './validate';

/** Records kept at most (the newest). */
const MAX_RECORDS = 1000;

// printable text of a sane length: no control characters, no terminal escapes, no line breaks
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const PRINTABLE = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]{1,253}$/u;

/** A record as we write it, or null: names and namespaces are DNS labels, the rest short printable text. */
export function validClusterJob(value: unknown): ClusterJobRecord | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const r = value as Record<string, unknown>;
  const text = (v: unknown): v is string => typeof v === 'string' && PRINTABLE.test(v);
  if (typeof r.name !== 'string' || !isDnsLabel(r.name)) return null;
  if (typeof r.kind !== 'string' || !/^[A-Za-z]{1,63}$/.test(r.kind)) return null;
  if (r.context !== null && !text(r.context)) return null;
  if (r.namespace !== null && (typeof r.namespace !== 'string' || !isDnsLabel(r.namespace))) return null;
  if (!text(r.image) || !text(r.appliedAt)) return null;
  return {
    name: r.name,
    kind: r.kind,
    context: r.context,
    namespace: r.namespace,
    image: r.image,
    appliedAt: r.appliedAt,
  };
}

export async function readClusterJobs(store: RunStore): Promise<ClusterJobRecord[]> {
  let list: unknown;
  try {
    const text = await readRegularFile(clusterJobsFile(store.dir), {
      root: store.root,
      cap: 4 * 1024 * 1024,
    });
    if (text === null) return [];
    list = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  return list
    .map(validClusterJob)
    .filter((r): r is ClusterJobRecord => r !== null)
    .slice(-MAX_RECORDS);
}

export async function recordClusterJobs(store: RunStore, jobs: ClusterJobRecord[]): Promise<void> {
  await store.ensure();
  const all = [...(await readClusterJobs(store)), ...jobs].slice(-MAX_RECORDS);
  await writeFileAtomic(clusterJobsFile(store.dir), `${JSON.stringify(all, null, 2)}\n`);
}
