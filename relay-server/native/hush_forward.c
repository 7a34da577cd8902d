// SPDX-License-Identifier: AGPL-3.0-only
/*
 * Hush relay's native forwarder (issue 16, `--forwarder on`): TURN
 * ChannelData over UDP/IPv4 relayed in userspace by C threads, both
 * directions (RFC 8656 §12), with batched system calls:
 *
 *   client -> main listener: [chan 2B][len 2B][data]  ->  relay socket -> peer: [data]
 *   peer -> relay socket:    [data]                   ->  main listener -> client: [chan][len][data]
 *
 * It is the userspace twin of the kernel fast path (relay-server/bpf): the
 * same entries (one per bound channel whose peer has a live permission, the
 * peer policy already applied, relay-server/src/offload/entries.ts), filled
 * and emptied by the same JavaScript (kernel-offload.ts, through
 * src/native/forwarder.ts), each with its expiry, checked per datagram.
 *
 * The relay's sockets stay the relay's: JavaScript binds them (dgram), stops
 * libuv reading them and attaches them here. Each forwarder thread waits on
 * its own epoll set; the main listener belongs to thread 0 alone (so a
 * client's datagrams are relayed in the order they came), the relay sockets
 * to the others, round robin (to thread 0 too when it is the only one). Per
 * readable socket one recvmmsg takes up to VLEN datagrams; what goes from
 * peers to clients leaves by one sendmmsg on the listener per batch. Every
 * datagram that matches no live entry (STUN, TURN requests, Send and Data
 * indications, unknown or expired channels, padded or oversized ChannelData)
 * is copied, in order, into a batch handed to JavaScript through a
 * thread-safe function: one call per batch, not per datagram; JavaScript
 * then does exactly what it does without the forwarder.
 *
 * Sockets are detached under the write lock before JavaScript closes them
 * (a thread checks a socket's generation under the read lock before it
 * touches its descriptor), so a descriptor number reused by another socket is
 * never read or written here. An entry is used only by its own relay socket.
 * The entry tables are hashed with a key drawn at start (SipHash), so no
 * client can aim its channels at one bucket. At most 16 MiB wait for
 * JavaScript from the listener, as much from all relay sockets, 256 KiB from
 * any one of them: past that a datagram is dropped and counted. No address
 * is ever printed.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXFD (1 << 20)
#define VLEN 64
#define SLOT 65536
#define BUCKETS 65536
#define MAX_THREADS 64
#define JS_QUEUE 4096
/* A batch handed to JavaScript is flushed at this size even mid-round. */
#define JS_BATCH_MAX (1 << 20)
/*
 * Bytes waiting for JavaScript (in a thread's batch or handed over and not
 * yet taken): at most JS_PENDING_MAX for the listener and as much for all
 * relay sockets together, and at most JS_SOCKET_MAX (about a socket's own
 * receive buffer) for any one relay socket. Past these a datagram for
 * JavaScript is dropped and counted, as the socket's receive buffer would drop
 * it without the forwarder. Without them a flood of junk while JavaScript is
 * busy would queue up to JS_QUEUE batches of JS_BATCH_MAX bytes; with one
 * shared bound, a stranger's junk to a relay port would crowd out the
 * listener's TURN requests.
 */
#define JS_PENDING_MAX (16u << 20)
#define JS_SOCKET_MAX (256u << 10)

enum { KIND_NONE = 0, KIND_LISTENER = 1, KIND_RELAY = 2 };

typedef struct entry {
	uint32_t cip;  /* host order */
	uint16_t cport, channel, rport, pport;
	uint32_t pip;
	int rfd;
	int64_t expires_ns;
	uint64_t c2p_packets, c2p_bytes, p2c_packets, p2c_bytes;
	struct entry *next_c2p, *next_p2c, *next_all, *prev_all;
} entry;

typedef struct {
	uint32_t gen;
	uint8_t kind;
	uint8_t thread;
	uint16_t port;
	/* Bytes of this socket's datagrams waiting for JavaScript. */
	uint32_t pending;
} sockinfo;

typedef struct {
	pthread_t tid;
	int epfd, evfd, index;
	/* Set by failThread() (a test hook): on its next wake-up the thread stops as on an error of its own. */
	int fail;
	struct mmsghdr rmsg[VLEN];
	struct iovec riov[VLEN];
	struct sockaddr_in raddr[VLEN];
	uint8_t *slots; /* VLEN * SLOT bytes: only the pages datagrams touch become resident */
	int used;
	/* Peer -> client datagrams waiting for the listener's sendmmsg (they point into slots). */
	struct mmsghdr out[VLEN];
	struct iovec oiov[VLEN][2];
	struct sockaddr_in oaddr[VLEN];
	uint8_t ohdr[VLEN][4];
	entry *oent[VLEN];
	int nout;
	/* Datagrams for JavaScript (each batch at most JS_BATCH_MAX bytes, all of them at most JS_PENDING_MAX). */
	uint8_t *js;
	size_t jslen, jscap;
} fwd_thread;

