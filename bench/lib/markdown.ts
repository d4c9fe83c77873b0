/** A markdown table; cells are written as given (escape `|` yourself). Numeric-looking columns are right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[-\d.,×% ]+$|^n\/a$/.test(r[c] ?? '')));
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, c) => (numeric[c] ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

/** 1234567.8 → "1,234,568". */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

/** Fixed decimals, or n/a. */
export function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** `value / reference` as "0.42×". */
export function ratio(value: number, reference: number): string {
  return reference > 0 && Number.isFinite(value) ? `${(value / reference).toFixed(2)}×` : 'n/a';
}
