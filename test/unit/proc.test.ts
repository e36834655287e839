/** Child processes: argv arrays, named errors, process trees killed on timeout and cancellation, line streams. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GPU_QUERY_FIELDS, parseQueryGpuCsv, queryGpuArgs } from '../../src/core/gpu';
import {
  CancellationError,
  ChildProcessError,
  CommandNotFoundError,
  ProcessStartError,
  ProcessTimeoutError,
  runProcess,
  streamLines,
} from '../../src/core/proc';
import { installFakeNvidiaSmi } from '../support/fakeNvidiaSmi';
import { tempDir } from './helpers';

/** True while the process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function waitUntil(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

function readPids(file: string): number[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

/** `sh` that writes its own pid and a background `sleep`'s pid to pidFile, then sleeps: a tree of three processes. */
const TREE = (pidFile: string) => ['-c', `sleep 30 & echo $$ $! > '${pidFile}'; sleep 30`];

describe('proc: runProcess', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('passes argv as is, never through a shell', async () => {
    const r = await runProcess('printf', ['%s|', '$(echo hi)', 'a b', "it's", '*']);
    assert.equal(r.stdout, "$(echo hi)|a b|it's|*|");
    assert.equal(r.exitCode, 0);
    assert.equal(r.truncated, false);
  });

  it('passes env and cwd', async () => {
    const r = await runProcess('sh', ['-c', 'printf "%s %s" "$MLC_X" "$(pwd)"'], {
      env: { PATH: process.env.PATH, MLC_X: 'yes' },
      cwd: dir,
    });
    assert.equal(r.stdout, `yes ${fs.realpathSync(dir)}`);
  });

  it('a non-zero exit rejects with ChildProcessError carrying the code, stderr as message, and stdout', async () => {
    const err = await runProcess('sh', ['-c', 'echo partial; echo "disk on fire" >&2; exit 3']).catch((e) => e);
    assert.ok(err instanceof ChildProcessError);
    assert.equal(err.exitCode, 3);
    assert.equal(err.message, 'disk on fire');
    assert.equal(err.stderr, 'disk on fire\n');
    assert.equal(err.stdout, 'partial\n');
    const quiet = await runProcess('sh', ['-c', 'exit 4']).catch((e) => e);
    assert.equal(quiet.message, 'sh exited with code 4.');
    const ok = await runProcess('sh', ['-c', 'echo x; exit 1'], { okExitCodes: [0, 1] });
    assert.equal(ok.exitCode, 1);
  });

  it('a child killed by a signal rejects with ChildProcessError naming the signal', async () => {
    const err = await runProcess('sh', ['-c', 'kill -SEGV $$']).catch((e) => e);
    assert.ok(err instanceof ChildProcessError);
    assert.equal(err.exitCode, null);
    assert.equal(err.signal, 'SIGSEGV');
  });

  it('a missing program rejects with CommandNotFoundError; one that cannot run with ProcessStartError', async () => {
    const missing = await runProcess('mlc-no-such-program-xyz', ['--version']).catch((e) => e);
    assert.ok(missing instanceof CommandNotFoundError);
    assert.equal(missing.message, 'mlc-no-such-program-xyz was not found: install it or put it on the PATH.');
    const file = path.join(dir, 'not-executable');
    fs.writeFileSync(file, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const denied = await runProcess(file, []).catch((e) => e);
    assert.ok(denied instanceof ProcessStartError);
    assert.equal(denied.code, 'EACCES');
  });

  it('a timeout kills the whole process tree and rejects with ProcessTimeoutError', async () => {
    const pidFile = path.join(dir, 'pids');
    const t0 = Date.now();
    const err = await runProcess('sh', TREE(pidFile), { timeoutMs: 400 }).catch((e) => e);
    assert.ok(err instanceof ProcessTimeoutError, String(err));
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(err.message, 'sh did not finish within 400 ms and was stopped.');
    const pids = readPids(pidFile);
    assert.equal(pids.length, 2);
    assert.ok(await waitUntil(() => pids.every((p) => !alive(p))), `still alive: ${pids.filter(alive).join(' ')}`);
  });

  it('cancellation kills the whole process tree and rejects with CancellationError', async () => {
    const pidFile = path.join(dir, 'pids');
    const ac = new AbortController();
    const running = runProcess('sh', TREE(pidFile), { signal: ac.signal });
    assert.ok(await waitUntil(() => readPids(pidFile).length === 2));
    ac.abort();
    await assert.rejects(running, CancellationError);
    const pids = readPids(pidFile);
    assert.ok(await waitUntil(() => pids.every((p) => !alive(p))), `still alive: ${pids.filter(alive).join(' ')}`);
    await assert.rejects(
      runProcess('sh', ['-c', 'touch x'], { signal: AbortSignal.abort(), cwd: dir }),
      CancellationError,
    );
    assert.equal(fs.existsSync(path.join(dir, 'x')), false, 'an aborted signal must not start the process');
  });

  it('caps the output it keeps and says so', async () => {
    const r = await runProcess('head', ['-c', '1000000', '/dev/zero'], { maxOutputBytes: 1000 });
    assert.equal(r.stdout.length, 1000);
    assert.equal(r.truncated, true);
  });

  it('does not wait for a background grandchild that keeps stdout open', async () => {
    const pidFile = path.join(dir, 'pids');
    const t0 = Date.now();
    const r = await runProcess('sh', ['-c', `sleep 20 & echo $! > '${pidFile}'; echo done`]);
    assert.equal(r.stdout, 'done\n');
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    for (const p of readPids(pidFile)) process.kill(p, 'SIGKILL');
  });
});