static sockinfo *socks;
static int relay_fd_by_port[65536];
static int listen_fd = -1;
static entry *c2p_tab[BUCKETS], *p2c_tab[BUCKETS], *all_entries;
static uint64_t entry_count;
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static int lock_ready;
static fwd_thread threads[MAX_THREADS];
static int nthreads, next_thread, running;
static uint32_t next_gen = 1;
static uint32_t max_message = 1500 + 4;
static napi_threadsafe_function tsfn;

/* Totals, each written by one thread at a time or atomically. */
/* By socket kind (listener, relay). */
static uint64_t js_pending[3];
/* SipHash key of the entry tables, drawn at start: nobody outside can aim entries at one bucket. */
static uint64_t sip_k0, sip_k1;
static uint64_t t_forwarded, t_forwarded_bytes, t_to_js, t_js_dropped, t_send_errors, t_truncated, t_recv_calls, t_send_calls, t_thread_errors;

static inline void add(uint64_t *p, uint64_t v) { __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static inline uint64_t get(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

static inline void sub(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(p, &old, old > v ? old - v : 0, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}
static inline void sub32(uint32_t *p, uint32_t v)
{
	uint32_t old = __atomic_load_n(p, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(p, &old, old > v ? old - v : 0, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}

/*
 * SipHash-1-3 of one 64-bit word (a key's fields packed), keyed with 128
 * random bits at start: clients choose their ports and peers, and with a
 * fixed hash they could put every entry in one bucket and make each
 * datagram walk all of them.
 */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                          \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                             \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                             \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                          \
	} while (0)
static inline uint32_t bucket(uint64_t m)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ sip_k0, v1 = 0x646f72616e646f6dULL ^ sip_k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ sip_k0, v3 = 0x7465646279746573ULL ^ sip_k1;
	const uint64_t last = 8ULL << 56;
	v3 ^= m;
	SIPROUND;
	v0 ^= m;
	v3 ^= last;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return (uint32_t)((v0 ^ v1 ^ v2 ^ v3) & (BUCKETS - 1));
}
static inline uint32_t c2p_hash(uint32_t cip, uint16_t cport, uint16_t ch) { return bucket((uint64_t)cip << 32 | (uint64_t)cport << 16 | ch); }
static inline uint32_t p2c_hash(uint16_t rport, uint32_t pip, uint16_t pport) { return bucket((uint64_t)pip << 32 | (uint64_t)pport << 16 | rport); }

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static entry *find_c2p(uint32_t cip, uint16_t cport, uint16_t ch)
{
	for (entry *e = c2p_tab[c2p_hash(cip, cport, ch)]; e; e = e->next_c2p)
		if (e->cip == cip && e->cport == cport && e->channel == ch) return e;
	return NULL;
}

static entry *find_p2c(uint16_t rport, uint32_t pip, uint16_t pport)
{
	for (entry *e = p2c_tab[p2c_hash(rport, pip, pport)]; e; e = e->next_p2c)
		if (e->rport == rport && e->pip == pip && e->pport == pport) return e;
	return NULL;
}

/* ─────────────────────────────── to JavaScript ─────────────────────────────── */

/* Record: u32 fd, u32 the socket's generation, u32 ip (host order), u16 port, u16 the socket's kind, u32 length, then the bytes, zero-padded to 4. */
#define REC_HDR 20

/* The records of a batch leave the budgets (taken by JavaScript, or dropped); returns how many there were. */
static uint64_t release(const uint8_t *r, size_t len)
{
	uint64_t n = 0;
	for (size_t o = 0; o + REC_HDR <= len; n++) {
		uint32_t fd, gen, dlen;
		uint16_t kind;
		memcpy(&fd, r + o, 4);
		memcpy(&gen, r + o + 4, 4);
		memcpy(&kind, r + o + 14, 2);
		memcpy(&dlen, r + o + 16, 4);
		uint32_t need = REC_HDR + ((dlen + 3) & ~3u);
		if (kind < 3) sub(&js_pending[kind], need);
		if (fd < MAXFD && socks != NULL && __atomic_load_n(&socks[fd].gen, __ATOMIC_RELAXED) == gen) sub32(&socks[fd].pending, need);
		o += need;
	}
	return n;
}

static void js_flush(fwd_thread *t)
{
	if (t->jslen == 0) return;
	size_t len = t->jslen;
	t->jslen = 0;
	uint8_t *batch = malloc(len + sizeof(size_t));
	if (batch == NULL) {
		add(&t_js_dropped, release(t->js, len));
		return;
	}
	memcpy(batch, &len, sizeof(size_t));
	memcpy(batch + sizeof(size_t), t->js, len);
	if (napi_call_threadsafe_function(tsfn, batch, napi_tsfn_nonblocking) != napi_ok) {
		add(&t_js_dropped, release(batch + sizeof(size_t), len));
		free(batch);
	}
}

static void to_js(fwd_thread *t, int fd, const struct sockaddr_in *from, const uint8_t *data, uint32_t len)
{
	sockinfo *so = &socks[fd];
	uint32_t need = REC_HDR + ((len + 3) & ~3u);
	if (get(&js_pending[so->kind]) + need > JS_PENDING_MAX ||
	    (so->kind == KIND_RELAY && __atomic_load_n(&so->pending, __ATOMIC_RELAXED) + need > JS_SOCKET_MAX)) {
		add(&t_js_dropped, 1);
		return;
	}
	if (t->jslen + need > t->jscap) {
		size_t cap = t->jscap ? t->jscap : 65536;
		while (cap < t->jslen + need) cap *= 2;
		uint8_t *n = realloc(t->js, cap);
		if (n == NULL) {
			add(&t_js_dropped, 1);
			return;
		}
		t->js = n;
		t->jscap = cap;
	}
	add(&js_pending[so->kind], need);
	__atomic_fetch_add(&so->pending, need, __ATOMIC_RELAXED);
	uint8_t *r = t->js + t->jslen;
	uint32_t ufd = (uint32_t)fd, gen = so->gen, ip = ntohl(from->sin_addr.s_addr);
	uint16_t port = ntohs(from->sin_port), kind = so->kind;
	memcpy(r, &ufd, 4);
	memcpy(r + 4, &gen, 4);
	memcpy(r + 8, &ip, 4);
	memcpy(r + 12, &port, 2);
	memcpy(r + 14, &kind, 2);
	memcpy(r + 16, &len, 4);
	memcpy(r + REC_HDR, data, len);
	memset(r + REC_HDR + len, 0, need - REC_HDR - len);
	t->jslen += need;
	add(&t_to_js, 1);
	if (t->jslen >= JS_BATCH_MAX) js_flush(t);
}

static void call_js(napi_env env, napi_value cb, void *context, void *data)
{
	(void)context;
	size_t len;
	memcpy(&len, data, sizeof(size_t));
	release((uint8_t *)data + sizeof(size_t), len);
	if (env == NULL || cb == NULL) {
		free(data);
		return;
	}
	napi_value buf, undef;
	void *copy;
	if (napi_create_buffer_copy(env, len, (uint8_t *)data + sizeof(size_t), &copy, &buf) == napi_ok) {
		napi_get_undefined(env, &undef);
		napi_call_function(env, undef, cb, 1, &buf, NULL);
	}
	free(data);
}

/* ─────────────────────────────── the threads ─────────────────────────────── */

/* Sends the round's peer -> client datagrams; each counts for its entry once the kernel took it. */
static void flush_out(fwd_thread *t)
{
	int i = 0;
	while (i < t->nout) {
		int r = sendmmsg(listen_fd, &t->out[i], t->nout - i, MSG_DONTWAIT);
		add(&t_send_calls, 1);
		if (r <= 0) {
			/* Full socket buffer or an unroutable client: that datagram is lost, as a UDP relay loses it. */
			add(&t_send_errors, 1);
			i++;
			continue;
		}
		for (int k = i; k < i + r; k++) {
			entry *e = t->oent[k];
			uint32_t len = (uint32_t)t->oiov[k][1].iov_len;
			add(&e->p2c_packets, 1);
			add(&e->p2c_bytes, len);
			add(&t_forwarded, 1);
			add(&t_forwarded_bytes, len);
		}
		i += r;
	}
	t->nout = 0;
	t->used = 0;
}

/* Called under the read lock. */
static void from_client(fwd_thread *t, int fd, int k, int64_t now)
{
	const uint8_t *p = t->slots + (size_t)k * SLOT;
	uint32_t len = t->rmsg[k].msg_len;
	const struct sockaddr_in *from = &t->raddr[k];
	if (len >= 4 && len <= max_message && (p[0] & 0xc0) == 0x40) {
		uint16_t ch = (uint16_t)(p[0] << 8 | p[1]), dlen = (uint16_t)(p[2] << 8 | p[3]);
		/* Unpadded only, as the kernel path: anything else is for JavaScript to judge. */
		if ((uint32_t)dlen + 4 == len) {
			entry *e = find_c2p(ntohl(from->sin_addr.s_addr), ntohs(from->sin_port), ch);
			if (e != NULL && e->expires_ns > now && e->rfd >= 0) {
				struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(e->pport), .sin_addr.s_addr = htonl(e->pip) };
				struct iovec iov = { .iov_base = (void *)(p + 4), .iov_len = dlen };
				struct msghdr m = { .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1 };
				add(&t_send_calls, 1);
				if (sendmsg(e->rfd, &m, MSG_DONTWAIT) < 0) {
					add(&t_send_errors, 1);
					return;
				}
				add(&e->c2p_packets, 1);
				add(&e->c2p_bytes, dlen);
				add(&t_forwarded, 1);
				add(&t_forwarded_bytes, dlen);
				return;
			}
		}
	}
	to_js(t, fd, from, p, len);
}

/* Called under the read lock. Returns 1 if the slot is now queued for the listener's sendmmsg. */
static int from_peer(fwd_thread *t, int fd, uint16_t rport, int k, int64_t now)
{
	const uint8_t *p = t->slots + (size_t)k * SLOT;
	uint32_t len = t->rmsg[k].msg_len;
	const struct sockaddr_in *from = &t->raddr[k];
	if (listen_fd >= 0 && len + 4 <= 65535) {
		entry *e = find_p2c(rport, ntohl(from->sin_addr.s_addr), ntohs(from->sin_port));
		/* The entry's own relay socket only: a port's next socket never inherits an entry. */
		if (e != NULL && e->expires_ns > now && e->rfd == fd) {
			int o = t->nout++;
			uint8_t *h = t->ohdr[o];
			h[0] = (uint8_t)(e->channel >> 8);
			h[1] = (uint8_t)e->channel;
			h[2] = (uint8_t)(len >> 8);
			h[3] = (uint8_t)len;
			t->oiov[o][0].iov_base = h;
			t->oiov[o][0].iov_len = 4;
			t->oiov[o][1].iov_base = (void *)p;
			t->oiov[o][1].iov_len = len;
			struct sockaddr_in *to = &t->oaddr[o];
			to->sin_family = AF_INET;
			to->sin_port = htons(e->cport);
			to->sin_addr.s_addr = htonl(e->cip);
			memset(&t->out[o], 0, sizeof t->out[o]);
			t->out[o].msg_hdr.msg_name = to;
			t->out[o].msg_hdr.msg_namelen = sizeof *to;
			t->out[o].msg_hdr.msg_iov = t->oiov[o];
			t->out[o].msg_hdr.msg_iovlen = 2;
			t->oent[o] = e;
			return 1;
		}
	}
	to_js(t, fd, from, p, len);
	return 0;
}

/* Called under the read lock: one recvmmsg on a readable socket (epoll is level-triggered: more comes next round). */
static void drain(fwd_thread *t, int fd, const sockinfo *s, int64_t now)
{
	if (t->used == VLEN) flush_out(t);
	int room = VLEN - t->used;
	for (int k = t->used; k < t->used + room; k++) {
		t->riov[k].iov_base = t->slots + (size_t)k * SLOT;
		t->riov[k].iov_len = SLOT;
		memset(&t->rmsg[k].msg_hdr, 0, sizeof t->rmsg[k].msg_hdr);
		t->rmsg[k].msg_hdr.msg_name = &t->raddr[k];
		t->rmsg[k].msg_hdr.msg_namelen = sizeof t->raddr[k];
		t->rmsg[k].msg_hdr.msg_iov = &t->riov[k];
		t->rmsg[k].msg_hdr.msg_iovlen = 1;
	}
	int n = recvmmsg(fd, &t->rmsg[t->used], room, MSG_DONTWAIT, NULL);
	add(&t_recv_calls, 1);
	if (n <= 0) return;
	int first = t->used;
	t->used += n;
	for (int k = first; k < first + n; k++) {
		if (t->rmsg[k].msg_hdr.msg_flags & MSG_TRUNC || t->rmsg[k].msg_hdr.msg_namelen != sizeof(struct sockaddr_in)) {
			add(&t_truncated, 1);
			continue;
		}
		if (s->kind == KIND_LISTENER) from_client(t, fd, k, now);
		else from_peer(t, fd, s->port, k, now);
	}
}

/* A thread that stops on an error says so at once with an empty batch (JavaScript then stops the
 * forwarder and libuv reads every socket again); the counter is the backstop if the queue is full. */
static void thread_failed(void)
{
	add(&t_thread_errors, 1);
	uint8_t *batch = calloc(1, sizeof(size_t));
	if (batch != NULL && napi_call_threadsafe_function(tsfn, batch, napi_tsfn_nonblocking) != napi_ok) free(batch);
}

static void *run(void *arg)
{
	fwd_thread *t = arg;
	struct epoll_event ev[64];
	for (;;) {
		int n = epoll_wait(t->epfd, ev, 64, -1);
		if (n < 0) {
			if (errno == EINTR) continue;
			thread_failed();
			break;
		}
		int stop = 0;
		pthread_rwlock_rdlock(&lock);
		for (int i = 0; i < n; i++) {
			uint64_t d = ev[i].data.u64;
			int fd = (int)(uint32_t)d;
			uint32_t gen = (uint32_t)(d >> 32);
			if (fd == t->evfd && gen == 0) {
				/* stop(), or failThread(): the test of what a thread's own error does. */
				stop = __atomic_load_n(&t->fail, __ATOMIC_ACQUIRE) ? 2 : 1;
				continue;
			}
			if (fd < 0 || fd >= MAXFD || socks[fd].gen != gen || socks[fd].kind == KIND_NONE) continue;
			drain(t, fd, &socks[fd], now_ns());
		}
		flush_out(t);
		pthread_rwlock_unlock(&lock);
		js_flush(t);
		if (stop == 2) thread_failed();
		if (stop) break;
	}
	return NULL;
}

/* ─────────────────────────────── N-API ─────────────────────────────── */

#define CHECK(call)                                                                 \
	do {                                                                        \
		if ((call) != napi_ok) {                                            \
			napi_throw_error(env, NULL, "hush_forward: " #call " failed"); \
			return NULL;                                                \
		}                                                                   \
	} while (0)

static napi_value num(napi_env env, double v)
{
	napi_value r;
	napi_create_double(env, v, &r);
	return r;
}

static int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv)
{
	size_t argc = want;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
		napi_throw_type_error(env, NULL, "hush_forward: missing arguments");
		return -1;
	}
	return 0;
}

static int u32(napi_env env, napi_value v, uint32_t *out)
{
	if (napi_get_value_uint32(env, v, out) != napi_ok) {
		napi_throw_type_error(env, NULL, "hush_forward: expected a number");
		return -1;
	}
	return 0;
}

/* start(threads, maxMessage, onBatch(buffer)) */
static napi_value Start(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	uint32_t n, maxm;
	if (args(env, info, 3, argv) || u32(env, argv[0], &n) || u32(env, argv[1], &maxm)) return NULL;
	if (running) {
		napi_throw_error(env, NULL, "hush_forward: already started");
		return NULL;
	}
	if (n < 1 || n > MAX_THREADS) {
		napi_throw_range_error(env, NULL, "hush_forward: threads out of range");
		return NULL;
	}
	if (socks == NULL) {
		socks = calloc(MAXFD, sizeof *socks);
		if (socks == NULL) {
			napi_throw_error(env, NULL, "hush_forward: out of memory");
			return NULL;
		}
	}
	if (!lock_ready) {
		/* Writers first: a JavaScript add or detach must not wait behind a stream of batches. */
		pthread_rwlockattr_t attr;
		pthread_rwlockattr_init(&attr);
		pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&lock, &attr);
		lock_ready = 1;
	}
	for (int i = 0; i < 65536; i++) relay_fd_by_port[i] = -1;
	uint64_t key[2];
	if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key) {
		napi_throw_error(env, NULL, "hush_forward: no random key for the entry tables (getrandom)");
		return NULL;
	}
	sip_k0 = key[0];
	sip_k1 = key[1];
	memset(js_pending, 0, sizeof js_pending);
	napi_value name;
	CHECK(napi_create_string_utf8(env, "hush_forward", NAPI_AUTO_LENGTH, &name));
	CHECK(napi_create_threadsafe_function(env, argv[2], NULL, name, JS_QUEUE, 1, NULL, NULL, NULL, call_js, &tsfn));
	CHECK(napi_unref_threadsafe_function(env, tsfn));
	max_message = maxm;
	for (uint32_t i = 0; i < n; i++) {
		fwd_thread *t = &threads[i];
		memset(t, 0, sizeof *t);
		t->index = (int)i;
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		t->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		t->slots = malloc((size_t)VLEN * SLOT);
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint32_t)t->evfd };
		if (t->epfd < 0 || t->evfd < 0 || t->slots == NULL || epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->evfd, &ev) < 0 ||
		    pthread_create(&t->tid, NULL, run, t) != 0) {
			/* Undo what started: the threads before this one, this one's descriptors, the function. */
			for (uint32_t k = 0; k < i; k++) {
				uint64_t one = 1;
				if (write(threads[k].evfd, &one, sizeof one) < 0) { /* it still sees EPOLLIN */ }
			}
			for (uint32_t k = 0; k <= i; k++) {
				if (k < i) pthread_join(threads[k].tid, NULL);
				if (threads[k].epfd >= 0) close(threads[k].epfd);
				if (threads[k].evfd >= 0) close(threads[k].evfd);
				free(threads[k].slots);
				free(threads[k].js);
			}
			nthreads = 0;
			napi_release_threadsafe_function(tsfn, napi_tsfn_release);
			tsfn = NULL;
			napi_throw_error(env, NULL, "hush_forward: cannot start a forwarder thread");
			return NULL;
		}
		nthreads = (int)i + 1;
	}
	running = 1;
	return NULL;
}

