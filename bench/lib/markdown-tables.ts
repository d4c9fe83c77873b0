/** A markdown table as the benchmarks write it (see `table` in `markdown.ts`). */
export interface ParsedTable {
  header: string[];
  rows: string[][];
}

/** One `##`/`###` section of a results file: its heading path and its tables, in order. */
export interface ParsedSection {
  /** The headings leading to it, outermost first (`['Calls in flight: …', '64 in flight']`). */
  path: string[];
  tables: ParsedTable[];
}

const cells = (line: string): string[] =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());

/**
 * The sections of a results file and their tables. Only the benchmarks'
 * own output is read: `|`-delimited rows under a header row and a `---`
 * separator row; cells holding `|` are not supported (the benchmarks write none).
 */
export function parseSections(markdown: string): ParsedSection[] {
  const sections: ParsedSection[] = [];
  const headings: string[] = [];
  let current: ParsedSection | undefined;
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heading = /^(#{2,4})\s+(.*)$/.exec(line);
    if (heading) {
      const depth = heading[1].length - 2;
      headings.length = depth;
      headings[depth] = heading[2].trim();
      current = { path: [...headings], tables: [] };
      sections.push(current);
      continue;
    }
    if (!line.startsWith('|') || !lines[i + 1]?.match(/^\|\s*-{3}/)) continue;
    const table: ParsedTable = { header: cells(line), rows: [] };
    i += 2;
    for (; i < lines.length && lines[i].startsWith('|'); i++) table.rows.push(cells(lines[i]));
    i--;
    if (!current) {
      current = { path: [], tables: [] };
      sections.push(current);
    }
    current.tables.push(table);
  }
  return sections;
}

/** `"133,735"` → 133735, `"1.00×"` → 1, `"—"` or `"n/a"` → NaN. */
export function numberIn(cell: string): number {
  const match = /-?[\d,]*\.?\d+/.exec(cell.replace(/\s/g, ''));
  return match ? Number(match[0].replace(/,/g, '')) : Number.NaN;
}

/** The index of the `nth` (0-based) column named `name`; throws when there is none (a results file changed shape). */
export function column(table: ParsedTable, name: string, nth = 0): number {
  let seen = 0;
  for (let c = 0; c < table.header.length; c++) {
    if (table.header[c] === name && seen++ === nth) return c;
  }
  throw new Error(`no column "${name}" (#${nth + 1}) in a table with columns ${table.header.join(', ')}`);
}

/** The first section whose heading path ends with a heading starting with `prefix`. */
export function section(sections: readonly ParsedSection[], ...prefixes: string[]): ParsedSection {
  const found = sections.find(
    (s) =>
      s.path.length >= prefixes.length &&
      prefixes.every((p, i) => s.path[s.path.length - prefixes.length + i]?.startsWith(p)),
  );
  if (!found) throw new Error(`no section "${prefixes.join(' › ')}"`);
  return found;
}
