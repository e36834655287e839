/**
 * Where runs and sweeps are kept on disk: `<project>/.ml-containers/runs/<run-id>/{run.json,log.txt}` and
 * `<project>/.ml-containers/sweeps/<sweep-id>/sweep.json`. The folder carries its own `.gitignore`, so nothing of it
 * is committed by accident. Records are written atomically; they outlive the containers.
 *
 * A cloned repository may bring its own `.ml-containers`: records are read as data (regular files only, size-capped,
 * their shape checked, never through a link out of the project), and nothing is written, nor deleted, through a
 * symlink that leads out of the project.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic';
import { errorMessage } from '../util/errors';
import {
  assertInsideProject,
  mkdirInsideProject,
  readRegularBytes,
  readRegularFile,
  readRegularTail,
  UnsafePathError,
} from '../util/safeFs';
import { type RunRecord, validateRunRecord } from './types';

export const STATE_DIR = '.ml-containers';
const GITIGNORE = '# Run logs and records of ML Containers: local to this machine.\n*\n';
/** A run.json is a few KiB: anything much bigger is not one of ours. */
export const RECORD_READ_CAP = 1024 * 1024;

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

  /**
   * Creates `.ml-containers/` with its `.gitignore` (kept when the user changed it). Throws UnsafePathError (one
   * sentence naming the link) when `.ml-containers` or `runs` is a link out of the project.
   */
  async ensure(): Promise<void> {
    await mkdirInsideProject(this.root, path.join(this.dir, 'runs'));
    const ignore = path.join(this.dir, '.gitignore');
    await assertInsideProject(this.root, ignore);
    if (!(await exists(ignore))) await writeFileAtomic(ignore, GITIGNORE);
  }

  /**
   * Writes a file of the state folder (e.g. `images.json`, a sweep's file) atomically, refusing any link on the way
   * out of the project.
   */
  async writeStateFile(file: string, data: string | Uint8Array): Promise<void> {
    await this.ensure();
    await mkdirInsideProject(this.root, path.dirname(file));
    await assertInsideProject(this.root, file);
    await writeFileAtomic(file, data);
  }

  /** Reads a file of the state folder: a regular file inside the project, at most `cap` bytes; null when missing. */
  readStateFile(file: string, cap = RECORD_READ_CAP * 8): Promise<string | null> {
    return readRegularFile(file, { root: this.root, cap });
  }

  async writeRecord(record: RunRecord): Promise<void> {
    await this.writeStateFile(this.recordFile(record.id), `${JSON.stringify(record, null, 2)}\n`);
  }

  /**
   * The run's folder, created inside the project, and the path of its log.txt, checked: not a link out of the project
   * and not a FIFO or device (a log is written to it next).
   */
  async prepareLog(runId: string): Promise<string> {
    await this.ensure();
    const file = this.logFile(runId);
    await mkdirInsideProject(this.root, path.dirname(file));
    await assertInsideProject(this.root, file);
    const st = await fsp.lstat(file).catch(() => undefined);
    if (st && !st.isFile()) {
      throw new UnsafePathError(
        `${path.relative(this.root, file)} in ${this.root} is not a regular file, so no log is written to it; remove it and try again.`,
        'not-regular',
        file,
      );
    }
    return file;
  }

  /** Replaces a run's log.txt with `data`, atomically. */
  async writeLog(runId: string, data: Uint8Array): Promise<void> {
    const file = await this.prepareLog(runId);
    await writeFileAtomic(file, data);
  }

  /** Opens a run's log.txt for appending from the start (truncated), never following a link. */
  async createLogStream(runId: string): Promise<fs.WriteStream> {
    const file = await this.prepareLog(runId);
    const c = fs.constants;
    const fh = await fsp.open(file, c.O_WRONLY | c.O_CREAT | c.O_TRUNC | c.O_NOFOLLOW | c.O_NONBLOCK);
    return fh.createWriteStream();
  }

  /** A run's whole saved log, or null when it has none; throws UnsafePathError for a link out, a FIFO, or past `cap`. */
  async readLog(runId: string, cap = 1024 ** 3): Promise<Buffer | null> {
    return readRegularBytes(this.logFile(runId), { root: this.root, cap });
  }

  /** The last `bytes` of a run's log ('' when there is none, or it is not a regular file inside the project). */
  async readLogTail(runId: string, bytes: number): Promise<string> {
    return readRegularTail(this.logFile(runId), bytes, { root: this.root });
  }

  /** Deletes a run's folder (record and log), never through a link out of the project. */
  async removeRunDir(runId: string): Promise<void> {
    const dir = this.runDir(runId);
    await assertInsideProject(this.root, dir);
    await fsp.rm(dir, { recursive: true, force: true });
  }

  /**
   * The record of a run, or undefined when there is none, or it cannot be used: unreadable, not a regular file, a link
   * out of the project, not JSON, not of a record's shape, or the record of another run id (a warning names it). The
   * record is this project's whatever project it names.
   */
  async readRecord(runId: string, warn?: (message: string) => void): Promise<RunRecord | undefined> {
    const file = this.recordFile(runId);
    let text: string | null;
    try {
      text = await readRegularFile(file, { root: this.root, cap: RECORD_READ_CAP });
    } catch (err) {
      warn?.(
        err instanceof UnsafePathError
          ? `${err.message.replace(/\.$/, '')}; that run is left out.`
          : `${file} cannot be read (${errorMessage(err)}); that run is left out.`,
      );
      return undefined;
    }
    if (text === null) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      warn?.(`${file} is not valid JSON; that run is left out.`);
      return undefined;
    }
    const checked = validateRunRecord(parsed);
    if (!checked.ok) {
      warn?.(`${file} is not a run record (${checked.problem}); that run is left out.`);
      return undefined;
    }
    const record = checked.record;
    if (record.id !== runId) {
      warn?.(`${file} is the record of another run (${JSON.stringify(record.id)}); that run is left out.`);
      return undefined;
    }
    // the record lives in this project: that is its project, whatever it says
    record.project = this.root;
    record.projectName = path.basename(this.root);
    return record;
  }

  /** Every run recorded for the project, newest first. */
  async listRecords(warn?: (message: string) => void): Promise<RunRecord[]> {
    const runs = path.join(this.dir, 'runs');
    let names: string[];
    try {
      await assertInsideProject(this.root, runs);
      names = await fsp.readdir(runs);
    } catch (err) {
      if (err instanceof UnsafePathError) warn?.(`${err.message.replace(/\.$/, '')}; no run is read from it.`);
      return [];
    }
    // a stray folder (e.g. "<id> copy") is not a run: leave it out instead of failing the whole list
    const records = await Promise.all(names.filter((n) => VALID_ID.test(n)).map((n) => this.readRecord(n, warn)));
    return records.filter((r): r is RunRecord => r !== undefined).sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  /** Finds a run by its full id, a unique prefix, or its container name (`warn` hears of records left out). */
  async findRecord(idOrPrefix: string, warn?: (message: string) => void): Promise<RunRecord> {
    const warnings: string[] = [];
    const note = (m: string): void => {
      warnings.push(m);
      warn?.(m);
    };
    const exact = await this.readRecord(idOrPrefix, note);
    if (exact) return exact;
    if (warnings.length > 0) throw new Error(warnings[0]);
    const all = await this.listRecords(note);
    const matches = all.filter((r) => r.id.startsWith(idOrPrefix) || r.containerName === idOrPrefix);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new Error(`"${idOrPrefix}" matches ${matches.length} runs: give more of the run id.`);
    }
    const left = warnings.find((w) => w.includes(path.join(this.dir, 'runs', idOrPrefix)));
    if (left) throw new Error(left);
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

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch {
    return false;
  }
}