/* attach(fd, kind, port) -> the socket's generation (> 0, in every record handed to JavaScript) or -errno. Kind 1: the main listener (every thread), 2: a relay socket (one thread). */
static napi_value Attach(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	uint32_t fd, kind, port;
	if (args(env, info, 3, argv) || u32(env, argv[0], &fd) || u32(env, argv[1], &kind) || u32(env, argv[2], &port)) return NULL;
	if (!running) return num(env, -ESRCH);
	if (fd >= MAXFD || port > 65535 || (kind != KIND_LISTENER && kind != KIND_RELAY)) return num(env, -EINVAL);
	pthread_rwlock_wrlock(&lock);
	int err = 0;
	if (socks[fd].kind != KIND_NONE || (kind == KIND_LISTENER && listen_fd >= 0)) err = -EEXIST;
	uint32_t gen = next_gen++;
	if (next_gen == 0) next_gen = 1;
	if (!err) {
		struct epoll_event ev = { .data.u64 = (uint64_t)gen << 32 | fd };
		ev.events = EPOLLIN;
		if (kind == KIND_LISTENER) {
			/*
			 * One reader: with the listener in every thread's set (EPOLLEXCLUSIVE), two
			 * threads relayed chunks of one client's burst at once and ~3 % left out of
			 * order; one thread at a time under a lock kept the order but left the other
			 * waiting (200 000 -> 160 000 datagrams/s at 0 % loss in the bench).
			 */
			if (epoll_ctl(threads[0].epfd, EPOLL_CTL_ADD, (int)fd, &ev) < 0) err = -errno;
			else socks[fd].thread = 0;
		} else {
			int i = nthreads > 1 ? 1 + (int)(next_thread++ % (unsigned)(nthreads - 1)) : 0;
			if (epoll_ctl(threads[i].epfd, EPOLL_CTL_ADD, (int)fd, &ev) < 0) err = -errno;
			else socks[fd].thread = (uint8_t)i;
		}
	}
	if (!err) {
		socks[fd].gen = gen;
		socks[fd].kind = (uint8_t)kind;
		socks[fd].port = (uint16_t)port;
		socks[fd].pending = 0;
		if (kind == KIND_LISTENER) listen_fd = (int)fd;
		else relay_fd_by_port[port] = (int)fd;
	}
	pthread_rwlock_unlock(&lock);
	return num(env, err ? err : (double)gen);
}

