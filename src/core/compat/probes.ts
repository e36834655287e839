/**
 * The real probes behind `check` and `fingerprint`: nvidia-smi for the host, the Docker engine (DOCKER_HOST) for
 * its GPU capability, local images and short-lived containers. One engine connection per probes object.
 */
import { PassThrough } from 'node:stream';
import { connectEngine, type EngineClient, getEngineGpuCapability } from '../docker/engine';
import type { FingerprintProbes } from '../fingerprint/fingerprint';
import { probeHost } from '../gpu/nvidiaSmi';
import { hostNetworkDisabled, hostNetworkSettings } from '../network';
import type { CheckProbes } from './gather';
import type { EngineFacts } from './types';

export interface RealProbeOptions {
  env?: NodeJS.ProcessEnv;
  /** Limit for one container run (fingerprint's in-container report), default 120 s. */
  runTimeoutMs?: number;
}

const isNotFound = (err: unknown): boolean => (err as { statusCode?: number } | undefined)?.statusCode === 404;

export function realProbes(options: RealProbeOptions = {}): CheckProbes & FingerprintProbes {
  const env = options.env ?? process.env;
  let client: EngineClient | null | undefined;
  const engine = (): EngineClient | null => {
    if (client === undefined) {
      try {
        client = connectEngine({ env });
      } catch {
        client = null;
      }
    }
    return client;
  };

  return {
    probeHost: (signal) => probeHost({ env, ...(signal ? { signal } : {}) }),

    hostNetwork: async () => (hostNetworkDisabled(env) ? null : hostNetworkSettings(env)),

    async probeEngine(signal): Promise<EngineFacts | null> {
      const c = engine();
      const cap = await getEngineGpuCapability({ env, ...(c ? { client: c } : {}), ...(signal ? { signal } : {}) });
      return {
        reachable: cap.reachable,
        ...(cap.reason ? { reason: cap.reason } : {}),
        engineVersion: cap.engineVersion,
        apiVersion: cap.apiVersion,
        nvidiaRuntime: cap.nvidiaRuntime,
        cdiGpuDevices: cap.cdiGpuDevices,
        runtimes: cap.runtimes,
      };
    },

    async inspectImage(ref, signal) {
      const c = engine();
      if (!c) return null;
      try {
        const info = await c.request((d) => d.getImage(ref).inspect(), signal ? { signal } : {});
        return {
          id: info.Id,
          repoDigests: info.RepoDigests ?? [],
          env: info.Config?.Env ?? [],
          labels: (info.Config?.Labels as Record<string, string> | null) ?? {},
        };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },

    async runInImage(ref, argv, signal) {
      const c = engine();
      if (!c) throw new Error('No container engine is reachable (DOCKER_HOST).');
      const d = await c.docker(signal ? { signal } : {});
      const container = await d.createContainer({
        Image: ref,
        Cmd: argv,
        Entrypoint: [],
        Tty: false,
        Labels: { 'org.ml-containers.purpose': 'fingerprint' },
        HostConfig: { NetworkMode: 'none', Init: true },
      });
      try {
        const stream = await container.attach({ stream: true, stdout: true, stderr: true });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const so = new PassThrough();
        const se = new PassThrough();
        so.on('data', (b: Buffer) => out.push(b));
        se.on('data', (b: Buffer) => err.push(b));
        d.modem.demuxStream(stream, so, se);
        await container.start();
        const timer = setTimeout(() => void container.kill().catch(() => undefined), options.runTimeoutMs ?? 120_000);
        const onAbort = (): void => void container.kill().catch(() => undefined);
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          const result = (await container.wait()) as { StatusCode: number };
          await new Promise((r) => setImmediate(r));
          return {
            exitCode: result.StatusCode,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          };
        } finally {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        }
      } finally {
        await container.remove({ force: true }).catch(() => undefined);
      }
    },
  };
}
