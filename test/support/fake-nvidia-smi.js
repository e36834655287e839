#!/usr/bin/env node
/*
 * Replays a real nvidia-smi capture folder (test/fixtures/gpu-hosts/*) as if it were nvidia-smi.
 *
 * Usage: fake-nvidia-smi.js CAPTURE_DIR [nvidia-smi arguments...]
 * Put a wrapper named nvidia-smi on the PATH that runs: node fake-nvidia-smi.js CAPTURE_DIR "$@"
 *
 * Answers: no arguments (nvidia-smi.txt), -L, --version, -q, -q -x (nvidia-smi-q-x.xml), --help-query-gpu,
 * topo -m, dmon, --query-compute-apps=..., and --query-gpu=FIELDS --format=csv[,noheader][,nounits] [-i N]
 * [-lms N | -l N]: values come from the capture's query-gpu.csv (the header names each column), aliases from its
 * --help-query-gpu listing (clocks.sm -> clocks.current.sm), fields the capture lacks answer [N/A], nounits strips
 * the units from values (the header keeps them), and a loop prints the header once, then every period, until killed.
 * An unknown --format modifier answers like the real bad-format.txt capture, an unknown -i like bad-index.txt.
 *
 * Failure modes, from the environment:
 *   FAKE_NVIDIA_SMI_MODE=driver-failure   every call prints the real "NVIDIA-SMI has failed ..." text and exits 9
 *   FAKE_NVIDIA_SMI_MODE=bad-field | bad-format | bad-index   every call replays that real error capture
 *   FAKE_NVIDIA_SMI_MODE=hang             every call prints nothing and never exits (a wedged driver)
 *   FAKE_NVIDIA_SMI_INVALID_FIELDS=a,b    querying field a or b fails like bad-field.txt (an older driver)
 *   FAKE_NVIDIA_SMI_ERROR_STREAM=stderr   print error messages on stderr instead of stdout
 *   FAKE_NVIDIA_SMI_SCENARIO=load         a --query-gpu loop replays, sample after sample, the real capture taken
 *                                         under full load (query-gpu-loop-under-load.csv) for the fields it has
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const DRIVER_FAILURE =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";

const [dir, ...args] = process.argv.slice(2);
if (!dir) fail('usage: fake-nvidia-smi.js CAPTURE_DIR [nvidia-smi arguments...]');
const errorStream = process.env.FAKE_NVIDIA_SMI_ERROR_STREAM === 'stderr' ? process.stderr : process.stdout;
process.stdout.on('error', () => process.exit(0)); // the reader went away (EPIPE), like nvidia-smi on a closed pipe

main();

function main() {
  const mode = process.env.FAKE_NVIDIA_SMI_MODE || '';
  if (mode === 'driver-failure') return exitWith(errorStream, `${DRIVER_FAILURE}\n`, 9);
  if (mode === 'bad-field' || mode === 'bad-format' || mode === 'bad-index') return replayError(`${mode}.txt`);
  if (mode === 'hang') return hang();
  if (mode) fail(`unknown FAKE_NVIDIA_SMI_MODE "${mode}"`);

  if (args.length === 0) return replay('nvidia-smi.txt');
  if (same(args, ['-L']) || same(args, ['--list-gpus'])) return replay('nvidia-smi-L.txt');
  if (same(args, ['--version'])) return replay('nvidia-smi-version.txt');
  if (same(args, ['--help-query-gpu'])) return replay('nvidia-smi-help-query-gpu.txt');
  if (args[0] === 'topo') return replay('nvidia-smi-topo.txt');
  if (args[0] === 'dmon') return replay('dmon.txt');
  if (args.includes('-q') || args.includes('--query')) {
    if (args.includes('-x') || args.includes('--xml-format'))
      return exitWith(process.stdout, read('nvidia-smi-q-x.xml'), 0);
    return replay('nvidia-smi-q.txt');
  }
  const query = option('--query-gpu');
  if (query !== undefined) return queryGpu(query);
  if (option('--query-compute-apps') !== undefined) return replay('query-compute-apps-idle.txt');
  fail(`unsupported arguments: ${args.join(' ')}`);
}

function queryGpu(query) {
  const fields = query
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const invalid = (process.env.FAKE_NVIDIA_SMI_INVALID_FIELDS || '').split(',').filter(Boolean);
  const rejected = fields.find((f) => invalid.includes(f));
  if (rejected !== undefined) {
    const { text, code } = capture('bad-field.txt');
    return exitWith(errorStream, text.replace(/"[^"]*"/, `"${rejected}"`), code);
  }
  const format = option('--format');
  if (format === undefined) fail('--query-gpu needs --format=csv[,noheader][,nounits]');
  const modifiers = format.split(',').map((m) => m.trim());
  if (modifiers[0] !== 'csv' || modifiers.some((m) => !['csv', 'noheader', 'nounits'].includes(m))) {
    return replayError('bad-format.txt');
  }
  const header = !modifiers.includes('noheader');
  const units = !modifiers.includes('nounits');

  const table = readQueryTable();
  let rows = table.rows;
  const id = option('-i') ?? option('--id');
  if (id !== undefined) {
    rows = rows.filter((r) => r[table.index.get('index')] === id || r[table.index.get('uuid')] === id);
    if (rows.length === 0) return replayError('bad-index.txt');
  }
  const aliases = readAliases();
  const render = (withHeader) => {
    const lines = [];
    if (withHeader) {
      lines.push(fields.map((f) => table.header[table.index.get(aliases.get(f) ?? f)] ?? f).join(', '));
    }
    for (const row of rows) {
      const values = fields.map((f) => {
        if (f === 'count') return String(table.rows.length);
        const at = table.index.get(aliases.get(f) ?? f);
        if (at === undefined) return '[N/A]';
        const value = row[at] ?? '[N/A]';
        return units ? value : value.replace(/^(-?[\d.]+) (MiB|%|W|MHz|C)$/, '$1');
      });
      lines.push(values.join(', '));
    }
    return `${lines.join('\n')}\n`;
  };

  const loopMs = option('-lms') ?? option('--loop-ms');
  const loopS = option('-l') ?? option('--loop');
  const period = loopMs !== undefined ? Number(loopMs) : loopS !== undefined ? Number(loopS) * 1000 : undefined;
  if (period === undefined) return exitWith(process.stdout, render(header), 0);
  if (!(period > 0)) fail(`bad loop period "${loopMs ?? loopS}"`);
  let first = true;
  const load = process.env.FAKE_NVIDIA_SMI_SCENARIO === 'load' ? readLoadLoop() : undefined;
  let sample = 0;
  const tick = () => {
    if (load) {
      // the next sample of the under-load capture replaces the load-dependent values of each GPU's row
      const values = load[sample++ % load.length];
      rows = rows.map((row) => {
        const copy = [...row];
        for (const [field, value] of Object.entries(values)) {
          const at = table.index.get(field);
          if (at !== undefined) copy[at] = value;
        }
        return copy;
      });
    }
    process.stdout.write(render(first && header));
    first = false;
    setTimeout(tick, period);
  };
  tick();
}

/**
 * query-gpu-loop-under-load.csv: `timestamp, index, utilization.gpu, utilization.memory, memory.used, memory.total,
 * temperature.gpu, power.draw` (csv,noheader,nounits) sampled every 250 ms under a bf16 matmul loop; values get the
 * units query-gpu.csv uses, so `nounits` strips them as for the other rows.
 */