/* detach(fd): stops reading it; entries sending through it stop too. Call before closing the socket. */
static napi_value Detach(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	uint32_t fd;
	if (args(env, info, 1, argv) || u32(env, argv[0], &fd)) return NULL;
	if (!running || fd >= MAXFD) return NULL;
	pthread_rwlock_wrlock(&lock);
	sockinfo *s = &socks[fd];
	if (s->kind == KIND_LISTENER) {
		epoll_ctl(threads[0].epfd, EPOLL_CTL_DEL, (int)fd, NULL);
		listen_fd = -1;
	} else if (s->kind == KIND_RELAY) {
		epoll_ctl(threads[s->thread].epfd, EPOLL_CTL_DEL, (int)fd, NULL);
		if (relay_fd_by_port[s->port] == (int)fd) relay_fd_by_port[s->port] = -1;
		for (entry *e = all_entries; e; e = e->next_all)
			if (e->rfd == (int)fd) e->rfd = -1;
	}
	s->kind = KIND_NONE;
	s->gen = 0;
	pthread_rwlock_unlock(&lock);
	return NULL;
}

static void unlink_entry(entry *e)
{
	entry **pp = &c2p_tab[c2p_hash(e->cip, e->cport, e->channel)];
	while (*pp != e) pp = &(*pp)->next_c2p;
	*pp = e->next_c2p;
	pp = &p2c_tab[p2c_hash(e->rport, e->pip, e->pport)];
	while (*pp != e) pp = &(*pp)->next_p2c;
	*pp = e->next_p2c;
	if (e->prev_all) e->prev_all->next_all = e->next_all;
	else all_entries = e->next_all;
	if (e->next_all) e->next_all->prev_all = e->prev_all;
	entry_count--;
}

