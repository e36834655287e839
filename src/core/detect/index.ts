export * from './types';
export {
  detectProject,
  detectProjectDetailed,
  DetectRootError,
  DEFAULTS as DETECT_DEFAULTS,
  type ProjectDetails,
} from './detect';
