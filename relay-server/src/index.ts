/** Programmatic entry: `startRelay(config)` and the types around it. */
export { startRelay, VERSION, type RunningRelay, type StartOptions } from './relay';
export { DEFAULTS, loadConfig, helpText, type RelayConfig } from './config';
export { Log, type Counts } from './log';
export { RelayError, type RelayErrorCode } from './errors';
