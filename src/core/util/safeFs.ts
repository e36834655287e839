/**
 * File access for a project that may be hostile (a repository just cloned): only regular files are read, with a size
 * cap, never blocking on a FIFO or a device, and neither a read nor a write leaves the project through a symlink.
 * Every reader and writer of project files goes through here.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

export type UnsafePathReason = 'outside-project' | 'not-regular' | 'too-large' | 'not-a-folder';

/** A project path that may not be read or written; the message is one sentence that names the path. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
  constructor(
    message: string,
    readonly reason: UnsafePathReason,
    readonly path: string,
  ) {
    super(message);
  }
}

/** Default cap for one project file read whole (environment files, devcontainer.json, sweep files, records). */
export const DEFAULT_READ_CAP = 8 * 1024 * 1024;

const isInside = (parent: string, child: string): boolean =>
  child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

async function realOrSelf(p: string): Promise<string> {
  try {
    return await fsp.realpath(p);
  } catch {
    // a dangling symlink: where it points (creating through it would create there)
    const target = await fsp.readlink(p).catch(() => undefined);
    if (target !== undefined) return path.resolve(await realOrSelf(path.dirname(p)), target);
    return path.resolve(p);
  }
}

/**
 * Throws UnsafePathError when `abs` (an existing path or one about to be created) resolves outside `root`: a folder
 * on the way, or the file itself, is a symlink to elsewhere. Missing components are fine (they will be created as
 * real folders under the last existing one, which is checked).
 */
export async function assertInsideProject(root: string, abs: string): Promise<void> {
  const realRoot = await realOrSelf(root);
  const resolved = path.resolve(abs);
  if (!isInside(path.resolve(root), resolved) && !isInside(realRoot, resolved)) {
    throw new UnsafePathError(`${abs} is outside the project ${root}.`, 'outside-project', abs);
  }
  // the deepest existing ancestor (or the path itself), resolved through every symlink, must stay inside
  let probe = resolved;
  for (;;) {
    try {
      await fsp.lstat(probe);
      break;
    } catch {
      const up = path.dirname(probe);
      if (up === probe) break;
      probe = up;
    }
  }
  const real = await realOrSelf(probe);
  if (!isInside(realRoot, real)) {
    const rel = path.relative(path.resolve(root), probe) || '.';
    throw new UnsafePathError(
      `${rel} in ${root} is a link to ${real}, outside the project; ML Containers only writes and reads inside the project: replace the link with a folder or file of the project.`,
      'outside-project',
      probe,
    );
  }
}

export interface SafeReadOptions {
  /** The project folder the file must stay inside (after symlinks). Omit for files outside a project. */
  root?: string;
  /** At most this many bytes (default DEFAULT_READ_CAP); a bigger file is an error, not a silent truncation. */
  cap?: number;
}

/**
 * Reads a regular file as UTF-8 (lenient), or returns null when it does not exist. Throws UnsafePathError for a
 * FIFO, socket or device (never blocks on one: the open is non-blocking), for a file bigger than the cap, and for a
 * path that leaves `root` through a symlink.
 */
export async function readRegularFile(file: string, opts: SafeReadOptions = {}): Promise<string | null> {
  const buf = await readRegularBytes(file, opts);
  return buf === null ? null : new TextDecoder('utf-8').decode(buf).replace(/^\uFEFF/, '');
}

const READ_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;

/** Throws UnsafePathError unless `st` (of an open `file`) is a regular file of at most `cap` bytes. */
function checkRegular(file: string, st: fs.Stats, cap: number): void {
  if (st.isDirectory()) throw new UnsafePathError(`${file} is a folder, not a file.`, 'not-regular', file);
  if (!st.isFile()) {
    throw new UnsafePathError(
      `${file} is not a regular file (${kindOf(st)}), so it is not read; replace it with a regular file.`,
      'not-regular',
      file,
    );
  }
  if (st.size > cap) {
    throw new UnsafePathError(
      `${file} is ${mib(st.size)}, more than the ${mib(cap)} this file may have; it is not read.`,
      'too-large',
      file,
    );
  }
}

/**
 * Opens a regular file for reading (never blocking on a FIFO or a device), or returns null when it does not exist.
 * Throws UnsafePathError for anything but a regular file, for a path that leaves `root` through a symlink, and (with
 * `cap`) for a file bigger than the cap. The caller closes the handle.
 */
export async function openRegularFile(
  file: string,
  opts: SafeReadOptions = {},
): Promise<{ handle: fsp.FileHandle; stat: fs.Stats } | null> {
  if (opts.root !== undefined) {
    try {
      await fsp.lstat(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    await assertInsideProject(opts.root, file);
  }
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, READ_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const stat = await handle.stat();
    checkRegular(file, stat, opts.cap ?? Number.MAX_SAFE_INTEGER);
    return { handle, stat };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Like readRegularFile, the bytes. */
export async function readRegularBytes(file: string, opts: SafeReadOptions = {}): Promise<Buffer | null> {
  const cap = opts.cap ?? DEFAULT_READ_CAP;
  const opened = await openRegularFile(file, { ...opts, cap });
  if (!opened) return null;
  const { handle, stat } = opened;
  try {
    const buf = Buffer.alloc(Math.min(stat.size, cap) + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got > cap) {
        throw new UnsafePathError(`${file} grew past ${mib(cap)} while being read; it is not read.`, 'too-large', file);
      }
      if (got === buf.length) break;
    }
    return buf.subarray(0, got);
  } finally {
    await handle.close();
  }
}

/** The last `bytes` of a regular file as UTF-8 ('' when it does not exist, or is not a regular file inside `root`). */
export async function readRegularTail(file: string, bytes: number, opts: { root?: string } = {}): Promise<string> {
  let opened: Awaited<ReturnType<typeof openRegularFile>> = null;
  try {
    opened = await openRegularFile(file, opts);
    if (!opened) return '';
    const start = Math.max(0, opened.stat.size - bytes);
    const buf = Buffer.alloc(opened.stat.size - start);
    await opened.handle.read(buf, 0, buf.length, start);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    await opened?.handle.close();
  }
}

/** Like readRegularBytes, synchronous (for the few synchronous readers). */
export function readRegularFileSync(file: string, cap = DEFAULT_READ_CAP): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, READ_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    checkRegular(file, st, cap);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return new TextDecoder('utf-8').decode(buf.subarray(0, got)).replace(/^\uFEFF/, '');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Creates `abs`'s folder (and its parents) inside `root`, refusing a symlink on the way that leaves the project and
 * a component that is a file ("is a file, not a folder" instead of ENOTDIR).
 */
export async function mkdirInsideProject(root: string, absDir: string): Promise<void> {
  await assertInsideProject(root, absDir);
  const rel = path.relative(path.resolve(root), path.resolve(absDir));
  let cur = path.resolve(root);
  for (const part of rel ? rel.split(path.sep) : []) {
    cur = path.join(cur, part);
    let st: fs.Stats | undefined;
    try {
      st = await fsp.stat(cur);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (st === undefined) {
      await fsp.mkdir(cur).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      await assertInsideProject(root, cur);
    } else if (!st.isDirectory()) {
      throw new UnsafePathError(
        `${path.relative(path.resolve(root), cur)} in ${root} is a file, not a folder; rename or remove it and try again.`,
        'not-a-folder',
        cur,
      );
    }
  }
}

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

const mib = (n: number): string =>
  n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) ? 1 : 0)} MiB` : `${Math.ceil(n / 1024)} KiB`;
