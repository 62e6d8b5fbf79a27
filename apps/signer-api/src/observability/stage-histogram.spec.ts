import { Histogram, Registry } from 'prom-client';
import { StageHistogram } from './stage-histogram';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const HELP = 'Time spent per pipeline stage; stage="total" is the whole decision.';

/** The same observations through prom-client's own Histogram and through StageHistogram. */
async function both(observations: [string, number][]) {
  const reference = new Registry();
  const theirs = new Histogram({
    name: 'signer_request_duration_seconds',
    help: HELP,
    labelNames: ['stage'],
    buckets: BUCKETS,
    registers: [reference],
  });
  const registry = new Registry();
  const ours = new StageHistogram('signer_request_duration_seconds', HELP, BUCKETS, registry);
  for (const [stage, seconds] of observations) {
    theirs.observe({ stage }, seconds);
    ours.observe(stage, seconds);
  }
  return { expected: await reference.metrics(), actual: await registry.metrics(), registry, ours };
}

describe('StageHistogram', () => {
  it('exports the same text as a prom-client Histogram, including bucket edges and +Inf', async () => {
    const { expected, actual } = await both([
      ['body', 0.0001],
      ['body', 0.0005], // exactly on an upper bound: counted in that bucket (le)
      ['poe', 0.003],
      ['total', 0.02],
      ['total', 7], // above the last bound: +Inf only
      ['body', 0.2],
    ]);
    expect(actual).toBe(expected);
    expect(actual).toContain('signer_request_duration_seconds_bucket{le="0.0005",stage="body"} 2');
    expect(actual).toContain('signer_request_duration_seconds_bucket{le="+Inf",stage="total"} 2');
    expect(actual).toContain('signer_request_duration_seconds_count{stage="poe"} 1');
  });

  it('exports the same JSON and the same empty metric as prom-client', async () => {
    const empty = await both([]);
    expect(empty.actual).toBe(empty.expected);
    const { registry } = await both([['sign', 0.004]]);
    const [json] = await registry.getMetricsAsJSON();
    expect(json).toMatchObject({ name: 'signer_request_duration_seconds', type: 'histogram' });
    expect(json.values).toContainEqual(
      expect.objectContaining({
        metricName: 'signer_request_duration_seconds_count',
        value: 1,
        labels: { stage: 'sign' },
      }),
    );
  });

  it('ignores a non-finite duration instead of poisoning the sum, and resets', async () => {
    const { ours, registry } = await both([['sign', 0.004]]);
    ours.observe('sign', Number.NaN);
    ours.observe('sign', Number.POSITIVE_INFINITY);
    expect(await registry.metrics()).toContain('signer_request_duration_seconds_count{stage="sign"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('stage="sign"');
  });
});
