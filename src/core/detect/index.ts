export * from './types';
export { detectProject, DetectRootError, DEFAULTS as DETECT_DEFAULTS } from './detect';
