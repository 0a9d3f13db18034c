import { BlockList, isIP } from 'node:net';

/** Ways IPv6 carries an IPv4 address besides the mapped form `::ffff:a.b.c.d`, which BlockList already checks against IPv4 rules. */
type Embedding = 'compatible' | 'siit' | 'nat64' | '6to4';

/** An IPv4 subnet, and the same subnet embedded in IPv6 by each of `embeddings`. */
function addIpv4Subnet(list: BlockList, network: string, prefix: number, embeddings: readonly Embedding[]): void {
  list.addSubnet(network, prefix, 'ipv4');
  const [a = 0, b = 0, c = 0, d = 0] = network.split('.').map(Number);
  const high = ((a << 8) | b).toString(16);
  const low = ((c << 8) | d).toString(16);
  const ipv6: Record<Embedding, [string, number]> = {
    compatible: [`::${high}:${low}`, 96 + prefix],
    siit: [`::ffff:0:${high}:${low}`, 96 + prefix],
    nat64: [`64:ff9b::${high}:${low}`, 96 + prefix],
    '6to4': [`2002:${high}:${low}::`, 16 + prefix],
  };
  for (const embedding of embeddings) list.addSubnet(...ipv6[embedding], 'ipv6');
}

/** Whether `address` is an IP address in `list` (a URL's `[...]` brackets and an IPv6 zone are ignored). Hostnames are not addresses: false. */
function listed(list: BlockList, address: string): boolean {
  const ip = normalise(address);
  const version = isIP(ip);
  if (version === 0) return false;
  return list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Cloud metadata endpoints and link-local ranges: a chaos step must not be able
 * to read instance or task credentials. node's BlockList compares addresses as
 * numbers, so every spelling of one address matches (`::ffff:169.254.169.254`,
 * `::ffff:a9fe:a9fe`, `fd00:0ec2:0:0:0:0:0:254`...).
 */
let forbidden: BlockList | undefined;
// Built on first use, not at import: a cold start that checks no address does not pay for it.
function forbiddenList(): BlockList {
  if (forbidden) return forbidden;
  const list = new BlockList();
  // IPv4 link-local: 169.254.169.254 (AWS, GCP, Azure, OCI metadata), 169.254.170.2 (ECS task credentials),
  // also embedded in IPv6 by the IPv4-compatible, SIIT, NAT64 (RFC 6052) and 6to4 forms.
  addIpv4Subnet(list, '169.254.0.0', 16, ['compatible', 'siit', 'nat64', '6to4']);
  // IPv6 link-local.
  list.addSubnet('fe80::', 10, 'ipv6');
  // The AWS metadata endpoint over IPv6 (Nitro instances).
  list.addAddress('fd00:ec2::254', 'ipv6');
  return (forbidden = list);
}

/** Whether a step may not connect to this IP address (a URL's `[...]` brackets and an IPv6 zone are ignored). Hostnames are not addresses: false. */
export function isForbiddenAddress(address: string): boolean {
  return listed(forbiddenList(), address);
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
let thisHost: BlockList | undefined;
function thisHostList(): BlockList {
  if (thisHost) return thisHost;
  const list = new BlockList();
  // 127/8 and 0/8, also embedded by the IPv4-compatible and SIIT forms.
  addIpv4Subnet(list, '127.0.0.0', 8, ['compatible', 'siit']);
  addIpv4Subnet(list, '0.0.0.0', 8, ['compatible', 'siit']);
  list.addAddress('::1', 'ipv6');
  list.addAddress('::', 'ipv6');
  return (thisHost = list);
}

/** Whether this IP address reaches the machine itself (loopback or unspecified). Hostnames are not addresses: false. */
export function isLoopbackAddress(address: string): boolean {
  return listed(thisHostList(), address);
}

/** Strips a URL's `[...]` brackets and an IPv6 zone. */
export function normalise(address: string): string {
  return address.replace(/^\[|\]$/g, '').replace(/%.*$/, '').toLowerCase();
}
