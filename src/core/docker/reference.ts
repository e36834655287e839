/**
 * Docker image references, one grammar for every face and every place a reference lands (a run's image, a sweep's,
 * a scaffold's base image, a cluster job's): distribution/reference's `[domain[:port]/]path[:tag][@digest]`. A
 * reference is checked before it reaches the engine's API (where `..`, `/x` or `a//b` become other URLs), a
 * Dockerfile or a manifest.
 */
import { visible } from '../util/encode';

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);
/** The longest name (without tag and digest) the engine accepts. */
const NAME_MAX = 255;
const REF_HINT = 'write it as name[:tag][@digest], e.g. pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime';

/** True when `ref` is a Docker image reference (`name[:tag][@digest]`, the grammar of the Docker CLI). */
export function isImageReference(ref: string): boolean {
  const m = REFERENCE.exec(ref);
  return m !== null && m[1]!.length <= NAME_MAX;
}

/**
 * Why `ref` is not an image reference the engine accepts (one sentence that says how to write one), or null when it
 * is one.
 */
export function imageRefProblem(ref: string): string | null {
  // quoted and escaped: a reference with a newline or a terminal escape in it is shown, not printed
  const shown = visible(JSON.stringify(ref.length > 80 ? `${ref.slice(0, 80)}…` : ref));
  const bad = (why: string): string => `${shown} ${why}; ${REF_HINT}.`;
  if (ref === '') return `"" is empty, not an image reference; ${REF_HINT}.`;
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f-\x9f]/.test(ref)) return bad('has a space or control character in it');
  const m = REFERENCE.exec(ref);
  if (m) return m[1]!.length > NAME_MAX ? bad(`is longer than ${NAME_MAX} characters`) : null;
  const name = ref.replace(/@.*$/, '').replace(/:[^/]*$/, '');
  if (name.split('/').some((part) => part === '')) {
    return bad('is not an image reference (it has an empty path component: a leading, trailing or double "/")');
  }
  if (/[A-Z]/.test(name.includes('/') ? name.slice(name.indexOf('/') + 1) : name)) {
    return bad('is not an image reference (repository names are lowercase)');
  }
  return bad('is not an image reference');
}
