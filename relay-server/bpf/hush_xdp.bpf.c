// SPDX-License-Identifier: GPL-2.0 OR AGPL-3.0-only
/*
 * Hush relay's kernel fast path for call media (issue 16): TURN ChannelData
 * over UDP/IPv4 relayed in XDP, both directions (RFC 8656 §12.4-§12.6):
 *
 *   client -> listener: [eth][ip][udp][chan 2B][len 2B][data]   (ChannelData, §12.4)
 *        rewritten to:  [eth][ip relayed -> peer][udp][data]     (header stripped)
 *   peer -> relayed:    [eth][ip][udp][data]
 *        rewritten to:  [eth][ip listener -> client][udp][chan][len][data]
 *
 * Only packets that match an entry of c2p/p2c are touched; everything else
 * (STUN requests, Send/Data indications, unknown channels, padded
 * ChannelData, IP options, fragments, IPv6) passes to the userspace relay,
 * which fills and empties the maps (relay-server/src/offload/). An entry
 * exists only for a bound channel whose peer has a live permission, so the
 * kernel forwards exactly what the userspace relay would; each entry also
 * carries its expiry, so the kernel stops using it on time even before the
 * relay's once-a-second sweep removes it.
 *
 * Checksums: the IPv4 header checksum and the UDP checksum are recomputed
 * in full (udp_checksum says why not incrementally); payloads over 1476
 * bytes are left to userspace. ChannelData from a client over the relay's
 * --max-message (hush_cfg) is left to userspace too, which drops it: the
 * kernel forwards nothing the userspace relay would not.
 * Two allocations of this relay talking to each other (both clients
 * relay-only) are relayed in one pass: c2p of the first, then p2c of the
 * second (the hairpin in hush_relay).
 * Routing: on loopback the packet goes back in (XDP_TX); elsewhere
 * bpf_fib_lookup gives the egress device and MAC addresses (XDP_TX on the
 * same device, bpf_redirect to another); no route or neighbour yet: the
 * packet passes to userspace unchanged and the kernel resolves the next hop.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hush_xdp.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#define LOOPBACK_IFINDEX 1
#define HDR_LEN (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HUSH_MAX_ENTRIES);
	__type(key, struct hush_c2p_key);
	__type(value, struct hush_c2p_val);
} hush_c2p SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HUSH_MAX_ENTRIES);
	__type(key, struct hush_p2c_key);
	__type(value, struct hush_p2c_val);
} hush_p2c SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hush_cfg);
} hush_cfg SEC(".maps");

struct __attribute__((packed)) hdrs {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
};

static __always_inline __u32 add16(__u32 sum, __u16 w) { return sum + w; }
static __always_inline __u32 add32(__u32 sum, __u32 w) { return sum + (w & 0xffff) + (w >> 16); }
static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

static __always_inline void ip_checksum(struct hdrs *h)
{
	/* The IP header starts 2-byte aligned, after the 14-byte Ethernet header. */
	__u16 *w = (__u16 *)((char *)h + sizeof(struct ethhdr));
	__u32 sum = 0;
	h->ip.check = 0;
#pragma unroll
	for (int i = 0; i < 10; i++) sum += w[i];
	h->ip.check = ~fold(sum);
}

/*
 * The UDP checksum of the rewritten packet, computed in full: pseudo-header,
 * UDP header (its check field 0) and payload, read from the packet. Not an
 * incremental update of the old one: a packet sent from this host (loopback,
 * a veth) carries only a pseudo-header seed in that field (checksum
 * offload), so there is nothing to update. Payloads up to MAX_SUM_BYTES;
 * longer ones are left to userspace (checked before any rewrite).
 */
