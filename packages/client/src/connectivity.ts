/** The few browser globals the client watches; absent in Node, where there is nothing to watch. */
interface BrowserGlobals {
  addEventListener?: (type: string, listener: () => void) => void;
  removeEventListener?: (type: string, listener: () => void) => void;
  navigator?: { onLine?: boolean };
  document?: { visibilityState?: string; addEventListener?: (type: string, listener: () => void) => void; removeEventListener?: (type: string, listener: () => void) => void };
}

const browser = globalThis as BrowserGlobals;

/** True when the browser says it has no network (`navigator.onLine === false`); never in Node. */
export function isOffline(): boolean {
  return browser.navigator?.onLine === false;
}

/**
 * Calls `offline` when the browser loses its network and `back` when it has it again or the page becomes
 * visible (a phone waking up: its timers were frozen, so a pending reconnect may be far off). Answers the
 * function that stops watching; in Node it watches nothing.
 */
export function watchConnectivity(offline: () => void, back: () => void): () => void {
  const { addEventListener: add, removeEventListener: remove, document } = browser;
  if (typeof add !== 'function' || typeof remove !== 'function') return () => undefined;
  const visible = () => { if (document?.visibilityState === 'visible') back(); };
  add.call(browser, 'offline', offline);
  add.call(browser, 'online', back);
  document?.addEventListener?.('visibilitychange', visible);
  return () => {
    remove.call(browser, 'offline', offline);
    remove.call(browser, 'online', back);
    document?.removeEventListener?.('visibilitychange', visible);
  };
}
