/**
 * nvidia-smi output parsers over the real captures from an NVIDIA H200 host (test/fixtures/gpu-hosts/h200-driver-580),
 * the folders derived from them (two GPUs; MIG with placeholders) and the real error outputs.
 */
import * as assert from 'node:assert/strict';
import {
  GPU_QUERY_FIELDS,
  type GpuInfo,
  NvidiaSmiOutputError,
  parseQueryGpuCsv,
  parseQueryGpuRows,
  parseSmiXml,
  queryGpuArgs,
} from '../../src/core/gpu';
import { captureBody, readCapture } from '../support/fakeNvidiaSmi';

const H200 = 'h200-driver-580';
const X2 = 'h200x2-derived';
const MIG = 'h200-mig-na-derived';
const UUID = 'GPU-c422a366-d6ee-b87d-50f4-1882b1497d37';

/** The field list of the real query-gpu.csv capture (its README), in order. */
const CAPTURE_FIELDS = [
  'index',
  'uuid',
  'name',
  'driver_version',
  'memory.total',
  'memory.used',
  'memory.free',
  'utilization.gpu',
  'utilization.memory',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'compute_cap',
  'pci.bus_id',
  'clocks.sm',
  'clocks.max.sm',
  'pstate',
  'persistence_mode',
  'mig.mode.current',
  'ecc.mode.current',
];

const H200_IDLE: GpuInfo = {
  index: 0,
  uuid: UUID,
  name: 'NVIDIA H200',
  computeCapability: '9.0',
  memoryTotalMiB: 143771,
  memoryUsedMiB: 0,
  utilizationGpu: 0,
  temperatureC: 40,
  powerDrawW: 126.1,
  powerLimitW: 700,
  pciBusId: '00000000:00:06.0',
  migMode: 'disabled',
  eccMode: 'enabled',
};

describe('gpu: nvidia-smi --query-gpu arguments', () => {
  it('asks only for fields that the real capture header has', () => {
    const header = readCapture(H200, 'query-gpu.csv')
      .split('\n')[0]!
      .split(', ')
      .map((h) => h.replace(/ \[[^\]]*\]$/, ''));
    for (const f of GPU_QUERY_FIELDS) assert.ok(header.includes(f), `${f} is not in the captured header`);
  });

  it('builds an argv array, one argument per option, with an optional -lms loop', () => {
    assert.deepEqual(queryGpuArgs(['index', 'uuid']), ['--query-gpu=index,uuid', '--format=csv,noheader,nounits']);
    assert.deepEqual(queryGpuArgs(['index'], { loopMs: 500 }), [
      '--query-gpu=index',
      '--format=csv,noheader,nounits',
      '-lms',
      '500',
    ]);
    assert.throws(() => queryGpuArgs([]), RangeError);
    assert.throws(() => queryGpuArgs(['index'], { loopMs: 0 }), RangeError);
    assert.throws(() => queryGpuArgs(['index'], { loopMs: 1.5 }), RangeError);
  });
});

