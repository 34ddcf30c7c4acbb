// Drives the admin page in Debian's headless Chromium through playwright-core.
// Started by tests/admin_browser.rs, which starts the server, installs
// playwright-core into target/admin-e2e and passes everything in the environment:
//   ADMIN_URL          http://127.0.0.1:PORT/admin/
//   ADMIN_PASSWORD     the generated password from admin-password.txt
//   HOLD_USER          a customer whose points wallet has balance 400 and an
//                      Open hold escrow-open of 200 (placed by the test)
//   EXPIRED_TODAY      what the test's lot expiry took today (the daily chart shows it)
//   PLAYWRIGHT_CORE    folder of the installed playwright-core package
//   CHROMIUM           the browser to launch (/usr/bin/chromium); never downloaded
//   SDK_PYTHON         the SDK virtualenv's python
//   SDK_SCRIPT         tests/admin_browser/sdk_entry.py
//   DOWNLOAD_DIR       where the authority's config file is saved
//   SCREENSHOT_DIR     where desktop.png, phone.png, dashboard.png and dashboard-phone.png go
// Prints one line per step and "admin browser checks passed" at the end;
// any failure exits 1 with the reason.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const ADMIN_URL = env('ADMIN_URL');
const ORIGIN = new URL(ADMIN_URL).origin;
const USER_ID = 'browser-user';
const AMOUNT = 1234;
const STEP_TIMEOUT_MS = 15000;

function step(text) {
  console.log(`step: ${text}`);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function main() {
  const { chromium } = require(env('PLAYWRIGHT_CORE'));
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    timeout: 30000,
  });
  try {
    await run(browser);
  } finally {
    await browser.close();
  }
}

/**
 * The live feed and the webhooks: an issue made now through API v2 appears in
 * the open page's feed without a reload; a webhook registered through API v2
 * is listed with its health, and Replay is accepted.
 */
async function eventSteps(page, v2, walletId) {
  step('the events feed follows new events live, newest first');
  await page.evaluate(() => document.getElementById('events').scrollIntoView());
  check(await page.isChecked('#events-live'), 'the feed is not live');
  await page.locator('#events-list tbody tr:not(.empty)').first().waitFor();
  const issued = await v2('POST', '/transactions', {
    referenceId: 'browser-live',
    operations: [{ type: 'Issue', destination: walletId, amount: 1 }],
  });
  check(issued.status === 201, `issuing answered ${JSON.stringify(issued)}`);
  const row = page.locator('#events-list tbody tr', { hasText: 'browser-live' }).first();
  await row.waitFor({ timeout: STEP_TIMEOUT_MS });
  const first = (await page.locator('#events-list tbody tr').first().innerText()).replace(/\s+/g, ' ');
  check(/wallet\.balance_changed/.test(first), `the newest event reads ${JSON.stringify(first)}`);
  const feed = await v2('GET', '/events?after=0&limit=1000');
  const newest = feed.body.events[feed.body.events.length - 1];
  check(first.startsWith(String(newest.seq)), `the newest row ${JSON.stringify(first)} is not seq ${newest.seq}`);

  step('a webhook is listed with its health; Replay is accepted');
  const hook = await v2('POST', '/webhooks', { url: 'http://192.0.2.1/hook', description: 'browser-hook' });
  check(hook.status === 201 && /^whsec_/.test(hook.body.secret || ''), `registering answered ${JSON.stringify(hook)}`);
  await page.click('#webhooks-list button.reload');
  const hookRow = page.locator('#webhooks-list tbody tr', { hasText: 'browser-hook' });
  await hookRow.waitFor();
  const hookText = (await hookRow.innerText()).replace(/\s+/g, ' ');
  check(/http:\/\/192\.0\.2\.1\/hook/.test(hookText) && /\ball\b/.test(hookText), `the webhook row reads ${JSON.stringify(hookText)}`);
  await hookRow.locator('input').fill('0');
  await hookRow.locator('button', { hasText: 'Replay' }).click();
  await page.locator('#webhooks .msg', { hasText: 'will be sent again' }).waitFor();
}

/**
 * The overview: its charts are drawn from the API's numbers (uPlot's own data equals
 * GET /overview, and the canvases hold the series' colours), the supply and webhook
 * health are shown, the live feed shows a transaction made now, the search finds each
 * kind and opens it; screenshots at desktop and phone width.
 */
