/*
 * hush-loadgen: a cheap-per-packet TURN ChannelData load generator for
 * `npm run bench -- relay` (issue 16). Linux only; compiled by the bench at
 * run time (`cc -O2 -pthread`, bench/loadgen/loadgen.ts), never committed as
 * a binary.
 *
 * It does no TURN itself. The bench sets up every allocation in Node first
 * (Allocate, ChannelBind in pairs: client A's channel points at client B's
 * relayed address and back, as turnutils_uclient -y does), each client on its
 * own local address 127.x.y.z and the one shared local port P, then closes
 * those Node sockets. The server keeps each allocation keyed by its 5-tuple;
 * this program binds 0.0.0.0:P and speaks for every client at once:
 *
 *   - one UDP socket for all clients: each sent datagram picks its source
 *     address (the client's) with an IP_PKTINFO control message, so up to
 *     1024 datagrams of many clients leave in one sendmmsg(2) call. (With one
 *     socket per client, as one port per client would need, a batch could
 *     only hold one client's datagrams: one system call per datagram again.)
 *   - `--senders T` sending threads (default 1), each owning every T-th
 *     flow: on loopback the kernel delivers a datagram, and runs an XDP
 *     program, in the sender's context, so one thread per core is what it
 *     takes to offer a kernel fast path enough load.
 *   - one receiving thread: recvmmsg(2) in batches of up to 256, pausing
 *     `--rx-poll-us` (500) after a short batch so that datagrams gather
 *     instead of waking it one by one; the kernel's receive time of each
 *     (SO_TIMESTAMPNS) is what latency is measured to, so the pause does
 *     not count. The destination address
 *     (IP_PKTINFO) says which client a datagram reached, SO_RXQ_OVFL counts
 *     the datagrams this socket itself dropped (then the loss is ours, not
 *     the relay's, and the summary says so).
 *
 * Load: every flow sends `--msgs` messages at `--pps` each, flows evenly
 * phased over the period (a sender's i-th of its F flows sends its k-th
 * message at t0 + (k + i/F) / pps), so the offered rate is smooth, not
 * bursty. Each sender wakes every millisecond and sends what is due. A message sent more
 * than one period after it was due counts as "behind": the generator, not
 * the relay, could not keep the offered rate.
 *
 * Payload (`--payload` bytes, at least 24; native byte order: the same
 * process reads it):
 *
 *    0               4               8               12              16
 *   +---------------+---------------+---------------+---------------+
 *   | magic         | sender flow   | sequence      | 0             |
 *   +---------------+---------------+---------------+---------------+
 *   | send time, CLOCK_MONOTONIC ns (u64)           | zeros ...     |
 *   +---------------+---------------+---------------+---------------+
 *
 * Relayed flows carry it after the 4-byte ChannelData header (RFC 8656
 * §12.4: channel number, length; no padding over UDP). `--direct K` adds K
 * flows (paired among themselves) that go straight from one generator
 * address to another, never through the server: the loopback baseline for
 * "added latency", measured with the same batching and clock. With no
 * client lines and many direct flows it measures the generator alone (the
 * bench's "load alone" calibration).
 *
 * Input (stdin), one line per relayed client, index = line number from 0:
 *   <client-ip> <server-ip> <server-port> <send-channel> <bound-channel> <partner-index>
 * (the channel it sends on is the one it bound, except in a test that sends
 * on a wrong one on purpose; the partner's datagrams must arrive on
 * <bound-channel>).
 * Output (stdout), JSON lines: {"event":"sending"} when the first datagram
 * goes, {"event":"drained"} when receiving ended (the bench reads CPU
 * counters at both), one {"pair":...} line per client pair (and per direct
 * pair), then one {"summary":...} line.
 *
 * Caveats: latency is one-way, from the send timestamp (taken per batch,
 * just before sendmmsg, CLOCK_MONOTONIC) to the kernel's receive stamp of
 * the last hop on loopback (SO_TIMESTAMPNS, CLOCK_REALTIME, mapped to
 * CLOCK_MONOTONIC by the offset read with each batch; loopback clears and
 * re-stamps every datagram it carries, an XDP_TX'd one too). It includes
 * the sending batch (up to the rest of one 1 ms tick), not the time the
 * datagram then waits in this program's socket; compare relayed against
 * the direct flows of the same run. IPv4 and UDP only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0xd1c0ffeeu
#define HDR 4          /* ChannelData header */
#define MIN_PAYLOAD 24 /* the diagram above */
#define BATCH 1024     /* UIO_MAXIOV: the kernel's cap per sendmmsg/recvmmsg */
#define RX_BATCH 256
#define MAX_DG 2048
#define LAT_CAP_NS 4000000000u /* latencies are kept as u32 ns */

