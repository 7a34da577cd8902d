/*
 * Map layouts shared by the XDP program (hush_xdp.bpf.c) and its loader
 * (hush_xdp_helper.c). Addresses and ports are in network byte order, as
 * they sit in the packet; counters are in host order.
 */
#ifndef HUSH_XDP_H
#define HUSH_XDP_H
#include <linux/types.h>

/* Client -> relay ChannelData: the client's 5-tuple at the listener plus the channel number. */
struct hush_c2p_key {
	__u32 client_ip;
	__u32 listen_ip;
	__u16 client_port;
	__u16 listen_port;
	__u16 channel;
	__u16 pad;
};

/* ... is sent from the relayed address to the peer; counted here. */
struct hush_c2p_val {
	__u32 relay_ip;
	__u32 peer_ip;
	__u16 relay_port;
	__u16 peer_port;
	__u32 pad;
	/* CLOCK_MONOTONIC (bpf_ktime_get_ns) past which the entry is not used: the channel's or permission's expiry. */
	__u64 expires_ns;
	__u64 packets;
	__u64 bytes;
};

/* Peer -> relayed address. */
struct hush_p2c_key {
	__u32 peer_ip;
	__u32 relay_ip;
	__u16 peer_port;
	__u16 relay_port;
};

/* ... gets the channel's 4-byte header and goes from the listener to the client. */
struct hush_p2c_val {
	__u32 listen_ip;
	__u32 client_ip;
	__u16 listen_port;
	__u16 client_port;
	__u16 channel;
	__u16 pad;
	__u32 pad2;
	__u64 expires_ns;
	__u64 packets;
	__u64 bytes;
};

/* The relay's settings the program applies (hush_cfg, one entry, written by the helper before attaching). */
struct hush_cfg {
	/* --max-message: ChannelData from a client longer than this (UDP payload, header included) is not
	 * forwarded by the kernel; it passes to userspace, which drops it as it drops any message over the bound. */
	__u32 max_message;
	__u32 pad;
};

#define HUSH_MAX_ENTRIES 65536
#endif
