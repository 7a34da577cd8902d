#!/usr/bin/env bash
# Installs the system parts Hush's tests use, from Debian's packages, when run
# as root; otherwise prints exactly what is missing and how to install it.
set -euo pipefail
PKGS=(chromium coturn sox espeak-ng iproute2 nftables iptables conntrack firefox-esr firefox-esr-l10n-fr unzip redis-server tcpdump clang llvm libbpf-dev bpftool make gcc libc6-dev)
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v turnutils_uclient >/dev/null || need+=(coturn)
command -v sox >/dev/null || need+=(sox)
# Speech for the DTX measurement's fake microphone (tests/e2e/dtx-speech.test.ts).
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v ip >/dev/null || need+=(iproute2)
command -v nft >/dev/null || need+=(nftables)
command -v iptables >/dev/null || need+=(iptables)
command -v conntrack >/dev/null || need+=(conntrack)
command -v firefox-esr >/dev/null || need+=(firefox-esr)
# The French language pack: the Firefox settings labels are checked against it (lib/platform/firefox-settings.test.ts).
ls /usr/lib/firefox-esr/browser/extensions/langpack-fr@* >/dev/null 2>&1 || need+=(firefox-esr-l10n-fr)
command -v unzip >/dev/null || need+=(unzip)
command -v redis-server >/dev/null || need+=(redis-server)
command -v tcpdump >/dev/null || need+=(tcpdump)
# The relay's kernel offload (relay-server/bpf: make) and its lab test (bpftool as the witness).
command -v clang >/dev/null || need+=(clang)
command -v llc >/dev/null || need+=(llvm)
[ -f /usr/include/bpf/libbpf.h ] || need+=(libbpf-dev)
command -v bpftool >/dev/null || [ -x /usr/sbin/bpftool ] || need+=(bpftool)
command -v make >/dev/null || need+=(make)
command -v gcc >/dev/null || need+=(gcc)
[ -f /usr/include/stdio.h ] || need+=(libc6-dev)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present (${PKGS[*]})"
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing: ${need[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
else
  echo "missing system packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
