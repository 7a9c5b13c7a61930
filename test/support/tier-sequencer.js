/**
 * jest's order of test files, changed for a run without timings (a fresh clone, CI). jest
 * alone orders such a run by file size, across tiers: a short file of fault tests that mostly
 * waits (on a timeout, a dead server) starts last, and the run ends with one worker waiting.
 * Here, in such a run, files whose header has the tag `@waits` start first, so their waits
 * overlap the other files' work; then the end-to-end files, the artifact files, and last the
 * many short unit files, which fill the end. Within a tier, files tagged `@long` (long for
 * their tier) go first; otherwise jest's order (largest first) stays. Once jest has timings
 * (its cache), its own order stands: failed first, then longest.
 */
const fs = require("fs");
const Sequencer = require("@jest/test-sequencer").default;

const TIER_ORDER = ["e2e", "artifact", "unit"];

/** The tags (`@waits`, `@long`) in the file's leading comment. */
function tags(file) {
  const head = fs.readFileSync(file, "utf8").slice(0, 4096);
  const docblock = /^\s*\/\*\*[\s\S]*?\*\//.exec(head);
  return new Set(docblock === null ? [] : [...docblock[0].matchAll(/^\s*\*\s*@(\w+)\b/gm)].map((m) => m[1]));
}

function rank(test) {
  const tagged = tags(test.path);
  if (tagged.has("waits")) return 0;
  const tier = TIER_ORDER.findIndex((name) => test.path.endsWith(`.${name}.test.ts`));
  return 1 + 2 * (tier === -1 ? TIER_ORDER.length : tier) + (tagged.has("long") ? 0 : 1);
}

class TierSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    if (sorted.some((test) => test.duration != null)) return sorted;
    const ranks = new Map(sorted.map((test) => [test.path, rank(test)]));
    // Array.prototype.sort is stable: within a group, jest's order stays.
    return [...sorted].sort((a, b) => ranks.get(a.path) - ranks.get(b.path));
  }
}

module.exports = TierSequencer;
