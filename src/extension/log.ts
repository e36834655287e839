import * as vscode from 'vscode';
import { isProblem } from '../core/util/errors';

/** A button of an error notification and what it does. */
export interface ErrorAction {
  label: string;
  run: () => unknown;
}

/** How many shown errors `shownErrors` keeps. */
const SHOWN_KEPT = 50;

/** The extension's one log channel, and errors shown as one sentence with a "View Logs" action. */
export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  /** The last errors shown to the user (oldest first), as shown: what a test or a bug report reads back. */
  readonly shownErrors: string[] = [];

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
    // a problem's kind and the engine's own words go to the log; the notification has the sentence only
    const about = isProblem(err) ? ` [${err.id}${err.detail ? `: ${err.detail}` : ''}]` : '';
    this.channel.error(err instanceof Error ? `${message}${about}: ${err.stack ?? err.message}` : message);
  }

  /**
   * Shows `message` (one sentence: what happened and what to do) with the buttons of `actions`, then View Logs, and
   * runs the one chosen.
   */
  async showError(message: string, err?: unknown, actions: readonly ErrorAction[] = []): Promise<void> {
    this.error(message, err);
    this.shownErrors.push(message);
    if (this.shownErrors.length > SHOWN_KEPT) this.shownErrors.shift();
    const choice = await vscode.window.showErrorMessage(message, ...actions.map((a) => a.label), 'View Logs');
    if (choice === 'View Logs') this.channel.show(true);
    await actions.find((a) => a.label === choice)?.run();
  }

  dispose(): void {
    this.channel.dispose();
  }
}
