// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the NVMe/TCP receive path of a live target: each input is played
 * into a fresh connection of a started target (one reactor, a 1 MiB mem namespace) through
 * a socketpair, then the connection is closed and we wait until the queue and its
 * controller are gone. ASan/UBSan watch the whole target while it parses.
 *
 * Input byte 0 selects a preamble that is sent first, so that the fuzzer starts deep in
 * the protocol instead of spending its time discovering ICReq:
 *   bit 0: a valid ICReq (bits 1/2: ask for header/data digests)
 *   bit 3: then an admin Connect with in-capsule data and Property Set CC.EN = 1
 * The rest of the input follows the preamble byte for byte.
 *
 * Invariants checked: the target never crashes, every queue is freed once its connection
 * is closed (no leaked slot or controller reference), and it still accepts a connection.
 */
#include "common/crc32c.h"
#include "common/log.h"
#include "nvmf/spec.h"
#include "nvmf/target.h"
#include "target/core.h"
#include "tcp/pdu.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FUZZ_NQN "nqn.2014-08.org.nvmexpress:fuzz"
#define FUZZ_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-000000000001"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct nvmf_tgt *tgt;
static struct nvmf_tgt_port *port;

static void die(const char *what, int err)
{
	fprintf(stderr, "fuzz_tcp_rx: %s: %s\n", what, strerror(err));
	abort();
}

static void setup(void)
{
	struct nvmf_tgt_opts opts = { .nr_reactors = 1, .spin_us = 1 };
	struct nvmf_tgt_subsys_params sp = { .nqn = FUZZ_NQN, .allow_any_host = true };
	struct nvmf_tgt_ns_params np = {
		.nsid = 1, .backend = NVMF_TGT_BACKEND_MEM, .size_bytes = 1 << 20, .enable = true
	};
	struct nvmf_tgt_port_params pp = {
		.portid = 1,
		.trtype = NVMF_TRTYPE_TCP,
		.adrfam = NVMF_ADRFAM_IPV4,
		.traddr = "127.0.0.1",
		.trsvcid = "0", /* any free port: connections come through socketpairs */
	};
	struct nvmf_tgt_subsys *s;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	nvmf_log_set_level(getenv("FUZZ_VERBOSE") ? NVMF_LOG_DEBUG : NVMF_LOG_ERR);
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
}

static size_t put_cmd(uint8_t *out, const struct nvme_sqe *sqe, const void *icd, uint32_t icd_len,
		      bool hdgst, bool ddgst)
{
	struct nvmf_tcp_params p = { .hdgst = hdgst, .ddgst = ddgst };
	struct nvme_tcp_cmd_pdu *pdu = (struct nvme_tcp_cmd_pdu *)out;
	size_t n;

	memset(pdu, 0, sizeof(*pdu));
	pdu->cmd = *sqe;
	n = nvmf_tcp_build_cmd(pdu, icd_len, &p);
	if (icd_len) {
		memcpy(out + n, icd, icd_len);
		n += icd_len;
		if (ddgst) {
			uint32_t d = nvmf_crc32c(icd, icd_len);

			memcpy(out + n, &d, sizeof(d));
			n += sizeof(d);
		}
	}
	return n;
}

/* ICReq, then optionally admin Connect + Property Set CC.EN: at most ~1.3 KiB. */
static size_t build_preamble(uint8_t *out, uint8_t sel)
{
	bool hdgst = sel & 2, ddgst = sel & 4;
	struct nvme_tcp_icreq_pdu *ic = (struct nvme_tcp_icreq_pdu *)out;
	struct nvmf_connect_data cd;
	struct nvme_sqe sqe;
	struct nvmf_connect_cmd *cc = (struct nvmf_connect_cmd *)&sqe;
	struct nvmf_property_cmd *ps = (struct nvmf_property_cmd *)&sqe;
	size_t n;

	if (!(sel & 1))
		return 0;
	nvmf_tcp_build_icreq(ic, hdgst, ddgst, 0, 0);
	n = sizeof(*ic);
	if (!(sel & 8))
		return n;

	memset(&cd, 0, sizeof(cd));
	cd.cntlid = NVME_CNTLID_DYNAMIC;
	memcpy(cd.hostid, "fuzz-host-id-000", 16);
	snprintf(cd.subsysnqn, sizeof(cd.subsysnqn), "%s", FUZZ_NQN);
	snprintf(cd.hostnqn, sizeof(cd.hostnqn), "%s", FUZZ_HOSTNQN);
	memset(&sqe, 0, sizeof(sqe));
	cc->opcode = nvme_fabrics_command;
	cc->fctype = nvme_fabrics_type_connect;
	cc->cid = 1;
	sqe.flags = NVME_CMD_PSDT_SGL_MPTR_CONTIG;
	cc->dptr.type = NVME_SGL_ID_INCAPSULE;
	cc->dptr.length = sizeof(cd);
	cc->sqsize = 31;
	n += put_cmd(out + n, &sqe, &cd, sizeof(cd), hdgst, ddgst);

	memset(&sqe, 0, sizeof(sqe));
	ps->opcode = nvme_fabrics_command;
	ps->fctype = nvme_fabrics_type_property_set;
	ps->cid = 2;
	sqe.flags = NVME_CMD_PSDT_SGL_MPTR_CONTIG;
	ps->offset = NVME_REG_CC;
	ps->value = NVME_CC_ENABLE | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT);
	n += put_cmd(out + n, &sqe, NULL, 0, hdgst, ddgst);
	return n;
}

/* Write everything to @fd while draining what the target answers; then read to EOF. */
static void play(int fd, const uint8_t *buf, size_t len)
{
	static uint8_t sink[65536];
	size_t off = 0;
	bool eof = false;

	if (!len)
		shutdown(fd, SHUT_WR);
	while (!eof) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (off < len)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 5000) <= 0)
			die("poll: target stopped answering", ETIMEDOUT);
		if (pfd.revents & POLLOUT) {
			n = send(fd, buf + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				off += (size_t)n;
			else if (n < 0 && errno != EAGAIN)
				off = len; /* the target closed on us: fine */
			if (off == len)
				shutdown(fd, SHUT_WR);
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN))
				eof = true;
		}
	}
}

static void wait_drained(void)
{
	struct timespec ts = { .tv_nsec = 20000 };

	for (int i = 0; i < 250000; i++) {
		if (atomic_load(&tgt->nr_sqs) == 0 && atomic_load(&tgt->nr_ctrls) == 0)
			return;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "fuzz_tcp_rx: %d queues / %d controllers not freed after close\n",
		atomic_load(&tgt->nr_sqs), atomic_load(&tgt->nr_ctrls));
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[2048 + 65536];
	int sv[2];
	size_t n;

	if (!tgt)
		setup();
	if (size > 65536)
		return -1;
	n = size ? build_preamble(buf, data[0]) : 0;
	if (size > 1) {
		memcpy(buf + n, data + 1, size - 1);
		n += size - 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair", errno);
	if (nvmf_tgt_tcp_adopt_fd(tgt, port, sv[0], "fuzz") < 0)
		die("adopt", ENOMEM);
	play(sv[1], buf, n);
	close(sv[1]);
	wait_drained();
	return 0;
}
