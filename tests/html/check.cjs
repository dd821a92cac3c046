// Opens an HTML report in headless Chromium (playwright-core driving Debian's /usr/bin/chromium)
// at desktop and phone widths, in light and dark, saves full-page screenshots and a PDF, and
// prints what it saw as one JSON object on stdout; tests/cli/html.rs asserts on it.
//
// usage: node check.cjs PLAYWRIGHT_NODE_MODULES CHROMIUM REPORT.html OUT_DIR NAME ID...
"use strict";
const path = require("path");
const { pathToFileURL } = require("url");

const [modules, chromium, report, outDir, name, ...ids] = process.argv.slice(2);
const { chromium: browserType } = require(path.join(modules, "playwright-core"));

const views = [
  { label: "desktop", viewport: { width: 1280, height: 900 }, isMobile: false, colorScheme: "light" },
  { label: "phone", viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: "light" },
  { label: "desktop-dark", viewport: { width: 1280, height: 900 }, isMobile: false, colorScheme: "dark" },
  { label: "phone-dark", viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: "dark" },
];

async function look(browser, view, pageUrl) {
  const context = await browser.newContext({
    viewport: view.viewport,
    isMobile: view.isMobile,
    hasTouch: view.isMobile,
    colorScheme: view.colorScheme,
    javaScriptEnabled: true, // so a script that slipped through would run and be caught
  });
  const requests = [];
  const dialogs = [];
  const consoleErrors = [];
  // Nothing but the page itself may load; anything else is recorded and refused.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url === pageUrl) return route.continue();
    requests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("request", (r) => {
    if (r.url() !== pageUrl && !requests.includes(r.url())) requests.push(r.url());
  });
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  await page.goto(pageUrl, { waitUntil: "load" });
  await page.waitForTimeout(300);
  const anchors = {};
  for (const id of ids) {
    const el = page.locator(`[id="${id}"]`);
    const count = await el.count();
    const visible = count === 1 && (await el.isVisible());
    const selfLink = count === 1 && (await el.locator(`a.anchor[href="#${id}"]`).count()) === 1;
    anchors[id] = { count, visible, selfLink };
  }
  const dom = await page.evaluate(() => {
    const all = Array.from(document.querySelectorAll("*"));
    return {
      pwned: window.__pwned === undefined ? null : String(window.__pwned),
      scripts: document.scripts.length,
      handlers: all.flatMap((e) => Array.from(e.attributes).filter((a) => /^on/i.test(a.name)).map((a) => `${e.tagName}.${a.name}`)),
      hrefs: Array.from(document.querySelectorAll("[href]")).map((e) => e.getAttribute("href")),
      srcs: all.filter((e) => e.hasAttribute("src")).map((e) => e.getAttribute("src")),
      text: document.body.innerText,
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      background: getComputedStyle(document.body).backgroundColor,
      sections: Array.from(document.querySelectorAll("h2[id]")).map((h) => h.id),
    };
  });
  const shot = path.join(outDir, `${name}-${view.label}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  let pdf = null;
  if (view.label === "desktop") {
    pdf = path.join(outDir, `${name}.pdf`);
    await page.pdf({ path: pdf, format: "A4", printBackground: true });
  }
  await context.close();
  return { view: view.label, requests, dialogs, consoleErrors, anchors, dom, shot, pdf };
}

(async () => {
  const browser = await browserType.launch({
    executablePath: chromium,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const pageUrl = pathToFileURL(path.resolve(report)).href;
    const results = [];
    for (const view of views) results.push(await look(browser, view, pageUrl));
    process.stdout.write(JSON.stringify(results) + "\n");
  } finally {
    await browser.close();
  }
})().catch((e) => {
  process.stderr.write(`check.cjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});
