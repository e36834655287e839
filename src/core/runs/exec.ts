/**
 * A shell inside a running container through the engine's exec API (what `docker exec -it` does): a terminal
 * session with stdin, output and resize, for "Attach Shell". The command is fixed (bash when the image has it, else
 * sh): nothing of the user's reaches a shell string.
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { EngineClient } from '../docker/engine';
import { describeEngineProblem, explainEngineError } from '../docker/errors';

/** bash when the image has it, else sh. */
export const SHELL_COMMAND = [
  '/bin/sh',
  '-c',
  'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi',
];

export interface ShellSession {
  /** Keystrokes in, terminal output out. */
  stream: Duplex;
  resize(columns: number, rows: number): Promise<void>;
  /** Settles with the shell's exit code when it ends. */
  exited: Promise<number | null>;
}

export async function openShell(
  client: EngineClient,
  containerId: string,
  size?: { columns: number; rows: number },
  command: string[] = SHELL_COMMAND,
): Promise<ShellSession> {
  let exec: Docker.Exec;
  let stream: Duplex;
  try {
    const docker = await client.docker();
    exec = await docker.getContainer(containerId).exec({
      Cmd: command,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      Env: ['TERM=xterm-256color'],
    });
    stream = (await exec.start({ hijack: true, stdin: true, Tty: true } as Docker.ExecStartOptions)) as Duplex;
  } catch (err) {
    throw new Error(describeEngineProblem(explainEngineError(err)));
  }
  const resize = async (columns: number, rows: number): Promise<void> => {
    await exec.resize({ h: rows, w: columns }).catch(() => undefined); // the shell may already be gone
  };
  if (size) await resize(size.columns, size.rows);
  const exited = new Promise<number | null>((resolve) => {
    const done = (): void => {
      exec.inspect().then(
        (i) => resolve(i.ExitCode ?? null),
        () => resolve(null),
      );
    };
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
  });
  return { stream, resize, exited };
}
