/**
 * Opus settings for voice under frame encryption: the one place Hush shapes
 * the audio codec (docs/media.md "Opus settings"). Pure string work on a
 * session description, applied to our own description before
 * setLocalDescription: the fmtp parameters of the description we send tell
 * the *peer's* encoder what we want to receive (RFC 7587 §7), and both ends
 * run this, so both directions get the same settings.
 *
 * What it sets on every Opus payload type (RFC 7587 §6.1 parameter names):
 * - useinbandfec=1: the encoder adds LBRR (low bit-rate redundancy) of the
 *   previous frame when the peer reports loss; the receiver decodes a lost
 *   frame from the next one. Inside the same encrypted frame, so the frame
 *   transform needs nothing special. Chromium 156 and Firefox 153 already
 *   offer it; we state it so neither default can change under us.
 * - usedtx=0: no discontinuous transmission. With DTX a silent talker sends
 *   one frame every 400 ms; the media host's frame-gap watch (a dead path is
 *   "no frame for STALL_MS") and the longest-gap figure would read every
 *   pause as a dead path. It also shows speech activity to anyone who sees
 *   packet timing (RFC 6562 §3).
 * - ptime 20 ms (a=ptime:20): 20 ms frames lose half as much speech per lost
 *   packet as 40 ms, and the 18–21 bytes of frame header and tag per frame
 *   cost 7–8 kbps at 20 ms (docs/media.md has the arithmetic).
 *
 * - RED first (audio/red, RFC 2198, whose fmtp names an Opus payload type):
 *   moved to the front of the m= line, so it is the codec each encoder sends.
 *   Chromium builds RED in its audio encoder: the encoded transform sees one
 *   frame per packet, the primary and the previous frame together (about
 *   twice the bytes), encrypts it whole, and the receiver's transform
 *   decrypts it whole before the jitter buffer splits it; the redundancy
 *   survives frame encryption. Measured in the NAT lab at 10 % loss with
 *   40 ± 30 ms jitter: concealment 11 % without RED, 1.5–4 % with it, with or
 *   without frame encryption; in-band FEC, ptime 40/60 made no measurable
 *   difference (docs/media.md "Opus settings, measured"). A peer without RED
 *   (Firefox 153 does not offer it) negotiates plain Opus: nothing to move.
 *
 * The peer's description gets one change (peerOpusForUs): its usedtx is
 * set to ours before setRemoteDescription, since that fmtp drives *our*
 * encoder; a modified peer could otherwise turn our DTX on.
 *
 * Caveat: only fmtp and ptime lines and the RED payload type's place in the
 * m= line change. A description without Opus comes back unchanged.
 */

/** The fmtp parameters Hush sets on every Opus payload type, in this order. */
export const OPUS_VOICE_PARAMS: ReadonlyArray<readonly [string, string]> = [
  ['useinbandfec', '1'],
  ['usedtx', '0'],
];

/** Packet time in ms (a=ptime, RFC 4566 §6). */
export const OPUS_PTIME_MS = 20;

/** Send RED (RFC 2198) over Opus when both browsers offer it (docs/media.md has the measurements). */
export const OPUS_RED_FIRST = true;

export interface OpusShape {
  /** RED first in the m= line (default OPUS_RED_FIRST); false leaves the browser's order (Opus first). */
  red?: boolean;
  /** usedtx=1 instead of Hush's 0: only the DTX measurement asks for it (lib/testing/hooks.ts opusShapeOf). */
  dtx?: boolean;
}

/** The Opus payload types of each audio m-section (rtpmap "opus/48000/2", case-insensitive). */
function opusPayloadTypes(section: string[]): Set<string> {
  const pts = new Set<string>();
  for (const line of section) {
    const m = /^a=rtpmap:(\d+) opus\/48000(\/2)?\s*$/i.exec(line);
    if (m) pts.add(m[1]!);
  }
  return pts;
}

/** `a=fmtp:PT k=v;k=v` with Hush's parameters set (replacing any value the browser put there). */
function withVoiceParams(params: string, shape: OpusShape): string {
  const kept = params
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p && !OPUS_VOICE_PARAMS.some(([k]) => p.toLowerCase().startsWith(`${k}=`)));
  return [...kept, ...OPUS_VOICE_PARAMS.map(([k, v]) => `${k}=${k === 'usedtx' && shape.dtx ? '1' : v}`)].join(';');
}

/** The RED payload types of a section whose fmtp carries Opus ("a=fmtp:63 111/111"). */
function redOverOpus(section: string[], opus: Set<string>): string[] {
  const red = new Set<string>();
  for (const line of section) {
    const m = /^a=rtpmap:(\d+) red\/48000(\/2)?\s*$/i.exec(line);
    if (m) red.add(m[1]!);
  }
  return [...red].filter((pt) =>
    section.some((l) => {
      const f = /^a=fmtp:(\d+) ([\d/]+)\s*$/.exec(l);
      return f && f[1] === pt && f[2]!.split('/').every((x) => opus.has(x));
    }),
  );
}

