/** Version strings as projects write them -> the `X.Y` forms the profile reports. */

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

/**
 * The Python version a requirement specifier pins, as `X.Y`: an exact or compatible pin gives that version; a
 * range gives its lowest allowed minor version (the oldest Python the project says it supports). Handles PEP 440
 * (`>=3.9,<3.12`, `==3.10.*`, `~=3.10`), Poetry (`^3.10`, `~3.10`, `3.10.*`, `>=3.9 <3.12`, `3.10 || 3.11`) and
 * conda (`3.10`, `3.10.*`, `>=3.9`). Returns null when the specifier has no lower bound.
 */
export function pythonFromSpecifier(spec: string): string | null {
  const candidates: [number, number][] = [];
  for (const alternative of spec.split('||')) {
    let best: [number, number] | null = null;
    for (const clause of alternative.split(/[,\s]+(?=[<>=!~^\d])|,/)) {
      const c = clause.trim();
      if (!c) continue;
      const m = /^(===|==|~=|>=|>|\^|~|=)?\s*v?(\d+)(?:\.(\d+|\*))?/.exec(c);
      if (!m) continue;
      const op = m[1] ?? '==';
      if (c.startsWith('<') || c.startsWith('!=')) continue;
      const major = Number(m[2]);
      let minor = m[3] === undefined || m[3] === '*' ? 0 : Number(m[3]);
      if (op === '>' && m[3] !== undefined && !/^\d+\.\d+\.\d+/.test(c.slice(1).trim())) minor += 1;
      if (major < 2 || major > 4) continue;
      if (!best || major > best[0] || (major === best[0] && minor > best[1])) best = [major, minor];
    }
    if (best) candidates.push(best);
  }
  if (candidates.length === 0) return null;
  candidates.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const [major, minor] = candidates[0]!;
  return `${major}.${minor}`;
}
