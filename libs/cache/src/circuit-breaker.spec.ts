import { CircuitBreaker, type BreakerState } from './circuit-breaker';

/** A breaker and the state changes it reported. */
function watched(options?: ConstructorParameters<typeof CircuitBreaker>[0]) {
  const breaker = new CircuitBreaker(options);
  const changes: BreakerState[] = [];
  breaker.onChange((state) => changes.push(state));
  return { breaker, changes };
}

describe(CircuitBreaker.name, () => {
  it('starts closed', () => {
    const { breaker, changes } = watched();
    expect(breaker.state).toBe('closed');
    expect(breaker.closed).toBe(true);
    expect(changes).toEqual([]);
  });

  it('opens on the third consecutive failure by default, not before', () => {
    const { breaker, changes } = watched();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.closed).toBe(false);
    expect(changes).toEqual(['open']);
  });

  it('honours failureThreshold', () => {
    const one = watched({ failureThreshold: 1 });
    one.breaker.failure();
    expect(one.breaker.state).toBe('open');
    const five = watched({ failureThreshold: 5 });
    for (let i = 0; i < 4; i++) five.breaker.failure();
    expect(five.breaker.state).toBe('closed');
    five.breaker.failure();
    expect(five.breaker.state).toBe('open');
  });

  it('counts only consecutive failures: a success resets the count', () => {
    const { breaker, changes } = watched();
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open']);
  });

  it('reports one change per transition, not one per failure while open', () => {
    const { breaker, changes } = watched();
    for (let i = 0; i < 10; i++) breaker.failure();
    breaker.trip();
    expect(changes).toEqual(['open']);
  });

  it('stays open on a success: only close() (a successful probe) closes it', () => {
    const { breaker, changes } = watched();
    breaker.trip();
    breaker.success();
    expect(breaker.state).toBe('open');
    breaker.close();
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'closed']);
  });

  it('trips at once, whatever the failure count', () => {
    const { breaker, changes } = watched({ failureThreshold: 100 });
    breaker.trip();
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open']);
  });

  it('starts counting afresh after close(): failures made while open do not carry over', () => {
    const { breaker, changes } = watched();
    breaker.trip();
    breaker.failure();
    breaker.failure();
    breaker.close();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open', 'closed', 'open']);
  });

  it('does not report a close of a closed breaker', () => {
    const { breaker, changes } = watched();
    breaker.close();
    expect(changes).toEqual([]);
  });

  it('notifies every listener, in registration order', () => {
    const breaker = new CircuitBreaker();
    const calls: string[] = [];
    breaker.onChange((s) => calls.push(`first:${s}`));
    breaker.onChange((s) => calls.push(`second:${s}`));
    breaker.trip();
    expect(calls).toEqual(['first:open', 'second:open']);
  });
});