/* add(cip, cport, channel, relayPort, pip, pport, ms) -> 0, or -ENOENT (no relay socket on that port), -EEXIST (the peer side is another channel's) */
static napi_value Add(napi_env env, napi_callback_info info)
{
	napi_value argv[7];
	uint32_t v[7];
	if (args(env, info, 7, argv)) return NULL;
	for (int i = 0; i < 7; i++)
		if (u32(env, argv[i], &v[i])) return NULL;
	if (!running) return num(env, -ESRCH);
	uint32_t cip = v[0], pip = v[4];
	uint16_t cport = (uint16_t)v[1], ch = (uint16_t)v[2], rport = (uint16_t)v[3], pport = (uint16_t)v[5];
	int64_t expires = now_ns() + (int64_t)v[6] * 1000000;
	pthread_rwlock_wrlock(&lock);
	int err = 0;
	int rfd = relay_fd_by_port[rport];
	entry *e = find_c2p(cip, cport, ch);
	entry *q = find_p2c(rport, pip, pport);
	if (rfd < 0) err = -ENOENT;
	else if (e != NULL && (e->rport != rport || e->pip != pip || e->pport != pport)) err = -EEXIST;
	else if (e == NULL && q != NULL) err = -EEXIST;
	else if (e != NULL && e->rfd != rfd) err = -ESTALE; /* its socket was detached: the entry belongs to an allocation that ended */
	else if (e != NULL) {
		e->expires_ns = expires;
	} else {
		e = calloc(1, sizeof *e);
		if (e == NULL) err = -ENOMEM;
		else {
			e->cip = cip;
			e->cport = cport;
			e->channel = ch;
			e->rport = rport;
			e->pip = pip;
			e->pport = pport;
			e->rfd = rfd;
			e->expires_ns = expires;
			uint32_t h = c2p_hash(cip, cport, ch);
			e->next_c2p = c2p_tab[h];
			c2p_tab[h] = e;
			h = p2c_hash(rport, pip, pport);
			e->next_p2c = p2c_tab[h];
			p2c_tab[h] = e;
			e->next_all = all_entries;
			if (all_entries) all_entries->prev_all = e;
			all_entries = e;
			entry_count++;
		}
	}
	pthread_rwlock_unlock(&lock);
	return num(env, err);
}

