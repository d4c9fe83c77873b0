import { Histogram, Registry } from 'prom-client';
import { HttpDurationHistogram } from './http-duration-histogram';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: Array<[string, string, number, number]> = [
  ['GET', '/api/v1/ping', 200, 0.0004],
  ['GET', '/api/v1/ping', 200, 0.001], // on a bound: counted in that bucket (le is "less or equal")
  ['GET', '/api/v1/ping', 200, 0.05],
  ['GET', '/api/v1/users/:id', 404, 2.5], // above every bound: +Inf only
  ['POST', '/api/v1/ping', 415, 0.002],
  ['GET', 'UNMATCHED', 404, 0.0001],
];

describe(HttpDurationHistogram.name, () => {
  it('exposes exactly what prom-client’s Histogram exposes for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new HttpDurationHistogram('http_request_duration_seconds', 'HTTP durations', BUCKETS).registerIn(ours);
    const reference = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP durations',
      labelNames: ['method', 'route', 'status_code'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    for (const [method, route, status, seconds] of OBSERVATIONS) {
      fast.observe(method, route, status, seconds);
      reference.observe({ method, route, status_code: String(status) }, seconds);
    }
    const lines = (text: string) => text.split('\n').sort();
    expect(lines(await ours.metrics())).toEqual(lines(await theirs.metrics()));
    expect(await ours.metrics()).toContain(
      'http_request_duration_seconds_bucket{le="0.001",method="GET",route="/api/v1/ping",status_code="200"} 2',
    );
  });

  it('forgets every series on reset', async () => {
    const registry = new Registry();
    const fast = new HttpDurationHistogram('h', 'help', BUCKETS).registerIn(registry);
    fast.observe('GET', '/x', 200, 0.5);
    registry.resetMetrics();
    expect((await fast.get()).values).toEqual([]);
  });
});
