// A tiny UDP tool the lab runs inside its namespaces (plain JS: it starts in
// ~50 ms with `node`, no TypeScript loader). Two modes:
//
//   node udp-probe.mjs reflect IP PORT [PORT...]
//       answers every datagram with the sender's address as the reflector
//       saw it ("203.0.113.1:40000"), like a STUN server; prints "ready".
//
//   node udp-probe.mjs probe [--stun] [--port P] [--timeout MS] IP:PORT [IP:PORT...]
//       sends "probe" (with --stun: a STUN Binding request, RFC 8489) from
//       ONE local socket to each target, in order, and prints one JSON line:
//       {"local":P,"answers":{"IP:PORT":"mapped"|null}} as soon as every
//       target answered, or at the timeout. Same socket for all targets: a
//       NAT's mapping behaviour shows in whether the mapped port changes per
//       destination. With --stun the mapped address is the response's
//       XOR-MAPPED-ADDRESS, so any STUN server is a reflector.
import dgram from 'node:dgram';

const [mode, ...rest] = process.argv.slice(2);

if (mode === 'reflect') {
  const [ip, ...ports] = rest;
  let bound = 0;
  for (const port of ports) {
    const s = dgram.createSocket('udp4');
    s.on('message', (_m, r) => s.send(`${r.address}:${r.port}`, r.port, r.address));
    s.bind(Number(port), ip, () => {
      if (++bound === ports.length) console.log('ready');
    });
  }
} else if (mode === 'probe') {
  let port = 0;
  let timeout = 1000;
  let stun = false;
  const targets = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--port') port = Number(rest[++i]);
    else if (rest[i] === '--timeout') timeout = Number(rest[++i]);
    else if (rest[i] === '--stun') stun = true;
    else targets.push(rest[i]);
  }
  const s = dgram.createSocket('udp4');
  const answers = Object.fromEntries(targets.map((t) => [t, null]));
  let timer;
  const finish = () => {
    clearTimeout(timer);
    console.log(JSON.stringify({ local: s.address().port, answers }));
    s.close();
  };
  s.on('message', (m, r) => {
    const key = `${r.address}:${r.port}`;
    if (!(key in answers) || answers[key] !== null) return;
    answers[key] = stun ? xorMapped(m) : m.toString();
    if (Object.values(answers).every((a) => a !== null)) finish();
  });
  s.bind(port, () => {
    for (const t of targets) {
      const i = t.lastIndexOf(':');
      s.send(stun ? bindingRequest() : 'probe', Number(t.slice(i + 1)), t.slice(0, i));
    }
    timer = setTimeout(finish, timeout);
  });
}

/** A STUN Binding request: type 0x0001, length 0, magic cookie, random transaction id. */
function bindingRequest() {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt32BE(0x2112a442, 4);
  for (let i = 8; i < 20; i++) b[i] = Math.floor(Math.random() * 256);
  return b;
}

/** The IPv4 XOR-MAPPED-ADDRESS (0x0020) of a STUN response as "ip:port", or "stun-response" without one. */
function xorMapped(m) {
  for (let off = 20; off + 4 <= m.length; ) {
    const type = m.readUInt16BE(off);
    const len = m.readUInt16BE(off + 2);
    if (type === 0x0020 && len >= 8 && m[off + 5] === 0x01) {
      const port = m.readUInt16BE(off + 6) ^ 0x2112;
      const ip = [0x21, 0x12, 0xa4, 0x42].map((k, i) => m[off + 8 + i] ^ k).join('.');
      return `${ip}:${port}`;
    }
    off += 4 + Math.ceil(len / 4) * 4;
  }
  return 'stun-response';
}

if (mode !== 'reflect' && mode !== 'probe') {
  console.error('usage: udp-probe.mjs reflect IP PORT... | probe [--stun] [--port P] [--timeout MS] IP:PORT...');
  process.exit(2);
}
