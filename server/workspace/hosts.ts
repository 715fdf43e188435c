import { isIP } from "node:net";

/**
 * One spelling per worker address. `::1`, `0:0:0:0:0:0:0:1` and `0::1` are the same host, and
 * the host becomes a catalog key, KV namespaces (`maand/worker/<ip>`), staging and log paths;
 * two spellings would make two workers of one machine. IPv6 addresses are stored in the RFC
 * 5952 form (lower case, no leading zeros, the longest run of zero groups as `::`, IPv4-mapped
 * addresses as `::ffff:a.b.c.d`, a zone kept as written); IPv4 addresses and DNS names are
 * stored as written (Node accepts only canonical dotted quads).
 */
export function canonicalHost(host: string): string {
  if (isIP(host) !== 6) return host;
  const zoneAt = host.indexOf("%");
  const zone = zoneAt < 0 ? "" : host.slice(zoneAt);
  const groups = ipv6Groups(zoneAt < 0 ? host : host.slice(0, zoneAt));
  return formatIpv6(groups) + zone;
}

/**
 * The key hosts are compared by: the canonical form, DNS names without case and without a
 * trailing root dot (`API.example.` is `api.example`).
 */
export function hostKey(host: string): string {
  const h = canonicalHost(host);
  return isIP(h) !== 0 ? h : h.toLowerCase().replace(/\.$/, "");
}

/** Eight 16-bit groups of an address Node's isIP already accepted as IPv6 (no zone). */
function ipv6Groups(addr: string): number[] {
  const half = (s: string): number[] => {
    if (s === "") return [];
    const out: number[] = [];
    for (const part of s.split(":")) {
      if (part.includes(".")) {
        const [a, b, c, d] = part.split(".").map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(parseInt(part, 16));
    }
    return out;
  };
  const gap = addr.indexOf("::");
  if (gap < 0) return half(addr);
  const head = half(addr.slice(0, gap));
  const tail = half(addr.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

function formatIpv6(g: number[]): string {
  // ::ffff:a.b.c.d (RFC 5952 section 5): the IPv4 address stays recognisable.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `::ffff:${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  }
  // The longest run of two or more zero groups, the first on a tie, becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
