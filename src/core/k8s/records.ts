/** The cluster jobs applied from a project, kept in `.ml-containers/cluster-jobs.json` (newest last). */
import * as fsp from 'node:fs/promises';
import type { RunStore } from '../runs/store';
import { writeFileAtomic } from '../util/atomic';
import { type ClusterJobRecord, clusterJobsFile } from './cluster';

export async function readClusterJobs(store: RunStore): Promise<ClusterJobRecord[]> {
  try {
    return JSON.parse(await fsp.readFile(clusterJobsFile(store.dir), 'utf8')) as ClusterJobRecord[];
  } catch {
    return [];
  }
}

export async function recordClusterJobs(store: RunStore, jobs: ClusterJobRecord[]): Promise<void> {
  await store.ensure();
  const all = [...(await readClusterJobs(store)), ...jobs];
  await writeFileAtomic(clusterJobsFile(store.dir), `${JSON.stringify(all, null, 2)}\n`);
}
