/**
 * Every fuzz target, in the order the bench runs them: one per parser that
 * faces the network (docs/hardening.md lists what each checks).
 */
import type { TargetFactory } from '../engine';
import { clusterMessageTarget } from './cluster-message';
import { envelopeTarget, controlTarget, sealedOpenTarget } from './envelope';
import { frameDecryptTarget, frameHeaderTarget, replayWindowTarget } from './frame';
import { signalClientTarget, signalServerTarget } from './signal';
import { relayListTarget } from './relay-list';
import { streamFramerTarget } from './stream-framer';
import { stunDecodeTarget } from './stun';
import { channelDataTarget, turnClientRawTarget, turnClientSignedTarget, turnPeerTarget } from './turn-core';

export const TARGETS: Record<string, TargetFactory> = {
  'stun-decode': stunDecodeTarget,
  'turn-client-raw': turnClientRawTarget,
  'turn-client-signed': turnClientSignedTarget,
  'turn-peer': turnPeerTarget,
  'channel-data': channelDataTarget,
  'stream-framer': streamFramerTarget,
  'signal-server': signalServerTarget,
  'signal-client': signalClientTarget,
  'cluster-message': clusterMessageTarget,
  envelope: envelopeTarget,
  'sealed-open': sealedOpenTarget,
  control: controlTarget,
  'relay-list': relayListTarget,
  'frame-header': frameHeaderTarget,
  'replay-window': replayWindowTarget,
  'frame-decrypt': frameDecryptTarget,
};
