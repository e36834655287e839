/** Reads the engine's /version and /info answers and picks the API version to speak. Pure (no I/O). */
import { compareVersions } from '../util/versions';

/** The API version a client falls back to when the engine does not say (the Docker CLI does the same). */
export const FALLBACK_API_VERSION = '1.24';

/** Compares two `major.minor` API versions: negative when a < b, 0 when equal, positive when a > b. */
export const compareApiVersions = compareVersions;

/**
 * The API version to use with an engine: exactly the one its unversioned /version reports (`ApiVersion`), never a
 * newer one pinned by the client. An engine that reports none gets FALLBACK_API_VERSION.
 */
export function negotiateApiVersion(version: unknown): string {
  const v = str(obj(version).ApiVersion);
  return v && /^\d+\.\d+$/.test(v) ? v : FALLBACK_API_VERSION;
}

/** What /version says about the engine. */
export interface EngineVersion {
  /** e.g. `20.10.24+dfsg1`. */
  version: string | null;
  /** The newest API version the engine speaks, e.g. `1.41`. */
  apiVersion: string;
  /** The oldest it still accepts, e.g. `1.12`. */
  minApiVersion: string | null;
  os: string | null;
  arch: string | null;
  kernel: string | null;
}

export function parseEngineVersion(version: unknown): EngineVersion {
  const v = obj(version);
  return {
    version: str(v.Version),
    apiVersion: negotiateApiVersion(v),
    minApiVersion: str(v.MinAPIVersion),
    os: str(v.Os),
    arch: str(v.Arch),
    kernel: str(v.KernelVersion),
  };
}

/** What /info says about running GPU containers on the engine. */
export interface EngineInfo {
  engineVersion: string | null;
  /** `Debian GNU/Linux 12 (bookworm)`, `Docker Desktop`, … */
  os: string | null;
  /** `linux` or `windows`. */
  osType: string | null;
  kernel: string | null;
  /** Names of the runtimes the engine knows (`runc`, `nvidia`, …), sorted. */
  runtimes: string[];
  defaultRuntime: string | null;
  /** A runtime named `nvidia*` or one whose binary is nvidia-container-runtime is registered. */
  nvidiaRuntime: boolean;
  /** `cgroupfs` or `systemd`. */
  cgroupDriver: string | null;
  /** `1` or `2`. */
  cgroupVersion: string | null;
  memTotalBytes: number | null;
  ncpu: number | null;
  /** The CDI spec folders the engine reads (engines with API 1.47 and newer report them); null when not reported. */
  cdiSpecDirs: string[] | null;
  /** The engine's own warnings (e.g. missing cgroup controllers). */
  warnings: string[];
}

export function parseEngineInfo(info: unknown): EngineInfo {
  const i = obj(info);
  const runtimesObj = obj(i.Runtimes);
  const runtimes = Object.keys(runtimesObj).sort();
  const defaultRuntime = str(i.DefaultRuntime);
  const nvidiaRuntime =
    runtimes.some(
      (name) => /^nvidia/i.test(name) || /nvidia-container-runtime/.test(str(obj(runtimesObj[name]).path) ?? ''),
    ) || /^nvidia/i.test(defaultRuntime ?? '');
  return {
    engineVersion: str(i.ServerVersion),
    os: str(i.OperatingSystem),
    osType: str(i.OSType),
    kernel: str(i.KernelVersion),
    runtimes,
    defaultRuntime,
    nvidiaRuntime,
    cgroupDriver: str(i.CgroupDriver),
    cgroupVersion: str(i.CgroupVersion),
    memTotalBytes: num(i.MemTotal),
    ncpu: num(i.NCPU),
    cdiSpecDirs: Array.isArray(i.CDISpecDirs) ? i.CDISpecDirs.filter((d): d is string => typeof d === 'string') : null,
    warnings: Array.isArray(i.Warnings) ? i.Warnings.filter((w): w is string => typeof w === 'string') : [],
  };
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
