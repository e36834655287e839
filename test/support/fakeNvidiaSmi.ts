/** Puts the fake nvidia-smi (test/support/fake-nvidia-smi.js) on a temporary PATH, replaying one capture folder. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The project root (this file is compiled to out/test/support). */
const ROOT = path.resolve(__dirname, '..', '..', '..');

export const FAKE_NVIDIA_SMI = path.join(ROOT, 'test', 'support', 'fake-nvidia-smi.js');
export const GPU_HOSTS = path.join(ROOT, 'test', 'fixtures', 'gpu-hosts');

export interface FakeNvidiaSmi {
  /** The folder holding the `nvidia-smi` wrapper: the only entry of `env.PATH`. */
  binDir: string;
  /** The wrapper's path. */
  nvidiaSmi: string;
  /** An environment whose PATH has only the wrapper, plus `extraEnv`. */
  env: NodeJS.ProcessEnv;
  cleanup: () => void;
}

/**
 * Writes `<tmp>/nvidia-smi`, a shell wrapper that runs `node fake-nvidia-smi.js <capture> "$@"` (absolute paths, so
 * it works on a PATH with nothing else), for the capture folder `host` (a name under test/fixtures/gpu-hosts/).
 */
export function installFakeNvidiaSmi(
  host: string,
  extraEnv: NodeJS.ProcessEnv = {},
  name = 'nvidia-smi',
  /** Variables the wrapper itself sets (for callers that cannot pass an environment, e.g. the extension). */
  wrapperEnv: Record<string, string> = {},
): FakeNvidiaSmi {
  const capture = path.join(GPU_HOSTS, host);
  if (!fs.existsSync(capture)) throw new Error(`No capture folder ${capture}.`);
  const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-fake-smi-'));
  const nvidiaSmi = path.join(binDir, name);
  fs.mkdirSync(path.dirname(nvidiaSmi), { recursive: true });
  fs.writeFileSync(
    nvidiaSmi,
    `#!/bin/sh\n${Object.entries(wrapperEnv)
      .map(([k, v]) => `export ${k}=${shQuote(v)}\n`)
      .join('')}exec ${shQuote(process.execPath)} ${shQuote(FAKE_NVIDIA_SMI)} ${shQuote(capture)} "$@"\n`,
    { mode: 0o755 },
  );
  return {
    binDir,
    nvidiaSmi,
    env: { ...process.env, ...extraEnv, PATH: binDir },
    cleanup: () => fs.rmSync(binDir, { recursive: true, force: true }),
  };
}

/** The output of a `*.txt` capture without its `$ command` line and `[exit N]` line. */
export function captureBody(host: string, file: string): string {
  const lines = fs.readFileSync(path.join(GPU_HOSTS, host, file), 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0]?.startsWith('$ ')) lines.shift();
  if (/^\[exit \d+\]$/.test(lines[lines.length - 1] ?? '')) lines.pop();
  return `${lines.join('\n')}\n`;
}

export function readCapture(host: string, file: string): string {
  return fs.readFileSync(path.join(GPU_HOSTS, host, file), 'utf8');
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