static napi_value counters(napi_env env, const entry *e)
{
	napi_value arr;
	napi_create_array_with_length(env, 4, &arr);
	napi_set_element(env, arr, 0, num(env, (double)get(&e->c2p_packets)));
	napi_set_element(env, arr, 1, num(env, (double)get(&e->c2p_bytes)));
	napi_set_element(env, arr, 2, num(env, (double)get(&e->p2c_packets)));
	napi_set_element(env, arr, 3, num(env, (double)get(&e->p2c_bytes)));
	return arr;
}

/* del(cip, cport, channel) -> [c2p packets, c2p bytes, p2c packets, p2c bytes], or null if there was no such entry */
static napi_value Del(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	uint32_t cip, cport, ch;
	if (args(env, info, 3, argv) || u32(env, argv[0], &cip) || u32(env, argv[1], &cport) || u32(env, argv[2], &ch)) return NULL;
	napi_value r;
	napi_get_null(env, &r);
	if (!running) return r;
	pthread_rwlock_wrlock(&lock);
	entry *e = find_c2p(cip, (uint16_t)cport, (uint16_t)ch);
	if (e != NULL) unlink_entry(e);
	pthread_rwlock_unlock(&lock);
	if (e != NULL) {
		r = counters(env, e);
		free(e);
	}
	return r;
}

