/** Smallest delay between two reconnection attempts, in milliseconds. */
export const RECONNECT_BASE_DELAY_MS = 50;

/** How long shutdown waits for in-flight Redis replies before dropping the socket. */
export const CLOSE_TIMEOUT_MS = 1_000;
