// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the vfio-user server of a live target (lib/target/transport-vfio-user.c
 * and the PCIe controller model lib/target/pcie.c behind it): each input is played as a
 * client's message stream into a fresh client of a started target (one reactor, a vfio-user
 * port, a 1 MiB mem namespace) through a socketpair, then the client closes and we wait until
 * its controller and queues are gone. ASan/UBSan watch the whole server while it parses.
 *
 * The harness has guest memory (a memfd of FUZZ_MEM bytes, zeroed for every input, mapped at
 * DMA address FUZZ_IOVA by the preamble) and eight eventfds, and can attach them to messages
 * (SCM_RIGHTS), which the fuzzer cannot do with bytes alone.
 *
 * Input byte 0 selects a preamble sent first, so that the fuzzer starts deep:
 *   bit 0: VERSION (with capabilities)
 *   bit 1: DMA_MAP of the whole memfd at FUZZ_IOVA, read/write
 *   bit 2: SET_IRQS MSI-X vectors 0..3 to eventfds
 *   bit 3: PCI command = memory + bus master, AQA 32/32 entries, ASQ = FUZZ_IOVA,
 *	    ACQ = FUZZ_IOVA + 1000h, CC.EN = 1 with IOSQES 6 and IOCQES 4
 * Then records, each starting with an op byte (low 2 bits select the kind):
 *   0 message: a 16-byte header and u16 n from the input, then n payload bytes. msg_size is
 *     set to 16 + n unless op bit 7 is set. op bit 2 attaches the memfd, op bits 3-5 attach
 *     that many eventfds (after the memfd).
 *   1 guest memory write: u32 offset (modulo FUZZ_MEM), u16 n, n bytes; done by the harness
 *     before it sends the next message (SQEs, PRP lists, SGLs, data).
 *   2 BAR0 write of 4 bytes as REGION_WRITE: op bit 2 clear: doorbell, u8 index, u16 value
 *     (offset 1000h + 4 * index); op bit 2 set: register, u8 offset (& 3ch), u32 value.
 *   3 sync: wait until every message sent so far is answered (or the server closed).
 * Integers are little-endian.
 *
 * Invariants checked: the server never crashes or stops answering (30 s), every queue and
 * controller is freed once the client is gone, and the port serves the next client (a probe
 * client exchanges VERSION after each input).
 */
#include "common/log.h"
#include "nvmf/spec.h"
#include "nvmf/target.h"
#include "target/core.h"
#include "target/pcie.h"
#include "vfio-user/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FUZZ_NQN "nqn.2014-08.org.nvmexpress:fuzz-vfu"
#define FUZZ_MEM (256u << 10)
#define FUZZ_IOVA 0x100000ull
#define FUZZ_NR_EFD 8
/* generous: ASan on a loaded 2-CPU machine has stalled the reactor for over 5 s */
#define FUZZ_TIMEOUT_MS 30000
#define FUZZ_MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct nvmf_tgt *tgt;
static struct nvmf_tgt_port *port;
static int memfd = -1;
static uint8_t *mem;
static int efds[FUZZ_NR_EFD];
static struct nvmf_vfu_rx rx; /* the server's replies */
static bool verbose;	      /* FUZZ_VERBOSE: target debug log, replies, CQEs */

/* One client session */
struct session {
	int fd;
	bool eof;      /* the server closed */
	bool desynced; /* a message's msg_size was not its length: replies cannot be counted */
	unsigned int expected, answered;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "fuzz_vfu_rx: %s: %s\n", what, strerror(err));
	abort();
}