/** `m=audio PORT PROTO PT...` with `first` moved to the front of the payload types, the rest in order. */
function withFirst(mline: string, first: string[]): string {
  const [kind, port, proto, ...pts] = mline.split(' ');
  if (!first.length || pts[0] === first[0]) return mline;
  return [kind, port, proto, ...first, ...pts.filter((p) => !first.includes(p))].join(' ');
}

function shapeAudioSection(section: string[], shape: OpusShape): string[] {
  const pts = opusPayloadTypes(section);
  if (pts.size === 0) return section;
  if (shape.red ?? OPUS_RED_FIRST) {
    const red = redOverOpus(section, pts);
    section = section.map((l) => (l.startsWith('m=audio ') ? withFirst(l, red) : l));
  }
  const out: string[] = [];
  const withFmtp = new Set<string>();
  for (const line of section) {
    const f = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (f && pts.has(f[1]!)) {
      out.push(`a=fmtp:${f[1]} ${withVoiceParams(f[2]!, shape)}`);
      withFmtp.add(f[1]!);
    } else if (/^a=ptime:/.test(line)) {
      continue; // one ptime line, ours, below
    } else {
      out.push(line);
    }
  }
  // An Opus payload type without fmtp gets one right after its rtpmap.
  for (const pt of pts) {
    if (withFmtp.has(pt)) continue;
    const i = out.findIndex((l) => l.toLowerCase().startsWith(`a=rtpmap:${pt} opus/`));
    out.splice(i + 1, 0, `a=fmtp:${pt} ${withVoiceParams('', shape)}`);
  }
  // ptime is a media-level attribute: after the last rtpmap/fmtp line of the section.
  let last = 0;
  out.forEach((l, i) => {
    if (/^a=(rtpmap|fmtp|rtcp-fb):/.test(l)) last = i;
  });
  out.splice(last + 1, 0, `a=ptime:${OPUS_PTIME_MS}`);
  return out;
}

/** The session description with Hush's Opus voice settings on every audio section. */
export function opusForVoice(sdp: string, shape: OpusShape = {}): string {
  return mapAudioSections(sdp, (section) => shapeAudioSection(section, shape));
}

/**
 * The peer's description as our encoder should read it: only `usedtx` changes, to Hush's value
 * (0; 1 only when this call asked for DTX itself). The fmtp of the peer's description drives our
 * encoder (RFC 7587 §7), so without this a modified peer could turn our DTX on, and our pauses
 * would then send nothing: packet timing would show when this side speaks (RFC 6562 §3), which
 * usedtx=0 is there to prevent. Apply to a remote description before setRemoteDescription.
 */
export function peerOpusForUs(sdp: string, shape: OpusShape = {}): string {
  const dtx = shape.dtx ? '1' : '0';
  return mapAudioSections(sdp, (section) => {
    const pts = opusPayloadTypes(section);
    return section.map((line) => {
      const f = /^a=fmtp:(\d+) (.*)$/.exec(line);
      if (!f || !pts.has(f[1]!)) return line;
      const kept = f[2]!
        .split(';')
        .map((p) => p.trim())
        .filter((p) => p && !p.toLowerCase().startsWith('usedtx='));
      return `a=fmtp:${f[1]} ${[...kept, `usedtx=${dtx}`].join(';')}`;
    });
  });
}

/** The description with `fn` applied to each audio section (m=audio up to the next m=), the rest as it was. */
function mapAudioSections(sdp: string, fn: (section: string[]) => string[]): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(eol);
  const trailing = lines.at(-1) === '' ? lines.pop() : undefined;
  const out: string[] = [];
  let section: string[] = [];
  let audio = false;
  const flush = () => {
    out.push(...(audio ? fn(section) : section));
    section = [];
  };
  for (const line of lines) {
    if (line.startsWith('m=')) {
      flush();
      audio = line.startsWith('m=audio ');
    }
    section.push(line);
  }
  flush();
  if (trailing !== undefined) out.push(trailing);
  return out.join(eol);
}

/** The Opus fmtp parameters of the first audio section, as a map (for tests and diagnostics). */
export function opusParams(sdp: string): Map<string, string> | null {
  const lines = sdp.split(/\r?\n/);
  const pts = opusPayloadTypes(lines);
  for (const line of lines) {
    const f = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (f && pts.has(f[1]!)) {
      return new Map(f[2]!.split(';').map((p) => p.trim().split('=') as [string, string]));
    }
  }
  return pts.size ? new Map() : null;
}
