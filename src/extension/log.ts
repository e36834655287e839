import * as vscode from 'vscode';

/** The extension's one log channel, and errors shown as one sentence with a "View Logs" action. */
export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('ML Containers', { log: true });
  }

  debug(message: string): void {
    this.channel.debug(message);
  }
  info(message: string): void {
    this.channel.info(message);
  }
  warn(message: string): void {
    this.channel.warn(message);
  }
  error(message: string, err?: unknown): void {
    this.channel.error(err instanceof Error ? `${message}: ${err.stack ?? err.message}` : message);
  }

  /** Shows `message` (one sentence: what happened and what to do) with a View Logs button. */
  async showError(message: string, err?: unknown): Promise<void> {
    this.error(message, err);
    const choice = await vscode.window.showErrorMessage(message, 'View Logs');
    if (choice === 'View Logs') this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