describe('proc: streamLines', () => {
  it('reads a long-lived nvidia-smi -lms loop line by line and stop() ends it', async () => {
    const f = installFakeNvidiaSmi('h200-driver-580');
    try {
      const fields = [...GPU_QUERY_FIELDS];
      const lines: string[] = [];
      const s = streamLines(f.nvidiaSmi, queryGpuArgs(fields, { loopMs: 50 }), {
        env: f.env,
        onLine: (l) => lines.push(l),
      });
      assert.ok(await waitUntil(() => lines.length >= 3, 10_000), `got ${lines.length} lines`);
      const end = await s.stop();
      assert.equal(end.stopped, true);
      assert.equal(end.error, undefined);
      assert.ok(s.pid !== undefined && (await waitUntil(() => !alive(s.pid as number))));
      const samples = parseQueryGpuCsv(lines.join('\n'), fields);
      assert.ok(
        samples.every((g) => g.name === 'NVIDIA H200' && g.memoryTotalMiB === 143771 && g.powerDrawW === 126.1),
      );
      assert.deepEqual(await s.stop(), end, 'stop() again gives the same end');
    } finally {
      f.cleanup();
    }
  });

  it('joins lines split across chunks, drops CR, keeps the last line without a newline', async () => {
    const lines: string[] = [];
    const s = streamLines('sh', ['-c', 'printf "a\\nb"; sleep 0.1; printf "c\\r\\nd"; echo oops >&2; exit 5'], {
      onLine: (l) => lines.push(l),
    });
    const end = await s.done;
    assert.deepEqual(lines, ['a', 'bc', 'd']);
    assert.deepEqual([end.exitCode, end.stopped, end.stderr], [5, false, 'oops\n']);
  });

  it('cuts an overlong line and resumes at the next one', async () => {
    const lines: string[] = [];
    await streamLines('sh', ['-c', 'head -c 5000 /dev/zero | tr "\\0" x; echo; echo next'], {
      onLine: (l) => lines.push(l),
      maxLineLength: 100,
    }).done;
    assert.deepEqual(
      lines.map((l) => l.length),
      [100, 4],
    );
    assert.equal(lines[1], 'next');
  });

  it('a missing program ends with CommandNotFoundError in done (never a rejection)', async () => {
    const end = await streamLines('mlc-no-such-program-xyz', [], { onLine: () => undefined }).done;
    assert.ok(end.error instanceof CommandNotFoundError);
    assert.equal(end.exitCode, null);
  });

  it('the abort signal stops the tree; an onLine that throws stops it too', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const pidFile = path.join(dir, 'pids');
      const ac = new AbortController();
      const s = streamLines('sh', TREE(pidFile), { signal: ac.signal, onLine: () => undefined });
      assert.ok(await waitUntil(() => readPids(pidFile).length === 2));
      ac.abort();
      const end = await s.done;
      assert.equal(end.stopped, true);
      const pids = readPids(pidFile);
      assert.ok(await waitUntil(() => pids.every((p) => !alive(p))), `still alive: ${pids.filter(alive).join(' ')}`);

      const thrower = streamLines('sh', ['-c', 'while true; do echo tick; sleep 0.05; done'], {
        onLine: () => {
          throw new Error('consumer broke');
        },
      });
      const broke = await thrower.done;
      assert.equal(broke.stopped, true);
      assert.equal(broke.error?.message, 'consumer broke');
    } finally {
      cleanup();
    }
  });

  it('SIGKILLs a child that ignores SIGTERM after the grace period', async () => {
    const s = streamLines('sh', ['-c', 'trap "" TERM; echo ready; while true; do sleep 0.05; done'], {
      onLine: () => undefined,
      stopGraceMs: 200,
    });
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const end = await s.stop();
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(end.signal, 'SIGKILL');
  });
});
