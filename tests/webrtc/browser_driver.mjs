// Drives one headless Chromium for a test that talks to it line by line: each
// command on stdin gets exactly one JSON line on stdout. Pages are named by
// the test (any word), so several viewers can be open at once.
//   open <page> <url>                 opens a new page at url (after its load event)
//   wait <page> <minFrames> <ms>      waits until the viewer decoded minFrames
//                                     frames and knows the picture size, shows
//                                     an error, or ms passed
//   view <page>                       what the viewer page shows now
//   links <page>                      the page's links and text
//   close <page>                      closes the page (the viewer leaves)
//   quit
// Every answer lists `foreign`: requests the page made outside its own origin.
// A failed command answers {"failure": "..."}.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(`${process.env.RELAIS_SOURCE_DIR}/tests/node/package.json`);
const { chromium } = require("playwright-core");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
});
const pages = new Map();

async function viewerState(entry) {
  const v = await entry.page.evaluate(() => ({
    ...(window.relaisViewer || { state: "no viewer on this page" }),
    text: (document.getElementById("state") || document.body).textContent,
  }));
  return { ...v, foreign: entry.foreign };
}

const commands = {
  async open(name, url) {
    const page = await browser.newPage();
    const entry = { page, foreign: [] };
    const origin = new URL(url).origin;
    page.on("request", (r) => {
      if (new URL(r.url()).origin !== origin) entry.foreign.push(r.url());
    });
    page.on("console", (m) => console.error(`${name}: ${m.text()}`));
    pages.set(name, entry);
    const res = await page.goto(url);
    return { ok: true, status: res ? res.status() : 0 };
  },
  async wait(name, minFrames, ms) {
    const entry = pages.get(name);
    let timedOut = false;
    try {
      await entry.page.waitForFunction(
        (n) => window.relaisViewer && (window.relaisViewer.state === "error" ||
          (window.relaisViewer.decodedFrames >= n && window.relaisViewer.width > 0)),
        Number(minFrames),
        { timeout: Number(ms), polling: 20 },
      );
    } catch (e) {
      timedOut = true;
    }
    return { ...(await viewerState(entry)), timedOut };
  },
  async view(name) {
    return viewerState(pages.get(name));
  },
  async links(name) {
    const entry = pages.get(name);
    const found = await entry.page.evaluate(() => ({
      links: [...document.querySelectorAll("a")].map((a) => a.getAttribute("href")),
      text: document.body.innerText,
      scripts: document.querySelectorAll("script[src], link[href]").length,
    }));
    return { ...found, foreign: entry.foreign };
  },
  async close(name) {
    await pages.get(name).page.close();
    pages.delete(name);
    return { ok: true };
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === "quit" || cmd === "") break;
  let answer;
  try {
    if (!commands[cmd]) throw new Error(`unknown command '${cmd}'`);
    if (cmd !== "open" && !pages.has(args[0])) throw new Error(`no page named '${args[0]}'`);
    answer = await commands[cmd](...args);
  } catch (e) {
    answer = { failure: `${cmd}: ${e.message}` };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
await browser.close();