async function dashboardSteps(page, v2, refs) {
  const adminApi = (route) => page.evaluate(async (r) => {
    const response = await fetch(`/admin/api${r}`, { credentials: 'same-origin' });
    return { status: response.status, body: await response.json() };
  }, route);
  const reload = async () => {
    const before = await page.getAttribute('#overview', 'data-loaded');
    await page.click('#overview-reload');
    await page.waitForFunction((b) => document.getElementById('overview').dataset.loaded !== b, before);
  };

  step('the overview draws its charts from GET /overview');
  await page.evaluate(() => document.getElementById('overview').scrollIntoView());
  await reload();
  const api = await adminApi('/projects/default/overview');
  check(api.status === 200, `GET /overview answered ${JSON.stringify(api)}`);
  const shown = await page.evaluate(() => {
    const d = window.walletAdminDashboard;
    return { asset: d.asset, overview: d.overview, days: d.charts.days.data, minutes: d.charts.minutes.data };
  });
  const asset = api.body.assets.find((a) => a.id === shown.asset);
  check(asset, `the daily chart shows asset ${shown.asset}, not one of ${JSON.stringify(api.body.assets.map((a) => a.id))}`);
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  check(same(shown.overview.assets, api.body.assets), 'the page drew other asset numbers than GET /overview answers');
  const expectedDays = [asset.days.map((d) => d.day / 1000), asset.days.map((d) => d.issued),
    asset.days.map((d) => d.redeemed), asset.days.map((d) => d.expired)];
  check(same(shown.days, expectedDays), `the daily chart's data ${JSON.stringify(shown.days)} is not the API's ${JSON.stringify(expectedDays)}`);
  const pageMinutes = shown.overview.minutes;
  check(same(shown.minutes, [pageMinutes.map((m) => m.minute / 1000), pageMinutes.map((m) => m.transactions)]),
    "the minutes chart's data is not the overview's minutes");
  const sum = (xs) => xs.reduce((n, x) => n + Number(x), 0);
  check(sum(pageMinutes.map((m) => m.transactions)) === sum(api.body.minutes.map((m) => m.transactions)),
    'the minutes chart counts other transactions than GET /overview');
  check(asset.days.length === 30 && asset.days.every((d) => d.day % 86400000 === 0), 'not 30 UTC days');
  const today = asset.days[29];
  // Summed over the days: a run across a UTC midnight splits them over two.
  const issued = sum(asset.days.map((d) => d.issued));
  const redeemed = sum(asset.days.map((d) => d.redeemed));
  check(issued >= 1234 && redeemed >= 50, `issued ${issued}, redeemed ${redeemed} in 30 days`);
  check(sum(asset.days.map((d) => d.expired)) === Number(env('EXPIRED_TODAY')), `expired: ${JSON.stringify(asset.days.map((d) => d.expired))}`);
  check(sum(api.body.minutes.map((m) => m.transactions)) >= 15, `transactions in the last hour: ${JSON.stringify(api.body.minutes)}`);
  check(Number(asset.openHolds) >= 1 && Number(asset.held) > 0, `open holds: ${JSON.stringify(asset)}`);
  step(`supply ${asset.supply} ${asset.code}; today issued ${today.issued}, redeemed ${today.redeemed}, expired ${today.expired}`);

  step('the charts are painted: the series colours are on the canvases');
  const painted = await page.evaluate(() => {
    const count = (chart, test) => {
      const { width, height } = chart.ctx.canvas;
      const px = chart.ctx.getImageData(0, 0, width, height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 40 && test(px[i], px[i + 1], px[i + 2])) n += 1;
      return n;
    };
    const { days, minutes } = window.walletAdminDashboard.charts;
    return {
      issued: count(days, (r, g, b) => g > r + 50 && g > b + 40),
      line: count(minutes, (r, g, b) => b > r + 80 && b > g + 40),
    };
  });
  check(painted.issued > 50 && painted.line > 20, `the canvases hold too little of the series: ${JSON.stringify(painted)}`);

  step('the supply tiles and the webhook health');
  const tile = (await page.locator(`#dash-assets .tile[data-asset="${asset.id}"]`).innerText()).replace(/\s+/g, ' ');
  check(tile.includes(asset.code) && tile.includes(`${asset.openHolds} open hold`), `the tile reads ${JSON.stringify(tile)}`);
  const hookRow = page.locator('#dash-webhooks tbody tr', { hasText: '192.0.2.1' });
  await hookRow.waitFor();
  const hook = api.body.webhooks.find((w) => w.url === 'http://192.0.2.1/hook');
  check(hook, 'GET /overview lists no webhook');
  const backlogCell = (await hookRow.locator('td[data-label=Backlog]').innerText()).trim();
  const pageHook = shown.overview.webhooks.find((w) => w.url === hook.url);
  check(backlogCell === String(pageHook.backlog) && Number(hook.backlog) >= 0, `the backlog cell reads ${JSON.stringify(backlogCell)}, the overview ${JSON.stringify(pageHook)}`);

  step('the live feed shows a transaction made now, and the overview follows it');
  const before = sum(shown.overview.minutes.map((m) => m.transactions));
  const made = await v2('POST', '/transactions', {
    referenceId: 'browser-dash-live',
    operations: [{ type: 'Issue', destination: refs.walletId, amount: 5 }],
  });
  check(made.status === 201, `issuing answered ${JSON.stringify(made)}`);
  await page.locator('#dash-live li', { hasText: 'browser-dash-live' }).waitFor();
  await page.locator('#dash-live-state', { hasText: 'live' }).waitFor();
  await page.waitForFunction((b) => {
    const o = window.walletAdminDashboard.overview;
    return o.minutes.reduce((n, m) => n + Number(m.transactions), 0) > b
      && window.walletAdminDashboard.charts.minutes.data[1].reduce((n, x) => n + x, 0) > b;
  }, before);

  step('the search finds a referenceId, a transaction id, a customer and an item, and opens each');
  const search = async (q, kind, opens) => {
    await page.fill('#dash-search-q', q);
    await page.click('#dash-search button[type=submit]');
    const hit = page.locator(`#dash-search-results li[data-kind=${kind}]`).first();
    await hit.waitFor();
    await hit.locator('button.link').click();
    await page.locator(opens).waitFor({ state: 'visible' });
    await page.locator(opens).evaluate((n) => { n.hidden = true; });
    return (await hit.innerText()).replace(/\s+/g, ' ');
  };
  const byRef = await search('browser-gold', 'transaction', '#transaction');
  check(/by referenceId/.test(byRef), `the referenceId hit reads ${JSON.stringify(byRef)}`);
  const byId = await search(made.body.id, 'transaction', '#transaction');
  check(/by id/.test(byId) && byId.includes('browser-dash-live'), `the id hit reads ${JSON.stringify(byId)}`);
  await search(USER_ID, 'customer', '#customer');
  const item = await search('sword-1', 'item', '#item');
  check(item.includes('sword'), `the item hit reads ${JSON.stringify(item)}`);
  await page.fill('#dash-search-q', 'nothing-is-called-this');
  await page.click('#dash-search button[type=submit]');
  await page.locator('#dash-search-results', { hasText: 'Nothing in project default' }).waitFor();
  await page.locator('#dash-search-results').evaluate((n) => n.replaceChildren());
  await page.fill('#dash-search-q', '');

  step('screenshots: dashboard.png and dashboard-phone.png');
  const shots = env('SCREENSHOT_DIR');
  await reload();
  await page.evaluate(() => document.getElementById('overview').scrollIntoView());
  await page.screenshot({ path: path.join(shots, 'dashboard.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => window.walletAdminDashboard.charts.days.width <= 390);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `on a phone the overview is ${overflow} px too wide`);
  await page.evaluate(() => document.getElementById('overview').scrollIntoView());
  await page.screenshot({ path: path.join(shots, 'dashboard-phone.png') });
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function run(browser) {
  const context = await browser.newContext({
    acceptDownloads: true,
    viewport: { width: 1280, height: 800 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);

  // Anything the page complains about fails the test: CSP violations, script errors.
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // The browser logs every non-2xx reply; the wrong-password 401 is expected.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) {
      problems.push(`console error: ${msg.text()}`);
    }
  });
  // Only 127.0.0.1 may be contacted.
  page.on('request', (request) => {
    const url = new URL(request.url());
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '127.0.0.1') {
      problems.push(`request to another host: ${request.url()}`);
    }
  });
  try {
    await steps(page, problems);
  } catch (err) {
    // A picture of the moment it failed, beside the screenshots.
    await page.screenshot({ path: path.join(env('SCREENSHOT_DIR'), 'failure.png'), fullPage: true }).catch(() => {});
    throw err;
  }
}

/** A secret panel shows the warning, the text and a copy button; "I have saved it" hides it. */
async function expectSecret(page, container, title) {
  const panel = page.locator(`${container} .secret`, { has: page.locator('h3', { hasText: title }) });
  await panel.waitFor();
  const warning = await panel.locator('.warning').innerText();
  check(/only once/i.test(warning), `no "shown only once" warning in ${container}: ${warning}`);
  const secret = await panel.locator('textarea').inputValue();
  check(secret.length > 20, `no secret in ${container}`);
  await panel.locator('button', { hasText: 'Copy' }).click();
  await panel.locator('.copied', { hasText: 'Copied' }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check(copied === secret, `the Copy button put ${JSON.stringify(copied)} on the clipboard, not ${JSON.stringify(secret)}`);
  await panel.locator('button', { hasText: 'I have saved it' }).click();
  await panel.waitFor({ state: 'detached' });
  return secret;
}

/** The wallet's figures in the customer's wallets table: {balance, held, available, creditLimit}. */
async function walletFigures(page) {
  const row = page.locator('#wallets-table tbody tr').first();
  const cell = async (name) => (await row.locator(`td.${name}`).innerText()).trim();
  return {
    balance: await cell('balance'),
    held: await cell('held'),
    available: await cell('available'),
    creditLimit: await cell('credit-limit'),
  };
}

async function expectFigures(page, expected, when) {
  const want = Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, `${v} PTS`]));
  let got;
  for (let i = 0; i < 50; i += 1) {
    got = await walletFigures(page);
    if (Object.keys(want).every((k) => got[k] === want[k])) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`${when}: the wallet shows ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

async function holdSteps(page) {
  const holdUser = env('HOLD_USER');
  step(`a wallet with a hold shows held and available (${holdUser})`);
  await page.fill('#customer-search-id', holdUser);
  await page.click('#customer-search button[type=submit]');
  await page.waitForFunction((id) => document.getElementById('customer-id').textContent === id, holdUser);
  await expectFigures(page, { balance: 400, held: 200, available: 200, creditLimit: 0 }, 'with hold escrow-open');

  step("the wallet's holds: newest first, Void only on the Open one, a status filter");
  await page.locator('#wallets-table tbody tr').first().locator('button', { hasText: 'Holds' }).click();
  await page.locator('#holds').waitFor({ state: 'visible' });
  const rows = page.locator('#holds-list tbody tr');
  await rows.first().waitFor();
  const texts = await rows.allInnerTexts();
  check(texts.length === 2 && texts[0].includes('escrow-open') && texts[1].includes('escrow-done'),
    `the holds list reads ${JSON.stringify(texts)}`);
  const open = rows.filter({ hasText: 'escrow-open' });
  const done = rows.filter({ hasText: 'escrow-done' });
  await open.locator('.badge', { hasText: 'Open' }).waitFor();
  await done.locator('.badge', { hasText: 'Captured' }).waitFor();
  check((await done.locator('button', { hasText: 'Void' }).count()) === 0, 'a Captured hold has a Void button');
  const openText = await open.innerText();
  check(/\b200 PTS\b/.test(openText) && /\d{4}-\d\d-\d\d /.test(openText),
    `the Open hold's row shows no amount or expiry: ${JSON.stringify(openText)}`);
  await page.selectOption('#holds-status', 'Voided');
  await page.locator('#holds-list tbody tr.empty').waitFor();
  await page.selectOption('#holds-status', '');
  await open.waitFor();

  step('with maintenance on, Void is refused and the page says why');
  await page.click('#maintenance-toggle');
  await page.locator('#maintenance-banner').waitFor({ state: 'visible' });
  await open.locator('button', { hasText: 'Void' }).click();
  await page.locator('#holds .msg.error', { hasText: 'maintenance' }).waitFor();
  await open.locator('.badge', { hasText: 'Open' }).waitFor();
  await expectFigures(page, { held: 200, available: 200 }, 'after the refused void');
  await page.click('#maintenance-toggle');
  await page.locator('#maintenance-banner').waitFor({ state: 'hidden' });

  step('Void (confirmed) releases the hold: held 0, available 400');
  await open.locator('button', { hasText: 'Void' }).click();
  await page.locator('#holds .msg.ok', { hasText: 'Hold escrow-open voided' }).waitFor();
  await open.locator('.badge', { hasText: 'Voided' }).waitFor();
  check((await page.locator('#holds-list button', { hasText: 'Void' }).count()) === 0, 'a Void button is left after voiding');
  await expectFigures(page, { balance: 400, held: 0, available: 400 }, 'after the void');
  const facts = (await page.locator('#holds-facts').innerText()).replace(/\s+/g, ' ');
  check(facts.includes('Held 0 PTS') && facts.includes('Available 400 PTS'), `the holds card's facts read ${JSON.stringify(facts)}`);

  step('a credit limit of 50 makes 450 available');
  await page.fill('#credit-limit', '50');
  await page.click('#credit-limit-form button[type=submit]');
  await page.locator('#holds .msg.ok', { hasText: 'Credit limit set' }).waitFor();
  await expectFigures(page, { balance: 400, held: 0, available: 450, creditLimit: 50 }, 'after the credit limit');
  await page.fill('#credit-limit', '-5');
  await page.click('#credit-limit-form button[type=submit]');
  await page.locator('#holds .msg.error').waitFor();
  await expectFigures(page, { creditLimit: 50 }, 'after a refused credit limit');
}

async function lotSteps(page) {
  const lotUser = env('LOT_USER');
  step(`a wallet with lots shows its expiring value, soonest first (${lotUser})`);
  await page.fill('#customer-search-id', lotUser);
  await page.click('#customer-search button[type=submit]');
  await page.waitForFunction((id) => document.getElementById('customer-id').textContent === id, lotUser);
  await expectFigures(page, { balance: 150, held: 20, available: 130, creditLimit: 0 }, 'with lots and hold lot-hold');
  await page.locator('#wallets-table tbody tr').first().locator('button', { hasText: 'Holds' }).click();
  await page.locator('#holds').waitFor({ state: 'visible' });
  await page.locator('#lots-list tbody tr:not(.empty)').first().waitFor();
  const expiring = await page.locator('#expiring-list tbody tr').allInnerTexts();
  check(expiring.length === 2 && /10 PTS/.test(expiring[0]) && /40 PTS/.test(expiring[1]),
    `the expiring value reads ${JSON.stringify(expiring)}`);
  step('its lots: the sooner one spent down to 10 first, 10 of each earmarked by the hold');
  const lots = (await page.locator('#lots-list tbody tr').allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
  check(lots.length === 2, `the lots list has ${lots.length} rows: ${JSON.stringify(lots)}`);
  check(/Open/.test(lots[0]) && /60 PTS 10 PTS 10 PTS/.test(lots[0]), `the first lot reads ${JSON.stringify(lots[0])}`);
  check(/Open/.test(lots[1]) && /40 PTS 40 PTS 10 PTS/.test(lots[1]), `the second lot reads ${JSON.stringify(lots[1])}`);
  await page.selectOption('#lots-status', 'Expired');
  await page.locator('#lots-list tbody tr.empty').waitFor();
  await page.selectOption('#lots-status', '');
  await page.locator('#lots-list tbody tr:not(.empty)').first().waitFor();
}

async function itemSteps(page) {
  const holdUser = env('HOLD_USER');
  step(`the customer's items: the sword and the used potion (${holdUser})`);
  const rows = page.locator('#customer-items tbody tr');
  await rows.filter({ hasText: 'sword-1' }).waitFor();
  const texts = await rows.allInnerTexts();
  check(texts.length === 2 && texts[0].includes('sword-1') && texts[1].includes('potion-1'),
    `the items list reads ${JSON.stringify(texts)}`);
  await rows.filter({ hasText: 'potion-1' }).locator('.badge', { hasText: 'Consumed' }).waitFor();

  step('an item: its facts, its properties exactly as sent, and its history oldest first');
  await rows.filter({ hasText: 'sword-1' }).locator('button', { hasText: 'sword-1' }).click();
  await page.locator('#item').waitFor({ state: 'visible' });
  await page.locator('#item-history tbody tr').first().waitFor();
  const facts = (await page.locator('#item-facts').innerText()).replace(/\s+/g, ' ');
  check(facts.includes('Type sword') && facts.includes(`Owner ${holdUser}`) && facts.includes('Active'),
    `the item's facts read ${JSON.stringify(facts)}`);
  const properties = await page.locator('#item-properties').innerText();
  check(properties.includes('123456789012345678901234567890') && properties.includes('1.50'),
    `the properties lost digits: ${JSON.stringify(properties)}`);
  const steps = (await page.locator('#item-history tbody tr').allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
  const kinds = steps.map((t) => ['GrantItem', 'SetItemProperties', 'TransferItem'].find((k) => t.includes(k)));
  check(JSON.stringify(kinds) === JSON.stringify(['GrantItem', 'SetItemProperties', 'TransferItem', 'TransferItem']),
    `the history reads ${JSON.stringify(steps)}`);
  check(steps[2].includes('hold-payee') && steps[3].includes('hold-payee'), `the moves do not name the payee: ${JSON.stringify(steps)}`);

  step('a history step opens its transaction; an unknown item id says so');
  await page.locator('#item-history tbody tr').nth(2).locator('td[data-label=Transaction] button').click();
  await page.locator('#transaction').waitFor({ state: 'visible' });
  await page.locator('#transaction-operations', { hasText: 'TransferItem' }).waitFor();
  await page.fill('#item-search-id', 'no-such-item');
  await page.click('#item-search button[type=submit]');
  await page.locator('#lookup .msg.error', { hasText: 'No item with the id "no-such-item"' }).waitFor();
  await page.fill('#item-search-id', 'sword-1');
  await page.click('#item-search button[type=submit]');
  await page.waitForFunction(() => document.getElementById('item-id').textContent === 'sword-1');
}

async function steps(page, problems) {
  // Revoking and switching maintenance on ask first; the test says yes.
  page.on('dialog', (dialog) => {
    if (dialog.type() !== 'confirm') problems.push(`unexpected ${dialog.type()} dialog: ${dialog.message()}`);
    dialog.accept();
  });
  const sessionStatus = () => page.evaluate(async () => (await fetch('/admin/api/session', { credentials: 'same-origin' })).status);

  step(`open ${ADMIN_URL}`);
  const response = await page.goto(ADMIN_URL);
  check(response && response.ok(), `GET ${ADMIN_URL} answered ${response && response.status()}`);
  const csp = response.headers()['content-security-policy'] || '';
  check(csp.includes("script-src 'self'"), `the page has no strict Content-Security-Policy: ${JSON.stringify(csp)}`);
  await page.locator('#login-form').waitFor({ state: 'visible' });

  step('a wrong password shows the error and stays logged out');
  await page.fill('#login-password', 'not-the-password');
  await page.click('#login-form button[type=submit]');
  await page.locator('#login-error', { hasText: 'wrong user name or password' }).waitFor();
  check(await page.locator('#app').isHidden(), 'the app is shown after a wrong password');
  check(await page.locator('#login-form').isVisible(), 'the login form is gone after a wrong password');
  check((await sessionStatus()) === 401, 'GET /admin/api/session is not 401 after a wrong password');

  step('log in with the generated password');
  await page.fill('#login-password', env('ADMIN_PASSWORD'));
  await page.click('#login-form button[type=submit]');
  await page.locator('#app').waitFor({ state: 'visible' });
  check((await sessionStatus()) === 200, 'GET /admin/api/session is not 200 after logging in');
  await page.waitForFunction(() => document.getElementById('project-select').value === 'default');
  await page.locator('#assets-list tbody tr:not(.empty)').first().waitFor();
  const defaultAsset = (await page.locator('#assets-list tbody tr').first().innerText()).trim();
  step(`current project: default; its asset: ${defaultAsset.replace(/\s+/g, ' ')}`);

  step('create an authority in project default');
  check((await page.inputValue('#authority-url')) === ORIGIN, 'the API base URL does not default to location.origin');
  await page.fill('#authority-name', 'browser-e2e');
  await page.click('#authority-form button[type=submit]');
  const download = page.locator('#credential-secret a[download]');
  await download.waitFor();
  const warning = await page.locator('#credential-secret .warning').innerText();
  check(/only once/i.test(warning), `no "shown only once" warning next to the config: ${warning}`);
  check(await page.locator('#credential-secret button', { hasText: 'Copy' }).isVisible(), 'no copy button next to the config');

  step('download the client config file');
  const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
  const name = file.suggestedFilename();
  const target = path.join(env('DOWNLOAD_DIR'), name);
  await file.saveAs(target);
  const config = JSON.parse(fs.readFileSync(target, 'utf8'));
  check(name === `${config.authority_id}.json`, `downloaded ${name}, expected ${config.authority_id}.json`);
  check(config.api_base_url === ORIGIN, `api_base_url is ${config.api_base_url}, expected ${ORIGIN}`);
  check(/PRIVATE KEY/.test(config.private_key || ''), 'the config has no private key');
  step(`downloaded ${name}`);
  await page.click('#credential-secret button:has-text("I have saved it")');
  await page.locator('#credential-secret .secret').waitFor({ state: 'detached' });
  await page.locator('#authorities-list tbody tr', { hasText: 'browser-e2e' }).waitFor();

  step(`the Python SDK creates an entry of ${AMOUNT} for ${USER_ID} with that file`);
  const sdk = execFileSync(env('SDK_PYTHON'), [env('SDK_SCRIPT'), target, USER_ID, String(AMOUNT)], {
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  process.stdout.write(sdk);

  step('find the customer with the search box');
  await page.fill('#customer-search-id', USER_ID);
  await page.click('#customer-search button[type=submit]');
  await page.locator('#customer').waitFor({ state: 'visible' });
  check((await page.textContent('#customer-id')) === USER_ID, 'the customer section shows another customer');
  const balance = page.locator('#wallets-table td.balance').first();
  await balance.waitFor();
  const balanceText = (await balance.innerText()).trim();
  check(new RegExp(`^${AMOUNT}\\b`).test(balanceText), `the balance shows ${JSON.stringify(balanceText)}, expected ${AMOUNT}`);
  step(`the page shows the balance: ${balanceText}`);

  step('screenshots: desktop.png and phone.png');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(env('SCREENSHOT_DIR'), 'desktop.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(env('SCREENSHOT_DIR'), 'phone.png') });
  await page.setViewportSize({ width: 1280, height: 800 });

  step("open the wallet's entries and the entry's transaction");
  await page.click('#wallets-table button:has-text("Entries")');
  await page.locator('#entries').waitFor({ state: 'visible' });
  const entryRow = page.locator('#entries-list tbody tr').first();
  const entryText = await entryRow.innerText();
  check(entryText.includes(`+${AMOUNT}`) && entryText.includes('e2e'), `the entry row reads ${JSON.stringify(entryText)}`);
  await entryRow.locator('button.link').click();
  await page.locator('#transaction').waitFor({ state: 'visible' });
  await page.locator('#transaction-facts', { hasText: 'Completed' }).waitFor();

  step('a customer key: shown once, then revoked');
  await page.click('#customer-key-form button[type=submit]');
  await expectSecret(page, '#customer-key-secret', 'Customer key');
  const keyRow = page.locator('#customer-keys tbody tr').first();
  await keyRow.locator('.badge', { hasText: 'Active' }).waitFor();
  await keyRow.locator('button', { hasText: 'Revoke' }).click();
  await keyRow.locator('.badge', { hasText: 'Revoked' }).waitFor();

  step('an access key: shown once, with a copy button');
  await page.fill('#access-key-name', 'browser-key');
  await page.click('#access-key-form button[type=submit]');
  const accessKey = await expectSecret(page, '#credential-secret', 'Access key browser-key');

  // API v2 with that key, from the page's origin.
  const v2 = (method, route, body) => page.evaluate(async ([token, m, r, b]) => {
    const response = await fetch(`/api/v2${r}`, {
      method: m,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(b),
    });
    return { status: response.status, body: await response.json() };
  }, [accessKey, method, route, body]);

  step('an asset with 100 parts per unit: a balance of 1234 shows as 12.34');
  const gold = await v2('POST', '/assets', { name: 'Gold', code: 'GOLD', fractions: 100 });
  check(gold.status === 201, `creating an asset answered ${JSON.stringify(gold)}`);
  const wallet = await v2('POST', '/wallets', { customerId: USER_ID, assetId: gold.body.id });
  check(wallet.status === 201, `creating a wallet answered ${JSON.stringify(wallet)}`);
  const issued = await v2('POST', '/transactions', {
    referenceId: 'browser-gold',
    operations: [{ type: 'Issue', destination: wallet.body.id, amount: AMOUNT }],
  });
  check(issued.status === 201, `issuing answered ${JSON.stringify(issued)}`);
  await page.click('#customer-reload');
  const goldRow = page.locator('#wallets-table tbody tr', { hasText: 'GOLD' });
  await goldRow.waitFor();
  const goldBalance = (await goldRow.locator('td.balance').innerText()).trim();
  check(goldBalance === '12.34 GOLD', `the GOLD balance shows ${JSON.stringify(goldBalance)}, expected "12.34 GOLD"`);

  step('a customer id made of markup is shown as text');
  const hostile = '<img src=x onerror=alert(1)>';
  const created = await v2('POST', '/customers', { id: hostile, name: '<b>bold</b>' });
  check(created.status === 201, `creating a customer with the access key answered ${JSON.stringify(created)}`);
  await page.fill('#customer-search-id', hostile);
  await page.click('#customer-search button[type=submit]');
  await page.locator('#customer-facts', { hasText: '<b>bold</b>' }).waitFor();
  check((await page.textContent('#customer-id')) === hostile, 'the hostile customer id is not shown as typed');
  check((await page.locator('main img, main b').count()) === 0, 'markup from a customer id or name made it into the page');

  await holdSteps(page);
  await itemSteps(page);
  await lotSteps(page);
  await eventSteps(page, v2, wallet.body.id);
  await dashboardSteps(page, v2, { walletId: wallet.body.id });

  step('revoke the access key on the page: listed as revoked, and API v2 refuses it at once');
  const accessRow = page.locator('#authorities-list tbody tr', { hasText: 'browser-key' });
  await accessRow.waitFor();
  const accessCreated = (await accessRow.locator('td[data-label=Created]').innerText()).trim();
  check(/^\d{4}-\d\d-\d\d /.test(accessCreated), `the access key's Created cell reads ${JSON.stringify(accessCreated)}`);
  await accessRow.locator('button', { hasText: 'Revoke' }).click();
  await accessRow.locator('.badge', { hasText: 'Revoked' }).waitFor();
  const locked = await v2('GET', '/project');
  check(locked.status === 401, `the revoked access key still gets ${JSON.stringify(locked)}`);

  step('the maintenance switch, on and off');
  await page.click('#maintenance-toggle');
  await page.locator('#maintenance-banner').waitFor({ state: 'visible' });
  const health = await page.evaluate(async () => (await fetch('/api/v1/health')).json());
  check(health.ok === false, `with maintenance on, /api/v1/health answers ${JSON.stringify(health)}`);
  await page.click('#maintenance-toggle');
  await page.locator('#maintenance-banner').waitFor({ state: 'hidden' });

  step('full-page screenshots with every section open, and no sideways scrolling on a phone');
  const shots = env('SCREENSHOT_DIR');
  // From the top, or the sticky header is painted where the page was scrolled to.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(shots, 'desktop-full.png'), fullPage: true });
  for (const width of [390, 360]) {
    await page.setViewportSize({ width, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `on a ${width} px wide screen the page is ${overflow} px too wide`);
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(shots, 'phone-full.png'), fullPage: true });

  step('create a project (it becomes current), an asset in it, then switch back');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.click('#projects summary');
  await page.fill('#project-id', 'browser-project');
  await page.fill('#project-name', 'Browser project');
  await page.click('#project-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('project-select').value === 'browser-project');
  await page.locator('#projects-list tr.current', { hasText: 'browser-project' }).waitFor();
  await page.click('#assets summary');
  await page.fill('#asset-code', 'GOLD');
  await page.fill('#asset-name', 'Gold');
  await page.fill('#asset-fractions', '100');
  await page.click('#asset-form button[type=submit]');
  await page.locator('#assets-list tbody tr', { hasText: 'GOLD' }).waitFor();
  await page.locator('#customers-list tbody tr.empty').waitFor();
  check((await page.locator('#customers-list tbody tr', { hasText: USER_ID }).count()) === 0, 'the new project lists customers of another');
  await page.selectOption('#project-select', 'default');
  await page.locator('#customers-list tbody tr', { hasText: USER_ID }).waitFor();

  step('log out');
  await page.click('#logout');
  await page.locator('#login-form').waitFor({ state: 'visible' });
  check((await sessionStatus()) === 401, 'GET /admin/api/session is not 401 after logging out');

  check(problems.length === 0, `the page had problems:\n  ${problems.join('\n  ')}`);
  console.log('admin browser checks passed');
}

main().catch((err) => {
  console.error(`FAILED: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
