/** Version strings as projects write them -> the `X.Y` forms the profile reports. */
import { filter, satisfies, validRange } from '@renovatebot/pep440';

/** `cu121` -> `12.1`, `cu118` -> `11.8`, `cu92` -> `9.2`, `cu130` -> `13.0`. */
export function cudaFromWheelTag(tag: string): string | null {
  const m = /^cu(\d{2,3})$/i.exec(tag);
  if (!m) return null;
  const digits = m[1]!;
  return `${digits.slice(0, -1)}.${digits.slice(-1)}`;
}

/** The CUDA version in a PyTorch wheel index URL (`.../whl/cu121`, `.../whl/nightly/cu124`). */
export function cudaFromIndexUrl(url: string): string | null {
  const m = /\/whl\/(?:nightly\/|test\/)?(cu\d{2,3})(?:\/|$)/i.exec(url);
  return m ? cudaFromWheelTag(m[1]!) : null;
}

/** The CUDA version in a local version label: `2.1.0+cu121` -> `12.1`. */
export function cudaFromLocalVersion(version: string): string | null {
  const m = /\+(cu\d{2,3})\b/i.exec(version);
  return m ? cudaFromWheelTag(m[1]!) : null;
}

/**
 * The CUDA version in a build label that spells it out, as jaxlib's do: `0.3.2+cuda11.cudnn82` -> `11` (a CUDA 11
 * build, the minor left open), `0.1.69+cuda111` -> `11.1`.
 */
export function cudaFromBuildLabel(version: string): string | null {
  const m = /\+cuda(\d+)(?=[.\-_]|$)/i.exec(version);
  if (!m) return null;
  const digits = m[1]!;
  return digits.length <= 2 ? String(Number(digits)) : cudaFromWheelTag(`cu${digits}`);
}

/** The Python of an official Python image (`python:3.10-slim`, `docker.io/library/python:3.11`), as `X.Y`. */
export function pythonFromImage(image: string): string | null {
  const m = /^(?:(?:[\w.-]+(?::\d+)?\/)?library\/|[\w.-]+\.[\w.-]+(?::\d+)?\/)?python:(\d+\.\d+)(?![\d])/.exec(
    image.trim().toLowerCase(),
  );
  return m ? majorMinor(m[1]!) : null;
}

/** `12.1.105` / `12.1` / `12.1.*` -> `12.1`; anything without a major and minor -> null. */
export function majorMinor(version: string): string | null {
  const m = /(\d+)\.(\d+)/.exec(version);
  return m ? `${Number(m[1])}.${Number(m[2])}` : null;
}

/** The CUDA version an image reference pins: `nvidia/cuda:12.1.0-...`, `pytorch/pytorch:2.1.0-cuda12.1-...`. */
export function cudaFromImage(image: string): string | null {
  const ref = image.trim().toLowerCase();
  const slash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', slash + 1);
  if (colon === -1) return null;
  const repo = ref.slice(0, colon);
  const tag = ref.slice(colon + 1);
  if (/(?:^|\/)nvidia\/cuda$/.test(repo) || /(?:^|\/)nvidia\/cuda-/.test(repo)) {
    return majorMinor(tag.split('-')[0] ?? '');
  }
  const embedded = /(?:^|[-_])cuda(\d+\.\d+)/.exec(tag);
  if (embedded) return majorMinor(embedded[1]!);
  const wheelTag = /(?:^|[-_])(cu\d{2,3})(?:[-_]|$)/.exec(tag);
  return wheelTag ? cudaFromWheelTag(wheelTag[1]!) : null;
}

/** What a project says about its Python: the lowest X.Y it allows, and whether it pins one X.Y or allows a range. */
export interface PythonRequirement {
  /** The lowest `X.Y` the specifier allows (the pin itself for a pin). */
  version: string;
  /** True when exactly one `X.Y` is allowed (`==3.10.*`, `~=3.10.0`, conda `python=3.10`, `.python-version`). */
  pinned: boolean;
  /** The specifier as PEP 440 reads it (`>=3.8`, `>=3.9,<3.12`), alternatives joined by ` || `. */
  allows: string;
}

/** The Python minor versions a specifier is checked against, oldest first. */
const PYTHON_MINORS: readonly string[] = [
  ...Array.from({ length: 8 }, (_, i) => `2.${i}`),
  ...Array.from({ length: 26 }, (_, i) => `3.${i}`),
];
/** The patch releases tried for each minor: a minor is allowed when one of them is. */
const PATCHES = [0, 1, 2, 3, 5, 8, 10, 15, 20, 30, 50, 99];

