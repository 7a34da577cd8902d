/**
 * Builds the known-answer vectors of Hush's own formats from fixed inputs.
 * `scripts/gen-vectors.ts` ran this once and committed the JSON beside it;
 * vectors.test.ts checks the code still produces exactly those bytes.
 * Changing an output here is a protocol change: bump the version instead.
 */
import { createCipheriv } from 'node:crypto';
import { drbg } from './_drbg';
import { fromHex, toHex, utf8 } from './bytes';
import { identityFromSeed } from './identity';
import { addressFromBundle, addressHash, mailboxIdOfBundle } from './address';
import { CalleeHandshake, CallerHandshake } from './handshake';
import { frameEpochKeys } from './key-schedule';
import { counterNonce } from './aead';
import { encodeHeader } from './frame-format';
import { FRAME_KID_MOD } from './constants';

export interface HandshakeVector {
  callerSeed: string;
  calleeSeed: string;
  callerRng: string;
  calleeRng: string;
  /** Caller's stored admission token for the callee ('' for a first call: HELLO's tag is then random). */
  admitToken: string;
  /** The relays each side signs into the handshake (envelope version 3): none in case 0, some in case 1. */
  callerRelays: string[];
  calleeRelays: string[];
  callerAddress: string;
  calleeAddress: string;
  calleeMailbox: string;
  hello: string;
  response: string;
  confirm: string;
  reveal: string;
  transcriptHash: string;
  sas: string;
  frameA2b: string;
  frameB2a: string;
  signalA2b: string;
  signalB2a: string;
  /** The pair's admission tokens from this call (caller's send = callee's recv = a2b). */
  admitA2b: string;
  admitB2a: string;
}

export async function handshakeVector(i: number): Promise<HandshakeVector> {
  const callerSeed = toHex(drbg(`kat/identity/caller/${i}`)(32));
  const calleeSeed = toHex(drbg(`kat/identity/callee/${i}`)(32));
  const callerRng = `kat/handshake/caller/${i}`;
  const calleeRng = `kat/handshake/callee/${i}`;
  const admitToken = i === 0 ? '' : toHex(drbg(`kat/admit-token/${i}`)(32));
  const callerRelays = i === 0 ? [] : ['wss://r1.example:443/signal'];
  const calleeRelays = i === 0 ? [] : ['wss://r2.example:443/signal', 'wss://backup.example:8443/hush/signal'];
  const A = identityFromSeed(fromHex(callerSeed));
  const B = identityFromSeed(fromHex(calleeSeed));
  const caller = new CallerHandshake(A, addressHash(B.bundleBytes), {
    rng: drbg(callerRng),
    deterministic: true,
    admitToken: admitToken ? fromHex(admitToken) : undefined,
    relays: callerRelays,
  });
  const callee = new CalleeHandshake(B, { rng: drbg(calleeRng), deterministic: true, relays: calleeRelays });
  const hello = caller.start();
  const response = await callee.onHello(hello);
  if (!response.ok) throw response.error;
  const confirm = await caller.onResponse(response.value);
  if (!confirm.ok) throw confirm.error;
  const done = await callee.onConfirm(confirm.value.confirm);
  if (!done.ok) throw done.error;
  const reveal = await callee.reveal();
  if (!reveal.ok) throw reveal.error;
  const revealed = await caller.onReveal(reveal.value.reveal);
  if (!revealed.ok) throw revealed.error;
  const k = confirm.value.keys;
  if (JSON.stringify(k.peerRelays) !== JSON.stringify(calleeRelays) || JSON.stringify(done.value.keys.peerRelays) !== JSON.stringify(callerRelays)) {
    throw new Error('relay lists did not arrive as sent');
  }
  return {
    callerSeed,
    calleeSeed,
    callerRng,
    calleeRng,
    admitToken,
    callerRelays,
    calleeRelays,
    callerAddress: addressFromBundle(A.bundleBytes),
    calleeAddress: addressFromBundle(B.bundleBytes),
    calleeMailbox: mailboxIdOfBundle(B.bundleBytes),
    hello: toHex(hello),
    response: toHex(response.value),
    confirm: toHex(confirm.value.confirm),
    reveal: toHex(reveal.value.reveal),
    transcriptHash: toHex(k.transcriptHash),
    sas: revealed.value.sas,
    frameA2b: toHex(k.secrets.frameA2b),
    frameB2a: toHex(k.secrets.frameB2a),
    signalA2b: toHex(k.secrets.signalA2b),
    signalB2a: toHex(k.secrets.signalB2a),
    admitA2b: toHex(revealed.value.admission.send),
    admitB2a: toHex(revealed.value.admission.recv),
  };
}

export interface KeyScheduleVector {
  frameSecret: string;
  epoch: number;
  key: string;
  salt: string;
}

export function keyScheduleVectors(): KeyScheduleVector[] {
  const out: KeyScheduleVector[] = [];
  for (const s of [0, 1]) {
    const secret = drbg(`kat/frame-secret/${s}`)(32);
    for (const epoch of [0, 1, 15, 16, 2 ** 20]) {
      const { key, salt } = frameEpochKeys(secret, epoch);
      out.push({ frameSecret: toHex(secret), epoch, key: toHex(key), salt: toHex(salt) });
    }
  }
  return out;
}

export interface FrameVector {
  frameSecret: string;
  epoch: number;
  counter: number;
  plaintext: string;
  frame: string;
}

/**
 * A frame computed with Node's OpenSSL AES-GCM (not WebCrypto) and the noble
 * HKDF reference: an implementation independent of the one under test.
 */
export function referenceFrame(secret: Uint8Array, epoch: number, counter: number, plain: Uint8Array): Uint8Array {
  const { key, salt } = frameEpochKeys(secret, epoch);
  const header = encodeHeader(epoch % FRAME_KID_MOD, counter);
  const c = createCipheriv('aes-256-gcm', key, counterNonce(salt, counter));
  c.setAAD(header);
  const ct = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  return new Uint8Array([...header, ...ct]);
}

export function frameVectors(): FrameVector[] {
  const secret = drbg('kat/frame-secret/0')(32);
  const out: FrameVector[] = [];
  const cases: [number, number, number][] = [
    [0, 0, 0], [0, 1, 80], [0, 255, 60], [0, 256, 120], [0, 65536, 80], [1, 0, 80], [17, 7, 40], [0, 2 ** 24 - 1, 80],
  ];
  for (const [epoch, counter, len] of cases) {
    const plain = drbg(`kat/opus/${epoch}/${counter}`)(len);
    out.push({
      frameSecret: toHex(secret),
      epoch,
      counter,
      plaintext: toHex(plain),
      frame: toHex(referenceFrame(secret, epoch, counter, plain)),
    });
  }
  return out;
}
