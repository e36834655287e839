/**
 * Where runs and sweeps are kept on disk: `<project>/.ml-containers/runs/<run-id>/{run.json,log.txt}` and
 * `<project>/.ml-containers/sweeps/<sweep-id>/sweep.json`. The folder carries its own `.gitignore`, so nothing of it
 * is committed by accident. Records are written atomically; they outlive the containers.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic';
import type { RunRecord } from './types';

export const STATE_DIR = '.ml-containers';
const GITIGNORE = '# Run logs and records of ML Containers: local to this machine.\n*\n';

export class RunStore {
  readonly root: string;
  readonly dir: string;

  constructor(projectRoot: string) {
    this.root = path.resolve(projectRoot);
    this.dir = path.join(this.root, STATE_DIR);
  }

  runDir(runId: string): string {
    return path.join(this.dir, 'runs', safeId(runId));
  }

  logFile(runId: string): string {
    return path.join(this.runDir(runId), 'log.txt');
  }

  recordFile(runId: string): string {
    return path.join(this.runDir(runId), 'run.json');
  }

  sweepFile(sweepId: string): string {
    return path.join(this.dir, 'sweeps', safeId(sweepId), 'sweep.json');
  }

  /** Creates `.ml-containers/` with its `.gitignore` (kept when the user changed it). */
  async ensure(): Promise<void> {
    await fsp.mkdir(path.join(this.dir, 'runs'), { recursive: true });
    const ignore = path.join(this.dir, '.gitignore');
    if (!fs.existsSync(ignore)) await writeFileAtomic(ignore, GITIGNORE);
  }

  async writeRecord(record: RunRecord): Promise<void> {
    await this.ensure();
    await fsp.mkdir(this.runDir(record.id), { recursive: true });
    await writeFileAtomic(this.recordFile(record.id), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** The record of a run, or undefined when there is none (or it is unreadable: a warning names it). */
  async readRecord(runId: string, warn?: (message: string) => void): Promise<RunRecord | undefined> {
    const file = this.recordFile(runId);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      warn?.(`${file} cannot be read (${(err as Error).message}).`);
      return undefined;
    }
    try {
      return JSON.parse(text) as RunRecord;
    } catch {
      warn?.(`${file} is not valid JSON; that run is left out.`);
      return undefined;
    }
  }

  /** Every run recorded for the project, newest first. */
  async listRecords(warn?: (message: string) => void): Promise<RunRecord[]> {
    let names: string[];
    try {
      names = await fsp.readdir(path.join(this.dir, 'runs'));
    } catch {
      return [];
    }
    // a stray folder (e.g. "<id> copy") is not a run: leave it out instead of failing the whole list
    const records = await Promise.all(names.filter((n) => VALID_ID.test(n)).map((n) => this.readRecord(n, warn)));
    return records.filter((r): r is RunRecord => r !== undefined).sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  /** Finds a run by its full id, a unique prefix, or its container name. */
  async findRecord(idOrPrefix: string): Promise<RunRecord> {
    const exact = await this.readRecord(idOrPrefix);
    if (exact) return exact;
    const all = await this.listRecords();
    const matches = all.filter((r) => r.id.startsWith(idOrPrefix) || r.containerName === idOrPrefix);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new Error(`"${idOrPrefix}" matches ${matches.length} runs: give more of the run id.`);
    }
    throw new Error(
      `No run "${idOrPrefix}" is recorded in ${path.join(this.dir, 'runs')}: \`ml-containers ps\` lists the runs.`,
    );
  }
}

const VALID_ID = /^(?!\.{1,2}$)[\w.-]+$/;

/** Ids become folder names: keep them to one safe path segment. */
function safeId(id: string): string {
  if (!VALID_ID.test(id)) throw new Error(`"${id}" is not a valid run or sweep id.`);
  return id;
}
