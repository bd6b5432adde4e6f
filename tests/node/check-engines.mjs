// Fails with a plain message when the test tools in tests/node cannot run
// here: a dependency missing or not at the pinned version, or this Node older
// than a dependency's `engines.node` (e.g. a browser driver that needs Node 20
// on Debian 12's Node 18). Run by .ci/deps.sh after `npm install`.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const parse = (v) => [...v.replace(/^[v=]+/, "").split(/[.+-]/), "0", "0"].slice(0, 3).map((n) => parseInt(n, 10) || 0);
const cmp = (a, b) => { for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i]; return 0; };

// One comparator of a range: >=, >, <=, <, =, ^, ~ or a bare version (x/* wildcards count as 0).
function satisfies(version, comparator) {
  const m = comparator.match(/^(>=|<=|>|<|=|\^|~)?\s*v?([0-9x*]+(?:\.[0-9x*]+){0,2})/);
  if (!m) return true;  // a form this check does not read: let npm judge it
  const op = m[1] || "=";
  const parts = m[2].split(".");
  const want = parse(m[2].replace(/[x*]/g, "0"));
  const c = cmp(version, want);
  switch (op) {
    case ">=": return c >= 0;
    case ">": return c > 0;
    case "<=": return c <= 0;
    case "<": return c < 0;
    case "^": return c >= 0 && version[0] === want[0];
    case "~": return c >= 0 && version[0] === want[0] && version[1] === want[1];
    default: return parts.every((p, i) => p === "x" || p === "*" || version[i] === want[i]);
  }
}
// A range: alternatives separated by ||, each a space-separated conjunction.
const inRange = (version, range) =>
  range.split("||").some((alt) => alt.trim().split(/\s+/).filter(Boolean).every((c) => satisfies(version, c)));

const node = parse(process.versions.node);
const manifest = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
const problems = [];
for (const [name, pinned] of Object.entries(manifest.dependencies || {})) {
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8"));
  } catch {
    problems.push(`${name} is not installed in tests/node/node_modules (run 'make deps')`);
    continue;
  }
  if (pkg.version !== pinned) problems.push(`${name} is ${pkg.version}, package.json pins ${pinned} (run 'make deps')`);
  const engine = pkg.engines && pkg.engines.node;
  if (engine && !inRange(node, engine))
    problems.push(`${name} ${pkg.version} needs Node.js ${engine}; this is Node.js ${process.versions.node} (${process.execPath})`);
}
if (problems.length) {
  console.error("deps: the test tools in tests/node cannot run here:\n  " + problems.join("\n  "));
  process.exit(1);
}
console.log(`deps: test tools fit Node.js ${process.versions.node}`);
