// A clerk signs in through the identity provider (the development issuer's
// page listing the demo staff), filters the department's work, acknowledges
// several cases at once, writes to the resident and resolves; a clerk of
// another department cannot open the case page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  base, launch, freshContext, checkAccessibility, screenshot, asStaff, eventually, signIn,
} from '../lib/browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** A resident's report through the public API, routed to its department. */
async function reported(description, lat, long) {
  const response = await fetch(`${base}/v1/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service_code: 'pothole', description, lat, long }),
  });
  assert.equal(response.status, 201);
  const created = await response.json();
  const routed = await eventually(30, async () => {
    const r = await asStaff('clerk:roads', 'GET', `/v1/department/assignments/${created.case_number}`);
    return r.status === 200;
  });
  assert.ok(routed, `${created.case_number} reached the roads department`);
  return created;
}

test('a clerk filters, acknowledges several, writes to the resident and resolves', async () => {
  const first = await reported('Dziura w jezdni na Długiej przed numerem 10', 50.0700, 19.9350);
  const second = await reported('Wyrwa w asfalcie na Długiej przy numerze 20', 50.0712, 19.9348);
  const context = await freshContext(browser);
  const page = await context.newPage();
  await signIn(page, 'clerk:roads', '/staff/work');
  await page.getByRole('heading', { name: /Praca wydziału/ }).waitFor();

  // The session is an HttpOnly, Secure, SameSite cookie the page's scripts cannot read.
  const session = (await context.cookies()).find((c) => c.name === '__Host-session');
  assert.ok(session && session.httpOnly && session.secure && session.sameSite === 'Lax', JSON.stringify(session));
  assert.equal(await page.evaluate(() => document.cookie.includes('session')), false);

  // Filters: the service and the status narrow the list to both new cases.
  await page.getByLabel('Rodzaj sprawy').selectOption('pothole');
  await page.getByLabel('Stan').selectOption('assigned');
  await page.getByRole('button', { name: 'Pokaż' }).click();
  for (const c of [first, second]) {
    await page.getByRole('link', { name: c.case_number }).waitFor();
  }
  await checkAccessibility(page, 'the work list');
  await screenshot(page, 'department-work-list');

  // Both acknowledged at once, by keyboard: tick, then the button.
  await page.getByLabel(`Zaznacz ${first.case_number}`).focus();
  await page.keyboard.press('Space');
  await page.getByLabel(`Zaznacz ${second.case_number}`).check();
  await page.getByRole('button', { name: 'Przyjmij zaznaczone' }).click();
  await page.getByText('Przyjęto zgłoszeń: 2.').waitFor();
  for (const c of [first, second]) {
    const r = await asStaff('clerk:roads', 'GET', `/v1/department/assignments/${c.case_number}`);
    assert.equal(r.body.status, 'acknowledged', JSON.stringify(r.body));
  }

  // The case page: a note to the resident, then resolved with the resolution.
  await page.goto(`${base}/staff/work/${first.case_number}`);
  await page.getByRole('heading', { name: `Sprawa ${first.case_number}` }).waitFor();
  await page.locator('#place .leaflet-container, #place.leaflet-container').first().waitFor();
  await checkAccessibility(page, 'the case page');
  await page.getByLabel('Treść (mieszkaniec ją zobaczy)').fill('Ekipa przyjedzie w czwartek rano.');
  await page.getByRole('button', { name: 'Wyślij mieszkańcowi' }).click();
  await page.getByText('Wiadomość wysłana do mieszkańca.').waitFor();
  await page.getByLabel('Treść (tylko dla pracowników)').fill('Potrzebna masa na gorąco.');
  await page.getByRole('button', { name: 'Dodaj notatkę' }).click();
  await page.getByText('Notatka dodana.').waitFor();
  await page.getByLabel('Nowy stan').selectOption('resolved');
  await page.getByLabel('Wiadomość dla mieszkańca').fill('Ubytek załatany.');
  await page.getByRole('button', { name: 'Zmień stan' }).click();
  await page.getByText('Stan zmieniony.').waitFor();
  await screenshot(page, 'department-case');

  // The resident reads the note and the resolution, never the internal note.
  const mine = await (await fetch(`${base}/v1/requests/${first.case_number}`, {
    headers: { authorization: `Bearer ${first.tracking_token}` },
  })).json();
  assert.equal(mine.status, 'resolved');
  const said = JSON.stringify(mine);
  assert.ok(said.includes('Ekipa przyjedzie w czwartek rano.') && said.includes('Ubytek załatany.'), said);
  assert.ok(!said.includes('masa na gorąco'), said);

  // A stale page (the case changed since it was read) is refused, not overwritten.
  await page.goto(`${base}/staff/work/${second.case_number}`);
  await asStaff('clerk:roads', 'POST', `/v1/department/assignments/${second.case_number}/internal-notes`, { note: 'Zmiana obok' });
  await page.getByLabel('Treść (tylko dla pracowników)').fill('Moja notatka');
  await page.getByRole('button', { name: 'Dodaj notatkę' }).click();
  await page.getByText('Ktoś zmienił to zgłoszenie w międzyczasie').waitFor();

  // Signing out ends the session.
  await page.getByRole('button', { name: 'Wyloguj' }).click();
  await page.goto(`${base}/staff/work`);
  await page.getByRole('heading', { name: 'Development sign-in' }).waitFor();
  await context.close();
});

test("a clerk of another department cannot open the case page, and a forged form is refused", async () => {
  const roads = await reported('Dziura przy przystanku na Długiej', 50.0722, 19.9345);
  const context = await freshContext(browser);
  const page = await context.newPage();
  await signIn(page, 'clerk:greenery', `/staff/work/${roads.case_number}`);
  const response = await page.reload();
  assert.equal(response.status(), 404);
  await page.getByText('Nie ma takiego zgłoszenia w pracy Twojego wydziału.').waitFor();
  assert.ok(!(await page.content()).includes('Dziura przy przystanku'));

  // A post from another site (no token from this one's cookie) changes nothing.
  const forged = await page.request.post(`${base}/staff/work`, {
    form: { case: roads.case_number, csrf: 'f'.repeat(48) },
    headers: { origin: 'https://evil.example' },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  const r = await asStaff('clerk:roads', 'GET', `/v1/department/assignments/${roads.case_number}`);
  assert.equal(r.body.status, 'assigned');
  await context.close();
});

test("an expert answers the contact centre's question from the portal", async () => {
  const asked = await asStaff('operator', 'POST', '/v1/operator/questions', {
    question: 'Czy mieszkaniec może sam zasypać dziurę przed swoim domem?',
    service_code: 'pothole',
  }, { 'idempotency-key': `browser-${Date.now()}` });
  assert.equal(asked.status, 201, JSON.stringify(asked.body));
  const context = await freshContext(browser);
  const page = await context.newPage();
  await signIn(page, 'expert:roads', '/staff/');
  await page.getByRole('heading', { name: /Pytania do ekspertów/ }).waitFor();
  await checkAccessibility(page, 'the questions list');
  await page.locator(`a[href="/staff/questions/${asked.body.id}"]`).click();
  await page.getByLabel('Odpowiedź').fill('Nie: ubytek zabezpiecza i naprawia Zarząd Dróg; prosimy o zgłoszenie.');
  await checkAccessibility(page, 'a question');
  await screenshot(page, 'expert-question');
  await page.getByRole('button', { name: 'Wyślij odpowiedź' }).click();
  await page.getByText('Odpowiedź wysłana.').waitFor();
  const read = await asStaff('operator', 'GET', `/v1/operator/questions/${asked.body.id}`);
  assert.equal(read.body.status, 'answered', JSON.stringify(read.body));
  assert.match(JSON.stringify(read.body), /ubytek zabezpiecza/);
  await context.close();
});

test('the sign-in refuses a wrong PKCE verifier, a used code and a foreign state', async () => {
  const noRedirect = { redirect: 'manual' };
  // The pages start the flow: a state, a nonce and an S256 challenge.
  const start = await fetch(`${base}/staff/login?next=/staff/work`, noRedirect);
  assert.equal(start.status, 303);
  const authorize = new URL(start.headers.get('location'));
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(authorize.searchParams.get('code_challenge').length >= 43);
  const signinCookie = start.headers.get('set-cookie').split(';')[0];
  assert.match(start.headers.get('set-cookie'), /HttpOnly/i);

  // The provider gives a code for the chosen member of staff.
  const form = new URLSearchParams(authorize.searchParams);
  form.set('role', 'clerk:roads');
  const chosen = await fetch(authorize.origin + authorize.pathname, { method: 'POST', body: form, ...noRedirect });
  assert.equal(chosen.status, 303);
  const back = new URL(chosen.headers.get('location'));
  const code = back.searchParams.get('code');
  assert.equal(back.searchParams.get('state'), authorize.searchParams.get('state'));

  // Someone holding the code but not the verifier gets nothing.
  const token = (verifier) => fetch(`${authorize.origin}${authorize.pathname.replace('/authorize', '/token')}`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, client_id: authorize.searchParams.get('client_id'),
      redirect_uri: authorize.searchParams.get('redirect_uri'), code_verifier: verifier,
    }),
  });
  const stolen = await token('x'.repeat(43));
  assert.equal(stolen.status, 400);
  assert.equal((await stolen.json()).error, 'invalid_grant');

  // A callback with another state, or without this browser's sign-in cookie, makes no session.
  const foreign = await fetch(`${base}${back.pathname}?code=${code}&state=other`, { headers: { cookie: signinCookie }, ...noRedirect });
  assert.equal(foreign.status, 400);
  assert.ok(!(foreign.headers.get('set-cookie') || '').includes('session='));
  const noCookie = await fetch(`${base}${back.pathname}${back.search}`, noRedirect);
  assert.equal(noCookie.status, 400);
  // The code was spent by the refused exchange: the provider gives it once.
  const replay = await fetch(`${base}${back.pathname}${back.search}`, { headers: { cookie: signinCookie }, ...noRedirect });
  assert.equal(replay.status, 400);
});
