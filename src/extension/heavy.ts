import type * as Lazy from './lazy';

let loaded: typeof Lazy | undefined;

/** The heavy half of the extension (see lazy.ts), loaded on first use: never during activation. */
export function heavy(): typeof Lazy {
  // a literal path: dist/lazy.js next to dist/extension.js, or out/src/extension/lazy.js next to this file in tests
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('./lazy.js') as typeof Lazy;
  return loaded;
}
