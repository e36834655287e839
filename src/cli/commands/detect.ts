import { DetectRootError, detectProject } from '../../core/detect';
import { formatProfile } from '../../core/detect/format';
import { defineCommand, JSON_OPTION, ONE_FOLDER } from '../args';
import { EXIT, UsageError } from '../usage';

export const detectCommand = defineCommand({
  name: 'detect',
  summary: 'Detect the ML training project in a folder (frameworks, environment, Python, entry points, GPU need).',
  usage: `ml-containers detect [DIR] [--json] [--exclude PATTERN]... [--max-files N]

  DIR                 the project folder (default: the current folder)
  --json              print the profile as one JSON object
  --exclude PATTERN   skip paths matching this .gitignore-style pattern (repeatable)
  --max-files N       stop walking after N files and folders (default 200000)`,
  options: {
    ...JSON_OPTION,
    exclude: { type: 'string', multiple: true, default: [] },
    'max-files': { type: 'string' },
  },
  operands: ONE_FOLDER,
  async run({ values, positionals }, io) {
    const maxFiles = values['max-files'] === undefined ? undefined : Number(values['max-files']);
    if (maxFiles !== undefined && (!Number.isInteger(maxFiles) || maxFiles < 1)) {
      throw new UsageError(`--max-files needs a positive whole number, got "${values['max-files']}".`);
    }
    try {
      const profile = await detectProject(positionals[0] ?? '.', {
        exclude: values.exclude ?? [],
        ...(maxFiles !== undefined ? { maxEntries: maxFiles } : {}),
      });
      io.out(values.json ? JSON.stringify(profile, null, 2) : formatProfile(profile));
      return EXIT.ok;
    } catch (err) {
      if (err instanceof DetectRootError) {
        io.err(`ml-containers detect: ${err.message} Pass the folder of a project.`);
        return EXIT.failure;
      }
      throw err;
    }
  },
});
