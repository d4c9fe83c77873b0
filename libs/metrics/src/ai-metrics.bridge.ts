import { Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { AiLedger } from '@app/ai';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Histogram } from 'prom-client';
import { METRIC } from './metrics.constants';

/**
 * Exports the completion cache's ledger (`AiLedger`) to Prometheus: the
 * counters are read from it when `/metrics` is scraped, the provider call
 * durations are observed as they happen. Does nothing without `AiModule`.
 */
@Injectable()
export class AiMetricsBridge implements OnModuleInit {
  constructor(
    @InjectMetric(METRIC.aiCompletionRequests) private readonly requests: Counter<'model' | 'result'>,
    @InjectMetric(METRIC.aiTokensSaved) private readonly tokensSaved: Counter<'model' | 'kind'>,
    @InjectMetric(METRIC.aiCostSaved) private readonly costSaved: Counter<'model'>,
    @InjectMetric(METRIC.aiProviderDuration) private readonly duration: Histogram<'model' | 'outcome'>,
    @Optional() private readonly ledger?: AiLedger,
  ) {}

  onModuleInit(): void {
    const ledger = this.ledger;
    if (!ledger) return;
    // prom-client calls a metric's `collect` before reading it (see CacheMetricsBridge).
    const collect = <M extends Counter<string>>(metric: M, fill: (m: M) => void) =>
      Object.assign(metric, { collect: () => (metric.reset(), fill(metric)) });
    // Summed over namespaces: the labels are the model's (one namespace in this app).
    collect(this.requests, (m) => {
      for (const line of ledger.lines())
        for (const [result, count] of Object.entries(line.requests))
          if (count) m.inc({ model: line.model, result }, count);
    });
    collect(this.tokensSaved, (m) => {
      for (const line of ledger.lines()) {
        m.inc({ model: line.model, kind: 'prompt' }, line.tokensSaved.prompt);
        m.inc({ model: line.model, kind: 'completion' }, line.tokensSaved.completion);
      }
    });
    collect(this.costSaved, (m) => {
      for (const line of ledger.lines()) m.inc({ model: line.model }, line.costSaved);
    });
    ledger.onProviderCall((model, seconds, ok) =>
      this.duration.observe({ model, outcome: ok ? 'ok' : 'error' }, seconds),
    );
  }
}
