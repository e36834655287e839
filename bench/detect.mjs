// npm run bench:detect — detection time against a bare recursive directory walk of the same tree, in the same run.
// Trees: the bundled example, and a generated tree of 100,000 files (5,000 Python files, a few large data files).
// Each measurement runs in its own child process (so peak memory is its own), alternating walk and detect.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const detectModule = path.join(root, 'out', 'src', 'core', 'detect', 'index.js');

// ---------------------------------------------------------------------------------------------------------------
// child: one measurement, printed as JSON
if (process.argv[2] === '--child') {
  const [, , , kind, dir] = process.argv;
  const { readdir } = await import('node:fs/promises');
  const { detectProject } = kind === 'detect' ? await import(detectModule) : {};
  const t0 = process.hrtime.bigint();
  let count = 0;
  if (kind === 'walk') {
    // the obvious baseline: list every folder recursively, keep the list of files, read nothing
    const files = [];
    const visit = async (d) => {
      const entries = await readdir(d, { withFileTypes: true });
      await Promise.all(
        entries.map((e) => {
          const p = path.join(d, e.name);
          if (e.isDirectory()) return visit(p);
          files.push(p);
          return undefined;
        }),
      );
    };
    await visit(dir);
    count = files.length;
  } else {
    const profile = await detectProject(dir);
    count = profile.frameworks.length;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, count }));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------------
// the generated tree (kept between runs in bench/.cache, rebuilt when its recipe changes)
const RECIPE = 'v1: 100000 files, 5000 py, 500 dirs, 3 sparse data files of 256 MiB';
function generateTree(dir) {
  const marker = path.join(dir, '.recipe');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === RECIPE) return false;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const py = (i) =>
    `"""Module ${i}."""\nimport os\nimport numpy as np\n${i % 7 === 0 ? 'import torch\n' : ''}${i % 11 === 0 ? 'from transformers import AutoModel\n' : ''}\n\n` +
    `def f${i}(x):\n    # a comment with import tensorflow in it\n    s = "import jax"\n    return np.sum(x) + ${i}\n`.repeat(
      20,
    ) +
    (i % 50 === 0 ? 'loss.backward()\noptimizer.step()\n' : '');
  let files = 0;
  let pyFiles = 0;
  for (let d = 0; d < 500; d++) {
    const sub = path.join(dir, `pkg${Math.floor(d / 25)}`, `mod${d}`);
    fs.mkdirSync(sub, { recursive: true });
    for (let k = 0; k < 200 && files < 100_000 - 4; k++) {
      if (k < 10) {
        fs.writeFileSync(path.join(sub, `m${k}.py`), py(pyFiles++));
      } else {
        fs.writeFileSync(path.join(sub, `sample${k}.${['json', 'txt', 'png', 'csv'][k % 4]}`), `${d},${k}\n`);
      }
      files++;
    }
  }
  fs.writeFileSync(
    path.join(dir, 'requirements.txt'),
    '--extra-index-url https://download.pytorch.org/whl/cu121\ntorch==2.3.1\n',
  );
  fs.writeFileSync(path.join(dir, 'train.py'), 'import torch\n\nif __name__ == "__main__":\n    loss.backward()\n');
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  for (let i = 0; i < 3; i++) {
    const fd = fs.openSync(path.join(dir, 'data', `shard${i}.bin`), 'w');
    fs.ftruncateSync(fd, 256 * 1024 * 1024); // sparse: large on paper, no disk used
    fs.closeSync(fd);
  }
  fs.writeFileSync(marker, RECIPE);
  return true;
}

function measure(kind, dir) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function bench(label, dir, runs) {
  measure('walk', dir); // warm the page cache for both
  measure('detect', dir);
  const walk = [];
  const detect = [];
  for (let i = 0; i < runs; i++) {
    walk.push(measure('walk', dir));
    detect.push(measure('detect', dir));
  }
  const w = median(walk.map((x) => x.ms));
  const d = median(detect.map((x) => x.ms));
  const wm = median(walk.map((x) => x.maxRssMiB));
  const dm = median(detect.map((x) => x.maxRssMiB));
  console.log(`\n${label}`);
  console.log(
    `  bare walk   ${w.toFixed(1).padStart(8)} ms   peak RSS ${wm.toFixed(0).padStart(4)} MiB   (${walk[0].count} files)`,
  );
  console.log(`  detect      ${d.toFixed(1).padStart(8)} ms   peak RSS ${dm.toFixed(0).padStart(4)} MiB`);
  console.log(
    `  ratio detect/walk: time ${(d / w).toFixed(2)}x, peak memory ${(dm / wm).toFixed(2)}x   (median of ${runs})`,
  );
  return { time: d / w, memory: dm / wm };
}

if (!fs.existsSync(detectModule)) {
  console.error(`${path.relative(root, detectModule)} is missing: run \`npm run compile:tests\` first.`);
  process.exit(1);
}
const tree = path.join(here, '.cache', 'tree-100k');
const t0 = Date.now();
if (generateTree(tree)) console.log(`generated ${tree} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
bench('examples/pytorch-mnist', path.join(root, 'examples', 'pytorch-mnist'), 7);
const big = bench('generated tree: 100,000 files, 5,000 Python files, 3 x 256 MiB data files', tree, 5);
console.log(`\ntarget: time ratio <= 2.00x -> ${big.time <= 2 ? 'met' : 'NOT met'} (${big.time.toFixed(2)}x)`);
