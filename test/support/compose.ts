/**
 * The parts of docker compose's variable interpolation that
 * docker-compose.yml uses, so a test can read the file as compose would
 * without Docker. Compose interpolates the string values of the parsed YAML
 * (never its comments) from the shell environment and `.env`:
 *
 * - `${VAR}`: the value, or empty when unset;
 * - `${VAR:-default}` / `${VAR-default}`: `default` when unset or empty / when unset;
 * - `${VAR:?message}` / `${VAR?message}`: an error when unset or empty / when unset;
 * - `$$`: a literal `$`.
 *
 * A substituted value is not interpolated again. Nested forms
 * (`${A:-${B}}`) and bare `$VAR` are not supported: the file uses neither.
 */
const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

/** Variables for interpolation: what `.env` (and the shell) define. */
export type ComposeVariables = Readonly<Record<string, string | undefined>>;

/** Every string value of a parsed YAML document, keys excluded. */
export function stringValues(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(stringValues);
  if (node && typeof node === 'object') return Object.values(node).flatMap(stringValues);
  return [];
}

/** The variables compose refuses to start without: `nonEmpty` for `${VAR:?…}`, else (`${VAR?…}`) only set. */
export function requiredVariables(values: readonly string[]): Map<string, { nonEmpty: boolean }> {
  const required = new Map<string, { nonEmpty: boolean }>();
  for (const value of values) {
    for (const [match, name, operator] of value.matchAll(REFERENCE)) {
      if (match === '$$' || !operator?.endsWith('?')) continue;
      required.set(name, { nonEmpty: operator === ':?' || (required.get(name)?.nonEmpty ?? false) });
    }
  }
  return required;
}

/** `value` as compose interpolates it from `variables`; throws as compose refuses to start on a `?` form. */
export function interpolate(value: string, variables: ComposeVariables): string {
  return value.replace(REFERENCE, (match, name: string, operator: string | undefined, argument: string) => {
    if (match === '$$') return '$';
    const current = variables[name];
    const missing = current === undefined || (operator?.startsWith(':') === true && current === '');
    if (operator?.endsWith('-')) return missing ? argument : current;
    if (operator?.endsWith('?') && missing) throw new Error(`required variable ${name} is missing: ${argument}`);
    return current ?? '';
  });
}

/** A parsed YAML value with every string in it interpolated. */
export function interpolateAll<T>(node: T, variables: ComposeVariables): T {
  if (typeof node === 'string') return interpolate(node, variables) as T;
  if (Array.isArray(node)) return node.map((item: unknown) => interpolateAll(item, variables)) as T;
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, variables)])) as T;
  }
  return node;
}