static void setup(void)
{
	struct nvmf_tgt_opts opts = { .nr_reactors = 1, .spin_us = 1 };
	struct nvmf_tgt_subsys_params sp = { .nqn = FUZZ_NQN, .allow_any_host = true };
	struct nvmf_tgt_ns_params np = {
		.nsid = 1, .backend = NVMF_TGT_BACKEND_MEM, .size_bytes = 1 << 20, .enable = true
	};
	struct nvmf_tgt_port_params pp = { .portid = 1, .trtype = NVMF_TRTYPE_VFIO_USER };
	static char path[108];
	struct nvmf_tgt_subsys *s;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	verbose = getenv("FUZZ_VERBOSE");
	nvmf_log_set_level(verbose ? NVMF_LOG_DEBUG : NVMF_LOG_ERR);
	/* the port listens here too; clients come through socketpairs */
	snprintf(path, sizeof(path), "/tmp/nvmf-fuzz-vfu-%d.sock", (int)getpid());
	pp.traddr = path;
	memfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, FUZZ_MEM) < 0)
		die("memfd", errno);
	mem = mmap(NULL, FUZZ_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		die("mmap", errno);
	for (int i = 0; i < FUZZ_NR_EFD; i++) {
		efds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (efds[i] < 0)
			die("eventfd", errno);
	}
	if (nvmf_vfu_rx_init(&rx, 2u << 20) < 0)
		die("rx", ENOMEM);
	tgt = nvmf_tgt_create(&opts);
	if (!tgt)
		die("create", errno);
	ret = nvmf_tgt_add_subsys(tgt, &sp, &s);
	if (!ret)
		ret = nvmf_tgt_subsys_add_ns(s, &np);
	if (!ret)
		ret = nvmf_tgt_add_port(tgt, &pp, &port);
	if (!ret)
		ret = nvmf_tgt_port_add_subsys(port, s);
	if (!ret)
		ret = nvmf_tgt_start(tgt);
	if (ret)
		die("setup", -ret);
	/* the target is never destroyed (libFuzzer exits): leave no socket file behind */
	unlink(path);
}

/* Read what the server sent, counting whole replies, until the socket is empty or closed */
static void drain(struct session *s)
{
	while (!s->eof) {
		int ret = nvmf_vfu_rx_read(s->fd, &rx);

		if (ret == 0)
			return;
		if (ret < 0) {
			s->eof = true;
			return;
		}
		s->answered++;
		if (verbose) {
			struct vfio_user_header *h = nvmf_vfu_rx_hdr(&rx);

			fprintf(stderr, "fuzz_vfu_rx: reply to command %u: %s %u\n", h->command,
				h->flags & VFIO_USER_F_ERROR ? "error" : "ok", h->error_reply);
		}
		nvmf_vfu_rx_done(&rx);
	}
}

static void wait_io(struct session *s, short events)
{
	struct pollfd p = { .fd = s->fd, .events = (short)(POLLIN | events) };

	if (poll(&p, 1, FUZZ_TIMEOUT_MS) <= 0)
		die("poll: the server stopped answering", ETIMEDOUT);
	drain(s);
}

/* Send one message with its descriptors, reading replies meanwhile so that none blocks */
static void send_msg(struct session *s, const void *buf, size_t len, const int *fds,
		     unsigned int nr_fds)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * (FUZZ_NR_EFD + 1))];
		struct cmsghdr align;
	} cbuf;
	size_t off = 0;

	while (off < len && !s->eof) {
		struct iovec iov = { .iov_base = (char *)buf + off, .iov_len = len - off };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (nr_fds && off == 0) {
			struct cmsghdr *c;

			memset(cbuf.b, 0, sizeof(cbuf.b));
			msg.msg_control = cbuf.b;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
		}
		n = sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			wait_io(s, POLLOUT);
		} else if (n < 0 && errno != EINTR) {
			s->eof = true; /* the server closed on us: fine */
		}
	}
	drain(s);
}

static void send_vfu(struct session *s, const struct vfio_user_header *h, const void *pl,
		     size_t len, const int *fds, unsigned int nr_fds)
{
	static uint8_t buf[sizeof(struct vfio_user_header) + FUZZ_MAX_INPUT];

	memcpy(buf, h, sizeof(*h));
	memcpy(buf + sizeof(*h), pl, len);
	if (h->msg_size != sizeof(*h) + len)
		s->desynced = true;
	if (!(h->flags & VFIO_USER_F_NO_REPLY))
		s->expected++;
	send_msg(s, buf, sizeof(*h) + len, fds, nr_fds);
}

