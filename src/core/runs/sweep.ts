/** Sweeps: see ./sweep/index.ts (the sweep file, the GPU pool, the store and lock, the supervisor, the summary). */
export * from './sweep/index';
