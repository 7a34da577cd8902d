/**
 * Firefox's side of a call's microphone wait (issue 21, points 1, 4, 5): the call window is
 * opened before the HELLO (caller) or the `accept` (callee) and asked to open the microphone
 * at once (`mic-acquire`), so Firefox's prompt shows there while the call waits in a state of
 * its own (lib/call/state.ts); the stream it opens is kept for the call's media-start (no
 * second prompt). Answers: granted; denied (Block, or a Block Firefox remembered); closed
 * (the person closed the call window during the prompt: not a hang-up, a refused microphone).
 * When the call ends during the wait, the held microphone is released (`mic-release`).
 */
import { browser } from 'wxt/browser';
import type { MicAnswer } from '../call/session';
import type { OffscreenRequest, OffscreenResponse } from '../messaging/protocol';
import { ensureCallWindow, hasCallWindow, lingerCallWindow } from './call-window';

export class CallWindowMic {
  private pending?: (a: MicAnswer) => void;

  async ask(asking: () => void): Promise<MicAnswer> {
    return new Promise<MicAnswer>((resolve) => {
      this.pending = resolve;
      void this.acquire(asking).then(
        (a) => this.settle(a),
        () => this.settle('closed'),
      );
    });
  }

  /** The person closed the call window: a pending wait ends 'closed' (true); else it is a hang-up (false). */
  windowClosed(): boolean {
    if (!this.pending) return false;
    this.settle('closed');
    return true;
  }

  /**
   * The call ended: a microphone opened for it and never used is released. Ended by the other
   * side or the network (not by this person's own hang-up), the window stays with the reason.
   */
  release(endedHere: boolean): void {
    if (!endedHere) lingerCallWindow();
    this.settle('closed');
    if (hasCallWindow()) void send({ target: 'offscreen', kind: 'mic-release' }).catch(() => {});
  }

  private async acquire(asking: () => void): Promise<MicAnswer> {
    await ensureCallWindow();
    const st = await send({ target: 'offscreen', kind: 'mic-state' }).catch(() => undefined);
    if (!(st?.ok && st.value === 'granted')) asking();
    const r = await send({ target: 'offscreen', kind: 'mic-acquire' });
    if (!r) return 'closed';
    if (r.ok) return 'granted';
    // No microphone at all is not a refusal: media-start will end the call "no-microphone".
    return r.code === 'ERR_MIC_DENIED' ? 'denied' : 'granted';
  }

  private settle(a: MicAnswer): void {
    const p = this.pending;
    this.pending = undefined;
    p?.(a);
  }
}

function send(req: OffscreenRequest): Promise<OffscreenResponse | undefined> {
  return browser.runtime.sendMessage(req) as Promise<OffscreenResponse | undefined>;
}
