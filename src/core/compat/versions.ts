/** Dotted numeric versions (drivers `580.159.04`, CUDA `12.4.1`, compute capability `8.9`). */

/** Compares dotted numeric versions; missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export const versionAtLeast = (a: string, b: string): boolean => compareVersions(a, b) >= 0;

/** `12.4.1` -> `12.4`. */
export function majorMinorOf(v: string): string {
  const [a = '0', b = '0'] = v.split('.');
  return `${Number(a)}.${Number(b)}`;
}

export const majorOf = (v: string): number => Number.parseInt(v.split('.')[0] ?? '0', 10);

/** The driver branch of a driver version: `535.104.05` -> 535. */
export const driverBranch = (driver: string): number => majorOf(driver);

/** `cu121` -> `12.1`. */
export { cudaFromWheelTag as cudaFromVariant } from '../detect/versions';

/** `12.1` -> `cu121`. */
export function variantFromCuda(cuda: string): string {
  const [a, b] = majorMinorOf(cuda).split('.');
  return `cu${a}${b}`;
}
