/** Dotted numeric versions (drivers `580.159.04`, CUDA `12.4.1`, compute capability `8.9`). */

export { compareVersions, versionAtLeast } from '../util/versions';

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