struct flow {
  uint32_t ip;        /* network order */
  struct sockaddr_in server; /* relayed flows: the TURN server; direct flows: the partner's address */
  uint16_t channel;   /* sends on it; 0 for direct flows */
  uint16_t bound;     /* the partner's datagrams arrive on it */
  uint32_t partner;
  int direct;
  uint64_t sent;      /* written by the sender only */
  uint64_t received, dup, late_seq;
  uint8_t *seen;      /* bitmap of sequence numbers received */
  uint32_t *lat;      /* one-way ns of each received message */
};

static struct flow *flows;
static uint32_t nflows, nrelayed;
static uint32_t msgs = 500, pps = 50, payload = 160, ndirect = 2, quiet_ms = 500, rx_poll_us = 500;
static uint16_t port;
static int sock;
static uint64_t t0;
static uint64_t total_sent, unsent, send_errors, behind, max_lag_ns, send_end_ns;
static volatile int sending_done;
static uint64_t misdelivered, foreign, rx_overflow;

/* Open addressing: client ip -> flow index, for the receiving side. */
static uint32_t *ipmap_key, *ipmap_val, ipmap_size;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "hush-loadgen: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void ipmap_put(uint32_t ip, uint32_t idx) {
  uint32_t h = (ip * 2654435761u) & (ipmap_size - 1);
  while (ipmap_key[h] != 0) {
    if (ipmap_key[h] == ip) {
      fprintf(stderr, "hush-loadgen: two flows share the address %s\n", inet_ntoa((struct in_addr){ip}));
      exit(2);
    }
    h = (h + 1) & (ipmap_size - 1);
  }
  ipmap_key[h] = ip;
  ipmap_val[h] = idx;
}

static int64_t ipmap_get(uint32_t ip) {
  uint32_t h = (ip * 2654435761u) & (ipmap_size - 1);
  while (ipmap_key[h] != 0) {
    if (ipmap_key[h] == ip) return ipmap_val[h];
    h = (h + 1) & (ipmap_size - 1);
  }
  return -1;
}

static void usage(void) {
  fprintf(stderr, "usage: hush-loadgen --port P [--msgs N] [--pps R] [--payload B] [--direct K] [--senders T] [--rx-poll-us U] [--quiet-ms Q] < clients\n");
  exit(2);
}