static void send_cmd(struct session *s, uint16_t cmd, const void *pl, size_t len, const int *fds,
		     unsigned int nr_fds)
{
	struct vfio_user_header h = {
		.command = cmd,
		.msg_size = (uint32_t)(sizeof(h) + len),
	};

	send_vfu(s, &h, pl, len, fds, nr_fds);
}

static void region_write(struct session *s, uint32_t region, uint64_t off, const void *val,
			 uint32_t len)
{
	uint8_t pl[sizeof(struct vfio_user_region_access) + 8];
	struct vfio_user_region_access a = { .offset = off, .region = region, .count = len };

	memcpy(pl, &a, sizeof(a));
	memcpy(pl + sizeof(a), val, len);
	send_cmd(s, VFIO_USER_REGION_WRITE, pl, sizeof(a) + len, NULL, 0);
}

static void reg_write32(struct session *s, uint32_t off, uint32_t val)
{
	region_write(s, VFIO_PCI_BAR0_REGION_INDEX, off, &val, 4);
}

static void sync_replies(struct session *s)
{
	while (!s->eof && !s->desynced && s->answered < s->expected)
		wait_io(s, 0);
}

static void preamble(struct session *s, uint8_t sel)
{
	static const char caps[] = "{\"capabilities\":{\"max_msg_fds\":16,"
				   "\"max_data_xfer_size\":1048576,\"pgsizes\":4096}}";

	if (sel & 1) {
		uint8_t pl[sizeof(struct vfio_user_version) + sizeof(caps)];
		struct vfio_user_version v = { .major = VFIO_USER_MAJOR, .minor = VFIO_USER_MINOR };

		memcpy(pl, &v, sizeof(v));
		memcpy(pl + sizeof(v), caps, sizeof(caps));
		send_cmd(s, VFIO_USER_VERSION, pl, sizeof(pl), NULL, 0);
	}
	if (sel & 2) {
		struct vfio_user_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
			.addr = FUZZ_IOVA,
			.size = FUZZ_MEM,
		};

		send_cmd(s, VFIO_USER_DMA_MAP, &m, sizeof(m), &memfd, 1);
	}
	if (sel & 4) {
		struct vfio_user_irq_set is = {
			.argsz = sizeof(is),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_MSIX_IRQ_INDEX,
			.count = 4,
		};

		send_cmd(s, VFIO_USER_DEVICE_SET_IRQS, &is, sizeof(is), efds, 4);
	}
	if (sel & 8) {
		uint16_t cmd = 0x0006; /* memory space, bus master */

		region_write(s, VFIO_PCI_CONFIG_REGION_INDEX, 0x04, &cmd, 2);
		reg_write32(s, NVME_REG_AQA, (31u << 16) | 31u);
		reg_write32(s, NVME_REG_ASQ, (uint32_t)FUZZ_IOVA);
		reg_write32(s, NVME_REG_ASQ + 4, 0);
		reg_write32(s, NVME_REG_ACQ, (uint32_t)(FUZZ_IOVA + 0x1000));
		reg_write32(s, NVME_REG_ACQ + 4, 0);
		reg_write32(s, NVME_REG_CC,
			    NVME_CC_ENABLE | (6u << NVME_CC_IOSQES_SHIFT) |
				    (4u << NVME_CC_IOCQES_SHIFT));
	}
}

/* Take @n bytes of the input (fewer at its end); Return: bytes taken */
static size_t take(const uint8_t **p, const uint8_t *end, void *out, size_t n)
{
	size_t have = (size_t)(end - *p);

	if (n > have)
		n = have;
	memcpy(out, *p, n);
	*p += n;
	return n;
}

