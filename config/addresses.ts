/**
 * Bind addresses. Every spelling of the unspecified address binds every interface:
 * 0.0.0.0, ::, 0::, ::0, 0:0:0:0:0:0:0:0 and the IPv4-mapped ::ffff:0.0.0.0 alike.
 */
import { isIPv4, isIPv6 } from "net";

/** True when publishing on `address` (optionally in [brackets]) exposes every interface. */
export function bindsAllInterfaces(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, "$1");
  if (isIPv4(bare)) return bare.split(".").every((octet) => Number(octet) === 0);
  if (!isIPv6(bare)) return false;
  // The URL parser writes an IPv6 address in its one canonical form.
  const canonical = new URL(`http://[${bare}]/`).hostname;
  return canonical === "[::]" || canonical === "[::ffff:0:0]";
}
