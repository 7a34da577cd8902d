/**
 * The microphone a call waits for, in Chrome (issue 12, phase 2; docs/microphone-permission.md).
 *
 * The offscreen document that runs the call cannot show Chrome's permission prompt. So before
 * a call needs the microphone (the caller's dial, the callee's Accept) the background asks the
 * offscreen document for the permission state; `granted` → go at once. Otherwise (`prompt` or
 * `denied`) it opens Hush's permission window (permission.html, a visible page that can show
 * the prompt) and waits for its `mic-permission` report:
 *   granted   → the call goes on; the window is closed;
 *   dismissed → keep waiting (the page still shows its button);
 *   denied    → keep waiting with the window open (its sentence and settings button; a block
 *               lifted in the settings arrives as `granted` through the page's change event);
 *   the window closed by the person → `closed` (the call ends `mic-denied`).
 * The session waits in a state of its own meanwhile (lib/call/state.ts): no network timer runs.
 * Reports when no call waits (the welcome page sends them too) are ignored.
 */
import type { MicAnswer } from '../call/session';
import type { MicPermissionReport } from '../messaging/protocol';

/** Wide and tall enough for Chrome's prompt anchored on a small popup window. */
export const PERMISSION_WINDOW = { width: 460, height: 420 } as const;

export interface MicGateHost {
  /** The permission state the media host reads (Permissions API), 'unknown' when it cannot. */
  query(): Promise<'granted' | 'denied' | 'prompt' | 'unknown'>;
  /** Open the permission window; its id. */
  openWindow(): Promise<number | undefined>;
  closeWindow(id: number): Promise<void>;
  /** Call `cb(windowId)` whenever a window closes; returns the unsubscribe. */
  onWindowClosed(cb: (id: number) => void): () => void;
  log?(msg: string): void;
}

interface Waiting {
  resolve(a: MicAnswer): void;
  windowId?: number;
  unsubscribe?: () => void;
}

export class MicGate {
  private waiting?: Waiting;

  constructor(private readonly host: MicGateHost) {}

  /** May the call use the microphone? `asking()` once the person is asked. One call at a time. */
  async ask(asking: () => void): Promise<MicAnswer> {
    this.finish('closed'); // a former wait (cannot happen with one call at a time) does not linger
    const state = await this.host.query().catch(() => 'unknown' as const);
    if (state === 'granted') return 'granted';
    return new Promise<MicAnswer>((resolve) => {
      const w: Waiting = { resolve };
      this.waiting = w;
      w.unsubscribe = this.host.onWindowClosed((id) => {
        if (this.waiting === w && id === w.windowId) {
          w.windowId = undefined;
          this.finish('closed');
        }
      });
      asking();
      void this.host.openWindow().then(
        (id) => {
          if (this.waiting === w) w.windowId = id;
          else if (id !== undefined) void this.host.closeWindow(id).catch(() => {});
        },
        () => this.waiting === w && this.finish('closed'),
      );
    });
  }

  /** The permission page's report (`mic-permission`). */
  report(state: MicPermissionReport['state']): void {
    if (!this.waiting) return this.host.log?.(`microphone report ${state} with no call waiting: ignored`);
    if (state === 'granted') this.finish('granted');
    // dismissed or denied: the window stays, with its button or its way out; the person decides.
  }

  /** The call ended or moved on: close the window, settle the wait. */
  cancel(): void {
    this.finish('closed');
  }

  private finish(answer: MicAnswer): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = undefined;
    w.unsubscribe?.();
    if (w.windowId !== undefined) void this.host.closeWindow(w.windowId).catch(() => {});
    w.resolve(answer);
  }
}