static void play(struct session *s, const uint8_t *p, const uint8_t *end)
{
	while (p < end && !s->eof) {
		uint8_t op = *p++;

		switch (op & 3) {
		case 0: {
			struct vfio_user_header h;
			int fds[FUZZ_NR_EFD + 1];
			unsigned int nr_fds = 0, nr_efd = (op >> 3) & 7;
			uint16_t n = 0;

			if (take(&p, end, &h, sizeof(h)) < sizeof(h))
				return;
			take(&p, end, &n, sizeof(n));
			if (n > (size_t)(end - p))
				n = (uint16_t)(end - p);
			if (!(op & 0x80))
				h.msg_size = (uint32_t)sizeof(h) + n;
			if (op & 4)
				fds[nr_fds++] = memfd;
			for (unsigned int i = 0; i < nr_efd; i++)
				fds[nr_fds++] = efds[i];
			send_vfu(s, &h, p, n, fds, nr_fds);
			p += n;
			break;
		}
		case 1: {
			uint32_t off = 0;
			uint16_t n = 0;

			take(&p, end, &off, sizeof(off));
			take(&p, end, &n, sizeof(n));
			off %= FUZZ_MEM;
			if (n > FUZZ_MEM - off)
				n = (uint16_t)(FUZZ_MEM - off);
			take(&p, end, mem + off, n);
			break;
		}
		case 2: {
			uint8_t idx = 0;
			uint16_t v16 = 0;
			uint32_t v32 = 0;

			take(&p, end, &idx, 1);
			if (op & 4) {
				take(&p, end, &v32, 4);
				reg_write32(s, idx & 0x3cu, v32);
			} else {
				take(&p, end, &v16, 2);
				reg_write32(s, NVME_REG_DBS + 4u * idx, v16);
			}
			break;
		}
		default:
			sync_replies(s);
			break;
		}
	}
}

static void wait_drained(void)
{
	struct timespec ts = { .tv_nsec = 20000 };
	uint64_t deadline = nvmf_now_ns() + (uint64_t)FUZZ_TIMEOUT_MS * 1000000;

	while (nvmf_now_ns() < deadline) {
		if (atomic_load(&tgt->nr_sqs) == 0 && atomic_load(&tgt->nr_ctrls) == 0)
			return;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "fuzz_vfu_rx: %d queues / %d controllers not freed after close\n",
		atomic_load(&tgt->nr_sqs), atomic_load(&tgt->nr_ctrls));
	abort();
}

/* A new client of the port; Return: the harness's end of its socket */
static int client_new(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair", errno);
	if (nvmf_tgt_vfio_user_adopt_fd(tgt, port, sv[0]) < 0)
		die("adopt", ENOMEM);
	nvmf_vfu_rx_done(&rx);
	return sv[1];
}

/* The server ends the client at EOF: read until it closed, then until it is torn down */
static void client_end(struct session *s)
{
	shutdown(s->fd, SHUT_WR);
	while (!s->eof)
		wait_io(s, 0);
	close(s->fd);
	wait_drained();
}

/*
 * The port must take the next client once this one is gone (a client whose teardown never
 * finishes keeps the next one waiting forever): one VERSION exchange, blamed on this input.
 */
static void probe(void)
{
	struct session s = { .fd = client_new() };

	preamble(&s, 1);
	sync_replies(&s);
	if (s.eof || s.answered != 1)
		die("the port did not serve the next client", EPROTO);
	client_end(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session s = { 0 };

	if (!tgt)
		setup();
	if (size > FUZZ_MAX_INPUT)
		return -1;
	memset(mem, 0, FUZZ_MEM);
	s.fd = client_new();
	if (size) {
		preamble(&s, data[0]);
		play(&s, data + 1, data + size);
	}
	client_end(&s);
	probe();
	/* what the seeds' layout (make-vfu-corpus.py) holds: admin CQ at 1000h, I/O CQ at 3000h */
	for (uint32_t off = 0x1000; verbose && off < 0x4000; off += 16) {
		struct nvme_cqe cqe;

		memcpy(&cqe, mem + off, sizeof(cqe));
		if (cqe.status)
			fprintf(stderr,
				"fuzz_vfu_rx: CQE at %#x: cid %u sqhd %u sqid %u status %#x\n", off,
				cqe.cid, cqe.sq_head, cqe.sq_id, cqe.status);
	}
	return 0;
}
