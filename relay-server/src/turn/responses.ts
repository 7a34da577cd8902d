/**
 * Building STUN answers. Every response carries FINGERPRINT; a response to
 * an authenticated request also carries MESSAGE-INTEGRITY made with the
 * request's key (RFC 8489 §9.2.4 last step). Error responses to requests that
 * failed authentication carry REALM and NONCE so the client can retry.
 */
import { Attr, Class, ErrorCode } from '../stun/constants';
import { encodeErrorCode } from '../stun/error-code';
import { fingerprintOf } from '../stun/fingerprint';
import { integrityWith } from '../stun/integrity';
import { StunWriter, type StunMessage } from '../stun/message';
import { encodeUnknownAttributes, utf8 } from '../stun/text-attrs';

export type AttrList = Array<[number, Uint8Array]>;

export function success(req: StunMessage, attrs: AttrList, key?: Uint8Array): Uint8Array {
  const w = new StunWriter(req.method, Class.Success, req.transactionId);
  for (const [t, v] of attrs) w.add(t, v);
  return w.finish({ integrity: key ? integrityWith(key) : undefined, fingerprint: fingerprintOf });
}

export interface ErrorOpts {
  key?: Uint8Array;
  realm?: string;
  nonce?: string;
  unknown?: number[];
  reason?: string;
}

export function failure(req: StunMessage, code: number, o: ErrorOpts = {}): Uint8Array {
  const w = new StunWriter(req.method, Class.Error, req.transactionId);
  w.add(Attr.ErrorCode, encodeErrorCode(code, o.reason));
  if (o.unknown && code === ErrorCode.UnknownAttribute) w.add(Attr.UnknownAttributes, encodeUnknownAttributes(o.unknown));
  if (o.realm !== undefined) w.add(Attr.Realm, utf8(o.realm));
  if (o.nonce !== undefined) w.add(Attr.Nonce, utf8(o.nonce));
  return w.finish({ integrity: o.key ? integrityWith(o.key) : undefined, fingerprint: fingerprintOf });
}
