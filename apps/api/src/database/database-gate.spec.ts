import { DatabaseGate } from './database-gate';

describe(DatabaseGate.name, () => {
  it('lets every call through until three in a row miss, then fails them at once', () => {
    const gate = new DatabaseGate(3, 1_000);
    gate.missed(0);
    gate.missed(0);
    expect(gate.admit(10)).toBe(true);
    gate.missed(10);
    expect(gate.open).toBe(false);
    expect([gate.admit(20), gate.admit(500), gate.admit(1_009)]).toEqual([false, false, false]);
  });

  it('lets one probe through per retry interval while shut, and opens on an answer', () => {
    const gate = new DatabaseGate(3, 1_000);
    for (let i = 0; i < 3; i++) gate.missed(0);
    expect(gate.admit(1_000)).toBe(true); // the probe
    expect(gate.admit(1_001)).toBe(false); // only one per interval
    gate.missed(1_200);
    expect(gate.admit(1_500)).toBe(false);
    expect(gate.admit(2_000)).toBe(true); // the next probe
    gate.answered();
    expect(gate.open).toBe(true);
    expect(gate.admit(2_001)).toBe(true);
  });

  it('counts only misses in a row: an answer in between resets the count', () => {
    const gate = new DatabaseGate(3, 1_000);
    gate.missed(0);
    gate.missed(0);
    gate.answered();
    gate.missed(0);
    gate.missed(0);
    expect(gate.open).toBe(true);
  });
});
