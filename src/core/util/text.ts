import * as fs from 'node:fs';

export interface CappedRead {
  text: string;
  /** Size of the file on disk in bytes. */
  size: number;
  /** True when only the first `cap` bytes were read. */
  truncated: boolean;
  /** True when the bytes look binary (a NUL byte in the first 8 KiB). */
  binary: boolean;
  /** True when the bytes are not valid UTF-8 (they were decoded leniently). */
  invalidUtf8: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

const POOLED = 256 * 1024;
const shared = Buffer.allocUnsafe(POOLED);

/** Opening never blocks: a FIFO swapped in after the caller checked the file reads as empty instead of hanging. */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOCTTY ?? 0);

/**
 * Reads at most `cap` bytes of a regular file (callers pass only regular files: never a FIFO or a device), decoding
 * UTF-8 without throwing. Synchronous on purpose: for thousands of small files it is about 4x faster than async
 * calls on a cold process, and one shared buffer keeps the garbage collector quiet. Callers keep each slice of work
 * short and yield between slices (TimeSlicer), so an editor that calls it stays responsive.
 */
export function readCappedSync(path: string, cap: number): CappedRead {
  const fd = fs.openSync(path, OPEN_FLAGS);
  try {
    // the shared buffer takes the first 256 KiB; only a file bigger than that gets a buffer of its own
    let buf = cap < POOLED ? shared.subarray(0, cap) : shared;
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (got >= cap) break;
        const bigger = Buffer.allocUnsafe(Math.min(cap, buf.length * 4));
        buf.copy(bigger, 0, 0, got);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, got, Math.min(buf.length, cap) - got, got);
      if (n === 0) break;
      got += n;
      if (got >= cap) break;
    }
    const size = got >= cap ? fs.fstatSync(fd).size : got;
    return decode(buf.subarray(0, got), size);
  } finally {
    fs.closeSync(fd);
  }
}

/** Cuts synchronous work into slices of at most `sliceMs`, yielding to the event loop between them. */
export class TimeSlicer {
  private start = performance.now();
  constructor(private readonly sliceMs = 8) {}

  async maybeYield(): Promise<void> {
    if (performance.now() - this.start < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.start = performance.now();
  }
}

function decode(bytes: Buffer, size: number): CappedRead {
  const got = bytes.length;
  const binary = bytes.subarray(0, 8192).includes(0);
  let text = '';
  let invalidUtf8 = false;
  if (!binary) {
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      // A cap can cut a multi-byte character in half: only the tail is at fault then.
      text = lenientUtf8.decode(bytes);
      invalidUtf8 = !(got < size && isOnlyTailBroken(bytes));
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  }
  return { text, size, truncated: got < size, binary, invalidUtf8 };
}

function isOnlyTailBroken(bytes: Buffer): boolean {
  for (let cut = 1; cut <= 3 && cut < bytes.length; cut++) {
    try {
      strictUtf8.decode(bytes.subarray(0, bytes.length - cut));
      return true;
    } catch {
      // try a shorter prefix
    }
  }
  return false;
}

/** Maps string offsets to 1-based line numbers; built lazily, one pass over the text. */
export class LineIndex {
  private starts: number[] | undefined;
  constructor(private readonly text: string) {}

  lineAt(offset: number): number {
    const starts = (this.starts ??= computeLineStarts(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** The text of a 1-based line, without its newline. */
  lineText(line: number): string {
    const starts = (this.starts ??= computeLineStarts(this.text));
    const start = starts[line - 1];
    if (start === undefined) return '';
    const next = starts[line];
    return this.text.slice(start, next === undefined ? this.text.length : next - 1).replace(/\r$/, '');
  }
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  let i = text.indexOf('\n');
  while (i !== -1) {
    starts.push(i + 1);
    i = text.indexOf('\n', i + 1);
  }
  return starts;
}

/** Trims a source line for display in evidence: collapsed whitespace, at most 160 characters. */
export function evidenceText(line: string): string {
  const t = line.trim().replace(/\s+/g, ' ');
  return t.length > 160 ? `${t.slice(0, 157)}...` : t;
}

/** The 1-based line of the first line of `text` that matches `re`, or 1. */
export function findLine(text: string, re: RegExp): number {
  const m = re.exec(text);
  if (!m) return 1;
  return new LineIndex(text).lineAt(m.index);
}

/**
 * Control characters a terminal acts on: C0 except tab and newline (ESC starts escape sequences, CR rewrites the
 * line), DEL, and C1 (U+0080-U+009F, where U+009B is a one-character CSI).
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text from a project, a GPU or a container made safe to print to a terminal: each control character becomes its
 * visible `\u001b` form, so a file name cannot move the cursor, recolour or retitle the terminal. The `\uXXXX` form
 * is also a valid JSON escape, so JSON text keeps its meaning.
 */
export function neutralizeControls(text: string): string {
  return text.replace(TERMINAL_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
