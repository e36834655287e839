import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { type FileHandle, lstat, open, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Writes a file atomically: a temp file in the same folder, then a rename, so readers never see half a file. The
 * file it replaces keeps its mode and, where the process may set it (as root, or a group the user is in), its owner
 * and group: the temp file gets them before the rename.
 *
 * With `keepHardLinks` (the user's own files, written after they agreed), a file with several hard links is rewritten
 * in place instead, because a rename would replace this one name with a new file and cut it off from its other links
 * (a .dockerignore hard-linked to a shared ignore file would stop being shared). The content is first written to a
 * temp file anyway and that file removed again: a full disk or a read-only folder then fails before the existing file
 * is touched, and the in-place write needs no more room than the temp file just freed. Only the in-place write itself
 * is not atomic. Our own state files never take that path: a record that a hostile archive hard-linked to a file
 * elsewhere must not change that file.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  opts: { keepHardLinks?: boolean } = {},
): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let current: fs.Stats | undefined;
  try {
    const st = await lstat(file);
    if (st.isFile()) current = st;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // 'wx': a name someone placed there first (a symlink, a FIFO) is never written through
    const handle = await open(tmp, 'wx', current ? current.mode & 0o777 : 0o666);
    try {
      await writeAll(handle, bytes);
      if (current) await keepMetadata(handle, current);
    } finally {
      await handle.close();
    }
    if (opts.keepHardLinks && current && current.nlink > 1) {
      await rm(tmp, { force: true });
      await rewriteInPlace(file, bytes, current);
      return;
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, done);
    done += bytesWritten;
  }
}

/** Owner, group, then mode (a chown clears set-id bits, so the mode comes last). */
async function keepMetadata(handle: FileHandle, was: fs.Stats): Promise<void> {
  const now = await handle.stat();
  if (now.uid !== was.uid || now.gid !== was.gid) {
    try {
      await handle.chown(was.uid, was.gid);
    } catch {
      try {
        // not root: the group alone may still be kept (one of the user's groups)
        await handle.chown(now.uid, was.gid);
      } catch {
        // the file becomes the writer's, as with any editor's save
      }
    }
  }
  await handle.chmod(was.mode & 0o7777);
}

/** Overwrites `file` (the same regular file as `was`, never a symlink or a FIFO) and cuts it to the new length. */
async function rewriteInPlace(file: string, bytes: Uint8Array, was: fs.Stats): Promise<void> {
  const handle = await open(file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.ino !== was.ino || st.dev !== was.dev) {
      throw Object.assign(new Error(`${file} changed while it was being written.`), { code: 'EAGAIN' });
    }
    await writeAll(handle, bytes);
    await handle.truncate(bytes.length);
  } finally {
    await handle.close();
  }
}
