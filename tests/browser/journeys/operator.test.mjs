// An operator takes a call from the keyboard alone: finds the caller by
// phone (their earlier request shows), answers from the knowledge base,
// registers a new request on their behalf with the classifier's suggestion
// and an address from the city's list (the caller gets the SMS), and hands
// a question to the second line; then routes a request from the triage list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  base, launch, freshContext, checkAccessibility, screenshot, asStaff, eventually, signIn, smsTo,
} from '../lib/browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function submitted(body) {
  const response = await fetch(`${base}/v1/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 201);
  return response.json();
}

test('an operator takes a call: lookup, an answer from the knowledge base, a registration, a question', async () => {
  // A caller who reported before (a number of this run's own).
  const phone = `+48601${String(Date.now()).slice(-6)}`;
  const earlier = await submitted({
    service_code: 'pothole',
    description: 'Dziura w jezdni na Długiej, wcześniejsze zgłoszenie',
    lat: 50.0700, long: 19.9350,
    contact: { name: 'Anna Nowak', phone },
  });

  const context = await freshContext(browser);
  const page = await context.newPage();
  await signIn(page, 'operator', '/staff/');
  await page.waitForURL((url) => url.pathname === '/staff/desk');
  await page.getByRole('heading', { name: 'Konsola konsultanta' }).waitFor();

  // A number that is not one is explained, and nothing is looked up.
  await page.keyboard.press('F2');
  await page.keyboard.type('12ab');
  const [refusal] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.keyboard.press('Enter')]);
  assert.equal(refusal.status(), 422);
  await page.locator('#phone-error').getByText(/To nie jest numer telefonu/).waitFor();
  assert.equal(await page.locator('#caller-history').count(), 0);

  // F2: the caller's number, Enter: their history, with the earlier request.
  await page.keyboard.press('F2');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'phone');
  await page.keyboard.type(phone);
  await page.keyboard.press('Enter');
  const history = page.locator('#caller-history');
  await history.getByText(earlier.case_number).waitFor();
  assert.match(await history.textContent(), /Anna Nowak/);
  // The number never stands in the address bar.
  assert.ok(!page.url().includes(phone.slice(1)), page.url());

  // F4: the knowledge base beside the call; the answer recorded as a first-contact resolution.
  await page.keyboard.press('F4');
  await page.keyboard.type('odbiór gabarytów');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: /Odbiór odpadów wielkogabarytowych/ }).waitFor();
  await history.getByText(earlier.case_number).waitFor();
  await page.getByRole('button', { name: /Odpowiedziano tym: Odbiór odpadów wielkogabarytowych/ }).focus();
  await page.keyboard.press('Enter');
  await page.getByText('Zapisano: sprawa załatwiona przy pierwszym kontakcie.').waitFor();

  // F8: a new request on the caller's behalf; the classifier suggests, the address places it.
  await page.keyboard.press('F8');
  await page.keyboard.type('Nie świeci latarnia uliczna, od tygodnia ciemno na chodniku');
  const suggestion = page.locator('#suggestions button.suggestion').first();
  await suggestion.waitFor();
  const suggested = await suggestion.textContent();
  await suggestion.focus();
  await page.keyboard.press('Enter');
  const chosen = await page.locator('#service_code').evaluate((s) => s.options[s.selectedIndex].text);
  assert.equal(chosen, suggested);
  await page.getByLabel('Adres').fill('ul. Długa 30');
  await page.locator('#map.leaflet-container').waitFor();
  assert.equal(await page.getByLabel('Numer telefonu').inputValue(), phone);
  await checkAccessibility(page, 'the operator console');
  await page.getByRole('button', { name: 'Zarejestruj zgłoszenie' }).focus();
  await page.keyboard.press('Enter');
  const notice = await page.locator('#desk-notice').textContent();
  const registered = notice.match(/Zgłoszenie (\S+) zarejestrowane/);
  assert.ok(registered, notice);
  const caseNumber = registered[1];
  // It is the caller's: in their history, registered by phone, and they get the SMS.
  await history.getByText(caseNumber).waitFor();
  const view = await (await fetch(`${base}/v1/requests/${caseNumber}`)).json();
  assert.equal(view.address, 'ul. Długa 30');
  assert.ok(await smsTo(phone, caseNumber), `the caller got an SMS with ${caseNumber}`);
  await screenshot(page, 'operator-console');

  // F9: a question for the second line; the caller will get the answer.
  await page.keyboard.press('F9');
  await page.keyboard.type('Czy mieszkaniec może sam zgłosić przycięcie drzewa na posesji sąsiada?');
  await page.getByLabel('Albo wydział').selectOption('greenery');
  await page.getByRole('button', { name: 'Przekaż ekspertom' }).click();
  await page.getByText(/Pytanie przekazane: .*; odpowiedź do/).waitFor();
  const questions = await asStaff('expert:greenery', 'GET', '/v1/expert/questions');
  assert.ok(
    JSON.stringify(questions.body).includes('przycięcie drzewa na posesji sąsiada'),
    JSON.stringify(questions.body),
  );
  await context.close();
});

test('an operator routes what the classifier was unsure of from the triage list', async () => {
  const vague = await submitted({ description: 'Proszę o pilny kontakt w mojej sprawie', lat: 50.0612, long: 19.9380 });
  const triaged = await eventually(30, async () => {
    const r = await (await fetch(`${base}/v1/requests/${vague.case_number}`)).json();
    return r.status === 'triaged' ? r : undefined;
  });
  assert.ok(triaged, `${vague.case_number} waits for triage`);
  const context = await freshContext(browser);
  const page = await context.newPage();
  await signIn(page, 'operator', '/staff/triage');
  await page.getByRole('heading', { name: vague.case_number }).waitFor();
  await checkAccessibility(page, 'the triage list');
  await screenshot(page, 'operator-triage');
  await page.getByLabel('Inna usługa').first().focus();
  const item = page.locator('li.card', { has: page.getByRole('heading', { name: vague.case_number }) });
  await item.getByLabel('Inna usługa').selectOption('pothole');
  await item.getByRole('button', { name: /Przydziel/ }).click();
  await page.getByText(`Zgłoszenie ${vague.case_number} przydzielone.`).waitFor();
  const routed = await eventually(30, async () => {
    const r = await (await fetch(`${base}/v1/requests/${vague.case_number}`)).json();
    return r.service_code === 'pothole' && r.status !== 'triaged' ? r : undefined;
  });
  assert.ok(routed, 'the choice routed it');
  await context.close();

  // The triage department's clerks triage too, and their menu says so; other clerks' does not.
  for (const [role, offered] of [['clerk:contact-centre', true], ['clerk:roads', false]]) {
    const other = await freshContext(browser);
    const page2 = await other.newPage();
    await signIn(page2, role, '/staff/work');
    const menu = page2.getByRole('navigation', { name: 'Menu główne' }).getByRole('link', { name: 'Do przydzielenia' });
    assert.equal(await menu.count(), offered ? 1 : 0, role);
    const visited = await page2.goto(`${base}/staff/triage`);
    assert.equal(visited.status(), offered ? 200 : 403, role);
    await other.close();
  }
});

test('every staff page speaks English and Ukrainian too', async () => {
  const response = await fetch(`${base}/v1/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service_code: 'pothole', description: 'Dziura na Długiej, do tłumaczeń', lat: 50.0676, long: 19.9366 }),
  });
  const { case_number: caseNumber } = await response.json();
  const routed = await eventually(30, async () => {
    const r = await asStaff('head:roads', 'GET', `/v1/department/assignments/${caseNumber}`);
    return r.status === 200;
  });
  assert.ok(routed, `${caseNumber} reached the roads department`);
  const headings = {
    en: { '/staff/desk': 'Operator console', '/staff/triage': 'Triage', '/staff/work': 'Department work', [`/staff/work/${caseNumber}`]: caseNumber, '/staff/questions': 'Questions to the experts' },
    uk: { '/staff/desk': 'Консоль оператора', '/staff/triage': 'Розподіл', '/staff/work': 'Робота відділу', [`/staff/work/${caseNumber}`]: caseNumber, '/staff/questions': 'Запитання до експертів' },
  };
  for (const [role, paths] of [['operator', ['/staff/desk', '/staff/triage']], ['head:roads', ['/staff/work', `/staff/work/${caseNumber}`, '/staff/questions']]]) {
    const context = await freshContext(browser);
    const page = await context.newPage();
    await signIn(page, role, '/staff/');
    for (const lang of ['en', 'uk']) {
      for (const path of paths) {
        const visited = await page.goto(`${base}${path}?lang=${lang}`);
        assert.equal(visited.status(), 200, `${path} in ${lang}`);
        assert.equal(await page.getAttribute('html', 'lang'), lang);
        const h1 = await page.locator('h1').textContent();
        assert.ok(h1.includes(headings[lang][path]), `${path} in ${lang}: ${h1}`);
      }
    }
    await context.close();
  }
});
