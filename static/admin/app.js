// The admin page of wallet-service: plain DOM over the admin API (docs/admin.md).
// No framework and no build step. Every text that comes from the server is put
// on the page with textContent (through h()), never parsed as HTML, so an id or
// a name cannot inject markup. The page needs no inline script or style.
'use strict';

(() => {
  const API = '/admin/api';
  const PAGE_SIZE = 20;

  const state = {
    csrf: null,
    expiryTimer: null,
    project: null, // id of the current project
    projects: [], // for the project picker
    assets: new Map(), // asset id → Asset, of the current project
    walletAssets: new Map(), // wallet id → asset id, of wallets seen on this page
    customerId: null,
    wallets: [],
    holdsWallet: null, // id of the wallet whose holds are open
    itemId: null, // id of the item whose history is open
    lists: {}, // name → pager
  };

  // ---------- small DOM helpers ----------

  const $ = (id) => document.getElementById(id);

  /** Builds an element. Children that are not nodes become text nodes. */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const show = (node, visible) => { node.hidden = !visible; };

  function msgOf(section) {
    return section.querySelector(':scope > .msg, :scope .msg');
  }

  function setMsg(section, text, kind) {
    const msg = msgOf(section);
    if (!msg) return;
    msg.textContent = text || '';
    msg.className = 'msg' + (text ? ' ' + (kind || 'error') : '');
  }

  /** Runs an action for a section: disables the button, shows any error there. */
  async function act(section, button, fn) {
    setMsg(section, '');
    if (button) button.disabled = true;
    try {
      await fn();
    } catch (err) {
      setMsg(section, err.message || String(err));
    } finally {
      if (button) button.disabled = false;
    }
  }

  // ---------- formatting ----------

  function formatTime(ms) {
    if (ms === null || ms === undefined) return '—';
    const d = new Date(Number(ms));
    if (Number.isNaN(d.getTime())) return String(ms);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }

  /** An amount in smallest parts shown in units: 1234 with fractions 100 → "12.34". */
  function formatUnits(value, fractions) {
    let n;
    try { n = BigInt(value); } catch { return String(value); }
    const f = BigInt(fractions || 1);
    if (f <= 1n) return n.toString();
    const negative = n < 0n;
    if (negative) n = -n;
    const whole = n / f;
    const rest = n % f;
    let text;
    if (/^10*$/.test(f.toString())) {
      text = `${whole}.${rest.toString().padStart(f.toString().length - 1, '0')}`;
    } else {
      text = rest === 0n ? whole.toString() : `${whole} ${rest}/${f}`;
    }
    return (negative ? '-' : '') + text;
  }

  /**
   * Units typed by the operator → smallest parts, exactly, as decimal text:
   * "12.34" with fractions 100 → "1234". Decimal places only when the parts
   * per unit are a power of ten; otherwise whole units.
   */
  function parseUnits(text, fractions) {
    const f = BigInt(fractions || 1);
    const places = /^10*$/.test(f.toString()) ? f.toString().length - 1 : 0;
    const m = /^(\d+)(?:\.(\d*))?$/.exec(String(text).trim());
    if (!m) throw new Error('Type a number of units without a sign, such as 12.5.');
    const decimals = m[2] || '';
    if (decimals.length > places) {
      throw new Error(places ? `At most ${places} decimal place(s) here.` : 'Whole units only here.');
    }
    const rest = places ? BigInt((decimals + '0'.repeat(places)).slice(0, places)) : 0n;
    return (BigInt(m[1]) * f + rest).toString();
  }

  /** A money cell: units and asset code when the wallet's asset is known, else raw parts. */
  function money(value, walletId, signed) {
    const asset = state.assets.get(state.walletAssets.get(walletId));
    const raw = String(value);
    const positive = !raw.startsWith('-') && raw !== '0';
    const units = asset ? formatUnits(value, asset.fractions) : raw;
    const text = (signed && positive ? '+' : '') + units;
    return h('span', {
      class: 'amount' + (signed ? (positive ? ' pos' : raw.startsWith('-') ? ' neg' : '') : ''),
      title: `${raw} smallest parts` + (asset ? ` (${asset.fractions} per unit)` : ''),
    }, text, asset ? h('span', { class: 'code', text: ' ' + asset.code }) : ' parts');
  }

  function idText(id) {
    return h('code', { class: 'id', text: id === null || id === undefined ? '—' : String(id) });
  }

  function badge(text) {
    return h('span', { class: 'badge b-' + String(text).toLowerCase().replace(/[^a-z]/g, ''), text });
  }

  /** Amounts may pass 2^53: keep such integers as their exact decimal text. */
  function parseJson(text) {
    return JSON.parse(text, function (key, value, context) {
      if (typeof value === 'number' && !Number.isSafeInteger(value) && context
        && typeof context.source === 'string' && /^-?\d+$/.test(context.source)) {
        return context.source;
      }
      return value;
    });
  }

  // ---------- the admin API ----------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  const seg = (s) => encodeURIComponent(String(s));
  const projectPath = (rest) => `/projects/${seg(state.project)}${rest}`;

  /** One call; resolves to {data, text, response}, or throws ApiError with the server's message. */
  async function request(method, path, body) {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRF-Token'] = state.csrf || '';
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      // A string is JSON text the caller built (integers past 2^53 stay exact).
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(API + path, init);
    } catch (err) {
      throw new ApiError(0, `Cannot reach the server (${err.message}).`);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = parseJson(text); } catch { data = null; }
    }
    if (!response.ok) {
      let message = data && typeof data.error === 'string' ? data.error
        : data && typeof data.message === 'string' ? data.message
          : `${response.status} ${response.statusText || 'error'}`;
      if (response.status === 401 && path !== '/login' && path !== '/session') {
        loggedOut('Your session has ended. Log in again.');
      }
      if (response.status === 429) message = `Too many attempts: ${message}`;
      throw new ApiError(response.status, message);
    }
    return { data, text, response };
  }

  const api = async (method, path, body) => (await request(method, path, body)).data;

  // ---------- paged lists ----------

  /**
   * A table with previous/next paging. columns: [{label, cell(item) → Node|string, className?}].
   * load(page, pageSize) → a Page. On a phone each row becomes a card with labels.
   */
  function pager(container, { columns, load, empty, rowClass }) {
    const self = { page: 0, total: 0 };
    const table = h('table', { class: 'list' });
    const info = h('span', { class: 'page-info' });
    const prev = h('button', { type: 'button', class: 'quiet', text: '← Previous' });
    const next = h('button', { type: 'button', class: 'quiet', text: 'Next →' });
    const again = h('button', { type: 'button', class: 'quiet reload', text: 'Reload', title: 'Load this page again' });
    const bar = h('div', { class: 'pager' }, prev, info, next, again);
    container.replaceChildren(h('div', { class: 'table-wrap' }, table), bar);

    self.reload = async (page = self.page) => {
      const result = await load(page, PAGE_SIZE);
      const items = result.items || [];
      self.page = result.page ?? page;
      self.total = result.total ?? items.length;
      const size = result.pageSize || PAGE_SIZE;
      const pages = Math.max(1, Math.ceil(self.total / size));
      const head = h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.className || null, text: c.label }))));
      const body = h('tbody');
      for (const item of items) {
        body.append(h('tr', { class: rowClass ? rowClass(item) : null },
          columns.map((c) => h('td', { 'data-label': c.label, class: c.className || null }, c.cell(item)))));
      }
      if (items.length === 0) {
        body.append(h('tr', { class: 'empty' }, h('td', { colspan: columns.length, text: empty || 'Nothing yet.' })));
      }
      table.replaceChildren(head, body);
      info.textContent = pages > 1 || self.page > 0 ? `Page ${self.page + 1} of ${pages} · ${self.total} in all`
        : self.total > 0 ? `${self.total} in all` : '';
      prev.disabled = self.page <= 0;
      next.disabled = self.page + 1 >= pages;
      const single = pages <= 1 && self.page === 0;
      prev.hidden = single;
      next.hidden = single;
    };

    const section = container.closest('section');
    prev.addEventListener('click', () => act(section, prev, () => self.reload(self.page - 1)));
    next.addEventListener('click', () => act(section, next, () => self.reload(self.page + 1)));
    again.addEventListener('click', () => act(section, again, () => self.reload()));
    return self;
  }

  const pageQuery = (page, size) => `?page=${page}&pageSize=${size}`;

  // ---------- secrets shown once ----------

  /**
   * Shows a secret once: a warning, the text, a copy button and optionally a file download.
   * "I have saved it" removes it from the page.
   */
  function showSecret(container, { title, warning, text, filename }) {
    let url = null;
    let shown = text;
    if (filename) {
      // Readable on the page; the download keeps the server's exact bytes.
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { shown = text; }
    }
    const area = h('textarea', { class: 'secret-text', readonly: true, rows: filename ? 7 : 2, spellcheck: 'false', 'aria-label': title });
    area.value = shown;
    const copied = h('span', { class: 'copied', role: 'status' });
    const copy = h('button', { type: 'button', text: 'Copy' });
    copy.addEventListener('click', async () => {
      copied.textContent = (await copyText(area)) ? 'Copied.' : 'Select the text and copy it by hand.';
    });
    const buttons = h('div', { class: 'actions' });
    if (filename) {
      url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      buttons.append(h('a', { class: 'button primary', href: url, download: filename, id: 'secret-download' }, `Download ${filename}`));
    }
    const done = h('button', { type: 'button', class: 'quiet', text: 'I have saved it — hide' });
    buttons.append(copy, done, copied);
    const box = h('div', { class: 'secret', role: 'region', 'aria-label': title },
      h('h3', { text: title }),
      h('p', { class: 'warning' }, h('strong', { text: 'Shown only once. ' }), warning),
      area, buttons);
    done.addEventListener('click', () => clearSecret(container));
    container.replaceChildren(box);
    container.secretUrl = url;
    box.scrollIntoView({ block: 'nearest' });
  }

  function clearSecret(container) {
    if (container.secretUrl) URL.revokeObjectURL(container.secretUrl);
    container.secretUrl = null;
    container.replaceChildren();
  }

  async function copyText(area) {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(area.value);
        return true;
      }
    } catch { /* fall back below */ }
    area.focus();
    area.select();
    try { return document.execCommand('copy'); } catch { return false; }
  }

  // ---------- session ----------

  function loggedIn(session) {
    state.csrf = session.csrfToken;
    clearTimeout(state.expiryTimer);
    const left = Number(session.expiresAt) - Date.now();
    if (left > 0 && left < 2 ** 31) {
      state.expiryTimer = setTimeout(() => loggedOut('Your session has expired. Log in again.'), left);
    }
    show($('login'), false);
    show($('app'), true);
    show($('session-bar'), true);
    show($('nav'), true);
    $('login-password').value = '';
    $('login-error').textContent = '';
  }

  function loggedOut(message) {
    state.csrf = null;
    stopLive();
    clearTimeout(state.expiryTimer);
    for (const id of ['credential-secret', 'customer-key-secret']) clearSecret($(id));
    show($('app'), false);
    show($('session-bar'), false);
    show($('nav'), false);
    show($('maintenance-banner'), false);
    show($('login'), true);
    const error = $('login-error');
    error.textContent = message || '';
    error.className = 'msg' + (message ? ' error' : '');
    $('login-password').focus();
  }

  async function login(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector('button[type=submit]');
    const error = $('login-error');
    error.textContent = '';
    error.className = 'msg';
    button.disabled = true;
    try {
      const session = await api('POST', '/login', {
        username: $('login-username').value,
        password: $('login-password').value,
      });
      loggedIn(session);
      await startApp();
    } catch (err) {
      error.textContent = err.message;
      error.className = 'msg error';
      $('login-password').select();
    } finally {
      button.disabled = false;
    }
  }

  async function logout() {
    try { await request('POST', '/logout'); } catch { /* logged out either way */ }
    loggedOut('You are logged out.');
    $('login-error').className = 'msg ok';
  }

  // ---------- projects ----------

  async function loadProjectPicker() {
    const page = await api('GET', '/projects' + pageQuery(0, 1000));
    state.projects = page.items || [];
    const stored = localStorage.getItem('wallet-admin-project');
    const ids = state.projects.map((p) => p.id);
    const wanted = [state.project, stored, 'default'].find((id) => id && ids.includes(id)) || ids[0] || null;
    const select = $('project-select');
    select.replaceChildren(...state.projects.map((p) => h('option', { value: p.id, text: p.name && p.name !== p.id ? `${p.name} (${p.id})` : p.id })));
    if (wanted) select.value = wanted;
    return wanted;
  }

  async function switchProject(id) {
    state.project = id;
    $('project-select').value = id;
    localStorage.setItem('wallet-admin-project', id);
    state.walletAssets.clear();
    for (const name of ['customer', 'entries', 'holds', 'item', 'transaction']) show($(name), false);
    clearSecret($('credential-secret'));
    await Promise.all([
      act($('assets'), null, loadAssets),
      act($('customers'), null, () => state.lists.customers.reload(0)),
      act($('credentials'), null, () => state.lists.authorities.reload(0)),
      act($('projects'), null, () => state.lists.projects.reload()),
      act($('webhooks'), null, () => state.lists.webhooks.reload(0)),
      act($('overview'), null, loadOverview),
    ]);
    $('dash-search-results').replaceChildren();
    // Not awaited: they follow the project until it changes.
    act($('overview'), null, followLive);
    // Not awaited: it follows the feed until the project changes.
    act($('events'), null, () => state.feed.start());
  }

  function projectsList() {
    return pager($('projects-list'), {
      load: (page, size) => api('GET', '/projects' + pageQuery(page, size)),
      rowClass: (p) => (p.id === state.project ? 'current' : null),
      columns: [
        { label: 'Id', cell: (p) => idText(p.id) },
        { label: 'Name', cell: (p) => p.name || '—' },
        { label: 'Created', cell: (p) => formatTime(p.createdAt) },
        {
          label: '',
          className: 'row-actions',
          cell: (p) => (p.id === state.project ? badge('Current')
            : h('button', { type: 'button', onclick: () => switchProject(p.id) }, 'Switch to')),
        },
      ],
    });
  }

  async function createProject(event) {
    event.preventDefault();
    const form = event.currentTarget;
    await act($('projects'), form.querySelector('button'), async () => {
      const project = await api('POST', '/projects', { id: $('project-id').value.trim(), name: $('project-name').value.trim() });
      form.reset();
      await loadProjectPicker();
      await switchProject(project.id);
      setMsg($('projects'), `Project ${project.id} created; it is now the current project.`, 'ok');
    });
  }

  // ---------- assets ----------

  async function loadAssets() {
    // Every asset, for units on the page; the list below shows them paged.
    const all = await api('GET', projectPath('/assets') + pageQuery(0, 1000));
    state.assets = new Map((all.items || []).map((a) => [a.id, a]));
    await state.lists.assets.reload(0);
  }

  function assetsList() {
    return pager($('assets-list'), {
      load: (page, size) => api('GET', projectPath('/assets') + pageQuery(page, size)),
      empty: 'No assets.',
      columns: [
        { label: 'Code', cell: (a) => h('strong', { text: a.code }) },
        { label: 'Name', cell: (a) => a.name || '—' },
        { label: 'Parts per unit', cell: (a) => String(a.fractions) },
        { label: 'Id', cell: (a) => idText(a.id) },
        { label: 'Used', cell: (a) => (a.used ? 'yes' : 'no') },
        { label: 'Created', cell: (a) => formatTime(a.createdAt) },
      ],
    });
  }

  async function createAsset(event) {
    event.preventDefault();
    const form = event.currentTarget;
    await act($('assets'), form.querySelector('button'), async () => {
      const asset = await api('POST', projectPath('/assets'), {
        code: $('asset-code').value.trim(),
        name: $('asset-name').value.trim(),
        fractions: Number($('asset-fractions').value),
      });
      form.reset();
      await loadAssets();
      setMsg($('assets'), `Asset ${asset.code} created.`, 'ok');
    });
  }

  // ---------- authorities and access keys ----------

  function authoritiesList() {
    return pager($('authorities-list'), {
      load: (page, size) => api('GET', projectPath('/authorities') + pageQuery(page, size)),
      empty: 'No authorities or access keys yet.',
      rowClass: (a) => (a.revokedAt ? 'revoked' : null),
      columns: [
        { label: 'Name', cell: (a) => h('strong', { text: a.name || '—' }) },
        { label: 'Kind', cell: (a) => (a.kind === 'access-key' ? 'access key' : 'authority') },
        { label: 'Id', cell: (a) => idText(a.id) },
        { label: 'Created', cell: (a) => formatTime(a.createdAt) },
        { label: 'Status', cell: (a) => (a.revokedAt ? h('span', null, badge('Revoked'), ' ', formatTime(a.revokedAt)) : badge('Active')) },
        {
          label: '',
          className: 'row-actions',
          cell: (a) => (a.revokedAt ? '' : h('button', {
            type: 'button',
            class: 'danger',
            onclick: (e) => revokeAuthority(a, e.currentTarget),
          }, 'Revoke')),
        },
      ],
    });
  }

  async function revokeAuthority(authority, button) {
    const what = authority.kind === 'access-key' ? 'access key' : 'authority';
    if (!window.confirm(`Revoke the ${what} "${authority.name}" (${authority.id})? It stops working at once, for good.`)) return;
    await act($('credentials'), button, async () => {
      await api('POST', `/authorities/${seg(authority.id)}/revoke`);
      await state.lists.authorities.reload();
      setMsg($('credentials'), `The ${what} ${authority.name} is revoked.`, 'ok');
    });
  }

  async function createAuthority(event) {
    event.preventDefault();
    const form = event.currentTarget;
    await act($('credentials'), form.querySelector('button'), async () => {
      const name = $('authority-name').value.trim();
      const { data, text } = await request('POST', projectPath('/authorities'), {
        name,
        apiBaseUrl: $('authority-url').value.trim(),
      });
      const id = data && data.authority_id ? String(data.authority_id) : 'authority';
      showSecret($('credential-secret'), {
        title: `Client config file of authority ${name} (${id})`,
        warning: 'It holds the only copy of the authority\'s private key: the server keeps just the public key and cannot show this again. Download it now and hand it to the app over a safe channel; anyone with it can write to this project.',
        text,
        filename: `${id}.json`,
      });
      $('authority-name').value = '';
      await state.lists.authorities.reload(0);
    });
  }

  async function createAccessKey(event) {
    event.preventDefault();
    const form = event.currentTarget;
    await act($('credentials'), form.querySelector('button'), async () => {
      const name = $('access-key-name').value.trim();
      const key = await api('POST', projectPath('/access-keys'), { name });
      showSecret($('credential-secret'), {
        title: `Access key ${name} (${key.id})`,
        warning: 'The server stores only a digest of this token and cannot show it again. Copy it now; it can do everything in this project through API v2.',
        text: key.token,
      });
      form.reset();
      await state.lists.authorities.reload(0);
    });
  }

  // ---------- customers ----------

  function customersList() {
    return pager($('customers-list'), {
      load: (page, size) => api('GET', projectPath('/customers') + pageQuery(page, size)),
      empty: 'No customers yet.',
      columns: [
        { label: 'Id', cell: (c) => h('button', { type: 'button', class: 'link', onclick: () => openCustomer(c.id) }, c.id) },
        { label: 'Name', cell: (c) => c.name || '—' },
        { label: 'Status', cell: (c) => badge(c.status) },
        { label: 'Created', cell: (c) => formatTime(c.createdAt) },
      ],
    });
  }

  /** Fetches a customer and its wallets and shows them, without moving the page. */
  async function loadCustomer(id) {
    const detail = await api('GET', projectPath(`/customers/${seg(id)}`));
    if (detail.customer.id !== state.customerId) {
      // Another customer's entries, holds, item and transaction would be misleading next to this one.
      show($('entries'), false);
      show($('holds'), false);
      show($('item'), false);
      show($('transaction'), false);
    }
    state.customerId = detail.customer.id;
    state.wallets = detail.wallets || [];
    for (const w of state.wallets) state.walletAssets.set(w.id, w.assetId);
    // An asset created through API v2 since the page loaded: fetch them again for its units.
    if (state.wallets.some((w) => !state.assets.has(w.assetId))) await loadAssets();
    renderCustomer(detail.customer);
    if (!$('holds').hidden) renderHoldsFacts();
  }

  async function openCustomer(id) {
    const section = $('customer');
    await loadCustomer(id);
    show($('resume-form'), false);
    clearSecret($('customer-key-secret'));
    setMsg(section, '');
    show(section, true);
    section.scrollIntoView({ block: 'start' });
    await act(section, null, () => state.lists.customerKeys.reload(0));
    await act(section, null, () => state.lists.customerItems.reload(0));
  }

  function renderCustomer(c) {
    $('customer-id').textContent = c.id;
    $('customer-facts').replaceChildren(
      h('dt', { text: 'Status' }), h('dd', null, badge(c.status)),
      h('dt', { text: 'Name' }), h('dd', { text: c.name || '—' }),
      h('dt', { text: 'Description' }), h('dd', { text: c.description || '—' }),
      h('dt', { text: 'Created' }), h('dd', { text: formatTime(c.createdAt) }),
    );
    show($('customer-suspend'), c.status === 'Active');
    // Resume also reopens wallets suspended one by one while the customer stayed active.
    show($('customer-resume'), c.status === 'Suspended'
      || (c.status === 'Active' && state.wallets.some((w) => w.status === 'Suspended')));
    const rows = state.wallets.map((w) => h('tr', { class: w.status === 'Closed' ? 'revoked' : null, 'data-wallet': w.id },
      h('td', { 'data-label': 'Asset' }, assetLabel(w.assetId)),
      h('td', { 'data-label': 'Balance', class: 'balance num' }, money(w.balance, w.id)),
      h('td', { 'data-label': 'Held', class: 'held num' }, money(w.held, w.id)),
      h('td', { 'data-label': 'Available', class: 'available num' }, money(w.available, w.id)),
      h('td', { 'data-label': 'Credit limit', class: 'credit-limit num' }, money(w.creditLimit, w.id)),
      h('td', { 'data-label': 'Status' }, badge(w.status)),
      h('td', { 'data-label': 'Name', text: w.name || '—' }),
      h('td', { 'data-label': 'Wallet id' }, idText(w.id)),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', onclick: (e) => act($('customer'), e.currentTarget, () => openEntries(w.id)) }, 'Entries'),
        ' ',
        h('button', { type: 'button', onclick: (e) => act($('customer'), e.currentTarget, () => openHolds(w.id)) }, 'Holds'))));
    const heads = ['Asset', 'Balance', 'Held', 'Available', 'Credit limit', 'Status', 'Name', 'Wallet id', ''];
    const numeric = new Set(['Balance', 'Held', 'Available', 'Credit limit']);
    if (rows.length === 0) rows.push(h('tr', { class: 'empty' }, h('td', { colspan: heads.length, text: 'No wallets.' })));
    $('customer-wallets').replaceChildren(h('div', { class: 'table-wrap' }, h('table', { class: 'list', id: 'wallets-table' },
      h('thead', null, h('tr', null, heads.map((t) => h('th', { scope: 'col', class: numeric.has(t) ? 'num' : null, text: t })))),
      h('tbody', null, rows))));
  }

  function assetLabel(assetId) {
    const asset = state.assets.get(assetId);
    return asset ? h('span', null, h('strong', { text: asset.code }), ' ', asset.name || '') : idText(assetId);
  }

  async function suspendCustomer(event) {
    const id = state.customerId;
    if (!window.confirm(`Suspend customer ${id}? Its open wallets are suspended too and refuse transactions.`)) return;
    await act($('customer'), event.currentTarget, async () => {
      await api('POST', projectPath(`/customers/${seg(id)}/suspend`));
      await openCustomer(id);
      setMsg($('customer'), 'Suspended.', 'ok');
    });
  }

  function showResume() {
    const boxes = state.wallets.map((w) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: w.id, checked: w.status !== 'Closed', disabled: w.status === 'Closed' }),
      ' ', assetLabel(w.assetId), ' ', badge(w.status), ' ', idText(w.id)));
    $('resume-wallets').replaceChildren(...(boxes.length ? boxes : [h('p', { class: 'hint', text: 'It has no wallets.' })]));
    show($('resume-form'), true);
  }

  async function resumeCustomer(event) {
    event.preventDefault();
    const id = state.customerId;
    const walletIds = [...$('resume-wallets').querySelectorAll('input:checked')].map((i) => i.value);
    await act($('customer'), event.currentTarget.querySelector('button[type=submit]'), async () => {
      await api('POST', projectPath(`/customers/${seg(id)}/resume`), { walletIds });
      await openCustomer(id);
      setMsg($('customer'), `Resumed; ${walletIds.length} wallet(s) open.`, 'ok');
    });
  }

  function customerKeysList() {
    return pager($('customer-keys'), {
      load: (page, size) => api('GET', projectPath(`/customers/${seg(state.customerId)}/keys`) + pageQuery(page, size)),
      empty: 'No customer keys.',
      rowClass: (k) => (k.revokedAt ? 'revoked' : null),
      columns: [
        { label: 'Key id', cell: (k) => idText(k.id) },
        { label: 'Created', cell: (k) => formatTime(k.createdAt) },
        { label: 'Expires', cell: (k) => (k.expiresAt ? formatTime(k.expiresAt) : 'never') },
        { label: 'Status', cell: (k) => (k.revokedAt ? badge('Revoked') : k.expiresAt && k.expiresAt <= Date.now() ? badge('Expired') : badge('Active')) },
        {
          label: '',
          className: 'row-actions',
          cell: (k) => (k.revokedAt ? '' : h('button', { type: 'button', class: 'danger', onclick: (e) => revokeCustomerKey(k, e.currentTarget) }, 'Revoke')),
        },
      ],
    });
  }

  async function createCustomerKey(event) {
    event.preventDefault();
    const form = event.currentTarget;
    await act($('customer'), form.querySelector('button'), async () => {
      const expiry = $('customer-key-expiry').value;
      const body = {};
      if (expiry) {
        const at = new Date(expiry).getTime();
        if (Number.isNaN(at)) throw new Error('The expiry is not a valid date and time.');
        body.expiresAt = at;
      }
      const key = await api('POST', projectPath(`/customers/${seg(state.customerId)}/keys`), body);
      showSecret($('customer-key-secret'), {
        title: `Customer key ${key.id}`,
        warning: 'The server stores only a digest of this token and cannot show it again. Copy it now and give it to the customer\'s app; it reads this customer\'s wallets.',
        text: key.token,
      });
      form.reset();
      await state.lists.customerKeys.reload(0);
    });
  }

  async function revokeCustomerKey(key, button) {
    if (!window.confirm(`Revoke customer key ${key.id}? It stops working at once.`)) return;
    await act($('customer'), button, async () => {
      await request('DELETE', projectPath(`/customers/${seg(state.customerId)}/keys/${seg(key.id)}`));
      await state.lists.customerKeys.reload();
      setMsg($('customer'), `Key ${key.id} revoked.`, 'ok');
    });
  }

  // ---------- entries and transactions ----------

  async function openEntries(walletId) {
    state.entriesWallet = walletId;
    $('entries-wallet').textContent = walletId;
    await state.lists.entries.reload(0);
    setMsg($('entries'), '');
    show($('entries'), true);
    $('entries').scrollIntoView({ block: 'start' });
  }

  function entriesList() {
    return pager($('entries-list'), {
      load: (page, size) => api('GET', projectPath(`/wallets/${seg(state.entriesWallet)}/entries`) + pageQuery(page, size)),
      empty: 'No entries.',
      columns: [
        { label: 'Time', cell: (e) => formatTime(e.createdAt) },
        { label: 'Type', cell: (e) => e.type },
        { label: 'Amount', className: 'num', cell: (e) => money(e.amount, e.walletId, true) },
        { label: 'Balance after', className: 'num', cell: (e) => money(e.balanceAfter, e.walletId) },
        { label: 'Description', cell: (e) => e.description || '—' },
        {
          label: 'Transaction',
          cell: (e) => h('button', { type: 'button', class: 'link', onclick: (ev) => act($('entries'), ev.currentTarget, () => openTransaction(e.transactionId)) }, e.transactionId),
        },
      ],
    });
  }

  // ---------- items ----------

  /** A JSON number whose value JavaScript cannot hold as written (2^53 and past, 1.50): its text. */
  class ExactNumber {
    constructor(source) { this.source = source; }
  }

  /** Parses a reply whose item properties must show exactly as they were sent. */
  function parseExact(text) {
    return JSON.parse(text, function (key, value, context) {
      if (typeof value === 'number' && context && typeof context.source === 'string'
        && String(value) !== context.source) {
        return new ExactNumber(context.source);
      }
      return value;
    });
  }

  /** JSON text of a value parsed by parseExact, two spaces per level. */
  function showJson(value, indent = '') {
    if (value instanceof ExactNumber) return value.source;
    if (value === null || typeof value !== 'object') return JSON.stringify(value);
    const inner = indent + '  ';
    if (Array.isArray(value)) {
      if (value.length === 0) return '[]';
      return '[\n' + value.map((v) => inner + showJson(v, inner)).join(',\n') + '\n' + indent + ']';
    }
    const keys = Object.keys(value);
    if (keys.length === 0) return '{}';
    return '{\n' + keys.map((k) => inner + JSON.stringify(k) + ': ' + showJson(value[k], inner)).join(',\n') + '\n' + indent + '}';
  }

  /** One line of properties for a list: the start of their JSON text. */
  function propertiesPreview(properties) {
    const text = properties === null || properties === undefined ? '—' : showJson(properties).replace(/\s+/g, ' ');
    return h('code', { class: 'json', title: text, text: text.length > 60 ? text.slice(0, 59) + '…' : text });
  }

  const getExact = async (path) => parseExact((await request('GET', path)).text);

  function customerItemsList() {
    return pager($('customer-items'), {
      load: (page, size) => getExact(projectPath(`/customers/${seg(state.customerId)}/items`) + pageQuery(page, size)),
      empty: 'No items.',
      rowClass: (i) => (i.status === 'Active' ? null : 'revoked'),
      columns: [
        { label: 'Item id', cell: (i) => h('button', { type: 'button', class: 'link', onclick: (e) => act($('customer'), e.currentTarget, () => openItem(i.id)) }, i.id) },
        { label: 'Type', cell: (i) => i.itemType },
        { label: 'Status', cell: (i) => badge(i.status) },
        { label: 'Properties', cell: (i) => propertiesPreview(i.properties) },
        { label: 'Since', cell: (i) => formatTime(i.updatedAt) },
      ],
    });
  }

  async function openItem(id) {
    state.itemId = id;
    $('item-id').textContent = id;
    await state.lists.itemHistory.reload(0);
    setMsg($('item'), '');
    show($('item'), true);
    $('item').scrollIntoView({ block: 'start' });
  }

  /** The item's facts, from the reply that also carries a page of its history. */
  function renderItem(item) {
    const owner = item.customerId === null
      ? h('span', { text: 'the project\'s stock' })
      : h('button', { type: 'button', class: 'link', onclick: (e) => act($('item'), e.currentTarget, () => openCustomer(item.customerId)) }, item.customerId);
    $('item-facts').replaceChildren(...[
      ['Type', item.itemType],
      ['Owner', owner],
      ['Status', badge(item.status)],
      ['API v1 entry', item.v1EntryId === null ? '—' : idText(item.v1EntryId)],
      ['Created', formatTime(item.createdAt)],
      ['Updated', formatTime(item.updatedAt)],
    ].flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { 'data-fact': k }, v)]));
    $('item-properties').textContent = item.properties === null ? 'null (none given)' : showJson(item.properties);
  }

  function itemHistoryList() {
    const who = (id) => (id === null ? 'stock' : idText(id));
    return pager($('item-history'), {
      load: async (page, size) => {
        const reply = await getExact(projectPath('/item') + pageQuery(page, size) + `&id=${seg(state.itemId)}`);
        renderItem(reply.item);
        return reply.history;
      },
      empty: 'No history.',
      columns: [
        { label: 'Time', cell: (s) => formatTime(s.createdAt) },
        { label: 'Step', cell: (s) => s.type },
        { label: 'From', cell: (s) => (s.type === 'GrantItem' ? '—' : who(s.from)) },
        { label: 'To', cell: (s) => who(s.to) },
        { label: 'Properties after', cell: (s) => propertiesPreview(s.properties) },
        {
          label: 'Transaction',
          cell: (s) => (s.transactionId === null
            ? h('span', { title: 'Used through API v1 before items had a history', text: '(before history)' })
            : h('button', { type: 'button', class: 'link', onclick: (ev) => act($('item'), ev.currentTarget, () => openTransaction(s.transactionId)) }, s.transactionId)),
        },
      ],
    });
  }

  // ---------- holds and credit limits ----------

  async function openHolds(walletId) {
    const changed = state.holdsWallet !== walletId;
    state.holdsWallet = walletId;
    $('holds-wallet').textContent = walletId;
    if (changed) {
      $('holds-status').value = '';
      $('credit-limit').value = '';
    }
    renderHoldsFacts();
    await state.lists.holds.reload(0);
    await state.lists.lots.reload(0);
    setMsg($('holds'), '');
    show($('holds'), true);
    $('holds').scrollIntoView({ block: 'start' });
  }

  /** The wallet's figures, as the customer view last fetched them. */
  function renderHoldsFacts() {
    const w = state.wallets.find((x) => x.id === state.holdsWallet);
    if (!w) {
      $('holds-facts').replaceChildren();
      return;
    }
    $('holds-facts').replaceChildren(...[
      ['Balance', money(w.balance, w.id)],
      ['Held', money(w.held, w.id)],
      ['Available', money(w.available, w.id)],
      ['Credit limit', money(w.creditLimit, w.id)],
      ['Status', badge(w.status)],
    ].flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { 'data-fact': k }, v)]));
    renderExpiring(w);
    const asset = state.assets.get(w.assetId);
    $('credit-limit-hint').textContent = 'How far below zero the balance may go, in '
      + (asset ? `units of ${asset.code}` : 'smallest parts')
      + '. Available = balance − held + credit limit.';
  }

  /** What of the wallet expires when: its Open lots, summed per expiry. */
  function renderExpiring(w) {
    const rows = w.expiring || [];
    if (rows.length === 0) {
      $('expiring-list').replaceChildren(h('p', { class: 'hint', 'data-expiring': 'none', text: 'Nothing expires: the whole balance is plain value.' }));
      return;
    }
    const body = rows.map((x) => h('tr', { 'data-expiring': String(x.expiresAt) },
      h('td', { 'data-label': 'Expires' }, formatTime(x.expiresAt)),
      h('td', { 'data-label': 'Amount', class: 'num' }, money(x.amount, w.id))));
    $('expiring-list').replaceChildren(h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
      h('thead', null, h('tr', null, h('th', { scope: 'col', text: 'Expires' }), h('th', { scope: 'col', class: 'num', text: 'Amount' }))),
      h('tbody', null, body))));
  }

  function lotsList() {
    return pager($('lots-list'), {
      load: (page, size) => {
        const status = $('lots-status').value;
        const filter = status ? `&status=${seg(status)}` : '';
        return api('GET', projectPath(`/wallets/${seg(state.holdsWallet)}/lots`) + pageQuery(page, size) + filter);
      },
      empty: 'No lots: nothing was issued to this wallet with an expiry.',
      rowClass: (x) => (x.status === 'Open' ? null : 'revoked'),
      columns: [
        { label: 'Lot', cell: (x) => idText(x.id) },
        { label: 'Status', cell: (x) => badge(x.status) },
        { label: 'Expires', cell: (x) => formatTime(x.expiresAt) },
        { label: 'Amount', className: 'num', cell: (x) => money(x.amount, x.walletId) },
        { label: 'Remaining', className: 'num', cell: (x) => money(x.remaining, x.walletId) },
        { label: 'Earmarked', className: 'num', cell: (x) => money(x.earmarked, x.walletId) },
        {
          label: 'Transaction',
          cell: (x) => h('button', { type: 'button', class: 'quiet', onclick: (e) => act($('holds'), e.currentTarget, () => openTransaction(x.transactionId)) }, x.transactionId),
        },
        { label: 'Created', cell: (x) => formatTime(x.createdAt) },
      ],
    });
  }

  function holdsList() {
    return pager($('holds-list'), {
      load: (page, size) => {
        const status = $('holds-status').value;
        const filter = status ? `&status=${seg(status)}` : '';
        return api('GET', projectPath(`/wallets/${seg(state.holdsWallet)}/holds`) + pageQuery(page, size) + filter);
      },
      empty: 'No holds.',
      rowClass: (x) => (x.status === 'Open' ? null : 'revoked'),
      columns: [
        { label: 'Hold id', cell: (x) => idText(x.id) },
        { label: 'Status', cell: (x) => badge(x.status) },
        { label: 'Amount', className: 'num', cell: (x) => money(x.amount, x.sourceWalletId) },
        { label: 'Captured', className: 'num', cell: (x) => money(x.captured, x.sourceWalletId) },
        { label: 'Remaining', className: 'num', cell: (x) => money(x.remaining, x.sourceWalletId) },
        { label: 'Expires', cell: (x) => (x.expiresAt === null || x.expiresAt === undefined ? 'never' : formatTime(x.expiresAt)) },
        { label: 'Destination', cell: (x) => idText(x.destinationWalletId) },
        { label: 'Created', cell: (x) => formatTime(x.createdAt) },
        {
          label: '',
          className: 'row-actions',
          cell: (x) => (x.status !== 'Open' ? '' : h('button', { type: 'button', class: 'danger', onclick: (e) => voidHold(x, e.currentTarget) }, 'Void')),
        },
      ],
    });
  }

  async function voidHold(hold, button) {
    const asset = state.assets.get(state.walletAssets.get(hold.sourceWalletId));
    const remaining = asset ? `${formatUnits(hold.remaining, asset.fractions)} ${asset.code}` : `${hold.remaining} parts`;
    if (!window.confirm(`Void hold ${hold.id}? The ${remaining} it still reserves becomes available again in wallet ${hold.sourceWalletId}. This cannot be undone.`)) return;
    await act($('holds'), button, async () => {
      const reply = await api('POST', projectPath('/holds/void'), { holdId: hold.id });
      await state.lists.holds.reload();
      await loadCustomer(state.customerId);
      setMsg($('holds'), `Hold ${hold.id} voided (transaction ${reply.transaction.id}).`, 'ok');
    });
  }

  async function setCreditLimit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    await act($('holds'), form.querySelector('button'), async () => {
      const walletId = state.holdsWallet;
      const asset = state.assets.get(state.walletAssets.get(walletId));
      const parts = parseUnits($('credit-limit').value, asset ? asset.fractions : 1);
      await api('PUT', projectPath(`/wallets/${seg(walletId)}/credit-limit`), `{"creditLimit":${parts}}`);
      form.reset();
      await loadCustomer(state.customerId);
      setMsg($('holds'), 'Credit limit set.', 'ok');
    });
  }

  async function openTransaction(id) {
    const t = await api('GET', projectPath(`/transactions/${seg(id)}`));
    $('transaction-id').textContent = t.id;
    const facts = [
      ['Status', badge(t.status)],
      ['Reference id', t.referenceId === null || t.referenceId === undefined ? '— (API v1 entry)' : idText(t.referenceId)],
      ['Description', t.description || '—'],
      ['Created', formatTime(t.createdAt)],
    ];
    if (t.error) facts.push(['Error', h('strong', { class: 'neg', text: t.error })]);
    $('transaction-facts').replaceChildren(...facts.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', null, v)]));
    const walletCell = (w) => (w ? idText(w) : '—');
    const ops = (t.operations || []).map((op) => h('tr', null,
      h('td', { 'data-label': 'Type', text: op.type }),
      h('td', { 'data-label': 'Source' }, walletCell(op.source)),
      h('td', { 'data-label': 'Destination' }, walletCell(op.destination)),
      h('td', { 'data-label': 'Amount', class: 'num' }, money(op.amount, op.source || op.destination))));
    $('transaction-operations').replaceChildren(h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
      h('thead', null, h('tr', null, ['Type', 'Source', 'Destination', 'Amount'].map((x) => h('th', { scope: 'col', class: x === 'Amount' ? 'num' : null, text: x })))),
      h('tbody', null, ops))));
    setMsg($('transaction'), '');
    show($('transaction'), true);
    $('transaction').scrollIntoView({ block: 'start' });
  }

  // ---------- maintenance ----------

  function renderMaintenance(enabled) {
    state.maintenance = enabled;
    $('maintenance-state').replaceChildren(enabled
      ? h('span', null, badge('On'), ' Writes to API v1 and v2 are refused with 503.')
      : h('span', null, badge('Off'), ' The APIs accept writes.'));
    $('maintenance-toggle').textContent = enabled ? 'Turn maintenance off' : 'Turn maintenance on';
    $('maintenance-toggle').className = enabled ? 'primary' : 'danger';
    show($('maintenance-banner'), enabled);
  }

  async function toggleMaintenance(event) {
    const enable = !state.maintenance;
    if (enable && !window.confirm('Turn maintenance on? Every write to API v1 and v2 gets 503 until you turn it off.')) return;
    await act($('maintenance'), event.currentTarget, async () => {
      const reply = await api('PUT', '/maintenance', { enabled: enable });
      renderMaintenance(Boolean(reply.enabled));
    });
  }

  // ---------- start ----------

  async function startApp() {
    $('authority-url').value = window.location.origin;
    const lookup = $('lookup');
    await act(lookup, null, async () => {
      const project = await loadProjectPicker();
      if (!project) throw new Error('There is no project yet: create one below.');
      await switchProject(project);
    });
    await act($('maintenance'), null, async () => renderMaintenance(Boolean((await api('GET', '/maintenance')).enabled)));
  }

  // ---------- events and webhooks ----------

  /** What an event is about, in a few words: its data's id or wallet and balance. */
  function eventSummary(e) {
    const d = e.data || {};
    switch (e.type) {
      case 'wallet.balance_changed':
        return h('span', null, 'wallet ', idText(d.walletId), ' → ', money(d.balance, d.walletId),
          d.customerId ? ` (${d.customerId})` : '');
      case 'transaction.completed':
      case 'transaction.failed':
        return h('span', null, 'transaction ', h('button', { type: 'button', class: 'link', onclick: () => openTransaction(d.id) }, d.id),
          d.referenceId ? ` · ${d.referenceId}` : '', d.error ? ` · ${d.error}` : '');
      default:
        return h('span', null, idText(d.id ?? ''), d.status ? ` · ${d.status}` : '');
    }
  }

  const EVENTS_SHOWN = 50;

  /** The feed: the last events, newest first, followed live with long polls. */
  function eventsFeed() {
    const self = { after: 0, events: [], generation: 0 };
    const table = h('table', { class: 'list' });
    $('events-list').replaceChildren(h('div', { class: 'table-wrap' }, table));
    const render = () => {
      const head = h('thead', null, h('tr', null, ['Seq', 'Type', 'At', 'About'].map((t) => h('th', { scope: 'col', text: t }))));
      const body = h('tbody');
      for (const e of self.events) {
        body.append(h('tr', null,
          h('td', { 'data-label': 'Seq' }, String(e.seq)),
          h('td', { 'data-label': 'Type' }, h('code', { text: e.type })),
          h('td', { 'data-label': 'At' }, formatTime(e.createdAt)),
          h('td', { 'data-label': 'About' }, eventSummary(e))));
      }
      if (self.events.length === 0) body.append(h('tr', { class: 'empty' }, h('td', { colspan: 4, text: 'No events yet.' })));
      table.replaceChildren(head, body);
    };
    const take = (page) => {
      for (const e of page.events) self.events.unshift(e);
      self.events.length = Math.min(self.events.length, EVENTS_SHOWN);
      self.after = page.next;
    };
    /** Loads the newest events of the current project, then follows it while Live is on. */
    self.start = async () => {
      const generation = ++self.generation;
      self.events = [];
      const head = await api('GET', projectPath('/events/head'));
      self.after = Math.max(0, head.seq - EVENTS_SHOWN);
      take(await api('GET', projectPath(`/events?after=${self.after}&limit=${EVENTS_SHOWN}`)));
      render();
      while (generation === self.generation && $('events-live').checked && !$('app').hidden) {
        try {
          const page = await api('GET', projectPath(`/events?after=${self.after}&limit=100&wait=25`));
          if (generation !== self.generation) return;
          if (page.events.length) {
            take(page);
            render();
            state.lists.webhooks?.reload();
          }
        } catch (err) {
          setMsg($('events'), err.message || String(err));
          await new Promise((r) => setTimeout(r, 5000));
        }
      }
    };
    self.stop = () => { self.generation += 1; };
    return self;
  }

  function webhooksList() {
    return pager($('webhooks-list'), {
      load: () => api('GET', projectPath('/webhooks')),
      empty: 'No webhooks: register them with POST /api/v2/webhooks.',
      rowClass: (w) => (w.health.dead > 0 || w.health.failing > 0 ? 'warn' : null),
      columns: [
        { label: 'URL', cell: (w) => h('span', null, h('code', { text: w.url }), w.description ? ` · ${w.description}` : '') },
        { label: 'Types', cell: (w) => (w.types === null ? 'all' : w.types.join(', ')) },
        { label: 'Last delivery', cell: (w) => formatTime(w.health.lastDeliveredAt) },
        { label: 'Failing', cell: (w) => (w.health.failing ? badge(`${w.health.failing} in a row`) : '0') },
        { label: 'Dead', cell: (w) => String(w.health.dead) },
        { label: 'Sent up to', cell: (w) => `seq ${w.cursor}` },
        {
          label: 'Replay',
          cell: (w) => {
            const after = h('input', { class: 'narrow', inputmode: 'numeric', value: '0', 'aria-label': 'Replay after seq' });
            const button = h('button', { type: 'button', text: 'Replay' });
            button.addEventListener('click', () => act($('webhooks'), button, async () => {
              if (!/^\d+$/.test(after.value.trim())) throw new Error('Replay after: a seq, 0 or more.');
              await api('POST', projectPath(`/webhooks/${seg(w.id)}/replay`), { after: Number(after.value.trim()) });
              setMsg($('webhooks'), `Every matching event after seq ${after.value.trim()} will be sent again to ${w.url}.`, 'ok');
              await state.lists.webhooks.reload();
            }));
            return h('span', { class: 'inline' }, 'after ', after, button);
          },
        },
      ],
    });
  }

  // ---------- the overview (dashboard) ----------

  const CHART_HEIGHT = 220;
  const LIVE_SHOWN = 20;

  /** The charts and the numbers they were drawn from; window.walletAdminDashboard shows them to tests. */
  const dash = {
    overview: null,
    charts: { days: null, minutes: null },
    asset: null, // id of the asset the daily chart shows
    live: [], // the live feed's events, newest first
    liveSeq: null,
    liveGeneration: 0,
    liveAbort: null, // ends the open stream
    reloadTimer: null,
  };
  window.walletAdminDashboard = dash;

  const num = (v) => Number(v);

  function chartWidth(node) {
    return Math.max(260, Math.floor(node.getBoundingClientRect().width || node.clientWidth || 320));
  }

  const UTC = (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');

  /** Replaces a chart: uPlot draws onto a canvas, so only its options and data are ours. */
  function drawChart(name, node, opts, data) {
    if (dash.charts[name]) dash.charts[name].destroy();
    node.replaceChildren();
    dash.charts[name] = new uPlot({ width: chartWidth(node), height: CHART_HEIGHT, tzDate: UTC, ...opts }, data, node);
  }

  function drawDays() {
    const o = dash.overview;
    const asset = o && o.assets.find((a) => a.id === dash.asset);
    if (!asset) return;
    const bars = uPlot.paths.bars({ size: [0.8, 24], gap: 1 });
    const x = asset.days.map((d) => num(d.day) / 1000);
    const value = (v) => (v === null || v === undefined ? '—' : formatUnits(String(v), asset.fractions));
    drawChart('days', $('chart-days'), {
      series: [
        { label: 'Day (UTC)', value: '{YYYY}-{MM}-{DD}' },
        { label: 'Issued', points: { show: false }, stroke: '#1a7f37', fill: 'rgba(26,127,55,0.45)', paths: bars, value: (u, v) => value(v) },
        { label: 'Redeemed', points: { show: false }, stroke: '#2457c5', fill: 'rgba(36,87,197,0.45)', paths: bars, value: (u, v) => value(v) },
        { label: 'Expired', points: { show: false }, stroke: '#b42318', fill: 'rgba(180,35,24,0.45)', paths: bars, value: (u, v) => value(v) },
      ],
      axes: [{ space: 60 }, { size: 60, values: (u, vals) => vals.map((v) => value(Math.round(v))) }],
      scales: { x: { time: true, range: (u, min, max) => [min - 43200, max + 43200] } },
    }, [x, asset.days.map((d) => num(d.issued)), asset.days.map((d) => num(d.redeemed)), asset.days.map((d) => num(d.expired))]);
  }

  function drawMinutes() {
    const o = dash.overview;
    drawChart('minutes', $('chart-minutes'), {
      series: [
        { label: 'Minute (UTC)', value: '{HH}:{mm}' },
        { label: 'Transactions', stroke: '#2457c5', fill: 'rgba(36,87,197,0.15)', width: 2, points: { show: false } },
      ],
      axes: [{ space: 60 }, { size: 44 }],
      scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    }, [o.minutes.map((m) => num(m.minute) / 1000), o.minutes.map((m) => num(m.transactions))]);
  }

  function renderAssets(o) {
    $('dash-assets').replaceChildren(...o.assets.map((a) => h('div', { class: 'tile', 'data-asset': a.id },
      h('div', { class: 'tile-head' }, h('strong', { text: a.code }), h('span', { class: 'muted', text: a.name })),
      h('div', { class: 'tile-big', title: `${a.supply} smallest parts` }, formatUnits(String(a.supply), a.fractions)),
      h('div', { class: 'muted', text: `in ${a.wallets} wallet${a.wallets === 1 ? '' : 's'}` }),
      h('div', null, `${a.openHolds} open hold${a.openHolds === 1 ? '' : 's'} · `,
        h('span', { title: `${a.held} smallest parts` }, formatUnits(String(a.held), a.fractions)), ' held'))));
    if (o.assets.length === 0) $('dash-assets').append(h('p', { class: 'hint', text: 'No asset yet.' }));
    const select = $('dash-asset');
    if (!o.assets.some((a) => a.id === dash.asset)) {
      // The busiest asset of the month first.
      const moved = (a) => a.days.reduce((n, d) => n + Math.abs(num(d.issued)) + Math.abs(num(d.redeemed)) + Math.abs(num(d.expired)), 0);
      const busiest = [...o.assets].sort((p, q) => moved(q) - moved(p))[0];
      dash.asset = busiest ? busiest.id : null;
    }
    select.replaceChildren(...o.assets.map((a) => h('option', { value: a.id, text: a.code })));
    if (dash.asset) select.value = dash.asset;
  }

  function renderWebhookHealth(o) {
    if (o.webhooks.length === 0) {
      $('dash-webhooks').replaceChildren(h('p', { class: 'hint', text: 'No webhooks.' }));
      return;
    }
    const rows = o.webhooks.map((w) => {
      const last = w.lastDelivery;
      const healthy = !w.failing && !w.dead;
      return h('tr', { class: healthy ? null : 'warn', 'data-webhook': w.id },
        h('td', { 'data-label': 'URL' }, h('code', { text: w.url })),
        h('td', { 'data-label': 'Last attempt' }, last
          ? h('span', null, badge(last.status), ' ', last.httpStatus ? `HTTP ${last.httpStatus} · ` : '', formatTime(last.at))
          : '—'),
        h('td', { 'data-label': 'Failing', class: 'num' }, String(w.failing)),
        h('td', { 'data-label': 'Dead', class: 'num' }, String(w.dead)),
        h('td', { 'data-label': 'Backlog', class: 'num' }, String(w.backlog)));
    });
    $('dash-webhooks').replaceChildren(h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
      h('thead', null, h('tr', null, ['URL', 'Last attempt', 'Failing', 'Dead', 'Backlog'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, rows))));
  }

  async function loadOverview() {
    const o = await api('GET', projectPath('/overview'));
    dash.overview = o;
    renderAssets(o);
    renderWebhookHealth(o);
    drawDays();
    drawMinutes();
    $('overview').dataset.loaded = String(Date.now());
  }

  /** Many events at once (a batch) reload the overview once. */
  function overviewSoon() {
    clearTimeout(dash.reloadTimer);
    dash.reloadTimer = setTimeout(() => act($('overview'), null, loadOverview), 800);
  }

  function renderLive() {
    const items = dash.live.map((e) => h('li', { 'data-seq': String(e.seq) },
      h('span', { class: 'live-meta' }, `#${e.seq} `, h('code', { text: e.type }), ' ', formatTime(e.createdAt)),
      h('span', { class: 'live-about' }, eventSummary(e))));
    $('dash-live').replaceChildren(...items);
    if (items.length === 0) $('dash-live').append(h('li', { class: 'muted', text: 'Waiting for the next event…' }));
  }

  function liveState(text, on) {
    const badgeNode = $('dash-live-state');
    badgeNode.textContent = text;
    badgeNode.className = 'badge ' + (on ? 'b-completed' : 'b-suspended');
  }

  /**
   * Follows the project's Server-Sent Events stream (fetch, so any event type is read and the
   * session cookie goes along); reconnects after the last seq seen.
   */
  async function followLive() {
    stopLive();
    const generation = dash.liveGeneration;
    dash.live = [];
    dash.liveSeq = null;
    renderLive();
    while (generation === dash.liveGeneration && !$('app').hidden) {
      const after = dash.liveSeq === null ? '' : `?after=${dash.liveSeq}`;
      try {
        dash.liveAbort = new AbortController();
        const response = await fetch(API + projectPath('/events/stream') + after, {
          credentials: 'same-origin', headers: { Accept: 'text/event-stream' }, signal: dash.liveAbort.signal,
        });
        if (response.status === 401) { loggedOut('Your session has ended. Log in again.'); return; }
        if (!response.ok || !response.body) throw new Error(`the live feed answered ${response.status}`);
        liveState('live', true);
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done || generation !== dash.liveGeneration) { reader.cancel().catch(() => {}); break; }
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block.split('\n').find((l) => l.startsWith('data: '));
            if (!data) continue; // a comment (connected, keep-alive)
            const event = parseJson(data.slice(6));
            dash.liveSeq = event.seq;
            dash.live.unshift(event);
            dash.live.length = Math.min(dash.live.length, LIVE_SHOWN);
            renderLive();
            overviewSoon();
          }
        }
      } catch (err) {
        if (generation !== dash.liveGeneration) return;
        setMsg($('overview'), `Live feed: ${err.message || err}`);
      }
      if (generation !== dash.liveGeneration) return;
      liveState('reconnecting', false);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }

  /** Ends the live feed at once (a project switch, a logout): the server's stream ends with it. */
  function stopLive() {
    dash.liveGeneration += 1;
    if (dash.liveAbort) dash.liveAbort.abort();
  }

  async function dashSearch(event) {
    event.preventDefault();
    const q = $('dash-search-q').value.trim();
    await act($('overview'), event.currentTarget.querySelector('button'), async () => {
      const reply = await api('GET', projectPath(`/search?q=${encodeURIComponent(q)}`));
      const open = (label, fn) => h('button', { type: 'button', class: 'link', onclick: () => act($('overview'), null, fn) }, label);
      const rows = reply.results.map((r) => {
        switch (r.kind) {
          case 'transaction':
            return h('li', { 'data-kind': 'transaction' }, badge(r.transaction.status), ` transaction (by ${r.matched}) `,
              open(r.transaction.id, () => openTransaction(r.transaction.id)),
              r.transaction.referenceId ? ` · ${r.transaction.referenceId}` : '', ` · ${formatTime(r.transaction.createdAt)}`);
          case 'customer':
            return h('li', { 'data-kind': 'customer' }, badge(r.customer.status), ' customer ',
              open(r.customer.id, () => openCustomer(r.customer.id)), r.customer.name ? ` · ${r.customer.name}` : '');
          case 'item':
            return h('li', { 'data-kind': 'item' }, badge(r.item.status), ' item ',
              open(r.item.id, () => openItem(r.item.id)), ` · ${r.item.itemType}`,
              r.item.customerId ? ` · owned by ${r.item.customerId}` : ' · in stock');
          default:
            return h('li', null, r.kind);
        }
      });
      $('dash-search-results').replaceChildren(rows.length
        ? h('ul', { class: 'results' }, rows)
        : h('p', { class: 'hint', text: `Nothing in project ${state.project} is named "${q}".` }));
    });
  }

  function wireDashboard() {
    $('dash-search').addEventListener('submit', dashSearch);
    $('overview-reload').addEventListener('click', (e) => act($('overview'), e.currentTarget, loadOverview));
    $('dash-asset').addEventListener('change', (e) => { dash.asset = e.currentTarget.value; drawDays(); });
    let resizing = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizing);
      resizing = setTimeout(() => {
        for (const [name, id] of [['days', 'chart-days'], ['minutes', 'chart-minutes']]) {
          const chart = dash.charts[name];
          if (chart) chart.setSize({ width: chartWidth($(id)), height: CHART_HEIGHT });
        }
      }, 150);
    });
  }

  function wire() {
    wireDashboard();
    state.lists.webhooks = webhooksList();
    state.feed = eventsFeed();
    $('events-live').addEventListener('change', () => act($('events'), null, () => state.feed.start()));
    state.lists.projects = projectsList();
    state.lists.assets = assetsList();
    state.lists.authorities = authoritiesList();
    state.lists.customers = customersList();
    state.lists.customerKeys = customerKeysList();
    state.lists.entries = entriesList();
    state.lists.holds = holdsList();
    state.lists.lots = lotsList();
    state.lists.customerItems = customerItemsList();
    state.lists.itemHistory = itemHistoryList();

    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('project-select').addEventListener('change', (e) => switchProject(e.currentTarget.value));
    $('project-form').addEventListener('submit', createProject);
    $('asset-form').addEventListener('submit', createAsset);
    $('authority-form').addEventListener('submit', createAuthority);
    $('access-key-form').addEventListener('submit', createAccessKey);
    $('customer-search').addEventListener('submit', (event) => {
      event.preventDefault();
      const id = $('customer-search-id').value;
      act($('lookup'), event.currentTarget.querySelector('button'), async () => {
        try {
          await openCustomer(id);
          // The list may predate this customer (created through the APIs since).
          await state.lists.customers.reload();
        } catch (err) {
          if (err.status === 404) throw new Error(`No customer with the id "${id}" in project ${state.project}.`);
          throw err;
        }
      });
    });
    $('transaction-search').addEventListener('submit', (event) => {
      event.preventDefault();
      const id = $('transaction-search-id').value.trim();
      act($('lookup'), event.currentTarget.querySelector('button'), async () => {
        try {
          await openTransaction(id);
        } catch (err) {
          if (err.status === 404) throw new Error(`No transaction with the id "${id}" in project ${state.project}.`);
          throw err;
        }
      });
    });
    $('item-search').addEventListener('submit', (event) => {
      event.preventDefault();
      const id = $('item-search-id').value;
      act($('lookup'), event.currentTarget.querySelector('button'), async () => {
        try {
          await openItem(id);
        } catch (err) {
          if (err.status === 404) throw new Error(`No item with the id "${id}" in project ${state.project}.`);
          throw err;
        }
      });
    });
    $('customer-suspend').addEventListener('click', suspendCustomer);
    $('customer-resume').addEventListener('click', showResume);
    $('resume-cancel').addEventListener('click', () => show($('resume-form'), false));
    $('resume-form').addEventListener('submit', resumeCustomer);
    $('customer-reload').addEventListener('click', (e) => act($('customer'), e.currentTarget, () => openCustomer(state.customerId)));
    $('customer-key-form').addEventListener('submit', createCustomerKey);
    $('credit-limit-form').addEventListener('submit', setCreditLimit);
    $('holds-filter').addEventListener('submit', (e) => e.preventDefault());
    $('holds-status').addEventListener('change', (e) => act($('holds'), e.currentTarget, () => state.lists.holds.reload(0)));
    $('lots-status').addEventListener('change', (e) => act($('holds'), e.currentTarget, () => state.lists.lots.reload(0)));
    $('maintenance-toggle').addEventListener('click', toggleMaintenance);
    for (const button of document.querySelectorAll('[data-close]')) {
      button.addEventListener('click', () => show($(button.dataset.close), false));
    }
  }

  async function boot() {
    wire();
    try {
      loggedIn(await api('GET', '/session'));
      await startApp();
    } catch (err) {
      loggedOut(err.status === 401 ? '' : err.message);
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
