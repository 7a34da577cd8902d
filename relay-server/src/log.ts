/**
 * The relay's only output, one line per event in one of three formats
 * (--log-format): `text` "2026-12-01T23:55:00.123Z info  ready" (the CLI's
 * default), `json` {"time":…,"level":…,"msg":…} one object a line, `plain`
 * the message alone (the programmatic default; journald stamps its own time).
 * Levels: info (facts), warn (the relay runs but something an operator
 * should fix), error (it cannot do part of its job).
 *
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

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json' | 'plain';

/** One line in the given format (no newline). */
export function formatLine(format: LogFormat, level: LogLevel, msg: string, now: Date = new Date()): string {
  if (format === 'json') return JSON.stringify({ time: now.toISOString(), level, msg });
  if (format === 'text') return `${now.toISOString()} ${level.padEnd(5)} ${msg}`;
  return msg;
}

/** Writes to stdout, never throws: a log line must not take the relay down (EPIPE, EAGAIN). */
function stdoutLine(line: string): void {
  try {
    process.stdout.write(line + '\n');
  } catch {
    // nowhere left to say it
  }
}

export class Log {
  private readonly write: (line: string) => void;
  constructor(
    sink: (line: string) => void = stdoutLine,
    private readonly format: LogFormat = 'plain',
  ) {
    this.write = (line) => sink(formatLine(this.format, 'info', line));
    this.sinkLevel = (level, line) => sink(formatLine(this.format, level, line));
  }
  private readonly sinkLevel: (level: LogLevel, line: string) => void;

  /** The relay runs, but an operator should fix this (a placeholder secret, a low open-file limit). */
  warn(text: string): void {
    this.sinkLevel('warn', text);
  }

  /** The relay cannot do part of its job (Redis refused it, a duplicate node id, sockets failing). */
  error(text: string): void {
    this.sinkLevel('error', text);
  }

  started(version: string, sources: string[]): void {
    this.write(`hush-relay ${version} starting on Node ${process.version} (settings from ${sources.join(', ')})`);
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