/* stats() -> Float64Array of 10 numbers per entry: cip, cport, channel, relayPort, pip, pport, c2p packets, c2p bytes, p2c packets, p2c bytes */
static napi_value Stats(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value ab, out;
	void *data;
	pthread_rwlock_rdlock(&lock);
	size_t n = running ? entry_count : 0;
	if (napi_create_arraybuffer(env, n * 10 * sizeof(double), &data, &ab) != napi_ok) {
		pthread_rwlock_unlock(&lock);
		return NULL;
	}
	double *d = data;
	size_t i = 0;
	if (running)
		for (entry *e = all_entries; e && i < n; e = e->next_all, i++) {
			double *r = d + i * 10;
			r[0] = e->cip, r[1] = e->cport, r[2] = e->channel, r[3] = e->rport, r[4] = e->pip, r[5] = e->pport;
			r[6] = (double)get(&e->c2p_packets), r[7] = (double)get(&e->c2p_bytes);
			r[8] = (double)get(&e->p2c_packets), r[9] = (double)get(&e->p2c_bytes);
		}
	pthread_rwlock_unlock(&lock);
	napi_create_typedarray(env, napi_float64_array, i * 10, ab, 0, &out);
	return out;
}

/* totals() -> { threads, entries, forwarded, forwardedBytes, toJs, jsDropped, sendErrors, truncated, recvCalls, sendCalls, threadErrors } */
static napi_value Totals(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value o;
	napi_create_object(env, &o);
	napi_set_named_property(env, o, "threads", num(env, running ? nthreads : 0));
	napi_set_named_property(env, o, "entries", num(env, (double)entry_count));
	napi_set_named_property(env, o, "forwarded", num(env, (double)get(&t_forwarded)));
	napi_set_named_property(env, o, "forwardedBytes", num(env, (double)get(&t_forwarded_bytes)));
	napi_set_named_property(env, o, "toJs", num(env, (double)get(&t_to_js)));
	napi_set_named_property(env, o, "jsDropped", num(env, (double)get(&t_js_dropped)));
	napi_set_named_property(env, o, "sendErrors", num(env, (double)get(&t_send_errors)));
	napi_set_named_property(env, o, "truncated", num(env, (double)get(&t_truncated)));
	napi_set_named_property(env, o, "recvCalls", num(env, (double)get(&t_recv_calls)));
	napi_set_named_property(env, o, "sendCalls", num(env, (double)get(&t_send_calls)));
	napi_set_named_property(env, o, "threadErrors", num(env, (double)get(&t_thread_errors)));
	return o;
}

