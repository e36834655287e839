import { open } from 'node:fs/promises';

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

/**
 * Reads at most `cap` bytes of a regular file. Never reads FIFOs or devices (the caller only passes regular
 * files), never loads more than `cap` bytes into memory, and decodes UTF-8 without throwing.
 */
export async function readCapped(path: string, cap: number): Promise<CappedRead> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const want = Math.min(size, cap);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const bytes = buf.subarray(0, got);
    const head = bytes.subarray(0, 8192);
    const binary = head.includes(0);
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
  } finally {
    await fh.close();
  }
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
