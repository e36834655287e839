export * from './build';
export * from './explain';
export * from './prepare';
export * from './runner';
export * from './spec';
export * from './store';
export * from './sweep';
export * from './types';