/* failThread(i): thread i stops as if epoll_wait had failed (for tests of the fallback: such errors cannot be caused from outside). */
static napi_value FailThread(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	uint32_t i;
	if (args(env, info, 1, argv) || u32(env, argv[0], &i)) return NULL;
	if (!running || i >= (uint32_t)nthreads) {
		napi_throw_range_error(env, NULL, "hush_forward: no such thread");
		return NULL;
	}
	__atomic_store_n(&threads[i].fail, 1, __ATOMIC_RELEASE);
	uint64_t one = 1;
	if (write(threads[i].evfd, &one, sizeof one) < 0) { /* it still sees EPOLLIN */ }
	return NULL;
}

/* stop(): the threads end, every socket is detached, every entry freed. */
static napi_value Stop(napi_env env, napi_callback_info info)
{
	(void)info;
	if (!running) return NULL;
	for (int i = 0; i < nthreads; i++) {
		uint64_t one = 1;
		if (write(threads[i].evfd, &one, sizeof one) < 0) { /* the thread still sees EPOLLIN on the next round */ }
	}
	for (int i = 0; i < nthreads; i++) pthread_join(threads[i].tid, NULL);
	pthread_rwlock_wrlock(&lock);
	for (int i = 0; i < nthreads; i++) {
		close(threads[i].epfd);
		close(threads[i].evfd);
		free(threads[i].slots);
		free(threads[i].js);
	}
	while (all_entries) {
		entry *e = all_entries;
		unlink_entry(e);
		free(e);
	}
	memset(socks, 0, MAXFD * sizeof *socks);
	listen_fd = -1;
	running = 0;
	nthreads = 0;
	pthread_rwlock_unlock(&lock);
	napi_release_threadsafe_function(tsfn, napi_tsfn_release);
	tsfn = NULL;
	(void)env;
	return NULL;
}

NAPI_MODULE_INIT()
{
	napi_property_descriptor props[] = {
		{ "start", NULL, Start, NULL, NULL, NULL, napi_default, NULL },
		{ "attach", NULL, Attach, NULL, NULL, NULL, napi_default, NULL },
		{ "detach", NULL, Detach, NULL, NULL, NULL, napi_default, NULL },
		{ "add", NULL, Add, NULL, NULL, NULL, napi_default, NULL },
		{ "del", NULL, Del, NULL, NULL, NULL, napi_default, NULL },
		{ "stats", NULL, Stats, NULL, NULL, NULL, napi_default, NULL },
		{ "totals", NULL, Totals, NULL, NULL, NULL, napi_default, NULL },
		{ "stop", NULL, Stop, NULL, NULL, NULL, napi_default, NULL },
		{ "failThread", NULL, FailThread, NULL, NULL, NULL, napi_default, NULL },
	};
	napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
	return exports;
}
