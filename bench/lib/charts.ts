import { Resvg } from '@resvg/resvg-js';

/** One bar pair of a chart: a contender's throughput and its p99 in one scenario. */
export interface ChartRow {
  label: string;
  /** `ours` (our code), `reference` (the physical floor: raw client, bare server), `peer` (everything else). */
  role: 'ours' | 'peer' | 'reference';
  throughput: number;
  p99: number;
}

export interface ChartSpec {
  title: string;
  throughputTitle: string;
  p99Title: string;
  rows: readonly ChartRow[];
}

/** Colours by role: ours stands out, the reference is grey. */
const ROLE_COLORS = { domain: ['ours', 'peer', 'reference'], range: ['#d62728', '#4c78a8', '#9d9d9d'] };

/** Who a row is, from its label as the benchmarks write it. */
export function roleOf(label: string): ChartRow['role'] {
  if (/^ours\b/i.test(label)) return 'ours';
  if (/reference|^bare node:http|^raw node-redis|provider alone/i.test(label)) return 'reference';
  return 'peer';
}

/**
 * Two horizontal bar charts side by side, throughput and p99, one bar per
 * contender, as a PNG: a Vega-Lite spec compiled by vega-lite, rendered to
 * SVG by vega (headless, no canvas), rasterised by resvg.
 */
export async function renderChart(spec: ChartSpec): Promise<Buffer> {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const values = spec.rows.map((r, order) => ({ ...r, order }));
  const height = Math.max(60, 22 * values.length);
  const y = {
    field: 'label',
    type: 'nominal',
    sort: { field: 'order', op: 'min' },
    title: null,
    axis: { labelLimit: 600 },
  };
  const panel = (field: 'throughput' | 'p99', title: string, first: boolean) => ({
    width: 300,
    height,
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y: first ? y : { ...y, axis: null },
          x: { field, type: 'quantitative', title },
          color: {
            field: 'role',
            type: 'nominal',
            scale: ROLE_COLORS,
            legend: null,
          },
        },
      },
      {
        // The value at the end of each bar.
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: { field: 'order', op: 'min' } },
          x: { field, type: 'quantitative' },
          text: { field, type: 'quantitative', format: field === 'p99' ? ',.1f' : ',.0f' },
        },
      },
    ],
  });
  const lite = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: spec.title, anchor: 'start', fontSize: 13 },
    data: { values },
    hconcat: [panel('throughput', spec.throughputTitle, true), panel('p99', spec.p99Title, false)],
    resolve: { scale: { y: 'shared' } },
    config: { font: 'DejaVu Sans', axis: { labelFontSize: 11, titleFontSize: 11 }, view: { stroke: null } },
  };
  const compiled = vl.compile(lite as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG(2);
  view.finalize();
  return new Resvg(svg, { background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } })
    .render()
    .asPng();
}
