#!/usr/bin/env bash
# The CNI benchmark's caller: a shell loop that execs each plugin once per
# container and reads the clock around each exec ($EPOCHREALTIME, µs), the
# way a runtime calls a plugin, with nothing of Node in the measured path.
# Run inside the bench's host namespace by test/bench/cni-plugin.ts.
#
#   cni-loop.sh COUNT TAG WEFT_PLUGIN WEFT_CONF WEFT_NS_PREFIX [PEER_PLUGIN PEER_CONF PEER_NS_PREFIX]
#
# Container i uses the namespace /run/netns/<prefix><i>. Prints one line per
# exec: "<what> <i> <µs>", what being floor-true, floor-version, then
# weft-add / peer-add taking turns container by container, then weft-del /
# peer-del the same way. Exits non-zero on the first failed exec, with its output.
set -u
count=$1 tag=$2 weft=$3 weft_conf=$4 weft_ns=$5
peer=${6:-} peer_conf=${7:-} peer_ns=${8:-}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
export CNI_PATH=/usr/lib/cni CNI_IFNAME=eth0 PATH=/usr/sbin:/usr/bin:/sbin:/bin

fail() {
  printf 'cni-loop: %s exited %s:\n' "$1" "$2" >&2
  head -c 2000 "$out" >&2
  exit 1
}

# $1 label, $2 container, $3 plugin, $4 conf, $5 command, $6 netns
one() {
  local t0 t1 rc
  t0=${EPOCHREALTIME/./}
  CNI_COMMAND=$5 CNI_CONTAINERID="$tag$1$2" CNI_NETNS=$6 "$3" <"$4" >"$out" 2>&1
  rc=$?
  t1=${EPOCHREALTIME/./}
  ((rc == 0)) || fail "$1 $5 of container $2" "$rc"
  printf '%s %s %s\n' "$1-${5,,}" "$2" $((t1 - t0))
}

for ((i = 0; i < count; i++)); do
  t0=${EPOCHREALTIME/./}
  /bin/true
  t1=${EPOCHREALTIME/./}
  printf 'floor-true %s %s\n' "$i" $((t1 - t0))
  t0=${EPOCHREALTIME/./}
  CNI_COMMAND=VERSION "$weft" <"$weft_conf" >"$out" 2>&1 || fail 'weft VERSION' $?
  t1=${EPOCHREALTIME/./}
  printf 'floor-version %s %s\n' "$i" $((t1 - t0))
done
for command in ADD DEL; do
  for ((i = 0; i < count; i++)); do
    one weft "$i" "$weft" "$weft_conf" "$command" "/run/netns/$weft_ns$i"
    [[ -n $peer ]] && one peer "$i" "$peer" "$peer_conf" "$command" "/run/netns/$peer_ns$i"
  done
done
exit 0
