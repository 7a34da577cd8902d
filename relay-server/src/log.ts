/**
 * The relay's only output. It says aggregate facts: that it started, what it
 * listens on (its own addresses), settings that carry no secret, and counts.
 * There is deliberately no method that takes a client address, a username,
 * a mailbox id or a payload: what cannot be passed cannot be logged.
 */
export interface Counts {
  allocations: number;
  allocationsPeak: number;
  allocationsCreated: number;
  relayedDatagrams: number;
  signalConnections: number;
  signalDelivered: number;
  signalUnreachable: number;
  rejected: number;
}

export class Log {
  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(l + '\n')) {}

  started(version: string, sources: string[]): void {
    this.write(`hush-relay ${version} starting (settings from ${sources.join(', ')})`);
  }

  listening(service: string, transport: string, host: string, port: number, note = ''): void {
    const h = host.includes(':') ? `[${host}]` : host;
    this.write(`listening ${service} ${transport} ${h}:${port}${note ? ' ' + note : ''}`);
  }

  /** A fixed fact about the configuration (never a secret, never a client). */
  notice(text: string): void {
    this.write(text);
  }

  counts(c: Counts, when: 'periodic' | 'exit'): void {
    this.write(
      `${when === 'exit' ? 'final' : 'stats'}: allocations ${c.allocations} (peak ${c.allocationsPeak}, created ${c.allocationsCreated}), ` +
        `relayed ${c.relayedDatagrams} datagrams, signalling connections ${c.signalConnections}, ` +
        `envelopes delivered ${c.signalDelivered}, unreachable ${c.signalUnreachable}, requests rejected ${c.rejected}`,
    );
  }
}
