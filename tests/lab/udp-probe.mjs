// A tiny UDP tool the lab runs inside its namespaces (plain JS: it starts in
// ~50 ms with `node`, no TypeScript loader). Two modes:
//
//   node udp-probe.mjs reflect IP PORT [PORT...]
//       answers every datagram with the sender's address as the reflector
//       saw it ("203.0.113.1:40000"), like a STUN server; prints "ready".
//
//   node udp-probe.mjs probe [--port P] [--timeout MS] IP:PORT [IP:PORT...]
//       sends "probe" from ONE local socket to each target, in order, and
//       prints one JSON line: {"local":P,"answers":{"IP:PORT":"mapped"|null}}.
//       Same socket for all targets: a NAT's mapping behaviour shows in
//       whether the mapped port changes per destination.
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
  const targets = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--port') port = Number(rest[++i]);
    else if (rest[i] === '--timeout') timeout = Number(rest[++i]);
    else targets.push(rest[i]);
  }
  const s = dgram.createSocket('udp4');
  const answers = Object.fromEntries(targets.map((t) => [t, null]));
  s.on('message', (m, r) => {
    answers[`${r.address}:${r.port}`] = m.toString();
  });
  s.bind(port, () => {
    for (const t of targets) {
      const i = t.lastIndexOf(':');
      s.send('probe', Number(t.slice(i + 1)), t.slice(0, i));
    }
    setTimeout(() => {
      console.log(JSON.stringify({ local: s.address().port, answers }));
      s.close();
    }, timeout);
  });
} else {
  console.error('usage: udp-probe.mjs reflect IP PORT... | probe [--port P] [--timeout MS] IP:PORT...');
  process.exit(2);
}
