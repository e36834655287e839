/**
 * `ml-containers`: the command-line twin of the extension, over the same core. Thin: parse arguments, call the
 * core, print. Exit codes: 0 ok, 1 the command found a problem or failed, 2 bad usage.
 */
import { errorMessage } from '../core/util/errors';
import { checkCommand } from './commands/check';
import { detectCommand } from './commands/detect';
import { diffCommand } from './commands/diff';
import { fingerprintCommand } from './commands/fingerprint';
import { gpusCommand } from './commands/gpus';
import { k8sCommand } from './commands/k8s';
import { pushCommand } from './commands/push';
import { logsCommand, psCommand, runCommand, stopCommand, sweepCommand } from './commands/runs';
import { scaffoldCommand } from './commands/scaffold';
import { neutralizeControls } from '../core/util/text';
import { type CliCommand, EXIT, type Io, UsageError, terminalIo } from './usage';

declare const ML_CONTAINERS_VERSION: string | undefined;

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly CliCommand[] = [
  detectCommand,
  scaffoldCommand,
  gpusCommand,
  checkCommand,
  fingerprintCommand,
  diffCommand,
  runCommand,
  psCommand,
  logsCommand,
  stopCommand,
  sweepCommand,
  pushCommand,
  k8sCommand,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'ml-containers: GPU dev containers for machine learning, from the command line.',
    '',
    'Usage: ml-containers <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run `ml-containers <command> --help` for a command's options.",
  ].join('\n');
}

export async function main(argv: string[], terminal: Io): Promise<number> {
  const io = terminalIo(terminal);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(help());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    io.out(typeof ML_CONTAINERS_VERSION === 'string' ? ML_CONTAINERS_VERSION : 'dev');
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`ml-containers: unknown command "${name}".\n\n${help()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`Usage: ${command.usage}`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`ml-containers ${command.name}: ${err.message}\n\nUsage: ${command.usage}`);
      return EXIT.usage;
    }
    io.err(`ml-containers ${command.name} failed: ${errorMessage(err)}`);
    return EXIT.failure;
  }
}

if (require.main === module) {
  const interrupt = new AbortController();
  const onSignal = (): void => {
    if (interrupt.signal.aborted) process.exit(130); // a second Ctrl-C: give up at once
    interrupt.abort();
  };
  const io: Io = {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    write: (chunk) => process.stdout.write(chunk),
    trapInterrupt: () => {
      if (process.listeners('SIGINT').includes(onSignal)) return interrupt.signal;
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      return interrupt.signal;
    },
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`ml-containers: ${neutralizeControls(errorMessage(err))}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}
