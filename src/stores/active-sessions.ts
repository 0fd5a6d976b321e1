/**
 * Where the active session of each user is kept (SESSION_POLICY `api` and `latest`).
 * Implementations must make {@link ActiveSessionStore.claimSession} atomic across nodes.
 */
export interface ActiveSessionStore {
  activeSession(userId: string): Promise<string | undefined>;
  setActiveSession(userId: string, sessionId: string): Promise<void>;
  /** Makes `sessionId` the active session and returns the one it replaced, in one atomic step. */
  claimSession(userId: string, sessionId: string): Promise<string | undefined>;
}
