// The patterns names, labels and interface fields must match. Plain strings
// with no dependencies: the schemas embed them and the CLI's flag parsers
// test against them without loading any schema.

/** DNS label (RFC 1123): what network and host names must be. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
/** DNS subdomain (RFC 1123): dotted labels, 253 bytes at most. */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** Label keys and values, as Kubernetes allows them (prefix/name). */
export const LABEL_KEY_PATTERN = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
export const LABEL_VALUE_PATTERN = '^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$';
/** Kernel interface names are at most 15 bytes (IFNAMSIZ - 1). */
export const IFNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$';
export const MAC_PATTERN = '^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$';
