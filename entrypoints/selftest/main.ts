// Audio self-test page: wiring only. The loopback call lives in lib/media/loopback.ts.
// `globalThis.hushSelfTest` is the hook the browser tests drive; it exists only on
// this extension-origin page and can do nothing a click on "Start" cannot. A test-only
// page: store builds leave it out (wxt.config.ts, lib/testing/hooks.ts).
import { LoopbackCall, type LoopbackOptions } from '@/lib/media/loopback';
import type { Role } from '@/lib/media/types';
import { exposeSelfTest } from '@/lib/testing/hooks';

let call: LoopbackCall | undefined;
let meterTimer: ReturnType<typeof setInterval> | undefined;

const toggle = document.getElementById('toggle') as HTMLButtonElement;
const status = document.getElementById('status') as HTMLOutputElement;
const meter = document.getElementById('meter') as HTMLOutputElement;

async function start(opts: LoopbackOptions = {}) {
  stop();
  status.textContent = 'Starting…';
  try {
    call = await LoopbackCall.start(opts);
  } catch (e) {
    status.textContent = e instanceof Error ? e.message : String(e);
    throw e;
  }
  status.textContent = `Connected in ${Math.round(call.timings.connectMs)} ms. Speak: you should hear yourself.`;
  toggle.textContent = 'Stop';
  meterTimer = setInterval(() => {
    const a = call?.analyse().callee;
    if (a) meter.textContent = Number.isFinite(a.rmsDb) ? `Level ${a.rmsDb.toFixed(0)} dBFS` : 'Silence';
  }, 250);
  return call.timings;
}

function stop() {
  clearInterval(meterTimer);
  call?.stop();
  call = undefined;
  toggle.textContent = 'Start';
  status.textContent = 'Not running.';
  meter.textContent = '';
}

function current(): LoopbackCall {
  if (!call) throw new Error('the self-test is not running');
  return call;
}

toggle.addEventListener('click', () => (call ? stop() : void start().catch(() => {})));

exposeSelfTest({
  start,
  stop,
  stats: () => current().stats(),
  analyse: () => current().analyse(),
  mute: (role: Role, muted: boolean) => current().setMuted(role, muted),
  setInputDevice: (role: Role, deviceId?: string) => current().setInputDevice(role, deviceId),
  inputDevice: (role: Role) => current().inputDevice(role),
  restartIce: () => current().restartIce(),
  secretsWiped: () => current().secretsWiped(),
  // State events only: candidate events carry addresses, which stay in the page.
  stateEvents: () => {
    const { caller, callee } = current().events;
    return { caller: caller.filter((e) => e.type === 'state'), callee: callee.filter((e) => e.type === 'state') };
  },
});