#define MAX_SUM_BYTES 1480
static __always_inline __u16 udp_checksum(struct hdrs *h, void *end)
{
	__u32 s = 0;
	s = add32(s, h->ip.saddr);
	s = add32(s, h->ip.daddr);
	s = add16(s, bpf_htons(IPPROTO_UDP));
	s = add16(s, h->udp.len);
	s = add16(s, h->udp.source);
	s = add16(s, h->udp.dest);
	s = add16(s, h->udp.len);
	__u16 len = bpf_ntohs(h->udp.len) - sizeof(struct udphdr);
	__u16 *w = (__u16 *)(h + 1);
	for (int i = 0; i < MAX_SUM_BYTES / 2; i++) {
		if (2 * i + 2 > len) break;
		if ((void *)(w + 1) > end) break;
		s += *w;
		w++;
	}
	if (len & 1) {
		__u8 *b = (__u8 *)w;
		if ((void *)(b + 1) <= end) s += *b;
	}
	__u16 c = ~fold(s);
	return c ? c : 0xffff;
}

/* Where the rewritten packet goes: XDP_TX, a redirect, or -1 to leave it to userspace. */
static __always_inline int route(struct xdp_md *ctx, struct hdrs *n, __u16 tot_len)
{
	if (ctx->ingress_ifindex == LOOPBACK_IFINDEX) return XDP_TX;
	struct bpf_fib_lookup f = {};
	f.family = AF_INET;
	f.l4_protocol = IPPROTO_UDP;
	f.sport = n->udp.source;
	f.dport = n->udp.dest;
	f.tot_len = tot_len;
	f.ipv4_src = n->ip.saddr;
	f.ipv4_dst = n->ip.daddr;
	f.ifindex = ctx->ingress_ifindex;
	if (bpf_fib_lookup(ctx, &f, sizeof(f), BPF_FIB_LOOKUP_OUTPUT) != BPF_FIB_LKUP_RET_SUCCESS) return -1;
	__builtin_memcpy(n->eth.h_dest, f.dmac, ETH_ALEN);
	__builtin_memcpy(n->eth.h_source, f.smac, ETH_ALEN);
	if (f.ifindex == ctx->ingress_ifindex) return XDP_TX;
	return -2 - (int)f.ifindex;
}

static __always_inline int send(int r)
{
	if (r >= 0) return r;
	return bpf_redirect((__u32)(-2 - r), 0);
}

