/**
 * Container Device Interface (CDI) specs: the files `nvidia-ctk cdi generate` writes (e.g. /etc/cdi/nvidia.yaml) that
 * let an engine resolve device names such as `nvidia.com/gpu=0` or `nvidia.com/gpu=all`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { errorMessage } from '../util/errors';

/** The folders CDI reads specs from, in the order of precedence of the CDI spec (later ones win). */
export const DEFAULT_CDI_SPEC_DIRS = ['/etc/cdi', '/var/run/cdi'];
/** The device kind of NVIDIA GPUs (and their MIG devices) in CDI. */
export const NVIDIA_GPU_KIND = 'nvidia.com/gpu';
const MAX_SPEC_BYTES = 8 * 1024 * 1024;

export interface CdiSpec {
  /** `vendor/class`, e.g. `nvidia.com/gpu`. */
  kind: string;
  cdiVersion: string | null;
  /** Fully qualified device names, `kind=name`, in the order of the file. */
  devices: string[];
}

/** Parses one CDI spec (YAML or JSON; JSON is YAML). Throws with a short reason when it is not a spec. */
export function parseCdiSpec(text: string): CdiSpec {
  const doc: unknown = parseYaml(text);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a CDI spec (no mapping)');
  const d = doc as Record<string, unknown>;
  if (typeof d.kind !== 'string' || !/^[\w.-]+\/[\w.-]+$/.test(d.kind)) {
    throw new Error('not a CDI spec (no `kind: vendor/class`)');
  }
  const devices: string[] = [];
  for (const dev of Array.isArray(d.devices) ? d.devices : []) {
    const name = (dev as { name?: unknown } | null)?.name;
    if (typeof name === 'string' && name !== '') devices.push(`${d.kind}=${name}`);
    else if (typeof name === 'number') devices.push(`${d.kind}=${name}`);
  }
  return { kind: d.kind, cdiVersion: typeof d.cdiVersion === 'string' ? d.cdiVersion : null, devices };
}

/** The NVIDIA GPU device names (`nvidia.com/gpu=…`) of parsed specs, without duplicates, in order. */
export function nvidiaGpuDevices(specs: CdiSpec[]): string[] {
  const out = new Set<string>();
  for (const s of specs) if (s.kind === NVIDIA_GPU_KIND) for (const d of s.devices) out.add(d);
  return [...out];
}

export interface CdiScan {
  /** The spec folders that exist. */
  dirs: string[];
  specs: Array<CdiSpec & { file: string }>;
  /** `{file, message}` for spec files that could not be read or parsed. */
  warnings: Array<{ file: string; message: string }>;
}

/** Reads the `*.yaml`, `*.yml` and `*.json` spec files directly in each folder (CDI does not recurse). */
export async function scanCdiSpecDirs(dirs: string[] = DEFAULT_CDI_SPEC_DIRS): Promise<CdiScan> {
  const scan: CdiScan = { dirs: [], specs: [], warnings: [] };
  for (const dir of dirs) {
    let names: string[];
    try {
      const st = await fs.promises.stat(dir);
      if (!st.isDirectory()) continue;
      names = (await fs.promises.readdir(dir)).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') scan.warnings.push({ file: dir, message: errorMessage(err) });
      continue;
    }
    scan.dirs.push(dir);
    for (const name of names) {
      if (!/\.(ya?ml|json)$/i.test(name)) continue;
      const file = path.join(dir, name);
      try {
        const st = await fs.promises.stat(file);
        if (!st.isFile()) continue;
        if (st.size > MAX_SPEC_BYTES) throw new Error(`larger than ${MAX_SPEC_BYTES / 1024 / 1024} MiB`);
        scan.specs.push({ ...parseCdiSpec(await fs.promises.readFile(file, 'utf8')), file });
      } catch (err) {
        scan.warnings.push({ file, message: errorMessage(err).split('\n')[0] ?? 'unreadable' });
      }
    }
  }
  return scan;
}
