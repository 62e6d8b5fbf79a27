import type { Metric, Registry } from 'prom-client';

interface StageSeries {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

type Exported = Awaited<ReturnType<StageHistogram['getForPromString']>>;

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
}

/**
 * A histogram with one label, `stage`, that prom-client's registry exports exactly like a
 * prom-client `Histogram` (same series, same order, same text). prom-client hashes the label set
 * and validates it on every observation, which costs more than the observation itself; here a
 * stage's series is looked up once and an observation is a bucket search and three additions.
 */
export class StageHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, StageSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
    registry: Registry,
  ) {
    // The one cast against prom-client. Its types accept only its own metric classes, while its
    // registry (lib/registry.js) takes any object with `name`, `help`, `type`, `aggregator`,
    // `get()`, `reset()` and, for the text format, the undocumented `getForPromString()`. That
    // contract is internal, which is why package.json pins prom-client exactly (15.1.3); the spec
    // compares this export with a real prom-client Histogram's, so an upgrade that changes it fails.
    registry.registerMetric(this as unknown as Metric);
  }

  observe(stage: string, seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    let series = this.series.get(stage);
    if (series === undefined) {
      series = { counts: new Array<number>(this.upperBounds.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(stage, series);
    }
    let bucket = 0;
    while (bucket < this.upperBounds.length && seconds > this.upperBounds[bucket]) bucket += 1;
    series.counts[bucket] += 1;
    series.sum += seconds;
    series.count += 1;
  }

  reset(): void {
    this.series.clear();
  }

  /** The JSON export (`getMetricsAsJSON`): shared labels merged into each value's labels, as prom-client does. */
  async get(): Promise<Exported> {
    const exported = await this.getForPromString();
    return {
      ...exported,
      values: exported.values.map(({ labels, sharedLabels, ...value }) => ({
        ...value,
        labels: { ...labels, ...sharedLabels },
        sharedLabels: {},
      })),
    };
  }

  /** What prom-client's registry formats as text: the series in prom-client's own export shape. */
  async getForPromString(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: ExportedValue[];
  }> {
    const values: ExportedValue[] = [];
    for (const [stage, series] of this.series) {
      const shared = { stage };
      let cumulative = 0;
      this.upperBounds.forEach((le, index) => {
        cumulative += series.counts[index];
        values.push({
          labels: { le },
          sharedLabels: shared,
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: shared,
          value: series.count,
          metricName: `${this.name}_bucket`,
        },
        { labels: {}, sharedLabels: shared, value: series.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: shared, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
