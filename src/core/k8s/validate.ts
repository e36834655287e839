import { isImageReference } from '../docker/reference';
import { parseByteSize } from '../util/size';

/**
 * Checks for every value that ends up in a Kubernetes manifest, wherever it comes from (a command-line option, an
 * editor setting, the project's devcontainer.json, sweep file or pushed-image record): quantities (the grammar of
 * resource.Quantity), namespaces and secret names (DNS-1123), image references (the distribution reference grammar),
 * counts within sane bounds, environment names, and text that a process can receive. Each refusal is a
 * ClusterValueError with one sentence naming the value and what to give instead; the faces only show it. Pure.
 */

/** A value a cluster job cannot be made with; `field` names where it came from (e.g. `--shm`). */
export class ClusterValueError extends Error {
  override readonly name = 'ClusterValueError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** GPUs one pod may ask for (the largest GPU nodes have 8–16). */
export const MAX_GPUS_PER_POD = 64;
/** Nodes one multi-node job may span. */
export const MAX_NODES = 4096;
/** Indexes an Indexed Job may have when it uses backoffLimitPerIndex (a Kubernetes limit). */
export const MAX_SWEEP_VARIANTS = 100_000;
/** What a ConfigMap's data may hold (Kubernetes refuses objects over 1 MiB; room is left for the metadata). */
export const MAX_CONFIGMAP_DATA_BYTES = 1_000_000;
/** The largest /dev/shm a pod may ask for (1 PiB: anything above is a typo or an attack). */
export const MAX_SHM_BYTES = 2 ** 50;

/** A value shown inside a sentence: quoted, control characters and terminal escapes made visible, shortened. */
export function shown(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'number' || typeof value === 'boolean' || value === null) text = String(value);
  else if (value === undefined) text = 'nothing';
  else {
    try {
      text = JSON.stringify(value) ?? typeof value;
    } catch {
      text = typeof value;
    }
  }
  text = text.replace(/[\u007f-\u009f\u2028\u2029\ufeff\ud800-\udfff]/gu, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** The refusal of `value`: `<what> <value, shown> <problem>`, one sentence that says what to give instead. */
function refused(value: unknown, what: string, problem: string): ClusterValueError {
  return new ClusterValueError(`${what} ${shown(value)} ${problem}`, what);
}

/** What the refusal of each kind of name says after the value: what it is not, and what to give instead. */
const NOT_A = {
  namespace:
    "is not a Kubernetes namespace name: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. ml-team).",
  secret:
    "is not a Kubernetes secret name: use at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. regcred).",
  image:
    'is not an image reference: give registry/name:tag or registry/name@sha256:…, e.g. ghcr.io/team/project@sha256:… as pushed.',
  envName: "is not one Kubernetes accepts: use letters, digits, '_', '-' and '.', not starting with a digit.",
} as const;

/** `value` when it is a string that `ok` accepts; else refused as not a name of that kind. */
function checkString(value: unknown, what: string, ok: (text: string) => boolean, kind: keyof typeof NOT_A): string {
  if (typeof value !== 'string' || !ok(value)) throw refused(value, what, NOT_A[kind]);
  return value;
}

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/** True for a DNS-1123 label (namespaces, most object names, label values built by dnsLabel). */
export function isDnsLabel(text: string): boolean {
  return text.length <= 63 && DNS_LABEL.test(text);
}

/** True for a DNS-1123 subdomain (Secret and ConfigMap names). */
export function isDnsSubdomain(text: string): boolean {
  return text.length <= 253 && DNS_SUBDOMAIN.test(text);
}

/** A namespace: a DNS-1123 label. */
export function checkNamespace(value: unknown, what = 'The namespace'): string {
  return checkString(value, what, isDnsLabel, 'namespace');
}

/** An image pull secret's name: a DNS-1123 subdomain. */
export function checkSecretName(value: unknown, what = 'The image pull secret'): string {
  return checkString(value, what, isDnsSubdomain, 'secret');
}

/** A whole number from min to max (a JavaScript number, e.g. from a sweep file or an editor option). */
export function checkCount(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ClusterValueError(
      `${what} must be a whole number from ${min} to ${max}, got ${shown(value)}: give one in that range.`,
      what,
    );
  }
  return value;
}

/** A whole number from min to max written as decimal digits (a command-line option). */
export function parseCount(text: string, what: string, min: number, max: number): number {
  const t = text.trim();
  if (!/^\d{1,16}$/.test(t)) {
    throw new ClusterValueError(
      `${what} needs a whole number from ${min} to ${max}, got ${shown(text)}: give one in that range.`,
      what,
    );
  }
  return checkCount(Number(t), what, min, max);
}

// resource.Quantity: <signedNumber><suffix>, suffix a binary SI unit, a decimal SI unit or an exponent
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|m|k|M|G|T|P|E)?$/;
const QUANTITY_UNITS: Record<string, number> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The bytes a Kubernetes quantity stands for, or undefined when it is not one. */
export function quantityBytes(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const unit = m[2] ?? '';
  const scale = /^[eE]/.test(unit) ? 10 ** Number(unit.slice(1)) : QUANTITY_UNITS[unit];
  if (scale === undefined) return undefined;
  return Number(m[1]) * scale;
}

