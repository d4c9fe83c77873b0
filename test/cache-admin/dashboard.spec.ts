/// <reference lib="dom" />
// The page functions passed to page.evaluate run in the browser.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AppProcess } from '../support/app-process';
import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer } from '../support/redis-server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '../../test-artifacts');
const XSS_NAME = '"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
const XSS_TAG = '<img src=x onerror=window.__xss=3>';

/**
 * The `/admin` dashboard in Debian's Chromium (Playwright), on the compiled
 * app with Postgres and a Redis of its own: log in, watch the counters and
 * charts move with traffic, find and delete a key, invalidate a tag, and
 * check that hostile text stays text under the page's CSP.
 */
describe('Admin dashboard in a browser', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-dashboard-'));
  const admin = { email: 'dash-admin@example.com', password: 'admin-password-1' };
  let db: TestDatabase;
  let redis: TestRedisServer;
  let app: AppProcess;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    [db, redis] = await Promise.all([createTestDatabase(), TestRedisServer.start()]);
    app = await AppProcess.start(
      {
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
        CACHE_ADMIN_SAMPLE_MS: '500',
        THROTTLE_AUTH_LIMIT: '1000',
      },
      cwd,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // Script errors and CSP refusals; a failed API call (the wrong password's 401) is logged by the browser too, and is expected.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        problems.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.url().includes('/admin') && response.status() >= 400)
        problems.push(`${response.status()} ${response.url()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await redis?.stop();
    await db?.drop();
  });

  /** A user whose name is an XSS payload, read through the API so its views are cached. */
  async function traffic(rounds: number): Promise<string> {
    const email = `x${Date.now()}@example.com`;
    const password = 'correct horse battery';
    const registered = await app.send('POST', '/api/v1/auth/register', { body: { email, password, name: XSS_NAME } });
    expect(registered.status).toBe(201);
    const token = (await app.send('POST', '/api/v1/auth/login', { body: { email, password } })).body.accessToken;
    for (let i = 0; i < rounds; i++) {
      await app.send('GET', `/api/v1/users/${registered.body.id}`, { token });
      await app.send('GET', '/api/v1/auth/me', { token });
    }
    return registered.body.id;
  }

  it('logs an admin in and shows health, counters and charts that move with traffic', async () => {
    await page.goto(`${app.baseUrl}/admin`);
    await page.fill('#login-email', admin.email);
    await page.fill('#login-password', 'wrong password!');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('login-error')!.textContent.length > 0);
    expect(await page.isVisible('#app-view')).toBe(false);

    await page.fill('#login-password', admin.password);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#card-backend');
    expect(await page.textContent('#health-cards')).toContain('connected');
    // The token is in sessionStorage, not in the URL.
    expect(page.url()).toBe(`${app.baseUrl}/admin`);
    expect(await page.evaluate(() => sessionStorage.getItem('cacheAdminToken'))).toMatch(/^ey/);

    await traffic(20);
    const hits = () =>
      page.evaluate(() => {
        const rowOf = document.querySelector('#namespaces tr[data-namespace="http"][data-layer="l1"]');
        return rowOf ? Number(rowOf.children[2].textContent) : 0;
      });
    await waitFor(async () => (await hits()) > 0, 15_000, 'the http namespace’s hits in the table');
    const before = await hits();
    await traffic(10);
    await waitFor(async () => (await hits()) > before, 15_000, 'the hits to go up');
    await waitFor(
      async () => Number(await page.getAttribute('#chart-ratio', 'data-points')) >= 3,
      15_000,
      'the charts to have points',
    );
    expect(await page.locator('#chart-ratio canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#chart-rate canvas').count()).toBeGreaterThan(0);
  }, 90_000);

  it('finds a key, shows a hostile value as text, and deletes it', async () => {
    const userId = await traffic(1);
    // The cached user's entry (found through the API): the UI must find and show the same one.
    let target: string | undefined;
    const token = (await app.send('POST', '/api/v1/auth/login', { body: admin })).body.accessToken;
    let cursor = '0';
    do {
      const res = await app.send('GET', `/api/v1/cache/keys?match=&cursor=${cursor}&count=500`, { token });
      for (const { key } of res.body.keys) {
        const detail = await app.send('GET', `/api/v1/cache/keys/${encodeURIComponent(key)}`, { token });
        if (detail.body.l2?.value?.text.includes(userId) && detail.body.l2.value.text.includes('onerror')) target = key;
      }
      cursor = res.body.cursor;
    } while (cursor !== '0' && !target);
    expect(target).toBeDefined();

    await page.fill('#key-match', target!);
    await page.click('#key-search button[type=submit]');
    const item = page.locator(`#key-list li[data-key="${target}"]`);
    await item.waitFor();
    await item.click();
    await page.waitForFunction(() => document.getElementById('key-value')!.textContent.includes('onerror'));
    expect(await page.textContent('#key-value')).toContain('window.__xss=1');
    expect(await page.locator('#key-detail img, #key-detail script').count()).toBe(0);

    await page.click('#key-delete');
    await item.waitFor({ state: 'detached' });
    const gone = await app.send('GET', `/api/v1/cache/keys/${encodeURIComponent(target!)}`, { token });
    expect(gone.status).toBe(404);
  }, 60_000);

  it('invalidates a tag and shows the action in the audit log as text', async () => {
    await page.fill('#invalidate-tags', XSS_TAG);
    await page.click('#invalidate-form button[type=submit]');
    await page.waitForFunction(() =>
      document.getElementById('invalidate-result')!.textContent.startsWith('Invalidated'),
    );
    await waitFor(
      async () => (await page.textContent('#audit tbody'))!.includes(XSS_TAG),
      10_000,
      'the invalidation in the audit log',
    );
    expect(await page.textContent('#audit tbody')).toContain('key.delete');
    expect(await page.locator('#audit img, #audit script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(problems).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-dashboard.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'admin-dashboard.png'))).toBe(true);
  }, 60_000);

  it('logs out on the server: the access and refresh tokens stop working, a non-admin’s session too', async () => {
    const refused = async (accessToken: string, refreshToken?: string) => {
      const me = await app.send('GET', '/api/v1/auth/me', { token: accessToken });
      const refreshed = refreshToken
        ? (await app.send('POST', '/api/v1/auth/refresh', { body: { refreshToken } })).status
        : 401;
      return [me.status, refreshed];
    };
    /** Logs in through the form; the token pair the server gave the page. */
    const logIn = async (email: string, password: string) => {
      await page.fill('#login-email', email);
      await page.fill('#login-password', password);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login')),
        page.click('#login-form button[type=submit]'),
      ]);
      return (await response.json()) as { accessToken: string; refreshToken: string };
    };
    const logOut = async () => {
      await page.click('#logout');
      await page.waitForSelector('#login-view', { state: 'visible' });
      expect(await page.evaluate(() => sessionStorage.getItem('cacheAdminToken'))).toBeNull();
    };

    // The session the first test opened. Before, Log out only cleared sessionStorage: the token went on working.
    const first = await page.evaluate(() => sessionStorage.getItem('cacheAdminToken'));
    await logOut();
    expect(await refused(first!)).toEqual([401, 401]);

    const pair = await logIn(admin.email, admin.password);
    await page.waitForSelector('#card-backend');
    expect((await app.send('GET', '/api/v1/auth/me', { token: pair.accessToken })).status).toBe(200);
    await logOut();
    expect(await refused(pair.accessToken, pair.refreshToken)).toEqual([401, 401]);

    // A user is told the account is no admin, and the session the login opened is ended, not left open.
    const user = { email: `plain${Date.now()}@example.com`, password: 'correct horse battery' };
    expect((await app.send('POST', '/api/v1/auth/register', { body: { ...user, name: 'Plain' } })).status).toBe(201);
    const userPair = await logIn(user.email, user.password);
    await page.waitForFunction(() => document.getElementById('login-error')!.textContent.includes('not an admin'));
    // The page ends the session before it shows the message.
    expect(await refused(userPair.accessToken, userPair.refreshToken)).toEqual([401, 401]);
    expect(await page.isVisible('#app-view')).toBe(false);
    expect(problems).toEqual([]);
  }, 60_000);
});
