export * from './build';
export * from './find';
export * from './model';
export * from './read';
export * from './runArgs';
