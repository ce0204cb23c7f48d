// The plugin configuration on stdin decoded as a JSON object (a syntax error
// said with its line and column), and its cniVersion checked against the
// versions weft speaks and the command.
import { truncatedJson } from './cni-error.js';
import { fail, isObject, kindOf, type Json } from './cni-problems.js';
import { CNI_CODE, CNI_VERSIONS, isSupportedCniVersion, type CniCommand, type CniVersion } from './cni-types.js';

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

function jsonErrorWhere(e: unknown, text: string): string {
  const message = e instanceof Error ? e.message : String(e);
  const pos = /at position (\d+)/.exec(message)?.[1];
  if (pos !== undefined) return `${message} (${lineColumn(text, Number(pos))})`;
  if (/end of JSON input/.test(message)) return `${message} (the text ends at ${lineColumn(text, text.length)}: is it cut short?)`;
  return message; // V8 quotes the text around the bad token
}

export function decodeConfig(stdin: string): Json {
  const fix = 'the runtime must write the plugin configuration, a JSON object, on stdin';
  if (stdin.trim() === '') fail(CNI_CODE.DecodeFailure, 'stdin', 'is empty', fix);
  let doc: unknown;
  try {
    doc = JSON.parse(stdin);
  } catch (e: unknown) {
    fail(CNI_CODE.DecodeFailure, 'stdin', `is not valid JSON: ${jsonErrorWhere(e, stdin)}`, 'fix the syntax of the network configuration file');
  }
  if (!isObject(doc)) fail(CNI_CODE.DecodeFailure, 'stdin', `must be a JSON object (the plugin configuration), got ${kindOf(doc)}`, fix);
  return doc;
}

export function parseVersion(conf: Json, command: CniCommand): CniVersion {
  const supported = CNI_VERSIONS.join(', ');
  const v = conf.cniVersion;
  if (v === undefined) fail(CNI_CODE.InvalidConfig, 'cniVersion', 'is missing', `set "cniVersion" to one of ${supported}`);
  if (typeof v !== 'string') fail(CNI_CODE.InvalidConfig, 'cniVersion', `must be a string, got ${kindOf(v)} ${truncatedJson(v, 40)}`, `use one of ${supported}`);
  if (!isSupportedCniVersion(v)) {
    fail(CNI_CODE.IncompatibleVersion, 'cniVersion', `${truncatedJson(v)} is not a version weft speaks`, `weft supports ${supported}: set cniVersion to one of them`);
  }
  if ((command === 'STATUS' || command === 'GC') && v !== '1.1.0') {
    fail(CNI_CODE.IncompatibleVersion, 'cniVersion', `${command} needs CNI 1.1.0, the configuration says ${v}`, 'set "cniVersion": "1.1.0" in the network configuration to use STATUS and GC');
  }
  return v;
}
