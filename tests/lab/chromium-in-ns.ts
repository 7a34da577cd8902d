/**
 * Chromium inside a lab namespace, driven from the test process in the root
 * namespace.
 *
 * A DevTools port would listen on the namespace's own loopback, which the
 * root namespace cannot reach. So the browser is driven over puppeteer's
 * `pipe: true` transport (fds 3 and 4 of the child), and puppeteer launches
 * a generated wrapper script as the "executable":
 *
 *   #!/bin/sh
 *   exec ip netns exec <ns> /usr/lib/chromium/chromium "$@"
 *
 * `ip netns exec` keeps the inherited file descriptors and execs in place, so
 * the pipes and the pid puppeteer holds are Chromium's own. It also
 * bind-mounts /etc/netns/<ns>/resolv.conf (createLab writes one that points
 * at a closed loopback), and --host-resolver-rules keeps Chromium's own
 * resolver off the network except for the relay's address (lab-notes.md).
 *
 * Flags and the binary come from tests/harness/chromium.ts, so the lab
 * browser is the e2e browser. With `extensionDir` the Hush extension is
 * loaded (puppeteer's enableExtensions, which needs the pipe anyway) and the
 * handle is the e2e harness's HushBrowser.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { BASE_FLAGS, attachExtension, chromiumPath, type HushBrowser } from '../harness/chromium';
import type { Lab, NsRole } from './netns';

export interface NsLaunchOptions {
  /** Extra Chromium flags (fake audio file, …). */
  args?: string[];
  /** Addresses Chromium may still resolve/connect by name (default: the lab's relay). */
  resolverExclude?: string[];
  /** Extensions to load (puppeteer enableExtensions; needs the pipe transport, which we use anyway). */
  enableExtensions?: string[];
  /** Reuse a profile; else a fresh temp dir, removed on close. */
  userDataDir?: string;
}

export interface NsBrowser {
  browser: Browser;
  /** The namespace Chromium runs in. */
  ns: string;
  profileDir: string;
  /** A fresh page (about:blank). */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Write the wrapper puppeteer launches: Chromium inside `ns`. */
async function wrapperFor(ns: string, dir: string): Promise<string> {
  if (!/^[\w.-]+$/.test(ns)) throw new Error(`unsafe namespace name ${JSON.stringify(ns)}`);
  const path = join(dir, 'chromium-in-ns');
  await writeFile(path, `#!/bin/sh\nexec ip netns exec '${ns}' '${chromiumPath()}' "$@"\n`);
  await chmod(path, 0o755);
  return path;
}

/** The flags every lab Chromium gets on top of the e2e harness's. */
export function labFlags(lab: Lab, opts: NsLaunchOptions = {}): string[] {
  const exclude = opts.resolverExclude ?? [lab.addresses.relay, lab.addresses.relay2];
  return [
    ...BASE_FLAGS,
    // No permission flag: the plain WebRTC page (webrtc-peer.ts) gets its microphone through CDP's grant,
    // Hush as a person gives it (attachExtension, tests/harness/permission.ts).
    `--host-resolver-rules=MAP * ~NOTFOUND${exclude.map((a) => `, EXCLUDE ${a}`).join('')}`,
    ...(opts.args ?? []),
  ];
}

/** Launch Chromium inside one of the lab's namespaces (usually 'hostA' or 'hostB'). */
export async function launchInNamespace(lab: Lab, role: NsRole, opts: NsLaunchOptions = {}): Promise<NsBrowser> {
  const ns = lab.ns[role];
  const scratch = await mkdtemp(join(tmpdir(), 'hush-lab-chromium-'));
  // The scratch dir holds the wrapper and, unless the caller gave one, the profile.
  const profileDir = opts.userDataDir ?? join(scratch, 'profile');
  const cleanup = () => rm(scratch, { recursive: true, force: true });
  lab.onDestroy(() => rmSync(scratch, { recursive: true, force: true })); // if close() never runs
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: await wrapperFor(ns, scratch),
      headless: true,
      pipe: true,
      userDataDir: profileDir,
      args: labFlags(lab, opts),
      ...(opts.enableExtensions?.length ? { enableExtensions: opts.enableExtensions } : {}),
      // The lab tears down the namespace on exit; let puppeteer not race it with its own handlers.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      protocolTimeout: 120_000,
    });
  } catch (e) {
    await cleanup();
    throw new Error(`launching Chromium in ${ns}: ${(e as Error).message}`, { cause: e });
  }
  return {
    browser,
    ns,
    profileDir,
    async newPage() {
      return browser.newPage();
    },
    async close() {
      await browser.close().catch(() => browser.process()?.kill('SIGKILL'));
      await cleanup();
    },
  };
}

/**
 * Launch Chromium with the Hush extension inside a namespace; the same
 * handle as tests/harness/chromium.ts's launchWithExtension, plus `ns`.
 */
export async function launchExtensionInNamespace(
  lab: Lab,
  role: NsRole,
  extensionDir: string,
  /** micPermission: as launchWithExtension's (default: granted like a person through the welcome page). */
  opts: Omit<NsLaunchOptions, 'enableExtensions'> & { micPermission?: 'granted' | 'prompt' } = {},
): Promise<HushBrowser & { ns: string }> {
  if (!existsSync(join(extensionDir, 'manifest.json'))) {
    throw new Error(`no built extension at ${extensionDir}: run \`npm run build\` first`);
  }
  const nb = await launchInNamespace(lab, role, { ...opts, enableExtensions: [extensionDir] });
  try {
    return { ...(await attachExtension(nb.browser, nb.profileDir, () => nb.close(), { micPermission: opts.micPermission })), ns: nb.ns };
  } catch (e) {
    await nb.close();
    throw e;
  }
}
