import { jest } from '@jest/globals';
import { EmfMetrics } from '../../functions/adapters/metrics/emf-metrics.js';
import { PrometheusMetrics } from '../../functions/adapters/local/prometheus-metrics.js';
import { prometheusName } from '../../functions/metrics/catalog.js';

interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/** Runs `work` and returns the EMF documents Powertools wrote to stdout meanwhile. */
function captureEmf(work: () => void): EmfDocument[] {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    work();
  } finally {
    spy.mockRestore();
  }
  return lines.join('').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as EmfDocument);
}

describe('EmfMetrics', () => {
  it('writes nothing until flushed, then one document per dimension set with namespace, units and the service dimension', () => {
    const metrics = new EmfMetrics({ serviceName: 'kallisti-test' });
    const early = captureEmf(() => {
      metrics.record('TrialsFinished', 1, { Status: 'Succeeded' }, { experiment: 'exp-1' });
      metrics.record('TrialDuration', 1234, { Status: 'Succeeded' });
      metrics.record('StepDuration', 10, { Module: 'cm.wait' });
      metrics.record('StepDuration', 30, { Module: 'cm.wait' });
      metrics.record('FiringLag', 250, {});
    });
    expect(early).toEqual([]);
    const docs = captureEmf(() => metrics.flush());
    expect(docs).toHaveLength(4);
    for (const doc of docs) {
      expect(doc._aws.CloudWatchMetrics).toHaveLength(1);
      expect(doc._aws.CloudWatchMetrics[0]?.Namespace).toBe('Kallisti');
      expect(doc['service']).toBe('kallisti-test');
      expect(typeof doc._aws.Timestamp).toBe('number');
    }
    const byMetric = (name: string) => docs.find((d) => d._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === name)) as EmfDocument;

    const finished = byMetric('TrialsFinished');
    expect(finished._aws.CloudWatchMetrics[0]).toEqual({ Namespace: 'Kallisti', Dimensions: [['service', 'Status']], Metrics: [{ Name: 'TrialsFinished', Unit: 'Count' }] });
    expect(finished).toMatchObject({ TrialsFinished: 1, Status: 'Succeeded', experiment: 'exp-1' });

    // Same dimensions, no context: one document for the duration.
    const duration = byMetric('TrialDuration');
    expect(duration._aws.CloudWatchMetrics[0]?.Metrics).toEqual([{ Name: 'TrialDuration', Unit: 'Milliseconds' }]);
    expect(duration).toMatchObject({ TrialDuration: 1234, Status: 'Succeeded' });
    expect(duration).not.toHaveProperty('experiment');

    const steps = byMetric('StepDuration');
    expect(steps._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'Module']]);
    expect(steps).toMatchObject({ StepDuration: [10, 30], Module: 'cm.wait' });

    const lag = byMetric('FiringLag');
    expect(lag._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(lag).toMatchObject({ FiringLag: 250 });

    expect(captureEmf(() => metrics.flush())).toEqual([]);
  });

  it('never puts more than 100 values of a metric in one document, and keeps the dimensions on each', () => {
    const metrics = new EmfMetrics({ serviceName: 'kallisti-test' });
    for (let i = 0; i < 250; i += 1) metrics.record('StepDuration', i, { Module: 'cm.http_probe' });
    metrics.record('StepsFailed', 1, { Module: 'cm.http_probe' });
    const docs = captureEmf(() => metrics.flush());
    const values = docs.flatMap((d) => d['StepDuration'] as number[]);
    expect(values).toEqual(Array.from({ length: 250 }, (_, i) => i));
    for (const doc of docs) {
      expect((doc['StepDuration'] as number[]).length).toBeLessThanOrEqual(100);
      expect(doc['Module']).toBe('cm.http_probe');
      expect(doc._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'Module']]);
    }
    expect(docs.filter((d) => 'StepsFailed' in d)).toHaveLength(1);
  });

  it('ignores values that are not finite numbers', () => {
    const metrics = new EmfMetrics({ serviceName: 'kallisti-test' });
    metrics.record('FiringLag', Number.NaN, {});
    expect(captureEmf(() => metrics.flush())).toEqual([]);
  });
});

describe('PrometheusMetrics', () => {
  it('serves counters with labels and histograms in seconds, in Prometheus text format', async () => {
    const metrics = new PrometheusMetrics();
    metrics.record('TrialsFinished', 1, { Status: 'Failed' }, { experiment: 'exp-1' });
    metrics.record('TrialsFinished', 1, { Status: 'Failed' }, { experiment: 'exp-1' });
    metrics.record('StepDuration', 1500, { Module: 'cm.wait' });
    const { contentType, body } = await metrics.text();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('# TYPE kallisti_trials_finished_total counter');
    expect(body).toContain('kallisti_trials_finished_total{status="Failed",experiment="exp-1"} 2');
    expect(body).toContain('# TYPE kallisti_step_duration_seconds histogram');
    expect(body).toContain('kallisti_step_duration_seconds_sum{module="cm.wait"} 1.5');
    expect(body).toContain('kallisti_step_duration_seconds_bucket{le="1",module="cm.wait"} 0');
    expect(body).toContain('kallisti_step_duration_seconds_bucket{le="5",module="cm.wait"} 1');
    expect(prometheusName('FiringLag')).toBe('kallisti_firing_lag_seconds');
  });

  it('keeps each server’s metrics apart', async () => {
    const a = new PrometheusMetrics();
    const b = new PrometheusMetrics();
    a.record('QueueHandOffs', 1, {});
    expect((await a.text()).body).toContain('kallisti_queue_hand_offs_total 1');
    expect((await b.text()).body).not.toContain('kallisti_queue_hand_offs_total 1');
  });
});
