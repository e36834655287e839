/* eslint-disable @typescript-eslint/no-explicit-any -- generated manifests are walked as plain JSON */
// The sweep's Indexed Job runs its variant with the launcher in the pod: it reads its argv from the ConfigMap
// (mounted as files) by JOB_COMPLETION_INDEX and execs it without a shell. Here the pod's container runs for real on
// the engine, with the ConfigMap's data bind-mounted where Kubernetes would mount it.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Docker from 'dockerode';
import { clusterManifests, type Manifest } from '../../src/core/k8s/manifests';
import { commandFor, expandGrid } from '../../src/core/runs/sweep';
import { DEBIAN_PYTHON, requireImage, runOnce, testDockerHost } from './helpers';

describe('the Indexed Job launcher in a real container', function () {
  this.timeout(60_000);

  it('each index runs its own argv, hostile values literally', async () => {
    const docker = new Docker({ socketPath: testDockerHost().replace('unix://', '') });
    await requireImage(docker, DEBIAN_PYTHON, 'run `MLC_DEBIAN_PYTHON=1 bash scripts/docker-engine-up.sh`');
    const template = ['python3', '-c', 'import json, sys; print("ARGV=" + json.dumps(sys.argv[1:]))', '--tag', '{tag}'];
    const variants = expandGrid({ tag: ['; rm -rf /', '$(id)', 'a b'] }).map((v) => ({
      ...v,
      command: commandFor(template, v.params),
      state: 'queued' as const,
      runId: null,
      gpus: [],
      exitCode: null,
      explanation: null,
    }));
    const [cm, job] = clusterManifests({
      projectName: 'p',
      image: DEBIAN_PYTHON,
      command: [],
      gpus: 0,
      nodes: 1,
      env: {},
      shmSize: '1Gi',
      sweep: { id: 's', variants, maxParallel: 3 },
    }) as [Manifest & { data: Record<string, string> }, Manifest & { spec: any }];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlc-cm-'));
    try {
      for (const [k, v] of Object.entries(cm.data)) fs.writeFileSync(path.join(dir, k), v);
      const container = job.spec.template.spec.containers[0];
      const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'variants').mountPath as string;
      for (const v of variants) {
        const r = await runOnce(docker, {
          Image: container.image,
          Cmd: container.command,
          Env: [`JOB_COMPLETION_INDEX=${v.index}`],
          HostConfig: { Binds: [`${dir}:${mount}:ro`] },
        });
        assert.strictEqual(r.exitCode, 0, r.stderr);
        const line = r.stdout.split('\n').find((l) => l.startsWith('ARGV='));
        assert.deepStrictEqual(JSON.parse(line!.slice(5)), ['--tag', v.params.tag], r.stdout);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
