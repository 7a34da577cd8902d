// SPDX-License-Identifier: AGPL-3.0-only
/*
 * hush-xdp-helper: loads hush_xdp.bpf.o, attaches it to one interface through
 * a BPF link that only this process holds, and edits its maps for the relay.
 *
 * Why a helper and not bpftool or `ip link set xdp`: those attach through
 * netlink, and a netlink attachment outlives the process that made it, so a
 * SIGKILLed relay would leave the program forwarding with stale maps. A BPF
 * link is released by the kernel when its last file descriptor closes: the
 * relay spawns this helper with a pipe on stdin, and the helper exits when
 * the pipe closes (relay gone, even by SIGKILL) or when its parent dies
 * (PR_SET_PDEATHSIG). Nothing is pinned in bpffs.
 *
 *   hush-xdp-helper OBJECT IFNAME auto|native|skb MAX_MESSAGE
 *   (MAX_MESSAGE: --max-message; longer ChannelData from clients is left to userspace)
 *   -> "ready <native|skb> <ifindex>" or "error <reason>" and exit 1
 * then one command per stdin line, one answer line each (in order):
 *   add CIP CPORT LIP LPORT CHAN RIP RPORT PIP PPORT TTL_MS  -> ok | err <reason>
 *       (adds both directions, or on a refresh sets the new expiry and keeps the counters)
 *   del CIP CPORT LIP LPORT CHAN RIP RPORT PIP PPORT  -> gone C2P_PKTS C2P_BYTES P2C_PKTS P2C_BYTES
 *   stats  -> "c CIP CPORT LIP LPORT CHAN PKTS BYTES" and "p PIP PPORT RIP RPORT PKTS BYTES" lines, then "end"
 *   has    -> "has C2P_ENTRIES P2C_ENTRIES"
 * Addresses are dotted IPv4, ports and channels decimal.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hush_xdp.h"

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN) return vfprintf(stderr, fmt, ap);
	return 0;
}

static __u64 monotonic_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (__u64)t.tv_sec * 1000000000ULL + (__u64)t.tv_nsec;
}

static int parse_ip(const char *s, __u32 *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1) return -1;
	*out = a.s_addr;
	return 0;
}

static int parse_u16(const char *s, __u16 *out)
{
	char *e;
	long v = strtol(s, &e, 10);
	if (*s == 0 || *e != 0 || v < 0 || v > 65535) return -1;
	*out = htons((__u16)v);
	return 0;
}

static const char *ip_str(__u32 ip, char *buf)
{
	struct in_addr a = { .s_addr = ip };
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Parses the 9 entry fields into both keys and both values. */
static int parse_entry(char **f, struct hush_c2p_key *ck, struct hush_c2p_val *cv, struct hush_p2c_key *pk, struct hush_p2c_val *pv)
{
	memset(ck, 0, sizeof(*ck)); memset(cv, 0, sizeof(*cv));
	memset(pk, 0, sizeof(*pk)); memset(pv, 0, sizeof(*pv));
	if (parse_ip(f[0], &ck->client_ip) || parse_u16(f[1], &ck->client_port) || parse_ip(f[2], &ck->listen_ip) ||
	    parse_u16(f[3], &ck->listen_port) || parse_u16(f[4], &ck->channel) || parse_ip(f[5], &cv->relay_ip) ||
	    parse_u16(f[6], &cv->relay_port) || parse_ip(f[7], &cv->peer_ip) || parse_u16(f[8], &cv->peer_port))
		return -1;
	__u16 ch = ntohs(ck->channel);
	if (ch < 0x4000 || ch > 0x7fff) return -1;
	pk->peer_ip = cv->peer_ip; pk->peer_port = cv->peer_port;
	pk->relay_ip = cv->relay_ip; pk->relay_port = cv->relay_port;
	pv->listen_ip = ck->listen_ip; pv->listen_port = ck->listen_port;
	pv->client_ip = ck->client_ip; pv->client_port = ck->client_port; pv->channel = ck->channel;
	return 0;
}

static void stats(int c2p, int p2c)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	struct hush_c2p_key ck, cnext; struct hush_c2p_val cv;
	void *prev = NULL;
	while (bpf_map_get_next_key(c2p, prev, &cnext) == 0) {
		ck = cnext; prev = &ck;
		if (bpf_map_lookup_elem(c2p, &ck, &cv) == 0)
			printf("c %s %u %s %u %u %llu %llu\n", ip_str(ck.client_ip, a), ntohs(ck.client_port), ip_str(ck.listen_ip, b),
			       ntohs(ck.listen_port), ntohs(ck.channel), (unsigned long long)cv.packets, (unsigned long long)cv.bytes);
	}
	struct hush_p2c_key pk, pnext; struct hush_p2c_val pv;
	prev = NULL;
	while (bpf_map_get_next_key(p2c, prev, &pnext) == 0) {
		pk = pnext; prev = &pk;
		if (bpf_map_lookup_elem(p2c, &pk, &pv) == 0)
			printf("p %s %u %s %u %llu %llu\n", ip_str(pk.peer_ip, a), ntohs(pk.peer_port), ip_str(pk.relay_ip, b),
			       ntohs(pk.relay_port), (unsigned long long)pv.packets, (unsigned long long)pv.bytes);
	}
	printf("end\n");
}

