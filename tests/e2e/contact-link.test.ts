/**
 * Issue 18, contact links: `https://relay/c#card` (here http on loopback, a
 * relay on this machine) works like a `web+hush:` link when Hush is
 * installed. A page links to B's contact page on B's relay; A clicks it:
 * Hush's consent window names B's address, the page does not navigate, Call
 * rings B. Then A opens the contact page itself (what a person without Hush
 * reads) and its own "Call this person" link asks the same question.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { hangUpAll, launchSide, request, waitCallState, type HushSide } from '../harness/hush';
import { gotoWithHush, pageClick, startPageServer, type PageServer } from '../harness/ui';
import { answerConsent, consentWindow } from '../harness/consent';

let relay: RelayProcess;
let web: PageServer;
let a: HushSide;
let b: HushSide;
let aPage: Page;
let contactHref: string;

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  web = await startPageServer();
  [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl: relay.signalUrl }), launchSide({ toneHz: 880, signalUrl: relay.signalUrl })]);
  const host = new URL(relay.signalUrl).host;
  contactHref = `http://${host}/c#${b.address}@${host}`;
  web.set('/blog', `<!doctype html><html lang="en"><head><title>Bob's blog</title></head><body>
<h1>Bob's blog</h1><p>Call me: <a id="contact" href="${contactHref}">my Hush contact page</a></p></body></html>`);
  aPage = await a.hb.browser.newPage();
  await gotoWithHush(aPage, `${web.url}/blog`);
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await relay?.stop();
  await web?.close();
});

describe('contact links (https://relay/c#card)', () => {
  test("a click on a contact link opens Hush's consent window naming the card; Call rings B", async () => {
    await pageClick(aPage, '#contact');
    const w = await consentWindow(a);
    expect(await w.$eval('[data-testid="consent-question"]', (e) => e.textContent)).toContain(b.address);
    expect(await w.$eval('[data-testid="consent"]', (e) => e.getAttribute('data-via'))).toBe('link');
    expect(aPage.url()).toBe(`${web.url}/blog`); // the link did not navigate
    await answerConsent(a, 'consent-once');
    await waitCallState(b.popup, 'incoming');
    await hangUpAll(a, b);
    await Promise.all([request(a.popup, 'dismiss-call'), request(b.popup, 'dismiss-call')]);
  });

  test('the contact page itself: its text for people without Hush, and its Call link asks Hush', async () => {
    const p = await a.hb.browser.newPage();
    await gotoWithHush(p, contactHref);
    await p.waitForFunction((addr: string) => document.querySelector('main:not([hidden]) .card')?.textContent?.includes(addr), { timeout: 10_000 }, b.address);
    expect(await p.$eval('main:not([hidden]) h1', (e) => e.textContent)).toBe('To call this person, install Hush.');
    await pageClick(p, 'main:not([hidden]) a.call');
    const w = await consentWindow(a);
    expect(await w.$eval('[data-testid="consent-question"]', (e) => e.textContent)).toContain(b.address);
    await answerConsent(a, 'consent-deny');
    expect(p.url()).toBe(contactHref);
    await p.close();
  });
});