/**
 * One clause of Poetry, conda or PEP 440 as PEP 440 clauses: `^3.10` -> `>=3.10,<4`, `~3.10` -> `>=3.10,<3.11`,
 * `3.10` / `=3.10` / `3.10.*` -> `==3.10.*`; `>3.8` reads as newer than 3.8 (`>=3.9`), as Python minors are released.
 * Null for a clause that is not a version constraint.
 */
function pep440Clause(clause: string): string | null {
  const m = /^(===|==|~=|>=|<=|!=|>|<|\^|~|=)?\s*v?(\d+(?:\.\d+)*)(\.\*)?$/.exec(clause.trim());
  if (!m) return clause.trim() === '*' ? '' : null;
  const op = m[1] ?? '';
  const version = m[2]!;
  const parts = version.split('.').map(Number);
  const [major = 0, minor] = parts;
  switch (op) {
    case '^':
      return major > 0 ? `>=${version},<${major + 1}` : `>=${version},<0.${(minor ?? 0) + 1}`;
    case '~':
      return minor === undefined ? `>=${version},<${major + 1}` : `>=${version},<${major}.${minor + 1}`;
    case '':
    case '=':
      return `==${version}.*`;
    case '==':
      return m[3] || parts.length > 2 ? `==${version}${m[3] ?? ''}` : `==${version}.*`;
    case '>':
      return parts.length === 2 ? `>=${major}.${minor! + 1}` : `>${version}`;
    case '!=':
      return `!=${version}${m[3] ?? ''}`;
    default:
      // a wildcard means nothing after an ordering operator (`>=3.6.*`): the version before it is meant
      return `${op}${version}`;
  }
}

/**
 * What a Python requirement specifier allows, through PEP 440: PEP 440 itself (`>=3.9,<3.12`, `==3.10.*`, `~=3.10`),
 * Poetry (`^3.10`, `~3.10`, `3.10.*`, `>=3.9 <3.12`, `3.10 || 3.11`) and conda (`3.10`, `3.10.*`, `>=3.9`). Null when
 * the specifier has no lower bound (`<3.12`, `*`), allows no Python, or cannot be read.
 */
export function pythonRequirement(spec: string): PythonRequirement | null {
  const alternatives: string[] = [];
  for (const alternative of spec.split(/\|\|?/)) {
    const clauses = alternative
      .split(/,|\s+(?=[<>=!~^\d])/)
      .map((c) => c.trim())
      .filter((c) => c !== '');
    const pep = clauses.map(pep440Clause);
    if (pep.some((c) => c === null)) continue;
    const joined = pep.filter((c) => c !== '').join(',');
    if (joined === '' || !validRange(joined)) continue;
    if (satisfies('0.0.1', joined)) continue; // no lower bound
    alternatives.push(joined);
  }
  if (alternatives.length === 0) return null;
  const allowed = pythonsAllowedBy(alternatives);
  if (allowed.length === 0) return null;
  return { version: allowed[0]!, pinned: allowed.length === 1, allows: alternatives.join(' || ') };
}

const CANDIDATES: readonly string[] = PYTHON_MINORS.flatMap((minor) => PATCHES.map((patch) => `${minor}.${patch}`));
const allowedCache = new Map<string, readonly string[]>();

/** The Python minors (`X.Y`, oldest first) that some patch release of is allowed by one of the PEP 440 ranges. */
function pythonsAllowedBy(ranges: readonly string[]): string[] {
  const minors = new Set<string>();
  for (const range of ranges) {
    let allowed = allowedCache.get(range);
    if (allowed === undefined) {
      allowed = [...new Set(filter([...CANDIDATES], range).map((v) => v.split('.').slice(0, 2).join('.')))];
      if (allowedCache.size > 1000) allowedCache.clear();
      allowedCache.set(range, allowed);
    }
    for (const m of allowed) minors.add(m);
  }
  return PYTHON_MINORS.filter((m) => minors.has(m));
}

/** The Python minors (`X.Y`, oldest first) a requirement allows, among those PEP 440 ranges name. */
export function pythonsAllowed(requirement: Pick<PythonRequirement, 'allows'>): string[] {
  return pythonsAllowedBy(requirement.allows.split(' || '));
}

/**
 * The Python version a requirement specifier gives, as `X.Y`: a pin gives that version; a range gives its lowest
 * allowed minor version (the oldest Python the project says it supports). Null when it has no lower bound.
 */
export function pythonFromSpecifier(spec: string): string | null {
  return pythonRequirement(spec)?.version ?? null;
}
