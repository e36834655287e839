import type { Ctx } from '../ctx';
import { asSentence } from './register';

/**
 * One contributed command: its id, the handler made from the parts of the context it uses (a narrow `Pick<Ctx, …>`),
 * and how a failure that is neither a Problem nor a cancellation is said (default: "<id> failed: … See the logs").
 * Every command is one such definition in a file of its own; `commands/index.ts` lists them all and activation
 * registers the list through `registerCommand` (errors, cancellation and "View Logs" handled there once).
 */
export interface CommandDef {
  readonly id: string;
  make(ctx: Ctx): (...args: never[]) => unknown;
  readonly describeFailure?: (err: unknown) => string;
}

/** A command definition whose handler needs only `P` of the context (checked by the compiler where it is written). */
export function command<P extends keyof Ctx>(
  id: string,
  make: (ctx: Pick<Ctx, P>) => (...args: never[]) => unknown,
  describeFailure?: (err: unknown) => string,
): CommandDef {
  return { id, make, describeFailure };
}

/**
 * A command whose one argument is an options object (the palette passes none; tests and other extensions may), and
 * whose failures are already one sentence each (shown as they are).
 */
export function optionsCommand<P extends keyof Ctx, O extends object>(
  id: string,
  run: (ctx: Pick<Ctx, P>, options: O) => unknown,
): CommandDef {
  return command<P>(id, (ctx) => (options?: O) => run(ctx, options ?? ({} as O)), asSentence);
}
