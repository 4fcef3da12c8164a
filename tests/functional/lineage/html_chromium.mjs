// Opens roar's dag HTML in headless Chromium (Debian's, via playwright-core):
// the SVG renders, it has one node per step and artifact of the JSON, and
// clicking a step shows its command in the details panel.
// usage: node html_chromium.mjs PAGE.html DAG.json SCREENSHOT.png PROFILE_DIR
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [page_file, json_file, shot, profile] = process.argv.slice(2);
const dag = JSON.parse(readFileSync(json_file, "utf8"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1400, height: 700 },
});
const fail = async (msg) => { console.error("FAIL: " + msg); await context.close(); process.exit(1); };
try {
  const page = context.pages()[0] || (await context.newPage());
  const requests = [];
  page.on("request", (r) => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const started = Date.now();
  await page.goto(pathToFileURL(page_file).href);
  await page.waitForSelector("svg#dag .node", { timeout: 20000 });
  const render_ms = Date.now() - started;
  if (errors.length) await fail("page errors: " + errors.join("; "));
  if (requests.length) await fail("network requests: " + requests.join(", "));
  const steps = await page.locator("svg#dag .node.step").count();
  const artifacts = await page.locator("svg#dag .node.artifact").count();
  const want_steps = dag.nodes.length, want_artifacts = dag.artifacts.length;
  if (steps !== want_steps || artifacts !== want_artifacts)
    await fail(`nodes: ${steps} steps + ${artifacts} artifacts drawn, JSON has ${want_steps} + ${want_artifacts}`);
  const stale_json = dag.nodes.filter((n) => n.state === "stale").length;
  const stale_drawn = await page.locator("svg#dag .node.step.stale").count();
  if (stale_drawn !== stale_json) await fail(`stale steps drawn ${stale_drawn}, JSON ${stale_json}`);
  const title = await page.locator("#title").textContent();
  if (!title.includes(`Pipeline: ${dag.total_steps} steps`)) await fail("title: " + title);
  // Click the last step: its command appears in the details panel.
  const last = dag.nodes[dag.nodes.length - 1];
  await page.locator(`svg#dag .node.step[data-node-id="${last.id}"]`).click();
  const details = await page.locator("#details").textContent();
  if (!details.includes(last.command)) await fail("details after click lack the command: " + details);
  if (!details.includes(last.job_id)) await fail("details after click lack the job id");
  // And an artifact: its digest (a steps-only page of a big project has none).
  if (dag.artifacts_omitted) {
    if (!title.includes("artifacts are too many to draw")) await fail("steps-only page does not say so: " + title);
  } else {
    const art = dag.artifacts.find((a) => a.digest);
    await page.locator(`svg#dag .node.artifact[data-node-id="${art.id.replace(/"/g, '\\"')}"]`).click();
    const adetails = await page.locator("#details").textContent();
    if (!adetails.includes(art.digest)) await fail("artifact details lack the digest");
  }
  await page.locator(`svg#dag .node.step[data-node-id="${last.id}"]`).click();
  await page.evaluate(() => document.getElementById("canvas").scrollTo(0, 0));
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`ok: ${steps} steps, ${artifacts} artifacts drawn in ${render_ms} ms, screenshot ${shot}`);
} catch (e) {
  await fail(String(e));
}
await context.close();
