/**
 * The kit's errors: each has a stable code and a sentence that says what to do,
 * because the person reading it is a test author who has not read Hush's code.
 */

export type KitErrorCode =
  | 'ERR_NO_CHROMIUM'
  | 'ERR_EXTENSION_NOT_BUILT'
  | 'ERR_RELAY_UNREACHABLE'
  | 'ERR_RELAY_START'
  | 'ERR_NO_MICROPHONE_PERMISSION'
  | 'ERR_UNSUPPORTED'
  | 'ERR_TIMEOUT';

/** An error of the Hush test kit: `code` for a test to match, `message` for a person to act on. */
export class KitError extends Error {
  readonly code: KitErrorCode;
  constructor(code: KitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KitError';
    this.code = code;
  }
}

export const noChromium = (tried: string[]) =>
  new KitError(
    'ERR_NO_CHROMIUM',
    `No Chromium found (looked at: ${tried.join(', ')}). Install Debian's package (apt-get install -y chromium) ` +
      'or set CHROMIUM_PATH to a Chromium or Chrome for Testing binary.',
  );

export const extensionNotBuilt = (dir: string) =>
  new KitError(
    'ERR_EXTENSION_NOT_BUILT',
    `No built Hush extension at ${dir} (no manifest.json there). Run \`npm run build\` in the Hush checkout ` +
      '(it writes .output/chrome-mv3), or pass launchHush({ extensionDir }) / set HUSH_EXTENSION_DIR to an unpacked build.',
  );

export const relayUnreachable = (url: string, detail: string) =>
  new KitError(
    'ERR_RELAY_UNREACHABLE',
    `The relay at ${url} is not reachable (${detail}). Start one in the test with \`const relay = await startRelay()\` ` +
      'and pass `relay: relay.url`, or run `npm run relay -- --listen 127.0.0.1` and check the URL (ws://host:port/signal).',
  );

export const noMicrophone = (why: string) =>
  new KitError(
    'ERR_NO_MICROPHONE_PERMISSION',
    `Hush has no microphone permission (${why}). Launch without \`microphone: 'ungranted'\`, ` +
      'or call `await hush.grantMicrophone()` before dialling or accepting.',
  );
