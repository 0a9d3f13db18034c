import { BlockList, isIP } from 'node:net';

/**
 * Cloud metadata endpoints and link-local ranges: a chaos step must not be able
 * to read instance or task credentials. node's BlockList compares addresses as
 * numbers, so every spelling of one address matches (`::ffff:169.254.169.254`,
 * `::ffff:a9fe:a9fe`, `fd00:0ec2:0:0:0:0:0:254`...).
 */
const FORBIDDEN = new BlockList();
// IPv4 link-local: 169.254.169.254 (AWS, GCP, Azure, OCI metadata), 169.254.170.2 (ECS task credentials).
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is checked against these IPv4 rules too.
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
// IPv6 link-local.
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
// The AWS metadata endpoint over IPv6 (Nitro instances).
FORBIDDEN.addAddress('fd00:ec2::254', 'ipv6');
// 169.254.0.0/16 embedded in IPv6 by the other translation schemes: IPv4-compatible, SIIT, NAT64 (RFC 6052) and 6to4.
FORBIDDEN.addSubnet('::a9fe:0', 112, 'ipv6');
FORBIDDEN.addSubnet('::ffff:0:a9fe:0', 112, 'ipv6');
FORBIDDEN.addSubnet('64:ff9b::a9fe:0', 112, 'ipv6');
FORBIDDEN.addSubnet('2002:a9fe::', 32, 'ipv6');

/** Whether a step may not connect to this IP address (a URL's `[...]` brackets and an IPv6 zone are ignored). Hostnames are not addresses: false. */
export function isForbiddenAddress(address: string): boolean {
  const ip = normalise(address);
  const version = isIP(ip);
  if (version === 0) return false;
  return FORBIDDEN.check(ip, version === 4 ? 'ipv4' : 'ipv6');
}

/**
 * This host. On AWS Lambda the runtime API (AWS_LAMBDA_RUNTIME_API) and the
 * extensions API listen on loopback, through which a step could take or fail
 * the worker's own invocation; nothing a chaos step should test lives there, so
 * it is refused on Lambda. Local mode allows it. On Linux a connection to the
 * unspecified address (0.0.0.0, `::`) reaches loopback too, so the whole of
 * 0.0.0.0/8 ("this network") and `::` count as this host, in every IPv6 spelling
 * (mapped `::ffff:0.0.0.0` is matched through the IPv4 rules by BlockList).
 */
const THIS_HOST = new BlockList();
THIS_HOST.addSubnet('127.0.0.0', 8, 'ipv4');
THIS_HOST.addSubnet('0.0.0.0', 8, 'ipv4');
THIS_HOST.addAddress('::1', 'ipv6');
THIS_HOST.addAddress('::', 'ipv6');
// 127/8 and 0/8 embedded by the IPv4-compatible and SIIT forms (BlockList maps only ::ffff:a.b.c.d itself).
THIS_HOST.addSubnet('::7f00:0', 104, 'ipv6');
THIS_HOST.addSubnet('::', 104, 'ipv6');
THIS_HOST.addSubnet('::ffff:0:7f00:0', 104, 'ipv6');
THIS_HOST.addSubnet('::ffff:0:0:0', 104, 'ipv6');

/** Whether this IP address reaches the machine itself (loopback or unspecified). Hostnames are not addresses: false. */
export function isLoopbackAddress(address: string): boolean {
  const ip = normalise(address);
  const version = isIP(ip);
  if (version === 0) return false;
  return THIS_HOST.check(ip, version === 4 ? 'ipv4' : 'ipv6');
}

/** Strips a URL's `[...]` brackets and an IPv6 zone. */
export function normalise(address: string): string {
  return address.replace(/^\[|\]$/g, '').replace(/%.*$/, '').toLowerCase();
}