describe('gpu: parseQueryGpuCsv', () => {
  it('reads the real capture with its header and units exactly', () => {
    assert.deepEqual(parseQueryGpuCsv(readCapture(H200, 'query-gpu.csv'), CAPTURE_FIELDS), [H200_IDLE]);
  });

  it('reads the real noheader,nounits capture exactly', () => {
    const [gpu] = parseQueryGpuCsv(readCapture(H200, 'query-gpu-noheader-nounits.csv'), CAPTURE_FIELDS);
    assert.deepEqual(gpu, { ...H200_IDLE, powerDrawW: 126.11 });
    const [row] = parseQueryGpuRows(readCapture(H200, 'query-gpu-noheader-nounits.csv'), CAPTURE_FIELDS);
    assert.equal(row?.driver_version, '580.159.04');
    assert.equal(row?.pstate, 'P0');
    assert.equal(row?.['clocks.sm'], '1980');
  });

  it('reads the probe field list in any order and leaves keys no field fills null', () => {
    const [gpu] = parseQueryGpuCsv('0, 9.0, NVIDIA H200\n', ['index', 'compute_cap', 'name']);
    assert.deepEqual(gpu, {
      ...H200_IDLE,
      uuid: null,
      memoryTotalMiB: null,
      memoryUsedMiB: null,
      utilizationGpu: null,
      temperatureC: null,
      powerDrawW: null,
      powerLimitW: null,
      pciBusId: null,
      migMode: null,
      eccMode: null,
    });
  });

  it('reads the real -lms loop output: the header once, then one line per sample', () => {
    const fields = ['index', 'utilization.gpu', 'memory.used', 'memory.total', 'temperature.gpu', 'power.draw'];
    const withHeader = parseQueryGpuCsv(captureBody(H200, 'loop-header.txt'), fields);
    assert.deepEqual(
      withHeader.map((g) => g.powerDrawW),
      [130.9, 113.93, 90.07, 83.14, 83.1, 83.05],
    );
    assert.ok(withHeader.every((g) => g.index === 0 && g.memoryTotalMiB === 143771 && g.utilizationGpu === 0));
    const noHeader = parseQueryGpuCsv(captureBody(H200, 'loop-noheader.txt'), fields);
    assert.equal(noHeader.length, 6);
    assert.deepEqual(
      noHeader.map((g) => g.temperatureC),
      [40, 40, 40, 40, 40, 40],
    );
  });

  it('reads the real under-load loop (fields inferred from its values: timestamp first)', () => {
    const fields = [
      'timestamp',
      'index',
      'utilization.gpu',
      'utilization.memory',
      'memory.used',
      'memory.total',
      'temperature.gpu',
      'power.draw',
    ];
    const samples = parseQueryGpuCsv(readCapture(H200, 'query-gpu-loop-under-load.csv'), fields);
    assert.equal(samples.length, 24);
    assert.ok(samples.every((g) => g.utilizationGpu !== null && g.utilizationGpu >= 99 && g.memoryUsedMiB === 1139));
    assert.equal(samples[1]?.powerDrawW, 700.86);
    assert.equal(
      parseQueryGpuRows(readCapture(H200, 'query-gpu-loop-under-load.csv'), fields)[0]?.timestamp,
      '2026/11/26 12:19:36.249',
    );
  });

  it('reads the real [N/A] and hex values of na-fields.txt', () => {
    const fields = [
      'index',
      'fan.speed',
      'encoder.stats.sessionCount',
      'clocks_throttle_reasons.active',
      'mig.mode.current',
    ];
    const body = captureBody(H200, 'na-fields.txt');
    assert.deepEqual(parseQueryGpuRows(body, fields), [
      {
        index: '0',
        'fan.speed': null,
        'encoder.stats.sessionCount': '0',
        'clocks_throttle_reasons.active': '0x0000000000000001',
        'mig.mode.current': 'Disabled',
      },
    ]);
    assert.equal(parseQueryGpuCsv(body, fields)[0]?.migMode, 'disabled');
  });

  it('reads several GPUs (derived two-GPU capture)', () => {
    const gpus = parseQueryGpuCsv(readCapture(X2, 'query-gpu.csv'), CAPTURE_FIELDS);
    assert.deepEqual(gpus[0], H200_IDLE);
    assert.deepEqual(gpus[1], {
      ...H200_IDLE,
      index: 1,
      uuid: 'GPU-c422a366-d6ee-b87d-50f4-1882b1497d38',
      memoryUsedMiB: 1139,
      utilizationGpu: 100,
      temperatureC: 62,
      powerDrawW: 688.95,
      pciBusId: '00000000:00:07.0',
    });
  });

  it('reads [N/A], [Not Supported] and [Unknown Error] as null, and MIG enabled (derived MIG capture)', () => {
    const [gpu] = parseQueryGpuCsv(readCapture(MIG, 'query-gpu.csv'), CAPTURE_FIELDS);
    assert.deepEqual(gpu, {
      ...H200_IDLE,
      utilizationGpu: null,
      temperatureC: null,
      powerDrawW: null,
      migMode: 'enabled',
    });
  });

  it('reads other placeholders, blank lines, CRLF and a product name with a comma', () => {
    const fields = ['index', 'name', 'memory.total', 'power.draw', 'compute_cap'];
    const text =
      '0, NVIDIA A100, SXM4, 40960, [Insufficient Permissions], 8.0\r\n\r\n1, Tesla T4, N/A, 27.5, garbage\r\n';
    assert.deepEqual(
      parseQueryGpuCsv(text, fields).map((g) => [g.index, g.name, g.memoryTotalMiB, g.powerDrawW, g.computeCapability]),
      [
        [0, 'NVIDIA A100, SXM4', 40960, null, '8.0'],
        [1, 'Tesla T4', null, 27.5, null],
      ],
    );
    assert.deepEqual(parseQueryGpuCsv('', fields), []);
  });

  it('refuses a line that does not have one value per field, quoting it', () => {
    assert.throws(
      () => parseQueryGpuCsv('0, 1\n', ['index', 'memory.total', 'memory.used']),
      (err: unknown) => err instanceof NvidiaSmiOutputError && /2 values for 3 fields: "0, 1"/.test(err.message),
    );
  });
});

