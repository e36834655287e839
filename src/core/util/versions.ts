/**
 * The one comparison of dotted numeric versions in ML Containers: drivers `580.159.04`, CUDA `12.4.1`, compute
 * capability `8.9`, Docker API `1.41`, Python `3.10`. (Python requirement specifiers go through PEP 440 instead.)
 */

/** Compares dotted numeric versions: -1, 0 or 1; missing or non-numeric parts count as 0 (`12.4` equals `12.4.0`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** True when `a` is `b` or newer. */
export const versionAtLeast = (a: string, b: string): boolean => compareVersions(a, b) >= 0;