static int count(int fd, size_t key_size)
{
	char k[64], next[64];
	void *prev = NULL;
	int n = 0;
	while (bpf_map_get_next_key(fd, prev, next) == 0) { memcpy(k, next, key_size); prev = k; n++; }
	return n;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (argc != 5) { printf("error usage: hush-xdp-helper OBJECT IFNAME auto|native|skb MAX_MESSAGE\n"); return 2; }
	char *end;
	long max_message = strtol(argv[4], &end, 10);
	if (*argv[4] == 0 || *end != 0 || max_message < 4 || max_message > 65535) { printf("error bad MAX_MESSAGE %s\n", argv[4]); return 2; }
	libbpf_set_print(quiet_print);
	unsigned ifindex = if_nametoindex(argv[2]);
	if (!ifindex) { printf("error no interface %s\n", argv[2]); return 1; }
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || libbpf_get_error(obj)) { printf("error cannot open %s\n", argv[1]); return 1; }
	if (bpf_object__load(obj)) { printf("error the kernel refused the program (%s)\n", strerror(errno)); return 1; }
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "hush_relay");
	int c2p = bpf_object__find_map_fd_by_name(obj, "hush_c2p");
	int p2c = bpf_object__find_map_fd_by_name(obj, "hush_p2c");
	int cfg = bpf_object__find_map_fd_by_name(obj, "hush_cfg");
	if (!prog || c2p < 0 || p2c < 0 || cfg < 0) { printf("error %s is not the hush XDP object\n", argv[1]); return 1; }
	__u32 zero = 0;
	struct hush_cfg settings = { .max_message = (__u32)max_message };
	if (bpf_map_update_elem(cfg, &zero, &settings, BPF_ANY)) { printf("error cannot write the settings map (%s)\n", strerror(errno)); return 1; }
	int link = -1;
	const char *mode = "native";
	if (strcmp(argv[3], "skb") != 0) {
		LIBBPF_OPTS(bpf_link_create_opts, o, .flags = XDP_FLAGS_DRV_MODE);
		link = bpf_link_create(bpf_program__fd(prog), ifindex, BPF_XDP, &o);
	}
	if (link < 0 && strcmp(argv[3], "native") != 0) {
		LIBBPF_OPTS(bpf_link_create_opts, o, .flags = XDP_FLAGS_SKB_MODE);
		link = bpf_link_create(bpf_program__fd(prog), ifindex, BPF_XDP, &o);
		mode = "skb";
	}
	if (link < 0) { printf("error cannot attach XDP to %s (%s)\n", argv[2], strerror(errno)); return 1; }
	printf("ready %s %u\n", mode, ifindex);

	char line[512];
	while (fgets(line, sizeof(line), stdin)) {
		char *f[12];
		int n = 0;
		for (char *t = strtok(line, " \t\r\n"); t && n < 12; t = strtok(NULL, " \t\r\n")) f[n++] = t;
		if (n == 0) continue;
		struct hush_c2p_key ck; struct hush_c2p_val cv; struct hush_p2c_key pk; struct hush_p2c_val pv;
		if (strcmp(f[0], "add") == 0 && n == 11) {
			char *e;
			long long ttl = strtoll(f[10], &e, 10);
			if (parse_entry(f + 1, &ck, &cv, &pk, &pv) || *e != 0 || ttl < 0 || ttl > 86400000LL) { printf("err bad entry\n"); continue; }
			cv.expires_ns = pv.expires_ns = monotonic_ns() + (__u64)ttl * 1000000ULL;
			/* A refresh keeps the counters read so far (the kernel may count a packet or two in between: lost). */
			struct hush_c2p_val oc; struct hush_p2c_val op;
			if (bpf_map_lookup_elem(c2p, &ck, &oc) == 0) { cv.packets = oc.packets; cv.bytes = oc.bytes; }
			if (bpf_map_lookup_elem(p2c, &pk, &op) == 0) { pv.packets = op.packets; pv.bytes = op.bytes; }
			if (bpf_map_update_elem(c2p, &ck, &cv, BPF_ANY) || bpf_map_update_elem(p2c, &pk, &pv, BPF_ANY))
				printf("err map update (%s)\n", strerror(errno));
			else printf("ok\n");
		} else if (strcmp(f[0], "del") == 0 && n == 10) {
			if (parse_entry(f + 1, &ck, &cv, &pk, &pv)) { printf("err bad entry\n"); continue; }
			struct hush_c2p_val oc = {0}; struct hush_p2c_val op = {0};
			bpf_map_lookup_and_delete_elem(c2p, &ck, &oc);
			bpf_map_lookup_and_delete_elem(p2c, &pk, &op);
			printf("gone %llu %llu %llu %llu\n", (unsigned long long)oc.packets, (unsigned long long)oc.bytes,
			       (unsigned long long)op.packets, (unsigned long long)op.bytes);
		} else if (strcmp(f[0], "stats") == 0) {
			stats(c2p, p2c);
		} else if (strcmp(f[0], "has") == 0) {
			printf("has %d %d\n", count(c2p, sizeof(ck)), count(p2c, sizeof(pk)));
		} else {
			printf("err unknown command\n");
		}
	}
	close(link);
	bpf_object__close(obj);
	return 0;
}
