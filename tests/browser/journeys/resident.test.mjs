// A resident reports a pothole with a pin and a photo, gets the case number,
// opens the SMS link, sees the timeline, and confirms the fix after the clerk
// resolves it; then the same report without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  base, launch, freshContext, checkAccessibility, measureTransfer, recordWeight,
  screenshot, smsTo, asStaff, eventually, jpegWithGps,
} from '../lib/browser.mjs';

const REPORT_PAGE_LIMIT = 250 * 1024;
const TRACKING_PAGE_LIMIT = 50 * 1024;
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Moves the request along as the roads clerk would (until the department portal exists). */
async function clerkResolves(caseNumber, resolution) {
  const path = `/v1/department/assignments/${caseNumber}`;
  const assigned = await eventually(30, async () => {
    const r = await asStaff('clerk:roads', 'GET', path);
    return r.status === 200 ? r : undefined;
  });
  assert.ok(assigned, `${caseNumber} reached the roads department`);
  for (const body of [{ status: 'acknowledged' }, { status: 'resolved', note: resolution }]) {
    const r = await asStaff('clerk:roads', 'POST', `${path}/status`, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
}

test('a resident reports a pothole with a pin and a photo, follows it by the SMS link and confirms the fix', async () => {
  const context = await freshContext(browser);
  const page = await context.newPage();

  await page.goto(`${base}/`);
  await checkAccessibility(page, 'the start page');
  await screenshot(page, 'citizen-home');

  // Step 1: what. The classifier suggests the service while the resident types.
  const first = await measureTransfer(page, () => page.getByRole('link', { name: 'Zgłoś problem' }).first().click());
  await page.getByLabel('Opisz problem').fill('Głęboka dziura w jezdni na ulicy Długiej, przy przejściu dla pieszych');
  const suggestion = page.getByRole('button', { name: 'Wybierz: Dziura w jezdni' });
  await suggestion.waitFor({ timeout: 15000 });
  await checkAccessibility(page, 'the report form, step 1');
  await screenshot(page, 'citizen-report-what');
  await suggestion.click();
  assert.equal(await page.getByLabel('Rodzaj sprawy').inputValue(), 'pothole');

  // Step 2: where. The map draws the districts offline; the pin is dragged.
  const second = await measureTransfer(page, () => page.getByRole('button', { name: 'Dalej' }).click());
  const report = { bytes: first.bytes + second.bytes, requests: first.requests + second.requests };
  recordWeight('report page (step 1, then step 2 with the map)', report);
  assert.ok(report.bytes <= REPORT_PAGE_LIMIT, `the report page transferred ${report.bytes} bytes: ${[...first.urls, ...second.urls].join(' ')}`);
  await page.locator('.leaflet-container path').first().waitFor();
  await page.getByRole('button', { name: 'Postaw pinezkę na środku mapy' }).click();
  const pin = page.locator('.leaflet-marker-icon');
  await pin.waitFor();
  const centreLat = Number(await page.locator('#lat').inputValue());
  const box = await pin.boundingBox();
  await page.mouse.move(box.x + 5, box.y + 5);
  await page.mouse.down();
  await page.mouse.move(box.x + 45, box.y - 35, { steps: 8 });
  await page.mouse.up();
  await eventually(5, async () => Number(await page.locator('#lat').inputValue()) !== centreLat);
  const lat = Number(await page.locator('#lat').inputValue());
  assert.ok(lat > centreLat, `dragging the pin north moved it (from ${centreLat} to ${lat})`);
  await assert.doesNotReject(page.getByText('Pinezka:').waitFor());
  await checkAccessibility(page, 'the report form, step 2 (the map)');
  await screenshot(page, 'citizen-report-where');
  await page.getByRole('button', { name: 'Dalej' }).click();

  // Step 3: details: the service's own questions, a photo, the contact and its use.
  await page.getByRole('heading', { name: 'Szczegóły' }).waitFor();
  await page.getByLabel('jak talerz').check();
  await page.getByLabel('rowerzyści').check();
  await page.getByLabel('Zdjęcia (nieobowiązkowe)').setInputFiles({ name: 'dziura.jpg', mimeType: 'image/jpeg', buffer: jpegWithGps() });
  await page.getByLabel('Informujcie mnie o tym zgłoszeniu (SMS lub e-mail)').check();
  await page.getByLabel('Telefon komórkowy').fill('+48600111222');
  await checkAccessibility(page, 'the report form, step 3');
  await screenshot(page, 'citizen-report-details');
  await page.getByRole('button', { name: 'Wyślij zgłoszenie' }).click();

  // The confirmation: the case number and the tracking link.
  await page.getByRole('heading', { name: 'Dziękujemy, zgłoszenie przyjęte' }).waitFor();
  const caseNumber = (await page.locator('.case-number').textContent()).trim();
  assert.match(caseNumber, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  await checkAccessibility(page, 'the confirmation');
  await screenshot(page, 'citizen-confirmation');

  // The SMS's link opens the tracking page (HTML, not JSON) on another device.
  const sms = await smsTo('+48600111222', caseNumber);
  assert.ok(sms, `an SMS with ${caseNumber} reached +48600111222`);
  const link = sms.body.match(/https?:\/\/\S+/)[0];
  assert.ok(link.startsWith(`${base}/track/${caseNumber}?token=`), link);
  const phone = await freshContext(browser, { viewport: { width: 390, height: 800 }, isMobile: true });
  const tracking = await phone.newPage();
  const weight = await measureTransfer(tracking, () => tracking.goto(link));
  recordWeight('tracking page', weight);
  assert.ok(weight.bytes <= TRACKING_PAGE_LIMIT, `the tracking page transferred ${weight.bytes} bytes`);
  await tracking.getByRole('heading', { name: `Zgłoszenie ${caseNumber}` }).waitFor();
  await tracking.getByText('Zgłoszenie przyjęte').first().waitFor();
  assert.equal(await tracking.locator('.photos img').count(), 1, 'the photo is on the page');

  // The roads department has it, with a due date on the page.
  await eventually(30, async () => {
    await tracking.reload();
    return (await tracking.locator('.facts').textContent()).includes('Zarząd Dróg Miasta Krakowa');
  });
  assert.match(await tracking.locator('.facts').textContent(), /Termin/);
  await clerkResolves(caseNumber, 'Ubytek załatany masą na gorąco.');
  await tracking.reload();
  await tracking.getByText('Ubytek załatany masą na gorąco.').first().waitFor();
  await checkAccessibility(tracking, 'the tracking page');
  await screenshot(tracking, 'citizen-tracking');
  // The language links keep the tracking link working.
  await tracking.getByRole('link', { name: 'English' }).click();
  await tracking.getByRole('heading', { name: `Report ${caseNumber}` }).waitFor();
  await tracking.getByRole('link', { name: 'Polski' }).click();
  await tracking.getByRole('button', { name: 'Tak, naprawione' }).click();
  await tracking.getByText('Dziękujemy za potwierdzenie.').waitFor();
  assert.match(await tracking.locator('.facts').textContent(), /Zamknięte/);
  await phone.close();
  await context.close();
});

test('the same report works without JavaScript, and a place outside the city is explained', async () => {
  const context = await freshContext(browser, { javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${base}/report`);
  await page.getByLabel('Opisz problem').fill('Dziura w jezdni przed szkołą, samochody ją omijają');
  await page.getByLabel('Rodzaj sprawy').selectOption('pothole');
  await page.getByRole('button', { name: 'Dalej' }).click();

  // No map: the address field and the coordinates. A point in Warsaw is explained.
  assert.equal(await page.locator('#map').isVisible(), false);
  await page.getByText('Współrzędne (wypełnia mapa)').click();
  await page.getByLabel('Szerokość geograficzna').fill('52.2297');
  await page.getByLabel('Długość geograficzna').fill('21.0122');
  await page.getByRole('button', { name: 'Dalej' }).click();
  await page.getByRole('alert').getByText('To miejsce leży poza miastem Kraków').waitFor();
  await page.getByLabel('Szerokość geograficzna').fill('');
  await page.getByLabel('Długość geograficzna').fill('');
  await page.getByLabel('Adres lub opis miejsca').fill('ul. Długa 10');
  await page.getByRole('button', { name: 'Dalej' }).click();

  await page.getByRole('heading', { name: 'Szczegóły' }).waitFor();
  await page.getByLabel('większa niż koło roweru').check();
  await page.getByLabel('Zdjęcia (nieobowiązkowe)').setInputFiles({ name: 'szkola.jpg', mimeType: 'image/jpeg', buffer: jpegWithGps() });
  await page.getByRole('button', { name: 'Wyślij zgłoszenie' }).click();
  await page.getByRole('heading', { name: 'Dziękujemy, zgłoszenie przyjęte' }).waitFor();
  const caseNumber = (await page.locator('.case-number').textContent()).trim();
  const link = await page.getByRole('link', { name: 'Link do tego zgłoszenia' }).getAttribute('href');

  // Going back and sending the same form again files nothing twice.
  await page.goBack();
  await page.getByRole('button', { name: 'Wyślij zgłoszenie' }).click();
  await page.getByRole('heading', { name: 'Dziękujemy, zgłoszenie przyjęte' }).waitFor();
  assert.equal((await page.locator('.case-number').textContent()).trim(), caseNumber);

  // The tracking page: the address geocoded from the city's list, information added.
  await page.goto(`${base}${link}`);
  assert.match(await page.locator('.facts').textContent(), /ul\. Długa 10/);
  await page.getByLabel('Twoja wiadomość').fill('Dziura jest coraz większa po deszczu.');
  await page.getByRole('button', { name: 'Wyślij' }).click();
  await page.getByText('Dziękujemy, informacja dodana do zgłoszenia.').waitFor();
  await page.getByText('Dziura jest coraz większa po deszczu.').waitFor();
  // The public API has the request, but not the resident's words to the department.
  const view = await (await fetch(`${base}/v1/requests/${caseNumber}`)).json();
  assert.equal(view.case_number, caseNumber);
  assert.ok(!JSON.stringify(view).includes('coraz większa'));
  await context.close();
});

test('the pages are in English and Ukrainian too, and a wrong tracking link says so', async () => {
  const context = await freshContext(browser);
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Kraków is listening' }).waitFor();
  // The choice is remembered.
  await page.goto(`${base}/report`);
  await page.getByLabel('Describe the problem').waitFor();
  await page.goto(`${base}/?lang=uk`);
  await page.getByRole('heading', { name: 'Місто Kraków слухає' }).waitFor();
  await checkAccessibility(page, 'the start page in Ukrainian');
  // A step sent without what it needs explains what to fix, next to the field.
  await page.goto(`${base}/report?lang=pl`);
  await page.getByLabel('Opisz problem').evaluate((field) => field.removeAttribute('required'));
  await page.getByRole('button', { name: 'Dalej' }).click();
  await page.getByRole('alert').getByText('Opisz problem (kilka słów wystarczy).').waitFor();
  assert.equal(await page.getByLabel('Opisz problem').getAttribute('aria-invalid'), 'true');
  await checkAccessibility(page, 'the report form with an error');
  const wrong = await page.goto(`${base}/track/1234-5678?token=nope&lang=en`);
  assert.ok([403, 404].includes(wrong.status()), `status ${wrong.status()}`);
  await context.close();
});

test('answers from the knowledge base come before a report is needed', async () => {
  const context = await freshContext(browser);
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.getByLabel('Czego szukasz?').fill('jak zarejestrować psa');
  await page.getByRole('button', { name: 'Szukaj' }).click();
  const first = page.locator('.answers a').first();
  await first.waitFor();
  await checkAccessibility(page, 'the answers');
  await first.click();
  await page.locator('article h1').waitFor();
  await checkAccessibility(page, 'an answer');
  await screenshot(page, 'citizen-answer');
  await context.close();
});

test('a resident finds the problem already reported nearby and says "me too" instead of filing it again', async () => {
  // Someone reported a pothole at the tram stop; it is with the roads department.
  const response = await fetch(`${base}/v1/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      service_code: 'pothole', description: 'Wyrwa w asfalcie przy przystanku tramwajowym',
      lat: 50.0585, long: 19.9265,
    }),
  });
  assert.equal(response.status, 201);
  const original = await response.json();
  const routed = await eventually(30, async () => {
    const r = await (await fetch(`${base}/v1/requests/${original.case_number}`)).json();
    return r.status === 'assigned' ? r : undefined;
  });
  assert.ok(routed, `${original.case_number} was routed`);

  const context = await freshContext(browser);
  const page = await context.newPage();
  await page.goto(`${base}/report`);
  await page.getByLabel('Opisz problem').fill('Dziura w jezdni koło przystanku, tramwaj hamuje');
  await page.getByLabel('Rodzaj sprawy').selectOption('pothole');
  await page.getByRole('button', { name: 'Dalej' }).click();
  // About 60 m away: further than any automatic duplicate rule reaches for potholes.
  await page.getByText('Współrzędne (wypełnia mapa)').click();
  await page.getByLabel('Szerokość geograficzna').fill('50.0590');
  await page.getByLabel('Długość geograficzna').fill('19.9267');
  await page.getByRole('button', { name: 'Dalej' }).click();

  // Step 3 shows the open report nearby, on a map and in the list.
  await page.getByRole('heading', { name: 'Już zgłoszone w pobliżu?' }).waitFor();
  const item = page.locator(`#nearby-${original.case_number}`);
  assert.match(await item.textContent(), /Wyrwa w asfalcie przy przystanku tramwajowym/);
  assert.match(await item.textContent(), /\d+ m stąd/);
  await page.locator('#nearby-map.leaflet-container').waitFor();
  assert.equal(await page.locator('#nearby-map path.leaflet-interactive').count() >= 1, true);
  await checkAccessibility(page, 'the report with open problems nearby');
  await screenshot(page, 'citizen-nearby');

  // "Me too", asking to be told but forgetting the number: the page says so and keeps the choice.
  await page.getByLabel('Informujcie mnie o tym zgłoszeniu (SMS lub e-mail)').check();
  await page.getByRole('button', { name: `Ja też: dołącz do tego zgłoszenia: ${original.case_number}` }).click();
  await page.getByText(`Wybrano dołączenie do zgłoszenia ${original.case_number}`).waitFor();
  await page.locator('#phone-error').waitFor();
  await checkAccessibility(page, 'the report with a "me too" choice kept');
  // With the number, sending the report follows the open one, whatever the distance.
  await page.getByLabel('Telefon komórkowy').fill('+48600700800');
  await page.getByRole('button', { name: 'Wyślij zgłoszenie' }).click();
  await page.waitForURL(/\/track\//);
  const mine = new URL(page.url()).pathname.split('/').pop();
  assert.notEqual(mine, original.case_number);
  const linked = await eventually(30, async () => {
    await page.reload();
    const facts = await page.locator('.facts').textContent();
    return facts.includes('Dołączone do wcześniejszego zgłoszenia') ? facts : undefined;
  });
  assert.ok(linked, 'the tracking page says it follows the earlier report');
  assert.ok(await smsTo('+48600700800', original.case_number), 'the resident is told by SMS which report they follow');
  await page.getByText(original.case_number).first().waitFor();
  const r = await asStaff('clerk:roads', 'GET', `/v1/department/assignments/${original.case_number}`);
  assert.equal(r.status, 200);
  assert.ok(JSON.stringify(r.body).includes(mine), `the original lists ${mine} among its followers: ${JSON.stringify(r.body)}`);
  await context.close();
});
