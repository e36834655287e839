export * from './cluster';
export * from './manifests';
export * from './plan';
export * from './records';
export * from './validate';
