// Opens the viewer page in headless Chromium, waits until it has decoded
// `minFrames` frames (or `timeoutMs` passed) and prints what the page shows
// as one JSON line: window.relaisViewer plus the status text.
// Usage: node watch_page.mjs <url> <minFrames> <timeoutMs>
import { createRequire } from "node:module";

const require = createRequire(`${process.env.RELAIS_SOURCE_DIR}/tests/node/package.json`);
const { chromium } = require("playwright-core");

const [url, minFrames, timeoutMs] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
});
try {
  const page = await browser.newPage();
  page.on("console", (m) => console.error(`page: ${m.text()}`));
  await page.goto(url);
  try {
    await page.waitForFunction(
      (n) => window.relaisViewer && window.relaisViewer.decodedFrames >= n,
      Number(minFrames),
      { timeout: Number(timeoutMs), polling: 200 },
    );
  } catch (e) {
    console.error(`page did not decode ${minFrames} frames: ${e.message}`);
  }
  const result = await page.evaluate(() => ({
    ...window.relaisViewer,
    text: document.getElementById("state").textContent,
  }));
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
