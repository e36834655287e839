/** The GPU pool of a sweep: which GPUs the next run gets, and how many runs may run at once. */

/** Hands out GPUs to runs: `gpusPerRun` each, at most `runsPerGpu` runs per GPU, never more than `maxParallel` runs. */
export class GpuPool {
  private readonly load: Map<string, number>;
  private active = 0;
  readonly maxParallel: number;

  constructor(
    readonly gpus: readonly string[],
    readonly gpusPerRun: number,
    readonly runsPerGpu = 1,
    maxParallel?: number,
  ) {
    if (gpusPerRun > 0 && gpus.length === 0) {
      throw new Error(
        `The sweep gives each run ${gpusPerRun} GPU${gpusPerRun > 1 ? 's' : ''}, but no GPU is available: set ` +
          'gpusPerRun: 0 in the sweep file (or --gpus none) to run on the CPU, or run it on a machine with GPUs.',
      );
    }
    if (gpusPerRun > gpus.length) {
      throw new Error(
        `The sweep gives each run ${gpusPerRun} GPUs, but only ${gpus.length} are available (${gpus.join(', ')}): ` +
          'lower gpusPerRun.',
      );
    }
    this.load = new Map(gpus.map((g) => [g, 0]));
    const byGpus = gpusPerRun > 0 ? Math.floor((gpus.length * runsPerGpu) / gpusPerRun) : 2;
    this.maxParallel = Math.max(1, maxParallel ?? byGpus);
  }

  /** GPUs for one more run (least loaded first, lowest index on ties), or null when it must wait. */
  acquire(): string[] | null {
    if (this.active >= this.maxParallel) return null;
    if (this.gpusPerRun === 0) {
      this.active++;
      return [];
    }
    const free = [...this.load.entries()]
      .filter(([, n]) => n < this.runsPerGpu)
      .sort((a, b) => a[1] - b[1] || this.gpus.indexOf(a[0]) - this.gpus.indexOf(b[0]));
    if (free.length < this.gpusPerRun) return null;
    const picked = free.slice(0, this.gpusPerRun).map(([g]) => g);
    for (const g of picked) this.load.set(g, this.load.get(g)! + 1);
    this.active++;
    return picked.sort((a, b) => this.gpus.indexOf(a) - this.gpus.indexOf(b));
  }

  /** Marks GPUs as held by a run that is already running (a resumed sweep). */
  hold(ids: readonly string[]): void {
    for (const g of ids) this.load.set(g, (this.load.get(g) ?? 0) + 1);
    this.active++;
  }

  release(ids: readonly string[]): void {
    for (const g of ids) this.load.set(g, Math.max(0, (this.load.get(g) ?? 0) - 1));
    this.active = Math.max(0, this.active - 1);
  }
}