static void read_flows(void) {
  size_t cap = 1024;
  flows = calloc(cap, sizeof *flows);
  char ip[64], sip[64];
  unsigned sport, ch, bound, partner;
  while (scanf("%63s %63s %u %u %u %u", ip, sip, &sport, &ch, &bound, &partner) == 6) {
    if (nflows == cap) flows = realloc(flows, (cap *= 2) * sizeof *flows);
    struct flow *f = &flows[nflows];
    memset(f, 0, sizeof *f);
    struct in_addr a;
    if (inet_pton(AF_INET, ip, &a) != 1 || inet_pton(AF_INET, sip, &f->server.sin_addr) != 1 || sport == 0 || sport > 65535 || ch < 0x4000 || ch > 0x7fff || bound < 0x4000 || bound > 0x7fff) {
      fprintf(stderr, "hush-loadgen: bad client line %u: %s %s %u %u %u %u\n", nflows, ip, sip, sport, ch, bound, partner);
      exit(2);
    }
    f->ip = a.s_addr;
    f->server.sin_family = AF_INET;
    f->server.sin_port = htons((uint16_t)sport);
    f->channel = (uint16_t)ch;
    f->bound = (uint16_t)bound;
    f->partner = partner;
    nflows++;
  }
  nrelayed = nflows;
  ndirect &= ~1u;
  if (nrelayed % 2 != 0 || nrelayed + ndirect == 0) {
    fprintf(stderr, "hush-loadgen: need an even number of clients (pairs) and some flows, got %u clients and %u direct flows\n", nrelayed, ndirect);
    exit(2);
  }
  /* Direct flows: 127.21.0.1, …, 127.21.0.250, 127.21.1.1, … paired (0,1), (2,3)... */
  flows = realloc(flows, (nflows + ndirect) * sizeof *flows);
  for (uint32_t d = 0; d < ndirect; d++) {
    struct flow *f = &flows[nflows + d];
    memset(f, 0, sizeof *f);
    f->ip = htonl(0x7f150000u + ((d / 250) << 8) + 1 + d % 250);
    f->direct = 1;
    f->partner = nflows + (d ^ 1);
  }
  for (uint32_t d = 0; d < ndirect; d++) {
    struct flow *f = &flows[nflows + d];
    f->server.sin_family = AF_INET;
    f->server.sin_port = htons(port);
    f->server.sin_addr.s_addr = flows[f->partner].ip;
  }
  nflows += ndirect;
  for (uint32_t i = 0; i < nrelayed; i++) {
    if (flows[i].partner >= nrelayed || flows[flows[i].partner].partner != i || flows[i].partner == i) {
      fprintf(stderr, "hush-loadgen: client %u's partner %u does not point back\n", i, flows[i].partner);
      exit(2);
    }
  }
  for (ipmap_size = 16; ipmap_size < nflows * 2; ipmap_size *= 2) {}
  ipmap_key = calloc(ipmap_size, sizeof *ipmap_key);
  ipmap_val = calloc(ipmap_size, sizeof *ipmap_val);
  for (uint32_t i = 0; i < nflows; i++) {
    flows[i].seen = calloc((msgs + 7) / 8, 1);
    flows[i].lat = calloc(msgs, sizeof(uint32_t));
    if (!flows[i].seen || !flows[i].lat) die("calloc");
    ipmap_put(flows[i].ip, i);
  }
}

static void open_socket(void) {
  sock = socket(AF_INET, SOCK_DGRAM, 0);
  if (sock < 0) die("socket");
  int one = 1, big = 64 << 20;
  /* FORCE (root) exceeds rmem_max/wmem_max; without root the plain option caps them. */
  if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0) setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (setsockopt(sock, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) < 0) setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  if (setsockopt(sock, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0) die("IP_PKTINFO");
  if (setsockopt(sock, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) < 0) die("SO_RXQ_OVFL");
  if (setsockopt(sock, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) die("SO_TIMESTAMPNS");
  struct timeval tv = {0, 50000}; /* the receiver checks for the end every 50 ms */
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (bind(sock, (struct sockaddr *)&a, sizeof a) < 0) die("bind 0.0.0.0:port");
}

/* ---- receiving thread ---- */

static void *receiver(void *arg) {
  (void)arg;
  static struct mmsghdr mm[RX_BATCH];
  static struct iovec iov[RX_BATCH];
  static uint8_t bufs[RX_BATCH][MAX_DG];
  static struct sockaddr_in from[RX_BATCH];
  static uint8_t ctl[RX_BATCH][128];
  uint64_t last_rx = 0;
  for (;;) {
    for (int i = 0; i < RX_BATCH; i++) {
      iov[i] = (struct iovec){bufs[i], MAX_DG};
      mm[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &iov[i], .msg_iovlen = 1, .msg_control = ctl[i], .msg_controllen = sizeof ctl[i]};
    }
    int n = recvmmsg(sock, mm, RX_BATCH, MSG_WAITFORONE, NULL);
    uint64_t now = now_ns();
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    /* Kernel receive stamps are CLOCK_REALTIME: this batch's offset maps them to CLOCK_MONOTONIC. */
    int64_t rt_minus_mono = (int64_t)((uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec) - (int64_t)now;
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) die("recvmmsg");
      n = 0;
    }
    if (n > 0) last_rx = now;
    for (int i = 0; i < n; i++) {
      struct msghdr *h = &mm[i].msg_hdr;
      uint32_t dst = 0;
      uint64_t arrived = now;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) dst = ((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr.s_addr;
        else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec k;
          memcpy(&k, CMSG_DATA(c), sizeof k);
          int64_t m = (int64_t)((uint64_t)k.tv_sec * 1000000000u + (uint64_t)k.tv_nsec) - rt_minus_mono;
          if (m > 0 && (uint64_t)m < now) arrived = (uint64_t)m;
        }
        else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) memcpy(&rx_overflow, CMSG_DATA(c), sizeof(uint32_t));
      }
      uint8_t *b = bufs[i];
      size_t len = mm[i].msg_len;
      int64_t to = ipmap_get(dst);
      int direct = from[i].sin_port == htons(port);
      uint16_t ch = 0;
      if (!direct) {
        if (len < HDR || (b[0] & 0xc0) != 0x40 || (size_t)((b[2] << 8) | b[3]) + HDR > len) { foreign++; continue; }
        ch = (uint16_t)((b[0] << 8) | b[1]);
        len = (size_t)((b[2] << 8) | b[3]);
        b += HDR;
      }
      uint32_t magic, sender, seq;
      uint64_t ts;
      if (len < MIN_PAYLOAD) { foreign++; continue; }
      memcpy(&magic, b, 4);
      memcpy(&sender, b + 4, 4);
      memcpy(&seq, b + 8, 4);
      memcpy(&ts, b + 16, 8);
      if (magic != MAGIC || sender >= nflows || seq >= msgs || flows[sender].direct != direct) { foreign++; continue; }
      /* It must reach the sender's partner, on the channel that partner bound. */
      if (to < 0 || (uint32_t)to != flows[sender].partner || (!direct && ch != flows[to].bound)) { misdelivered++; continue; }
      struct flow *f = &flows[sender];
      if (f->seen[seq >> 3] & (1u << (seq & 7))) { f->dup++; continue; }
      f->seen[seq >> 3] |= (uint8_t)(1u << (seq & 7));
      uint64_t lat = arrived > ts ? arrived - ts : 0;
      f->lat[f->received++] = lat > LAT_CAP_NS ? LAT_CAP_NS : (uint32_t)lat;
    }
    /* A short batch: let datagrams gather before the next call instead of waking for each one. */
    if (n < RX_BATCH && rx_poll_us > 0) {
      struct timespec d = {0, (long)rx_poll_us * 1000};
      nanosleep(&d, NULL);
    }
    if (sending_done) {
      uint64_t got = 0;
      for (uint32_t i = 0; i < nflows; i++) got += flows[i].received;
      uint64_t end = __atomic_load_n(&send_end_ns, __ATOMIC_ACQUIRE);
      if (got >= __atomic_load_n(&total_sent, __ATOMIC_ACQUIRE)) break;
      uint64_t since = last_rx > end ? last_rx : end;
      if (now > since + (uint64_t)quiet_ms * 1000000u) break;
    }
  }
  return NULL;
}

