import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { detectProject } from '../../src/core/detect';
import { profileOutline } from '../../src/core/detect/outline';
import { FIXTURES } from './helpers';

describe('profile outline (what the ML Project view shows)', () => {
  it('shows the profile with every valued node opening its evidence', async () => {
    const p = await detectProject(path.join(FIXTURES, 'projects', 'pytorch-ddp'));
    const nodes = profileOutline(p);
    assert.deepEqual(
      nodes.map((n) => [n.label, n.description ?? '']),
      [
        ['PyTorch training project (train.py, torchrun)', ''],
        ['Frameworks', 'PyTorch'],
        ['Entry points', 'train.py'],
        ['Launcher', 'torchrun'],
        ['Python', '3.10'],
        ['CUDA', '12.1'],
        ['GPU', 'required'],
        ['Environment files', '2'],
      ],
    );
    const entry = nodes.find((n) => n.id === 'entrypoints')!.children[0]!;
    assert.equal(entry.label, 'train.py');
    assert.equal(entry.open?.file, 'train.py');
    const launcher = nodes.find((n) => n.id === 'launcher')!;
    assert.deepEqual(launcher.open, { file: 'scripts/launch.sh', line: 4 });
  });

  it("shows the launcher with the options the project's command gives it", async () => {
    const p = await detectProject(path.join(FIXTURES, 'projects', 'hf-accelerate'));
    const launcher = profileOutline(p).find((n) => n.id === 'launcher')!;
    assert.equal(launcher.description, 'accelerate --config_file configs/accelerate.yaml');
    assert.deepEqual(launcher.open, { file: 'Makefile', line: 3 });
  });

  it('lists warnings with the file they are about', async () => {
    const p = await detectProject(path.join(FIXTURES, 'projects', 'malformed'));
    const w = profileOutline(p).find((n) => n.id === 'warnings')!;
    assert.equal(w.children.length, p.warnings.length);
    assert.ok(w.children.some((c) => c.label === 'pyproject.toml' && /not valid TOML/.test(c.description ?? '')));
  });
});
