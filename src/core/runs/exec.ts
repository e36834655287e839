/**
 * A shell inside a running container through the engine's exec API (what `docker exec -it` does): a terminal
 * session with stdin, output and resize, for "Attach Shell". The command is fixed (bash when the image has it, else
 * sh): nothing of the user's reaches a shell string. Given a run's record, the container is first checked to be that
 * run's (our labels for the run and its project): a record is a file a cloned repository may have forged.
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { type EngineClient, getContainer } from '../docker/engine';
import { engineError } from '../docker/errors';
import { runContainer } from './runner';
import type { RunRecord } from './types';

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

/**
 * Opens a shell in a run's container. `target` is the run's record (its container checked to be the run's), or a
 * container id or name (only such a value is sent to the engine).
 */
export async function openShell(
  client: EngineClient,
  target: string | Pick<RunRecord, 'id' | 'project' | 'containerId'>,
  size?: { columns: number; rows: number },
  command: string[] = SHELL_COMMAND,
): Promise<ShellSession> {
  let exec: Docker.Exec;
  let stream: Duplex;
  let docker: Docker;
  try {
    docker = await client.docker();
  } catch (err) {
    throw engineError(err);
  }
  // checked before anything is sent: one sentence each when it is not a container, or not the run's
  let container: Docker.Container;
  if (typeof target === 'string') {
    container = getContainer(docker, target);
  } else {
    const own = await runContainer(docker, target, target.project);
    if (own === 'gone') throw new Error(`The container of run ${target.id} is gone: start the run again.`);
    container = own.container;
  }
  try {
    exec = await container.exec({
      Cmd: command,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      Env: ['TERM=xterm-256color'],
    });
    stream = (await exec.start({ hijack: true, stdin: true, Tty: true } as Docker.ExecStartOptions)) as Duplex;
  } catch (err) {
    throw engineError(err);
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
