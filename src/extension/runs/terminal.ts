import { StringDecoder } from 'node:string_decoder';
import * as vscode from 'vscode';

/** A pseudoterminal's two events and the UTF-8 decoder of the bytes it shows (a character may span two chunks). */
abstract class EmittingTerminal implements vscode.Pseudoterminal {
  protected readonly writeEmitter = new vscode.EventEmitter<string>();
  protected readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  protected readonly decoder = new StringDecoder('utf8');

  abstract open(dimensions: vscode.TerminalDimensions | undefined): void;
  abstract close(): void;
}

/**
 * A terminal that shows a run's output as the container prints it (a pseudoterminal: colours and `\r` progress bars
 * render as in a shell). Text written before the terminal opens is kept and shown when it does.
 */
export class OutputTerminal extends EmittingTerminal {
  private pending: string[] | undefined = [];
  private readonly closed = new AbortController();
  readonly terminal: vscode.Terminal;
  /** Everything written so far, for tests (capped). */
  private transcript = '';
  /** The terminal's width once known: our own lines are wrapped at spaces to fit, not cut mid-word. */
  private columns: number | undefined;

  constructor(name: string, iconId = 'pulse') {
    super();
    this.terminal = vscode.window.createTerminal({ name, pty: this, iconPath: new vscode.ThemeIcon(iconId) });
  }

  /** Fires when the user closes the terminal: stop following (the run goes on). */
  get signal(): AbortSignal {
    return this.closed.signal;
  }

  get text(): string {
    return this.transcript;
  }

  open(dimensions: vscode.TerminalDimensions | undefined): void {
    this.columns = dimensions?.columns;
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const t of pending) this.writeEmitter.fire(t);
  }

  setDimensions(dimensions: vscode.TerminalDimensions): void {
    this.columns = dimensions.columns;
  }

  close(): void {
    this.closed.abort();
  }

  /** Terminal bytes from a container with a TTY (already `\r\n`). */
  writeRaw(chunk: Uint8Array): void {
    this.emit(this.decoder.write(Buffer.from(chunk)));
  }

  /** Plain text lines (build progress, our own messages): `\n` becomes `\r\n`. */
  writeLine(text: string, style?: 'dim' | 'error' | 'bold'): void {
    const codes = { dim: '\x1b[2m', error: '\x1b[31m', bold: '\x1b[1m' };
    const body = text
      .split(/\r?\n/)
      .map((line) => wrapAtSpaces(line, this.columns))
      .join('\r\n');
    this.emit(style ? `${codes[style]}${body}\x1b[0m\r\n` : `${body}\r\n`);
  }

  private emit(text: string): void {
    if (!text) return;
    if (this.transcript.length < 1_000_000) this.transcript += text;
    if (this.pending) this.pending.push(text);
    else this.writeEmitter.fire(text);
  }

  show(): void {
    this.terminal.show(true);
  }
}

/** Breaks a line at spaces so that no part is wider than `columns` (a word wider than that stays whole). */
export function wrapAtSpaces(line: string, columns: number | undefined): string {
  if (!columns || columns < 20 || line.length <= columns) return line;
  const out: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current && current.length + 1 + word.length > columns) {
      out.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) out.push(current);
  return out.join('\r\n');
}

/** An interactive terminal over a stream (a shell in a container): keystrokes in, output out, resize. */
export class StreamTerminal extends EmittingTerminal {
  constructor(
    private readonly stream: NodeJS.ReadWriteStream,
    private readonly onResize: (columns: number, rows: number) => void,
    exited: Promise<number | null>,
  ) {
    super();
    stream.on('data', (chunk: Buffer) => this.writeEmitter.fire(this.decoder.write(chunk)));
    void exited.then((code) => this.closeEmitter.fire(code ?? undefined));
  }

  open(dimensions: vscode.TerminalDimensions | undefined): void {
    if (dimensions) this.onResize(dimensions.columns, dimensions.rows);
  }

  setDimensions(dimensions: vscode.TerminalDimensions): void {
    this.onResize(dimensions.columns, dimensions.rows);
  }

  handleInput(data: string): void {
    this.stream.write(data);
  }

  close(): void {
    this.stream.end();
  }
}