SEC("xdp")
int hush_relay(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct hdrs *h = data;
	if ((void *)(h + 1) > end) return XDP_PASS;
	if (h->eth.h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
	if (h->ip.ihl != 5 || h->ip.version != 4 || h->ip.protocol != IPPROTO_UDP) return XDP_PASS;
	if (h->ip.frag_off & bpf_htons(0x3fff)) return XDP_PASS;
	__u16 ulen = bpf_ntohs(h->udp.len);
	if (ulen < sizeof(struct udphdr) || bpf_ntohs(h->ip.tot_len) != sizeof(struct iphdr) + ulen) return XDP_PASS;
	__u16 plen = ulen - sizeof(struct udphdr);
	if (plen > MAX_SUM_BYTES - 4) return XDP_PASS;
	struct hdrs o = *h;
	struct hdrs n = o;

	/* Client -> relay: ChannelData (first byte 0b01xxxxxx, channels 0x4000-0x7FFF), unpadded. */
	__u16 *cd = (__u16 *)(h + 1);
	if (plen >= 4 && (void *)(cd + 2) <= end) {
		__u16 chan = cd[0], clen = cd[1];
		__u16 hc = bpf_ntohs(chan);
		__u32 zero = 0;
		struct hush_cfg *cfg = bpf_map_lookup_elem(&hush_cfg, &zero);
		/* Over --max-message (or no settings written): userspace decides, and drops it. */
		if (hc >= 0x4000 && hc <= 0x7fff && bpf_ntohs(clen) + 4 == plen && cfg && plen <= cfg->max_message) {
			struct hush_c2p_key k = { .client_ip = o.ip.saddr, .listen_ip = o.ip.daddr,
				.client_port = o.udp.source, .listen_port = o.udp.dest, .channel = chan };
			struct hush_c2p_val *v = bpf_map_lookup_elem(&hush_c2p, &k);
			__u64 now = bpf_ktime_get_ns();
			if (v && v->expires_ns > now) {
				/*
				 * Hairpin: the peer is another allocation of this relay (two clients in
				 * relay-only mode, relay candidates at both ends). The userspace relay sends
				 * from one relay socket to the other through the host's own stack, and the
				 * second allocation wraps it for its client on a bound channel. When that
				 * channel is in hush_p2c, both hops happen here: the datagram keeps its size
				 * (the other channel's number replaces ours, the length stays) and goes from
				 * the listener to the second client; each entry counts its hop.
				 */
				struct hush_p2c_key hk = { .peer_ip = v->relay_ip, .relay_ip = v->peer_ip,
					.peer_port = v->relay_port, .relay_port = v->peer_port };
				struct hush_p2c_val *hv = bpf_map_lookup_elem(&hush_p2c, &hk);
				if (hv && hv->expires_ns > now) {
					n.ip.saddr = hv->listen_ip; n.ip.daddr = hv->client_ip;
					n.udp.source = hv->listen_port; n.udp.dest = hv->client_port;
					n.ip.ttl = 64;
					int hr = route(ctx, &n, bpf_ntohs(n.ip.tot_len));
					if (hr == -1) return XDP_PASS;
					n.udp.check = 0;
					ip_checksum(&n);
					*h = n;
					cd[0] = hv->channel;
					h->udp.check = udp_checksum(h, end);
					__sync_fetch_and_add(&v->packets, 1);
					__sync_fetch_and_add(&v->bytes, plen - 4);
					__sync_fetch_and_add(&hv->packets, 1);
					__sync_fetch_and_add(&hv->bytes, plen - 4);
					return send(hr);
				}
				n.ip.saddr = v->relay_ip; n.ip.daddr = v->peer_ip;
				n.udp.source = v->relay_port; n.udp.dest = v->peer_port;
				n.udp.len = bpf_htons(ulen - 4);
				n.ip.tot_len = bpf_htons(bpf_ntohs(o.ip.tot_len) - 4);
				n.ip.ttl = 64;
				int r = route(ctx, &n, bpf_ntohs(n.ip.tot_len));
				if (r == -1) return XDP_PASS;
				n.udp.check = 0;
				ip_checksum(&n);
				if (bpf_xdp_adjust_head(ctx, 4)) return XDP_PASS;
				data = (void *)(long)ctx->data;
				end = (void *)(long)ctx->data_end;
				h = data;
				if ((void *)(h + 1) > end) return XDP_DROP;
				*h = n;
				h->udp.check = udp_checksum(h, end);
				__sync_fetch_and_add(&v->packets, 1);
				__sync_fetch_and_add(&v->bytes, plen - 4);
				return send(r);
			}
		}
	}

	/* Peer -> relayed address on a bound channel. */
	struct hush_p2c_key pk = { .peer_ip = o.ip.saddr, .relay_ip = o.ip.daddr,
		.peer_port = o.udp.source, .relay_port = o.udp.dest };
	struct hush_p2c_val *pv = bpf_map_lookup_elem(&hush_p2c, &pk);
	if (!pv || pv->expires_ns <= bpf_ktime_get_ns()) return XDP_PASS;
	n.ip.saddr = pv->listen_ip; n.ip.daddr = pv->client_ip;
	n.udp.source = pv->listen_port; n.udp.dest = pv->client_port;
	n.udp.len = bpf_htons(ulen + 4);
	n.ip.tot_len = bpf_htons(bpf_ntohs(o.ip.tot_len) + 4);
	n.ip.ttl = 64;
	__u16 chan = pv->channel, clen = bpf_htons(plen);
	int r = route(ctx, &n, bpf_ntohs(n.ip.tot_len));
	if (r == -1) return XDP_PASS;
	n.udp.check = 0;
	ip_checksum(&n);
	if (bpf_xdp_adjust_head(ctx, -4)) return XDP_PASS;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	h = data;
	cd = (__u16 *)(h + 1);
	if ((void *)(cd + 2) > end) return XDP_DROP;
	*h = n;
	cd[0] = chan;
	cd[1] = clen;
	h->udp.check = udp_checksum(h, end);
	__sync_fetch_and_add(&pv->packets, 1);
	__sync_fetch_and_add(&pv->bytes, plen);
	return send(r);
}

char _license[] SEC("license") = "GPL";