/* ---- sending threads ---- */

/* Sender t owns flows t, t+T, t+2T, … (T = --senders) and their `sent` counters. */
struct sender {
  pthread_t th;
  uint32_t t;
  uint64_t unsent, send_errors, behind, max_lag_ns;
  struct mmsghdr mm[BATCH];
  struct iovec iov[BATCH];
  uint8_t bufs[BATCH][HDR + MAX_DG];
  uint8_t ctl[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
};
static uint32_t nsenders = 1;

static void *sender(void *arg) {
  struct sender *S = arg;
  uint32_t own = (nflows - S->t + nsenders - 1) / nsenders; /* flows t, t+T, … */
  if (own == 0) return NULL;
  uint64_t total = (uint64_t)msgs * own, next = 0;
  /* local message j is own flow (j % own)'s (j / own)-th, due at t0 + j * period / own */
  double step_ns = 1e9 / pps / own;
  uint64_t period_ns = 1000000000u / pps;
  struct timespec tick = {(time_t)(t0 / 1000000000u), (long)(t0 % 1000000000u)};
  while (next < total) {
    uint64_t now = now_ns();
    uint64_t due = (uint64_t)((double)(now - t0) / step_ns) + 1;
    if (due > total) due = total;
    if (next < due) {
      uint64_t sched = t0 + (uint64_t)((double)next * step_ns);
      uint64_t lag = now > sched ? now - sched : 0;
      if (lag > S->max_lag_ns) S->max_lag_ns = lag;
    }
    while (next < due) {
      uint32_t n = (uint32_t)(due - next > BATCH ? BATCH : due - next);
      uint64_t ts = now_ns();
      for (uint32_t i = 0; i < n; i++) {
        uint64_t m = next + i;
        uint32_t fi = S->t + (uint32_t)(m % own) * nsenders, seq = (uint32_t)(m / own);
        struct flow *f = &flows[fi];
        uint64_t sched = t0 + (uint64_t)((double)m * step_ns);
        if (ts > sched + period_ns) S->behind++;
        uint8_t *b = S->bufs[i];
        size_t off = 0;
        if (!f->direct) {
          b[0] = (uint8_t)(f->channel >> 8);
          b[1] = (uint8_t)f->channel;
          b[2] = (uint8_t)(payload >> 8);
          b[3] = (uint8_t)payload;
          off = HDR;
        }
        uint32_t magic = MAGIC, zero = 0;
        memcpy(b + off, &magic, 4);
        memcpy(b + off + 4, &fi, 4);
        memcpy(b + off + 8, &seq, 4);
        memcpy(b + off + 12, &zero, 4);
        memcpy(b + off + 16, &ts, 8);
        S->iov[i] = (struct iovec){b, off + payload};
        struct cmsghdr *c = (struct cmsghdr *)S->ctl[i];
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo pi = {.ipi_ifindex = 0, .ipi_spec_dst.s_addr = f->ip};
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        S->mm[i].msg_hdr = (struct msghdr){.msg_name = &f->server, .msg_namelen = sizeof f->server, .msg_iov = &S->iov[i], .msg_iovlen = 1, .msg_control = S->ctl[i], .msg_controllen = sizeof S->ctl[i]};
      }
      uint32_t done = 0;
      while (done < n) {
        int r = sendmmsg(sock, S->mm + done, n - done, 0);
        if (r < 0) {
          if (errno == EINTR) continue;
          /* ENOBUFS, EAGAIN, ECONNREFUSED...: that datagram is not sent; count it and go on. */
          S->send_errors++;
          S->unsent++;
          done++;
          continue;
        }
        for (int i = 0; i < r; i++) flows[S->t + (uint32_t)((next + done + (uint32_t)i) % own) * nsenders].sent++;
        done += (uint32_t)r;
        __atomic_add_fetch(&total_sent, (uint64_t)r, __ATOMIC_RELEASE);
      }
      next += n;
    }
    if (next >= total) break;
    /* Sleep to the next millisecond tick (absolute, so the schedule does not drift). */
    tick.tv_nsec += 1000000;
    if (tick.tv_nsec >= 1000000000) { tick.tv_sec++; tick.tv_nsec -= 1000000000; }
    uint64_t tk = (uint64_t)tick.tv_sec * 1000000000u + (uint64_t)tick.tv_nsec;
    if (tk < now_ns()) {
      clock_gettime(CLOCK_MONOTONIC, &tick); /* fell behind: no sleep, catch up */
      continue;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL) == EINTR) {}
  }
  return NULL;
}

