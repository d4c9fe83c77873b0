// The cache admin dashboard: plain DOM, no framework. Everything the server
// sends (key names, values, tags, audit targets) is put in the page as text
// (textContent), never as HTML. The token lives in sessionStorage only.
'use strict';
(() => {
  const TOKEN_KEY = 'cacheAdminToken';
  const REFRESH_MS = 3000;
  let token = sessionStorage.getItem(TOKEN_KEY);
  let timer;
  let keyCursor = '0';
  let selectedKey;
  const charts = {};

  const $ = (id) => document.getElementById(id);
  const el = (tag, text, className) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  };
  const row = (cells) => {
    const tr = document.createElement('tr');
    for (const cell of cells) tr.append(el('td', cell));
    return tr;
  };
  const fmt = (n, digits = 0) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '–');
  const pct = (n) => (typeof n === 'number' ? `${(100 * n).toFixed(1)} %` : '–');

  async function api(method, path, body) {
    const response = await fetch(`/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      void logout('Your session ended: log in again', false);
      throw new Error('unauthenticated');
    }
    const text = await response.text();
    const data = text ? JSON.parse(text) : undefined;
    if (!response.ok) throw new Error(data && data.message ? String(data.message) : `HTTP ${response.status}`);
    return data;
  }

  function show(loggedIn) {
    $('login-view').hidden = loggedIn;
    $('app-view').hidden = !loggedIn;
    $('logout').hidden = !loggedIn;
  }

  /**
   * Ends the session of `accessToken` on the server: its access and refresh
   * tokens stop working everywhere. Forgetting the token here is not enough,
   * whoever copied it could go on using it. Resolves to null when the server
   * confirmed, or to why it did not.
   */
  async function endSession(accessToken) {
    try {
      const response = await fetch('/api/v1/auth/logout', {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      // 401: the session had ended already.
      return response.ok || response.status === 401 ? null : `HTTP ${response.status}`;
    } catch (error) {
      return error.message;
    }
  }

  /** Logs out: the server ends the session first (unless it has ended: `endOnServer` false), then the page forgets the token. */
  async function logout(message, endOnServer = true) {
    clearInterval(timer);
    const failed = endOnServer && token ? await endSession(token) : null;
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    show(false);
    $('status').textContent = '';
    $('login-error').textContent = failed
      ? `Logged out of this page, but the server did not confirm (${failed}): the session stays valid until it expires`
      : message || '';
  }

  async function login(event) {
    event.preventDefault();
    $('login-error').textContent = '';
    try {
      const response = await fetch('/api/v1/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: $('login-email').value, password: $('login-password').value }),
      });
      const data = await response.json();
      if (!response.ok) throw new Error(data.message || 'Login failed');
      token = data.accessToken;
      const check = await fetch('/api/v1/cache/health', { headers: { authorization: `Bearer ${token}` } });
      if (!check.ok) {
        // Not kept, so not left open: a session nobody will log out of is one more to steal.
        await endSession(token);
        throw new Error(
          check.status === 403 ? 'This account is not an admin' : `The admin API answered ${check.status}`,
        );
      }
      sessionStorage.setItem(TOKEN_KEY, token);
      $('login-password').value = '';
      start();
    } catch (error) {
      token = null;
      $('login-error').textContent = error.message;
    }
  }

  function start() {
    show(true);
    refresh();
    searchKeys(true);
    clearInterval(timer);
    timer = setInterval(refresh, REFRESH_MS);
  }

  async function refresh() {
    try {
      const [health, stats, audit] = await Promise.all([
        api('GET', '/cache/health'),
        api('GET', '/cache/stats'),
        api('GET', '/cache/audit?limit=20'),
      ]);
      renderHealth(health);
      renderCharts(stats.samples);
      renderNamespaces(stats.namespaces, stats.l1);
      renderAi(stats.ai);
      renderHttp(stats.http);
      renderAudit(audit.items);
      $('status').textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      if (error.message !== 'unauthenticated') $('status').textContent = `refresh failed: ${error.message}`;
    }
  }

  function card(label, value, good) {
    const node = el('div', undefined, 'card');
    node.append(el('div', label, 'label'), el('div', value, `value ${good === undefined ? '' : good ? 'ok' : 'bad'}`));
    return node;
  }

  function renderHealth(health) {
    const cards = $('health-cards');
    cards.replaceChildren(
      card('backend', health.backend),
      card('breaker', health.breaker, health.breaker !== 'open'),
      card(
        'Redis',
        health.redis.configured ? (health.redis.connected ? 'connected' : 'down') : 'not configured',
        health.redis.configured ? health.redis.connected : undefined,
      ),
      card('Redis latency', health.redis.latencyMs === null ? '–' : `${fmt(health.redis.latencyMs, 2)} ms`),
      card('L1 entries', health.l1.entries),
      card('L1 size', `${fmt(health.l1.bytes / 1024, 0)} KiB`),
      card('bus sent / received', `${health.bus.published} / ${health.bus.received}`),
    );
    cards.firstChild.id = 'card-backend';
  }

  /** Rates between consecutive samples: hit ratio per namespace.layer, reads per second, Redis memory and latency. */
  function seriesOf(samples) {
    const names = [...new Set(samples.flatMap((s) => Object.keys(s.counters)))].sort();
    const x = [];
    const ratio = names.map(() => []);
    const rate = [];
    const memory = [];
    const latency = [];
    for (let i = 1; i < samples.length; i++) {
      const [prev, cur] = [samples[i - 1], samples[i]];
      const dt = (cur.at - prev.at) / 1000;
      x.push(cur.at / 1000);
      let reads = 0;
      names.forEach((name, n) => {
        const a = prev.counters[name] || { hits: 0, misses: 0 };
        const b = cur.counters[name] || { hits: 0, misses: 0 };
        const hits = b.hits - a.hits;
        const total = hits + (b.misses - a.misses);
        reads += total;
        ratio[n].push(total > 0 ? hits / total : null);
      });
      rate.push(dt > 0 ? reads / dt : null);
      memory.push(cur.redis ? cur.redis.usedMemory / 1048576 : null);
      latency.push(cur.redis ? cur.redis.latencyMs : null);
    }
    return { names, x, ratio, rate, memory, latency };
  }

  const COLORS = ['#2f6fdf', '#d9480f', '#2b8a3e', '#862e9c', '#c92a2a', '#1098ad', '#e67700', '#495057'];

  function plot(id, labels, data, signature, range) {
    const target = $(id);
    const existing = charts[id];
    if (existing && existing.signature === signature) {
      existing.chart.setData(data);
      return;
    }
    if (existing) existing.chart.destroy();
    const width = Math.max(300, target.clientWidth || 420);
    const chart = new uPlot(
      {
        width,
        height: 180,
        scales: { x: { time: true }, ...(range ? { y: { range } } : {}) },
        series: [
          {},
          ...labels.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false })),
        ],
        legend: { live: false },
      },
      data,
      target,
    );
    charts[id] = { chart, signature };
  }

  function renderCharts(samples) {
    if (typeof uPlot === 'undefined') return;
    const s = seriesOf(samples);
    plot('chart-ratio', s.names, [s.x, ...s.ratio], s.names.join('|'), [0, 1]);
    plot('chart-rate', ['reads/s'], [s.x, s.rate], 'rate');
    plot('chart-memory', ['used memory'], [s.x, s.memory], 'memory');
    plot('chart-latency', ['PING'], [s.x, s.latency], 'latency');
    $('chart-ratio').dataset.points = String(s.x.length);
  }

  function renderNamespaces(namespaces, l1) {
    const body = $('namespaces').tBodies[0];
    const rows = [];
    for (const [name, layers] of Object.entries(namespaces).sort(([a], [b]) => a.localeCompare(b))) {
      for (const [layer, c] of Object.entries(layers)) {
        const size = layer === 'l1' && l1[name] ? `${l1[name].entries} / ${fmt(l1[name].bytes / 1024, 1)} KiB` : '';
        const tr = row([
          name,
          layer,
          c.hits,
          c.misses,
          pct(c.hitRatio),
          c.staleHits,
          c.sets,
          c.deletes,
          c.errors,
          size,
        ]);
        tr.dataset.namespace = name;
        tr.dataset.layer = layer;
        rows.push(tr);
      }
    }
    body.replaceChildren(...rows);
  }

  function renderAi(lines) {
    $('ai-section').hidden = !lines || lines.length === 0;
    if (!lines) return;
    $('ai-ledger').tBodies[0].replaceChildren(
      ...lines.map((l) =>
        row([
          l.model,
          l.requests.hit,
          l.requests.miss,
          l.requests.stale,
          l.requests.bypass,
          l.requests.error,
          l.tokensSaved.prompt + l.tokensSaved.completion,
          fmt(l.costSaved, 4),
          l.providerCalls,
        ]),
      ),
    );
  }

  function renderHttp(http) {
    $('http-section').hidden = !http;
    if (!http) return;
    const list = $('http-figures');
    const items = [
      ['hits', http.outcomes.HIT],
      ['misses', http.outcomes.MISS],
      ['stale', http.outcomes.STALE],
      ['bypassed', http.outcomes.BYPASS],
      ['304 Not Modified', http.notModified],
      ['bytes served from the cache', http.servedBytes],
    ];
    list.replaceChildren(...items.flatMap(([label, value]) => [el('dt', label), el('dd', value)]));
  }

  function renderAudit(items) {
    $('audit').tBodies[0].replaceChildren(
      ...items.map((e) =>
        row([
          new Date(e.createdAt).toLocaleString(),
          e.actorId,
          e.action,
          // A page cuts a target at 1,000 characters; the entry's own route has it whole.
          e.targetTruncated ? `${e.target} [cut: GET /api/v1/cache/audit/${e.id} has it whole]` : e.target,
          e.outcome,
        ]),
      ),
    );
  }

  async function searchKeys(fresh) {
    if (fresh) {
      keyCursor = '0';
      $('key-list').replaceChildren();
    }
    try {
      const match = encodeURIComponent($('key-match').value);
      // A SCAN step may return few keys: take a few steps until a page is worth showing.
      let found = 0;
      let steps = 0;
      do {
        const page = await api('GET', `/cache/keys?match=${match}&cursor=${keyCursor}&count=200`);
        for (const item of page.keys) {
          const li = el('li', item.key);
          li.dataset.key = item.key;
          li.addEventListener('click', () => showKey(item.key, li));
          $('key-list').append(li);
        }
        found += page.keys.length;
        keyCursor = page.cursor;
        steps++;
      } while (keyCursor !== '0' && found < 50 && steps < 20);
      $('key-more').hidden = keyCursor === '0';
    } catch (error) {
      if (error.message !== 'unauthenticated')
        $('key-list').replaceChildren(el('li', `search failed: ${error.message}`));
    }
  }

  async function showKey(key, item) {
    for (const li of $('key-list').children) li.classList.toggle('selected', li === item);
    selectedKey = key;
    const detail = $('key-detail');
    try {
      const d = await api('GET', `/cache/keys/${encodeURIComponent(key)}`);
      $('key-name').textContent = d.key;
      const meta = [
        ['namespace', d.namespace],
        ['in L1 (this instance)', d.l1 ? `yes, until ${d.l1.expiresAt}` : 'no'],
        ['in Redis', !d.l2 ? 'no Redis configured' : d.l2.reason ? `${d.l2.state} (${d.l2.reason})` : d.l2.state],
      ];
      if (d.l2 && d.l2.ttlMs !== undefined) meta.push(['Redis TTL', `${fmt(d.l2.ttlMs / 1000, 1)} s`]);
      const tags = (d.l2 && d.l2.tags) || (d.l1 && d.l1.tags) || [];
      meta.push(['tags', tags.join(', ') || '–']);
      $('key-meta').replaceChildren(...meta.flatMap(([label, value]) => [el('dt', label), el('dd', value)]));
      const value = (d.l2 && d.l2.value) || (d.l1 && d.l1.value);
      $('key-value').textContent = value ? value.text + (value.truncated ? '\n… (truncated)' : '') : '';
      detail.hidden = false;
    } catch (error) {
      $('key-name').textContent = key;
      $('key-meta').replaceChildren();
      $('key-value').textContent = error.message;
      detail.hidden = false;
    }
  }

  async function deleteKey() {
    if (!selectedKey) return;
    try {
      await api('DELETE', `/cache/keys/${encodeURIComponent(selectedKey)}`);
      for (const li of [...$('key-list').children]) if (li.dataset.key === selectedKey) li.remove();
      $('key-detail').hidden = true;
      selectedKey = undefined;
      refresh();
    } catch (error) {
      $('key-value').textContent = `delete failed: ${error.message}`;
    }
  }

  async function invalidate(event) {
    event.preventDefault();
    const tags = $('invalidate-tags')
      .value.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const namespace = $('invalidate-namespace').value.trim();
    const body = { ...(tags.length ? { tags } : {}), ...(namespace ? { namespace } : {}) };
    try {
      await api('POST', '/cache/invalidate', body);
      $('invalidate-result').textContent = 'Invalidated on every instance.';
      refresh();
    } catch (error) {
      $('invalidate-result').textContent = `Not done: ${error.message}`;
    }
  }

  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', () => void logout());
  $('key-search').addEventListener('submit', (event) => {
    event.preventDefault();
    searchKeys(true);
  });
  $('key-more').addEventListener('click', () => searchKeys(false));
  $('key-delete').addEventListener('click', deleteKey);
  $('invalidate-form').addEventListener('submit', invalidate);
  if (token) start();
  else show(false);
})();
