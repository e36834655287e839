/**
 * The build context's .dockerignore is matched on paths relative to the context, as the Docker CLI matches it: a
 * pattern anchored at the context excludes nested files too (dockerode's own packing matched absolute paths, so
 * `runs/**` below the top level went into the image). The Dockerfile and .dockerignore are always sent.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tar from 'tar-fs';
import { buildContextStream, contextFilter } from '../../src/core/docker/context';
import { tempDir, writeTree } from './helpers';

describe('build context: .dockerignore as the Docker CLI reads it', () => {
  it('anchored nested patterns, ** patterns and the files always sent', async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, {
        '.dockerignore': 'runs/**/*.csv\ndata/**/*.parquet\n**/*.pt\nDockerfile\n.dockerignore\n',
        Dockerfile: 'FROM scratch\n',
        'train.py': '',
        'runs/exp1/metrics.csv': '',
        'runs/train.sh': '',
        'data/a/b/part.parquet': '',
        'data/config.yaml': '',
        'lib/model.pt': '',
      });
      const keep = await contextFilter(t.dir);
      assert.deepEqual(['runs/exp1/metrics.csv', 'data/a/b/part.parquet', 'lib/model.pt'].map(keep), [
        false,
        false,
        false,
      ]);
      assert.deepEqual(['runs/train.sh', 'data/config.yaml', 'train.py', 'Dockerfile', '.dockerignore'].map(keep), [
        true,
        true,
        true,
        true,
        true,
      ]);

      // the stream holds exactly the kept files
      const out = path.join(t.dir, 'unpacked');
      await new Promise<void>((resolve, reject) => {
        void buildContextStream(t.dir).then((s) => s.pipe(tar.extract(out)).on('finish', resolve).on('error', reject));
      });
      const files = (fs.readdirSync(out, { recursive: true }) as string[])
        .filter((f) => fs.statSync(path.join(out, f)).isFile())
        .sort();
      assert.deepEqual(files, ['.dockerignore', 'Dockerfile', 'data/config.yaml', 'runs/train.sh', 'train.py']);
    } finally {
      t.cleanup();
    }
  });

  it('no .dockerignore: everything is sent', async () => {
    const t = tempDir();
    try {
      writeTree(t.dir, { 'runs/x.csv': '' });
      assert.equal((await contextFilter(t.dir))('runs/x.csv'), true);
    } finally {
      t.cleanup();
    }
  });
});
