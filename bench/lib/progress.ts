/** Progress lines go to stderr, so that stdout carries only the report. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}