function readLoadLoop() {
  const units = ['', '', ' %', ' %', ' MiB', ' MiB', '', ' W'];
  const names = ['timestamp', 'index', 'utilization.gpu', 'utilization.memory', 'memory.used', 'memory.total'];
  names.push('temperature.gpu', 'power.draw');
  return read('query-gpu-loop-under-load.csv')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const cells = l.split(', ');
      const out = {};
      for (let i = 2; i < names.length; i++) out[names[i]] = `${cells[i]}${units[i]}`;
      return out;
    });
}

/** query-gpu.csv: the header's field names (without units) -> column, and the rows' raw values. */
function readQueryTable() {
  const lines = read('query-gpu.csv')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
  const header = (lines[0] || '').split(', ');
  const index = new Map(header.map((h, i) => [h.replace(/ \[[^\]]*\]$/, ''), i]));
  return { header, index, rows: lines.slice(1).map((l) => l.split(', ')) };
}

/** Every name --help-query-gpu lists for a field ("clocks.current.sm" or "clocks.sm") -> the first (printed) name. */
function readAliases() {
  const aliases = new Map();
  const file = path.join(dir, 'nvidia-smi-help-query-gpu.txt');
  if (!fs.existsSync(file)) return aliases;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!/^"[^"]+"( or "[^"]+")+\s*$/.test(line)) continue;
    const names = [...line.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    for (const n of names.slice(1)) aliases.set(n, names[0]);
  }
  return aliases;
}

/** A `*.txt` capture: its output without the `$ command` line and the `[exit N]` line, and that exit code. */
function capture(name) {
  const lines = read(name).split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines[0] && lines[0].startsWith('$ ')) lines.shift();
  let code = 0;
  const last = /^\[exit (\d+)\]$/.exec(lines[lines.length - 1] || '');
  if (last) {
    code = Number(last[1]);
    lines.pop();
  }
  return { text: `${lines.join('\n')}\n`, code };
}

function replay(name) {
  const { text, code } = capture(name);
  exitWith(code === 0 ? process.stdout : errorStream, text, code);
}

function replayError(name) {
  const { text, code } = capture(name);
  exitWith(errorStream, text, code);
}

function read(name) {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) fail(`the capture ${dir} has no ${name}`);
  return fs.readFileSync(file, 'utf8');
}

function option(name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function hang() {
  const wait = () => setTimeout(wait, 60_000);
  wait();
}

function exitWith(stream, text, code) {
  stream.write(text, () => process.exit(code));
}

function fail(message) {
  process.stderr.write(`fake nvidia-smi: ${message}\n`);
  process.exit(2);
}
