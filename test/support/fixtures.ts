export function experimentBody(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Checkout survives a dependency outage',
    description: 'Probe, wait, probe again',
    metadata: { team: 'payments' },
    parameters: { base_url: 'http://127.0.0.1:9' },
    pre_steps: [{ step: 'Service is healthy', do: 'cm.http_probe', where: { url: '{{ base_url }}/health' } }],
    steps: [
      { step: 'Let it settle', do: 'cm.wait', where: { time_in_seconds: 1 } },
      { step: 'Still serving', do: 'cm.http_request', where: { url: '{{ base_url }}/orders', method: 'GET' }, expect: [{ operator: 'eq', status_code: 200 }] },
    ],
    post_steps: [],
    ...overrides,
  };
}
