import { expect, test } from 'vitest';
import { OPUS_PTIME_MS, OPUS_RED_FIRST, opusForVoice, opusParams, peerOpusForUs } from './opus-sdp';

// The audio section of a Chromium 156 offer (recorded here: createOffer with one audio transceiver).
const CHROMIUM = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:1 cname:x',
  '',
].join('\r\n');

// Firefox 153's Opus lines (its offer puts fmtp before rtpmap and sets stereo and usedtx defaults its own way).
const FIREFOX = [
  'v=0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101',
  'a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1;usedtx=1',
  'a=fmtp:101 0-15',
  'a=ptime:40',
  'a=rtpmap:109 opus/48000/2',
  'a=rtpmap:101 telephone-event/8000/1',
  '',
].join('\r\n');

test('Chromium offer: RED first, FEC on, DTX off, ptime 20, the other lines untouched and in order', () => {
  const out = opusForVoice(CHROMIUM);
  expect(Object.fromEntries(opusParams(out)!)).toEqual({ minptime: '10', useinbandfec: '1', usedtx: '0' });
  expect(out.match(/^a=ptime:\d+$/gm)).toEqual([`a=ptime:${OPUS_PTIME_MS}`]);
  // Only the fmtp of Opus changed and one ptime line was added.
  const before = CHROMIUM.split('\r\n');
  const after = out.split('\r\n');
  expect(after.length).toBe(before.length + 1);
  expect(after.filter((l) => !before.includes(l)).sort()).toEqual([
    'a=fmtp:111 minptime=10;useinbandfec=1;usedtx=0',
    'a=ptime:20',
    'm=audio 9 UDP/TLS/RTP/SAVPF 63 111 9 0 8 13 110 126',
  ]);
  expect(after).toContain('a=fmtp:63 111/111'); // RED's fmtp is not Opus's
  expect(out.endsWith('\r\n')).toBe(true);
});

test('Firefox offer: its usedtx=1 and ptime 40 are replaced, its own parameters stay', () => {
  const out = opusForVoice(FIREFOX);
  expect(Object.fromEntries(opusParams(out)!)).toEqual({ maxplaybackrate: '48000', stereo: '1', useinbandfec: '1', usedtx: '0' });
  expect(out.match(/^a=ptime:\d+$/gm)).toEqual(['a=ptime:20']);
  expect(out).toContain('a=fmtp:101 0-15');
});

test('an Opus payload type without fmtp gets one; applying twice changes nothing more', () => {
  const bare = 'v=0\nm=audio 9 RTP/SAVPF 96\na=rtpmap:96 OPUS/48000/2\na=mid:0\n';
  const once = opusForVoice(bare);
  expect(once).toBe('v=0\nm=audio 9 RTP/SAVPF 96\na=rtpmap:96 OPUS/48000/2\na=fmtp:96 useinbandfec=1;usedtx=0\na=ptime:20\na=mid:0\n');
  expect(opusForVoice(once)).toBe(once);
  expect(opusForVoice(CHROMIUM)).toBe(opusForVoice(opusForVoice(CHROMIUM)));
});

test('sections that are not audio, and audio without Opus, come back unchanged', () => {
  const video = 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\na=fmtp:96 x=1\r\n';
  expect(opusForVoice(video)).toBe(video);
  const pcmu = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:30\r\n';
  expect(opusForVoice(pcmu)).toBe(pcmu);
  expect(opusParams(pcmu)).toBeNull();
});

test('RED: only a RED over Opus moves, only to the front; { red: false } keeps the browser\'s order', () => {
  expect(OPUS_RED_FIRST).toBe(true);
  expect(opusForVoice(CHROMIUM, { red: false })).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126');
  // A RED that carries something else than Opus (here G722) stays where it is.
  const notOpus = CHROMIUM.replace('a=fmtp:63 111/111', 'a=fmtp:63 9/9');
  expect(opusForVoice(notOpus)).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126');
  // Firefox 153 offers no RED: its m= line is left alone.
  expect(opusForVoice(FIREFOX)).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101');
  // Already first: unchanged, and applying twice changes nothing more.
  const once = opusForVoice(CHROMIUM);
  expect(opusForVoice(once)).toBe(once);
});

test('dtx (the DTX measurement only) sets usedtx=1 and leaves the other settings as Hush has them', () => {
  const out = opusForVoice(CHROMIUM, { dtx: true });
  expect(Object.fromEntries(opusParams(out)!)).toMatchObject({ useinbandfec: '1', usedtx: '1' });
  expect(opusParams(opusForVoice(out))!.get('usedtx')).toBe('0'); // Hush's own shape turns it off again
  expect(out).toContain('a=ptime:20');
});

test("the peer's description: a usedtx=1 it asks for does not turn our DTX on; nothing else changes", () => {
  // A modified peer asking our encoder for DTX (Firefox's own default is usedtx=1 too).
  const asked = FIREFOX;
  const read = peerOpusForUs(asked);
  expect(opusParams(read)!.get('usedtx')).toBe('0');
  expect(read.replace('usedtx=0', 'usedtx=1')).toBe(asked); // only that value moved
  // Without usedtx at all, ours is added; other payload types and sections are left alone.
  const chromium = peerOpusForUs(CHROMIUM);
  expect(Object.fromEntries(opusParams(chromium)!)).toEqual({ minptime: '10', useinbandfec: '1', usedtx: '0' });
  expect(chromium.split('\r\n').filter((l) => !l.startsWith('a=fmtp:111 '))).toEqual(CHROMIUM.split('\r\n').filter((l) => !l.startsWith('a=fmtp:111 ')));
  // Only when this call asked for DTX itself (the measurement) does the peer's usedtx=1 stand.
  expect(opusParams(peerOpusForUs(asked, { dtx: true }))!.get('usedtx')).toBe('1');
});
