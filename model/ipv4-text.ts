// Whether a string is a dotted-quad IPv4 address. Alone in its module so
// that flag parsing can check an address without loading the prefix
// libraries model/ip.ts builds on.

const STRICT_V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(text: string): boolean {
  return STRICT_V4.test(text);
}