/** A whole number of bytes as a quantity in the largest binary unit that holds it exactly (`1610612736` -> `1536Mi`). */
export function quantityOfBytes(bytes: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let power = 0;
  while (power < units.length - 1 && bytes > 0 && bytes % 1024 ** (power + 1) === 0) power++;
  return `${bytes / 1024 ** power}${units[power]}`;
}

/**
 * Kubernetes quantity from docker's short size (`16g` -> `16Gi`, `1t` -> `1Ti`, `1.5g` -> `1536Mi`), its bytes read by
 * the core's one size parser; passes anything else (a quantity already, or no size) through to be checked as one.
 */
export function toQuantity(size: string): string {
  const text = size.trim();
  const bytes = /^\d+(?:\.\d+)?[kmgtp]b?$/i.test(text) ? parseByteSize(text) : undefined;
  return bytes === undefined ? text : quantityOfBytes(bytes);
}

/**
 * The size of /dev/shm as a Kubernetes quantity: docker's sizes (`16g`) are converted, quantities (`16Gi`, `1e9`)
 * kept; anything else, nothing, or more than MAX_SHM_BYTES is refused.
 */
export function checkShmSize(value: unknown, what = 'The /dev/shm size'): string {
  const q = typeof value === 'string' ? toQuantity(value) : '';
  const bytes = quantityBytes(q);
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 1 || bytes > MAX_SHM_BYTES) {
    throw refused(
      value,
      what,
      "is not a size a pod's /dev/shm can have: give a positive Kubernetes quantity up to 1Pi, e.g. 16Gi or 512Mi.",
    );
  }
  return q;
}

/** An image reference a kubelet can pull: `registry/name[:tag][@sha256:…]`. */
export function checkImageRef(value: unknown, what = 'The image'): string {
  return checkString(value, what, isImageReference, 'image');
}

/** An environment variable name Kubernetes accepts (every version): letters, digits, '_', '-', '.', not a digit first. */
export function checkEnvName(value: unknown, what = 'An environment variable name'): string {
  return checkString(value, what, (name) => /^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name), 'envName');
}

/**
 * Text a process can receive as an argument or an environment value: a string of well-formed Unicode (it travels as
 * UTF-8) without NUL (which ends a C string). Everything else (newlines, quotes, escapes) is passed literally.
 */
export function checkProcessText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw refused(value, what, 'is not text: give a string.');
  if (value.includes('\0')) {
    throw refused(value, what, 'contains a NUL character, which no program can receive: remove it.');
  }
  if (!isWellFormed(value)) {
    throw refused(value, what, 'is not valid Unicode (a lone surrogate), so it cannot travel as UTF-8: remove it.');
  }
  return value;
}

/** No lone UTF-16 surrogates (String.prototype.isWellFormed, which Node 18 lacks). */
export function isWellFormed(text: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

/** The product of the grid's value counts, stopping once it passes `limit` (a grid is never expanded to count it). */
export function gridSize(grid: Record<string, readonly unknown[]>, limit = MAX_SWEEP_VARIANTS): number {
  let n = 1;
  for (const values of Object.values(grid)) {
    n *= Array.isArray(values) ? values.length : 0;
    if (n > limit) return n;
  }
  return n;
}
