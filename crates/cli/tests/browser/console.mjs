// The admin console in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core). Run by crates/cli/tests/cli/console.rs against a real
// `centinela serve`; every step throws on a mismatch, so a non-zero exit is a failed
// test. Input comes from the environment:
//   CENTINELA_BASE       https://127.0.0.1:PORT of the gateway
//   ADMIN_USER/PASSWORD  an admin account without a second factor yet
//   ATTACKER_IP          the address the test's attacks claim (X-Forwarded-For)
//   VICTIM_USER          an account with a live session, to revoke and disable
//   HOSTILE_NAME         the display name (with markup) of another account
//   RUNBOOK              the runbook path the configuration gives the alert rule
//   CHROMIUM             the browser binary (default /usr/bin/chromium)
import { chromium } from "playwright-core";
import { createHmac } from "node:crypto";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env("CENTINELA_BASE");
const admin = env("ADMIN_USER");
const password = env("ADMIN_PASSWORD");
const attacker = env("ATTACKER_IP");
const victim = env("VICTIM_USER");
const hostileName = env("HOSTILE_NAME");
const runbook = env("RUNBOOK");

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

function base32Decode(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, n = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, "").toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    bits = (bits << 5) | v;
    n += 5;
    if (n >= 8) {
      n -= 8;
      out.push((bits >> n) & 0xff);
    }
  }
  return Buffer.from(out);
}

