/**
 * Whether a failed statement may still have taken effect. A statement the
 * server refused answered with an error report, which always has a
 * `severity` (`pg`'s `DatabaseError`, PGlite's error alike): it did nothing.
 * Any other failure — the connection lost, a client-side deadline
 * (`query_timeout`) — came before the answer, so the server may have run it:
 * a COMMIT whose answer is lost may have committed.
 */
export function outcomeUnknown(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  return typeof (error as { severity?: unknown }).severity !== 'string';
}

/** The outermost COMMIT as TypeORM sends it (a savepoint's release is `RELEASE SAVEPOINT …`). */
export function isCommit(query: string): boolean {
  return /^\s*commit\s*;?\s*$/i.test(query);
}
