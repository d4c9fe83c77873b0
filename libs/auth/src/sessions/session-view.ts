import type { SessionEntity } from '../entities/session.entity';

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

export const toSessionView = (s: SessionEntity): SessionView => ({
  id: s.id,
  createdAt: s.createdAt.toISOString(),
  lastUsedAt: s.lastUsedAt.toISOString(),
  expiresAt: s.expiresAt.toISOString(),
  userAgent: s.userAgent,
  ip: s.ip,
});
