// `cni.dev/valid-attachments` (SPEC.md, GC): the attachments still in use,
// each a container ID and interface name.
import { checkContainerId, checkIfname } from './cni-env.js';
import { at, type Json, type Problems } from './cni-problems.js';
import { CNI_CODE, type CniAttachmentRef, type CniCommand } from './cni-types.js';

const VALID_ATTACHMENTS = 'cni.dev/valid-attachments';

export function parseValidAttachments(conf: Json, command: CniCommand, p: Problems): CniAttachmentRef[] | undefined {
  const where = VALID_ATTACHMENTS;
  const v = conf[where];
  if (v === undefined) {
    if (command !== 'GC') return undefined;
    return p.add(
      CNI_CODE.InvalidConfig,
      where,
      'is missing; GC needs the list of attachments still in use',
      'the runtime must pass it: an empty list detaches every attachment of this network, so weft does not assume one',
    );
  }
  if (v === null) return []; // libcni sends a nil list as null: nothing is in use
  const list = p.array(v, where);
  if (!list) return undefined;
  const before = p.count;
  const out: CniAttachmentRef[] = [];
  list.forEach((entry, i) => {
    const w = at(where, i);
    const e = p.object(entry, w);
    if (!e) return;
    const cid = e.containerID === undefined ? p.add(CNI_CODE.InvalidConfig, at(w, 'containerID'), 'is missing') : p.string(e.containerID, at(w, 'containerID'));
    const ifn = e.ifname === undefined ? p.add(CNI_CODE.InvalidConfig, at(w, 'ifname'), 'is missing') : p.string(e.ifname, at(w, 'ifname'));
    // An ID or name weft would refuse cannot belong to any attachment of
    // weft's: skip it rather than fail the whole GC (the spec asks GC to
    // collect as much as it can).
    if (cid !== undefined && ifn !== undefined && !checkContainerId(cid) && !checkIfname(ifn)) out.push({ containerId: cid, ifname: ifn });
  });
  return p.count === before ? out : undefined;
}
