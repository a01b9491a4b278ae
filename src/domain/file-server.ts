/**
 * The file server Bulwark fronts, as the file-devices dialect describes it:
 * its identity and its ethernet interfaces. Physical ports (`tgN`) may be
 * aggregated; virtual server addresses go on aggregations (`agN`), as on the
 * product, so `HNASFileServer.get_network_interfaces` reads both kinds.
 */
export const FILE_SERVER = {
  model: 'Bulwark file-devices control plane',
  apiVersion: 'v9',
  nodes: [1, 2],
} as const;

export interface EthernetInterface {
  name: string;
  isAggregationAllowed: boolean;
  isVirtualServerIpAllowed: boolean;
  linkSpeed: string;
}

export const ETHERNET_INTERFACES: readonly EthernetInterface[] = [
  { name: 'ag1', isAggregationAllowed: false, isVirtualServerIpAllowed: true, linkSpeed: '10GBPS' },
  { name: 'ag2', isAggregationAllowed: false, isVirtualServerIpAllowed: true, linkSpeed: '10GBPS' },
  { name: 'tg1', isAggregationAllowed: true, isVirtualServerIpAllowed: false, linkSpeed: '10GBPS' },
  { name: 'tg2', isAggregationAllowed: true, isVirtualServerIpAllowed: false, linkSpeed: '10GBPS' },
];

/** The interface named `port` (case-insensitive) when it may carry virtual server addresses. */
export function addressPort(port: string): string | null {
  const i = ETHERNET_INTERFACES.find((e) => e.name === port.toLowerCase());
  return i?.isVirtualServerIpAllowed ? i.name : null;
}
