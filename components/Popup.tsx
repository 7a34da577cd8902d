import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import type { PopupRequest, StatusResponse } from '@/lib/messaging/protocol';

/** The popup shell. Shows whether the background and the media host answer. */
export function Popup() {
  const [status, setStatus] = useState<StatusResponse | { error: string } | null>(null);

  useEffect(() => {
    const req: PopupRequest = { target: 'background', kind: 'status' };
    browser.runtime
      .sendMessage(req)
      .then((r) => setStatus(r as StatusResponse))
      .catch((e: unknown) => setStatus({ error: String(e) }));
  }, []);

  return (
    <main>
      <h1>Hush</h1>
      <p data-testid="media-status">
        {status === null
          ? 'Connecting…'
          : 'error' in status
            ? `Background unavailable: ${status.error}`
            : 'error' in status.offscreen
              ? `Media host unavailable: ${status.offscreen.error}`
              : status.offscreen.capabilities.peerConnection
                ? 'Media ready'
                : 'This browser lacks WebRTC'}
      </p>
    </main>
  );
}