describe('gpu: parseSmiXml', () => {
  it('reads the real -q -x capture: driver, CUDA driver version and the GPU', () => {
    const info = parseSmiXml(readCapture(H200, 'nvidia-smi-q-x.xml'));
    assert.equal(info.driverVersion, '580.159.04');
    assert.equal(info.cudaDriverVersion, '13.0');
    assert.deepEqual(info.gpus, [
      {
        ...H200_IDLE,
        computeCapability: null, // the XML has none: the CSV's compute_cap gives it
        powerDrawW: 126.11,
        architecture: 'Hopper',
        migDeviceCount: 0,
      },
    ]);
  });

  it('reads the real under-load capture', () => {
    const [gpu] = parseSmiXml(readCapture(H200, 'nvidia-smi-q-x-under-load.xml')).gpus;
    assert.equal(gpu?.memoryUsedMiB, 1139);
    assert.equal(gpu?.utilizationGpu, 100);
    assert.equal(gpu?.temperatureC, 62);
    assert.equal(gpu?.powerDrawW, 688.95);
  });

  it('reads several GPUs and MIG with N/A values (derived captures)', () => {
    const two = parseSmiXml(readCapture(X2, 'nvidia-smi-q-x.xml'));
    assert.deepEqual(
      two.gpus.map((g) => [g.index, g.uuid, g.pciBusId, g.utilizationGpu]),
      [
        [0, UUID, '00000000:00:06.0', 0],
        [1, 'GPU-c422a366-d6ee-b87d-50f4-1882b1497d38', '00000000:00:07.0', 100],
      ],
    );
    const [mig] = parseSmiXml(readCapture(MIG, 'nvidia-smi-q-x.xml')).gpus;
    assert.equal(mig?.migMode, 'enabled');
    assert.equal(mig?.migDeviceCount, 0);
    assert.equal(mig?.eccMode, 'enabled');
    assert.deepEqual([mig?.utilizationGpu, mig?.temperatureC, mig?.powerDrawW], [null, null, null]);
    assert.equal(mig?.powerLimitW, 700);
  });

  it('counts MIG devices and reads older drivers power_readings', () => {
    const xml = `<?xml version="1.0" ?><nvidia_smi_log><driver_version>535.104.05</driver_version>
      <cuda_version>12.2</cuda_version><gpu id="00000000:3B:00.0"><product_name>NVIDIA A100-SXM4-80GB</product_name>
      <mig_mode><current_mig>Enabled</current_mig></mig_mode><mig_devices><mig_device><index>0</index></mig_device>
      <mig_device><index>1</index></mig_device></mig_devices><power_readings><power_draw>61.23 W</power_draw>
      <power_limit>400.00 W</power_limit></power_readings></gpu></nvidia_smi_log>`;
    const info = parseSmiXml(xml);
    assert.equal(info.cudaDriverVersion, '12.2');
    assert.deepEqual(
      info.gpus.map((g) => [g.name, g.pciBusId, g.migMode, g.migDeviceCount, g.powerDrawW, g.powerLimitW]),
      [['NVIDIA A100-SXM4-80GB', '00000000:3B:00.0', 'enabled', 2, 61.23, 400]],
    );
  });

  it('refuses text that is not an nvidia-smi log, such as the real driver-failure message', () => {
    for (const text of [
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
      captureBody(H200, 'bad-format.txt'),
      '',
    ]) {
      assert.throws(() => parseSmiXml(text), NvidiaSmiOutputError);
    }
  });
});
