/** Standard base64 for the signalling protocol's binary fields (same in workers and Node). */
import { base64 } from '@scure/base';

export const toB64 = (b: Uint8Array): string => base64.encode(b);

/** null when `s` is not valid base64. */
export function fromB64(s: string): Uint8Array | null {
  try {
    return base64.decode(s);
  } catch {
    return null;
  }
}