// RFC 6238 with the defaults Centinela uses: SHA-1, 30 s, 6 digits.
function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", secret).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(bin).padStart(6, "0");
}
const stepNow = () => Math.floor(Date.now() / 30_000);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // Root in CI has no user namespaces for Chromium's sandbox.
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const problems = [];
const dialogs = [];
try {
  // The gateway's development certificate is self-signed.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on("console", (m) => {
    // The browser's own /favicon.ico request is denied by the policy, as it should be.
    if (m.type() === "error" && !/status of 40[34]/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e}`));
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.accept();
  });
  await page.addInitScript(() => {
    // Set by any markup that manages to run as script.
    window.__pwned = 0;
  });

  // 1. The console sends a stranger to the login page.
  await page.goto(`${base}/_centinela/admin`);
  check(page.url().includes("/_centinela/login"), `redirected to login, got ${page.url()}`);
  await page.fill("#username", admin);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);

  // 2. An admin without a second factor is refused and told to enrol.
  await page.goto(`${base}/_centinela/admin`);
  check((await page.textContent("h1")).includes("Second factor required"), "password-only admin refused");

  // 3. Enrol TOTP on the account page.
  await page.goto(`${base}/_centinela/account`);
  await Promise.all([
    page.waitForNavigation(),
    page.click("form[action='/_centinela/account/totp/start'] button"),
  ]);
  const secretText = (await page.textContent("#secret")).trim();
  const secret = base32Decode(secretText);
  const enrolStep = stepNow();
  await page.fill("#code", totp(secret, enrolStep));
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  check((await page.textContent("h1")).includes("is on"), "TOTP turned on");

  // 4. Sign out, sign in again with password and TOTP, land on the dashboard.
  await page.goto(`${base}/_centinela/account`);
  await Promise.all([
    page.waitForNavigation(),
    page.click("form[action='/_centinela/logout'] button"),
  ]);
  await page.goto(`${base}/_centinela/admin`);
  await page.fill("#username", admin);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  check(page.url().includes("/_centinela/login/totp"), `asked for the code, at ${page.url()}`);
  // The enrolment code is spent (no replay); the next step's code is accepted.
  await page.fill("#code", totp(secret, Math.max(stepNow(), enrolStep + 1)));
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  await page.goto(`${base}/_centinela/admin`);
  check((await page.textContent("h1")).trim() === "Dashboard", `dashboard shown, got ${await page.textContent("h1")}`);

  // The page's CSP is nonce-based and the one script carries that nonce.
  const resp = await page.goto(`${base}/_centinela/admin`);
  const policy = resp.headers()["content-security-policy"] || "";
  const nonce = await page.$eval("script", (s) => s.nonce);
  check(/script-src 'nonce-[A-Za-z0-9_-]{22,}'/.test(policy), `nonce CSP: ${policy}`);
  check(!policy.includes("unsafe-inline"), "no unsafe-inline");
  check(nonce && policy.includes(`'nonce-${nonce}'`), "script nonce matches the header");
  check((await page.$$("[onclick],[onload],[onerror],[onsubmit]")).length === 0, "no inline handlers");

  // 5. Attacks through the gateway, from an address behind a trusted proxy.
  const attacks = [
    "/api/public/search?q=1'+UNION+SELECT+password+FROM+users--+-",
    "/api/public/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E",
    "/api/public/search?q=%3B+cat+%2Fetc%2Fpasswd",
    "/api/public/search?q=..%2F..%2F..%2Fetc%2Fpasswd",
  ];
  for (const path of attacks) {
    const r = await context.request.get(`${base}${path}`, {
      headers: { "X-Forwarded-For": attacker },
    });
    check(r.status() === 403, `attack ${path} refused, got ${r.status()}`);
  }

  // 6. The blocks and the alert they raised appear on the dashboard.
  let row = null;
  for (let i = 0; i < 40 && !row; i++) {
    await page.goto(`${base}/_centinela/admin`);
    row = await page.$("tr[data-rule='blocked-requests-per-address']");
    if (!row) await page.waitForTimeout(250);
  }
  check(row, "alert for the attacking address shown");
  check((await row.textContent()).includes(attacker), "alert names the address");
  const href = await row.$eval("a", (a) => a.getAttribute("href"));
  check(href.endsWith(runbook), `alert links the configured runbook, got ${href}`);
  const blocks = await page.textContent("#recent-blocks");
  check(blocks.includes(attacker), "latest blocks list the address");
  check(Number(await page.textContent("#stat-blocked")) >= attacks.length, "blocked counter");
  check((await page.$$("figure.chart svg rect")).length > 0, "charts have bars");

  // 7. Acknowledge it.
  await Promise.all([page.waitForNavigation(), row.$("button").then((b) => b.click())]);
  check((await page.textContent(".flash")).includes("acknowledged"), "acknowledged message");
  await page.goto(`${base}/_centinela/admin/alerts?state=acknowledged`);
  const acked = await page.textContent("tr[data-rule='blocked-requests-per-address'] .state");
  check(acked.includes(`acknowledged by ${admin}`), `state after ack: ${acked}`);

  // 8. The audit log: search the blocks of that address.
  await page.goto(`${base}/_centinela/admin/audit`);
  await page.selectOption("select[name=kind]", "inspection-blocked");
  await page.fill("input[name=ip]", attacker);
  await Promise.all([page.waitForNavigation(), page.click(".filters button")]);
  const rows = await page.$$("#audit-events tbody tr");
  check(rows.length === attacks.length, `one event per attack, got ${rows.length}`);
  const table = await page.textContent("#audit-events");
  check(table.includes("/api/public/search"), "events name the attacked path");

  // 9. Users: the hostile display name is text; revoke and disable the victim.
  await page.goto(`${base}/_centinela/admin/users`);
  const names = await page.textContent("#users");
  check(names.includes(hostileName), "hostile display name shown literally");
  const victimRow = `tr[data-user='${victim}']`;
  check((await page.textContent(`${victimRow} .sessions`)).trim() !== "0", "victim has a session");
  await Promise.all([
    page.waitForNavigation(),
    page.click(`${victimRow} form:has(input[value=revoke]) button`),
  ]);
  check((await page.textContent(".flash")).includes("Every session"), "revoked message");
  check((await page.textContent(`${victimRow} .sessions`)).trim() === "0", "sessions gone");
  await Promise.all([
    page.waitForNavigation(),
    page.click(`${victimRow} form:has(input[value=disable]) button`),
  ]);
  check((await page.textContent(`${victimRow} .status`)).trim() === "disabled", "victim disabled");
  check(dialogs.some((d) => d.includes(`End every session of ${victim}`)), `confirm dialogs: ${dialogs}`);
  check(dialogs.some((d) => d.includes(`Disable ${victim}`)), `confirm dialogs: ${dialogs}`);

  // 10. A form posted without the console's CSRF token is refused.
  const forged = await context.request.post(`${base}/_centinela/admin/users/action`, {
    form: { user: "x", action: "enable" },
  });
  check(forged.status() === 403, `forged form refused, got ${forged.status()}`);

  check((await page.evaluate(() => window.__pwned)) === 0, "no injected script ran");
  check(problems.length === 0, `no console errors or CSP violations: ${problems.join(" | ")}`);
  // The caller greps the database and the logs for the TOTP secret.
  console.log(JSON.stringify({ ok: true, dialogs: dialogs.length, totp_secret: secretText }));
} finally {
  await browser.close();
}
