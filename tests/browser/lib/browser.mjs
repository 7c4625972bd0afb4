// What every journey shares: Debian's Chromium, headless and offline (only
// the local system on 127.0.0.1 answers), axe-core's check, page weights
// and screenshots. The Rust test `tests/tests/browser.rs` starts the system
// as `make run` does and passes where it is in the environment.
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

export const base = process.env.CITYDESK_BASE_URL;
export const staffTokens = JSON.parse(process.env.CITYDESK_STAFF_TOKENS || '{}');
const shots = process.env.CITYDESK_SCREENSHOTS || path.resolve('screenshots');
const weightsFile = process.env.CITYDESK_PAGE_WEIGHTS;
if (!base) throw new Error('CITYDESK_BASE_URL is not set: run these through `make test` (tests/tests/browser.rs)');

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A fresh browser profile (empty cache and cookies) that reaches nothing but the local system. */
export async function freshContext(browser, options = {}) {
  const context = await browser.newContext({ locale: 'pl-PL', viewport: { width: 1000, height: 800 }, ...options });
  const local = new URL(base).hostname;
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === local || host === '127.0.0.1' ? route.continue() : route.abort('internetdisconnected');
  });
  return context;
}

/** axe-core over the whole page: no serious or critical violation. */
export async function checkAccessibility(page, name) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `accessibility of ${name}`,
  );
}

/** Bytes a navigation transfers (headers and bodies as they crossed the wire). */
export async function measureTransfer(page, navigate) {
  const responses = [];
  const listener = (response) => responses.push(response);
  page.on('response', listener);
  await navigate();
  await page.waitForLoadState('networkidle');
  page.off('response', listener);
  let bytes = 0;
  for (const response of responses) {
    const sizes = await response.request().sizes();
    bytes += sizes.responseHeadersSize + sizes.responseBodySize;
  }
  return { bytes, requests: responses.length, urls: responses.map((r) => r.url()) };
}

/** Records a page's weight for the closing note (the Rust test prints them). */
export function recordWeight(name, measured) {
  if (weightsFile) fs.appendFileSync(weightsFile, `${name}\t${measured.bytes}\t${measured.requests}\n`);
}

export async function screenshot(page, name) {
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.jpg`), type: 'jpeg', quality: 70, fullPage: true });
}

/** Polls `check` every 250 ms for up to `seconds` until it returns a value. */
export async function eventually(seconds, check) {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) return undefined;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The SMS the local system's fake provider took for a phone number, containing `text`. */
export async function smsTo(phone, text) {
  return eventually(30, async () => {
    const outbox = await (await fetch(`${base}/_local/outbox`)).json();
    return outbox.find((m) => m.channel === 'sms' && m.to === phone && m.body.includes(text));
  });
}

/** A call to the system's JSON API as a member of staff (`clerk:roads`, …). */
export async function asStaff(role, method, route, body, extraHeaders = {}) {
  const token = staffTokens[role];
  assert.ok(token, `no demo token for ${role}`);
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...extraHeaders },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** A small JPEG carrying an EXIF segment with GPS data (the server must strip it). */
export function jpegWithGps() {
  const exif = Buffer.from('Exif\0\0II*\0\x08\0\0\0GPS!', 'latin1');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(exif.length + 2);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe1]), length, exif,
    Buffer.from([0xff, 0xdb, 0x00, 0x04, 0x00, 0x01, 0xff, 0xda, 0x00, 0x02, 0x11, 0x22, 0xff, 0xd9]),
  ]);
}

/** Signs in through the development issuer's page as the demo member of staff with `role`. */
export async function signIn(page, role, next) {
  await page.goto(`${base}${next}`);
  // Not signed in: off to the identity provider, whose page lists the demo staff.
  await page.getByRole('heading', { name: 'Development sign-in' }).waitFor();
  await page.getByRole('button', { name: role, exact: true }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/staff/'));
}
