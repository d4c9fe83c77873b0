/** What a user sees of one of their sessions (never the secret or its hash). */
export interface SessionView {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
}

/** Client details recorded with a session. */
export interface SessionMeta {
  userAgent?: string;
  ip?: string;
}
