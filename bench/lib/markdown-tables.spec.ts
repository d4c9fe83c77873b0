import { table } from './markdown';
import { column, numberIn, parseSections, section } from './markdown-tables';

describe(parseSections.name, () => {
  const doc = [
    '# Title',
    'intro',
    '## L1 hit: warm key',
    '',
    table(
      ['contender', 'ops/s', 'p99 (µs)'],
      [
        ['ours', '333,755', '6.6'],
        ['peer', '101,050', '36.4'],
      ],
    ),
    '',
    '## Calls in flight',
    '### 64 in flight',
    table(['contender', 'p99 (µs)', 'ops/s', 'p99 (µs)'], [['ours', '1.0', '20,000', '2.0']]),
    'text after',
    table(['check', 'met'], [['a', 'yes']]),
  ].join('\n');

  it('finds the sections with their heading paths and tables, as the benchmarks write them', () => {
    const sections = parseSections(doc);
    expect(sections.map((s) => s.path)).toEqual([
      ['L1 hit: warm key'],
      ['Calls in flight'],
      ['Calls in flight', '64 in flight'],
    ]);
    const l1 = section(sections, 'L1 hit');
    expect(l1.tables).toEqual([
      {
        header: ['contender', 'ops/s', 'p99 (µs)'],
        rows: [
          ['ours', '333,755', '6.6'],
          ['peer', '101,050', '36.4'],
        ],
      },
    ]);
    const inFlight = section(sections, 'Calls in flight', '64 in flight');
    expect(inFlight.tables).toHaveLength(2);
    expect(column(inFlight.tables[0], 'p99 (µs)', 1)).toBe(3);
    expect(() => column(inFlight.tables[0], 'req/s')).toThrow(/no column "req\/s"/);
    expect(() => section(sections, 'Miss')).toThrow(/no section/);
  });
});

describe(numberIn.name, () => {
  it('reads the numbers the tables hold, and NaN for a dash or n/a', () => {
    expect(numberIn('133,735')).toBe(133_735);
    expect(numberIn('1.00×')).toBe(1);
    expect(numberIn('0.5')).toBe(0.5);
    expect(numberIn('503: 2,006')).toBe(503);
    expect(numberIn('—')).toBeNaN();
    expect(numberIn('n/a')).toBeNaN();
  });
});
