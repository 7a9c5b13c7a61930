/**
 * Jest globalSetup of the tiers that need host tools (preflight-setup.<tier>.ts): stops the run
 * before any test starts when a tool is missing, with the preflight's one message instead of a
 * wall of failures. It names what every tier of the run lacks: the selected projects, or all
 * tiers when the whole suite runs; with test path patterns, at least its own tier's.
 */
import { TIERS, Tier, missingTools, preflightMessage } from "../preflight";

interface GlobalConfig {
  selectProjects?: string[];
  testPathPatterns?: { isSet(): boolean };
}

export function tiersOfRun(own: Tier, global: GlobalConfig): Tier[] {
  const selected = global.selectProjects?.filter((p): p is Tier => (TIERS as readonly string[]).includes(p));
  const wholeSuite = selected === undefined && !global.testPathPatterns?.isSet();
  return TIERS.filter((t) => t === own || wholeSuite || selected?.includes(t));
}

export function preflightSetup(own: Tier): (global: GlobalConfig) => void {
  return (global) => {
    const tiers = tiersOfRun(own, global);
    const message = preflightMessage(tiers.filter((t) => t !== "unit"), missingTools(tiers));
    if (message !== undefined) throw new Error(message);
  };
}
