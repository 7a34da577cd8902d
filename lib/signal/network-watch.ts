/**
 * The device's network coming and going, as the signalling client needs it:
 * `online` / `offline` on the global scope (a window, or the MV3 service
 * worker: WorkerGlobalScope has both events, HTML §8.10.3 "Offline web
 * applications", and WorkerNavigator.onLine) and, where it exists,
 * `navigator.connection`'s `change` (Network Information API).
 *
 * Caveats:
 *  - `connection.change` also fires when Chrome's estimates (rtt, downlink,
 *    effectiveType) move, which happens often on a steady network: only a
 *    change of `connection.type` (wifi → cellular, ethernet → none) or of
 *    `navigator.onLine` counts. Desktop Chrome leaves `type` undefined.
 *  - In Chromium's MV3 service worker (measured, Chromium 156, CDP offline
 *    emulation) `online`/`offline` did not fire on the worker's global, while
 *    `navigator.onLine` flipped and `connection` fired `change`: so a change
 *    is also read as online/offline through `navigator.onLine`. Each
 *    transition is reported once, whichever signal brings it first.
 *  - `offline` is reliable (no interface at all); `online` only means an
 *    interface came up, not that the relay is reachable: the client still
 *    backs off if the first attempt fails.
 */

/** What the watcher listens on: `globalThis` in the extension, a plain EventTarget in tests. */
export interface NetworkScope {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
  navigator?: { onLine?: boolean; connection?: ConnectionLike };
}

interface ConnectionLike {
  type?: string;
  addEventListener(type: 'change', listener: () => void): void;
  removeEventListener(type: 'change', listener: () => void): void;
}

/**
 * Call `onChange(true)` when the network is back or the connection type
 * changed (a new network: the old socket and ICE paths are probably dead),
 * `onChange(false)` when the device went offline. Returns the unsubscribe.
 */
export function watchNetwork(scope: NetworkScope, onChange: (online: boolean) => void): () => void {
  const conn = scope.navigator?.connection;
  let lastType = conn?.type;
  let lastOnline = scope.navigator?.onLine;
  const set = (online: boolean) => {
    if (online === lastOnline) return; // the event and a connection change can both report it
    lastOnline = online;
    onChange(online);
  };
  const up = () => set(true);
  const down = () => set(false);
  const changed = () => {
    const type = conn?.type;
    if (type !== undefined && type !== lastType) {
      lastType = type;
      lastOnline = type !== 'none';
      onChange(lastOnline);
      return;
    }
    // Measured in Chromium 156's MV3 service worker: going offline (DevTools/CDP emulation) flips
    // navigator.onLine and fires connection `change`, but no online/offline event on the worker.
    const online = scope.navigator?.onLine;
    if (online !== undefined) set(online);
  };
  scope.addEventListener('online', up);
  scope.addEventListener('offline', down);
  conn?.addEventListener('change', changed);
  return () => {
    scope.removeEventListener('online', up);
    scope.removeEventListener('offline', down);
    conn?.removeEventListener('change', changed);
  };
}