static void send_all(void) {
  struct sender *ss = calloc(nsenders, sizeof *ss);
  if (!ss) die("calloc");
  t0 = now_ns();
  printf("{\"event\":\"sending\"}\n");
  fflush(stdout);
  for (uint32_t t = 0; t < nsenders; t++) {
    ss[t].t = t;
    if (pthread_create(&ss[t].th, NULL, sender, &ss[t]) != 0) die("pthread_create");
  }
  for (uint32_t t = 0; t < nsenders; t++) {
    pthread_join(ss[t].th, NULL);
    unsent += ss[t].unsent;
    send_errors += ss[t].send_errors;
    behind += ss[t].behind;
    if (ss[t].max_lag_ns > max_lag_ns) max_lag_ns = ss[t].max_lag_ns;
  }
  free(ss);
  __atomic_store_n(&send_end_ns, now_ns(), __ATOMIC_RELEASE);
  sending_done = 1;
}

/* ---- results ---- */

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, in µs. */
static double pct_us(const uint32_t *s, size_t n, double p) {
  if (n == 0) return -1;
  size_t i = (size_t)(p / 100.0 * (double)n);
  if (i >= n) i = n - 1;
  return s[i] / 1000.0;
}

static void report(void) {
  uint64_t relayed_n = 0, direct_n = 0;
  for (uint32_t i = 0; i < nflows; i++) *(flows[i].direct ? &direct_n : &relayed_n) += flows[i].received;
  uint32_t *all = malloc((relayed_n + 1) * sizeof *all), *dall = malloc((direct_n + 1) * sizeof *dall);
  uint32_t *pair = malloc((2 * (size_t)msgs + 1) * sizeof *pair);
  size_t na = 0, nd = 0;
  uint64_t sent = 0, received = 0, dup = 0, dsent = 0, dreceived = 0;
  for (uint32_t i = 0; i < nflows; i++) {
    struct flow *a = &flows[i], *b = &flows[a->partner];
    if (a->partner < i) continue;
    size_t np = 0;
    memcpy(pair, a->lat, a->received * sizeof *pair);
    np += a->received;
    memcpy(pair + np, b->lat, b->received * sizeof *pair);
    np += b->received;
    if (a->direct) { memcpy(dall + nd, pair, np * sizeof *pair); nd += np; }
    else { memcpy(all + na, pair, np * sizeof *pair); na += np; }
    qsort(pair, np, sizeof *pair, cmp_u32);
    uint64_t s = a->sent + b->sent, r = a->received + b->received;
    printf("{\"pair\":[%u,%u],\"direct\":%s,\"sent\":%llu,\"received\":%llu,\"lost\":%llu,\"duplicates\":%llu,\"p50_us\":%.1f,\"p99_us\":%.1f}\n", i, a->partner,
           a->direct ? "true" : "false", (unsigned long long)s, (unsigned long long)r, (unsigned long long)(s - r), (unsigned long long)(a->dup + b->dup),
           pct_us(pair, np, 50), pct_us(pair, np, 99));
    if (!a->direct) { sent += s; received += r; dup += a->dup + b->dup; }
    else { dsent += s; dreceived += r; }
  }
  qsort(all, na, sizeof *all, cmp_u32);
  qsort(dall, nd, sizeof *dall, cmp_u32);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"summary\":true,\"clients\":%u,\"direct_flows\":%u,\"msgs\":%u,\"pps\":%u,\"payload\":%u,\"sent\":%llu,\"received\":%llu,\"lost\":%llu,\"duplicates\":%llu,"
         "\"misdelivered\":%llu,\"foreign\":%llu,\"unsent\":%llu,\"send_errors\":%llu,\"rx_overflow\":%llu,\"behind\":%llu,\"max_lag_us\":%.1f,"
         "\"direct_sent\":%llu,\"direct_received\":%llu,\"planned_s\":%.3f,\"send_s\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"direct_p50_us\":%.1f,\"direct_p99_us\":%.1f,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f}\n",
         nrelayed, ndirect, msgs, pps, payload, (unsigned long long)sent, (unsigned long long)received, (unsigned long long)(sent - received), (unsigned long long)dup,
         (unsigned long long)misdelivered, (unsigned long long)foreign, (unsigned long long)unsent, (unsigned long long)send_errors, (unsigned long long)rx_overflow,
         (unsigned long long)behind, max_lag_ns / 1000.0, (unsigned long long)dsent, (unsigned long long)dreceived, (double)msgs / pps, (send_end_ns - t0) / 1e9, pct_us(all, na, 50), pct_us(all, na, 99), pct_us(dall, nd, 50),
         pct_us(dall, nd, 99), ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
  fflush(stdout);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage();
    unsigned long v = strtoul(argv[i + 1], NULL, 10);
    if (!strcmp(argv[i], "--port")) port = (uint16_t)v;
    else if (!strcmp(argv[i], "--msgs")) msgs = (uint32_t)v;
    else if (!strcmp(argv[i], "--pps")) pps = (uint32_t)v;
    else if (!strcmp(argv[i], "--payload")) payload = (uint32_t)v;
    else if (!strcmp(argv[i], "--direct")) ndirect = (uint32_t)v;
    else if (!strcmp(argv[i], "--quiet-ms")) quiet_ms = (uint32_t)v;
    else if (!strcmp(argv[i], "--senders")) nsenders = (uint32_t)v;
    else if (!strcmp(argv[i], "--rx-poll-us")) rx_poll_us = (uint32_t)v;
    else usage();
    i++;
  }
  if (port == 0 || msgs == 0 || pps == 0 || payload < MIN_PAYLOAD || payload > MAX_DG - HDR || nsenders == 0 || nsenders > 16) usage();
  read_flows();
  open_socket();
  pthread_t rx;
  if (pthread_create(&rx, NULL, receiver, NULL) != 0) die("pthread_create");
  send_all();
  pthread_join(rx, NULL);
  printf("{\"event\":\"drained\"}\n");
  fflush(stdout);
  report();
  return 0;
}
