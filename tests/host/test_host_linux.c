// SPDX-License-Identifier: MIT
/*
 * The host library against the reference target: the Linux kernel's nvmet-tcp, in a QEMU
 * guest, started by tests/interop/host-linux.sh (through tests/interop/linux-target.sh).
 *
 * Where the target is: NVMF_LINUX_TARGET (I/O port, "127.0.0.1:14420"), NVMF_LINUX_DISC
 * (discovery port, "127.0.0.1:18009"), NVMF_LINUX_NQN (default
 * nqn.2014-08.org.nvmexpress:nvmf-default), NVMF_LINUX_MODEL (the subsystem's attr_model,
 * default the "nvmf-interop-selftest" that guest-tests.sh sets) and NVMF_LINUX_KERNEL
 * ("6.1", "6.12": checked against the FR that nvmet fills from the kernel release; optional).
 * Without NVMF_LINUX_TARGET and NVMF_LINUX_DISC the test fails: it has no other target.
 *
 * Cases: the discovery log on both ports (header first, then the entries, as nvme-cli reads
 * it); connect, Identify Controller/Namespace, the active namespace list, polled and
 * threaded; I/O read back byte for byte at 4 KiB (in-capsule), 128 KiB and 1 MiB (R2T), with
 * and without header and data digests, Flush, Write Zeroes, a read past the end; keep-alive
 * with KATO 2 s across 3 x KATO of idleness, and the control that shows nvmet does drop a
 * host that stays silent; a reset with 32 writes in flight, each completing once and
 * successfully.
 *
 * nvmet facts the cases rely on (drivers/nvme/target):
 * - A port's discovery log lists the subsystems linked to that port with that port's own
 *   TRSVCID (discovery.c, nvmet_format_discovery_entry()), after an entry for the current
 *   discovery subsystem (subtype 3). The guest's nvmet listens on 4420 and 8009, so the
 *   entries say "4420" or "8009" whatever host ports QEMU forwards to them.
 * - The Connect's KATO is rounded up to whole seconds (DIV_ROUND_UP(kato, 1000)) and Get
 *   Features KATO reports kato * 1000.
 * - nvmet_set_error() sets the More bit on every error status.
 * - A file namespace zeroes with fallocate(FALLOC_FL_ZERO_RANGE), which ramfs (where
 *   linux-target.sh keeps the namespace) lacks: Write Zeroes fails with -EOPNOTSUPP mapped
 *   by errno_to_nvme_status() to Linux's ONCS_NOT_SUPPORTED (0x183, 6.1) or Invalid Opcode
 *   (6.12), with DNR.
 * - A file namespace checks reads against the byte size and answers -ENOSPC: Capacity
 *   Exceeded, not LBA Out of Range (io-cmd-file.c, nvmet_file_execute_io()).
 */
#include "host/ctrl.h"
#include "host/host-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "host_test_util.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6c1f0a3e-8d2b-4f57-9a41-3e5b7c9d0f12"
#define DEFAULT_NQN "nqn.2014-08.org.nvmexpress:nvmf-default"
#define DEFAULT_MODEL "nvmf-interop-selftest"
/* the ports nvmet listens on inside the guest: what its discovery log entries carry */
#define GUEST_IO_TRSVCID "4420"
#define GUEST_DISC_TRSVCID "8009"
#define KATO_MS 2000
/* nvmet_set_error() sets More on every error status: an Error Information log entry waits */
#define NVMET_MORE NVME_STATUS_MORE
/* Linux's NVME_SC_ONCS_NOT_SUPPORTED (0x183), which nvmet used until 6.12's cleanup */
#define NVMET_SC_ONCS_NOT_SUPPORTED_OLD 0x183
#define GUARD 64
#define NSID 1

static const uint8_t hostid[16] = { 0x6c, 0x1f, 0x0a, 0x3e, 0x8d, 0x2b, 0x4f, 0x57,
				    0x9a, 0x41, 0x3e, 0x5b, 0x7c, 0x9d, 0x0f, 0x12 };

static struct {
	char addr[256], port[32];   /* I/O port */
	char daddr[256], dport[32]; /* discovery port */
	const char *nqn;
	const char *model;
	const char *kernel;
} tgt;

static void *zalloc_aligned(size_t len)
{
	void *p = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);

	assert_non_null(p);
	memset(p, 0, len);
	return p;
}

/* "host:port" or "[v6]:port" into @host and @port; false if malformed. */
static bool split_addr(const char *s, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;
	size_t n;

	if (!s || !*s)
		return false;
	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return false;
		n = (size_t)(end - s - 1);
		colon = end + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return false;
		n = (size_t)(colon - s);
	}
	if (!n || n >= hlen || !colon[1] || strlen(colon + 1) >= plen)
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	snprintf(port, plen, "%s", colon + 1);
	return true;
}

/* A fixed-width, space- or NUL-padded ASCII field as a C string. */
static void field_str(char *out, size_t outlen, const char *field, size_t len)
{
	size_t n = len < outlen - 1 ? len : outlen - 1;

	memcpy(out, field, n);
	out[n] = '\0';
	while (n && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		out[--n] = '\0';
}

static void opts_init(struct nvmf_host_opts *o, bool disc_port, const char *subnqn, bool threaded)
{
	memset(o, 0, sizeof(*o));
	o->trtype = "tcp";
	o->traddr = disc_port ? tgt.daddr : tgt.addr;
	o->trsvcid = disc_port ? tgt.dport : tgt.port;
	o->subnqn = subnqn;
	o->hostnqn = HOSTNQN;
	o->hostid = hostid;
	o->threaded = threaded;
	if (strcmp(subnqn, NVME_DISC_SUBSYS_NAME)) {
		o->nr_io_queues = 2;
		o->queue_size = 64;
	}
	/* a reset reconnects at once; a failing reconnect retries each second, not each 10 */
	o->reconnect_delay_s = 1;
	o->ctrl_loss_tmo_s = 60;
}

static struct nvmf_host_ctrl *connect_subsys(bool threaded, int kato_ms,
					     void (*state_cb)(struct nvmf_host_ctrl *,
							      enum nvmf_host_ctrl_state,
							      enum nvmf_host_ctrl_state, void *),
					     void *cb_arg)
{
	struct nvmf_host_opts o;
	struct nvmf_host_ctrl *ctrl = NULL;
	int ret;

	opts_init(&o, false, tgt.nqn, threaded);
	o.kato_ms = kato_ms;
	o.state_cb = state_cb;
	o.cb_arg = cb_arg;
	ret = nvmf_host_ctrl_connect(&o, &ctrl);
	if (ret)
		fail_msg("connect %s at %s:%s: %d", tgt.nqn, tgt.addr, tgt.port, ret);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	return ctrl;
}

static uint8_t ns_lba_shift(struct nvmf_host_ctrl *ctrl, uint64_t *nsze)
{
	struct nvmf_host_ns_info ns[4];

	assert_int_equal(nvmf_host_ns_list(ctrl, ns, 4), 1);
	assert_int_equal(ns[0].nsid, NSID);
	if (nsze)
		*nsze = ns[0].nsze;
	return ns[0].lba_shift;
}

/* Write @len bytes at @slba, read them into another buffer, compare; guard the tail. */
static void roundtrip(struct nvmf_host_ctrl *ctrl, uint64_t slba, uint32_t len, uint32_t seed)
{
	uint8_t shift = ns_lba_shift(ctrl, NULL);
	uint8_t *wbuf = zalloc_aligned(len), *rbuf = zalloc_aligned(len + GUARD);
	uint32_t nlb = len >> shift;
	int ret;

	fill(wbuf, len, seed);
	memset(rbuf, 0x5a, len + GUARD);
	ret = nvmf_host_write(ctrl, NSID, slba, nlb, wbuf, false);
	if (ret)
		fail_msg("write %u bytes at lba %llu: %d (0x%x)", len, (unsigned long long)slba,
			 ret, ret);
	ret = nvmf_host_read(ctrl, NSID, slba, nlb, rbuf);
	if (ret)
		fail_msg("read %u bytes at lba %llu: %d (0x%x)", len, (unsigned long long)slba, ret,
			 ret);
	assert_memory_equal(wbuf, rbuf, len);
	for (unsigned int i = 0; i < GUARD; i++)
		assert_int_equal(rbuf[len + i], 0x5a);
	free(wbuf);
	free(rbuf);
}

/* ------------------------------------------------------------------------------------------
 * Discovery
 */

/*
 * Connect to the discovery subsystem at @addr:@port, read the log as nvme-cli does (the
 * header, then header + NUMREC entries, checking GENCTR did not move) and find tgt.nqn,
 * listed with @want_trsvcid.
 */
static void discover(bool disc_port, const char *want_trsvcid)
{
	struct nvmf_host_opts o;
	struct nvmf_host_ctrl *ctrl = NULL;
	struct nvmf_disc_rsp_page_hdr *hdr, *log;
	const struct nvme_id_ctrl *id;
	char s[NVME_NQN_FIELD_LEN + 1];
	uint64_t genctr, numrec;
	uint32_t len;
	int found = 0, ret;

	opts_init(&o, disc_port, NVME_DISC_SUBSYS_NAME, false);
	ret = nvmf_host_ctrl_connect(&o, &ctrl);
	if (ret)
		fail_msg("connect to discovery at %s:%s: %d", o.traddr, o.trsvcid, ret);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_ctrl_nr_io_queues(ctrl), 0);
	id = nvmf_host_ctrl_id(ctrl);
	assert_int_equal(id->cntrltype, NVME_CTRL_TYPE_DISC);
	field_str(s, sizeof(s), id->subnqn, sizeof(id->subnqn));
	assert_string_equal(s, NVME_DISC_SUBSYS_NAME);
	/* nvmet's discovery controllers report no keep-alive unless asked: none was */
	assert_int_equal(ctrl->kato_ms, 0);

	hdr = zalloc_aligned(sizeof(*hdr));
	assert_int_equal(nvmf_host_get_log(ctrl, NVME_LOG_DISC, 0, 0, 0, false, hdr, sizeof(*hdr)),
			 0);
	genctr = hdr->genctr;
	numrec = hdr->numrec;
	assert_int_equal(hdr->recfmt, 0);
	assert_true(numrec >= 1 && numrec <= 64);
	len = (uint32_t)(numrec + 1) * sizeof(struct nvmf_disc_log_entry);
	log = zalloc_aligned(len);
	assert_int_equal(nvmf_host_get_log(ctrl, NVME_LOG_DISC, 0, 0, 0, false, log, len), 0);
	assert_int_equal(log->genctr, genctr);
	assert_int_equal(log->numrec, numrec);

	for (uint64_t i = 0; i < numrec; i++) {
		const struct nvmf_disc_log_entry *e = &log->entries[i];
		char svc[33], addr[257];
		struct in_addr in;

		field_str(s, sizeof(s), e->subnqn, sizeof(e->subnqn));
		field_str(svc, sizeof(svc), e->trsvcid, sizeof(e->trsvcid));
		field_str(addr, sizeof(addr), e->traddr, sizeof(e->traddr));
		print_message(
			"  %s:%s entry %llu: subtype %u trtype %u adrfam %u traddr %s trsvcid %s "
			"subnqn %s\n",
			o.traddr, o.trsvcid, (unsigned long long)i, e->subtype, e->trtype,
			e->adrfam, addr, svc, s);
		if (e->subtype != NVME_NQN_NVME || strcmp(s, tgt.nqn))
			continue;
		found++;
		assert_int_equal(e->trtype, NVMF_TRTYPE_TCP);
		assert_int_equal(e->adrfam, NVMF_ADRFAM_IPV4);
		assert_string_equal(svc, want_trsvcid);
		/* nvmet listens on 0.0.0.0 and reports the address the host reached it at */
		assert_int_equal(inet_pton(AF_INET, addr, &in), 1);
		assert_true(in.s_addr != htonl(INADDR_ANY));
		assert_int_equal(e->cntlid, NVME_CNTLID_DYNAMIC);
		assert_int_equal(e->tsas.tcp.sectype, NVMF_TCP_SECTYPE_NONE);
	}
	assert_int_equal(found, 1);
	free(log);
	free(hdr);
	nvmf_host_ctrl_delete(ctrl);
}

static void test_discovery_disc_port(void **state)
{
	(void)state;
	discover(true, GUEST_DISC_TRSVCID);
}

static void test_discovery_io_port(void **state)
{
	(void)state;
	discover(false, GUEST_IO_TRSVCID);
}

/* ------------------------------------------------------------------------------------------
 * Connect and identify
 */

static void check_identify(struct nvmf_host_ctrl *ctrl)
{
	const struct nvme_id_ctrl *cached = nvmf_host_ctrl_id(ctrl);
	struct nvme_id_ctrl *id = zalloc_aligned(sizeof(*id));
	struct nvme_id_ns *ns = zalloc_aligned(sizeof(*ns));
	uint32_t *list = zalloc_aligned(4096);
	struct nvmf_host_ns_info info[4];
	char s[NVME_NQN_FIELD_LEN + 1], mn[41];
	uint8_t ds;

	assert_int_equal(nvmf_host_identify(ctrl, NVME_ID_CNS_CTRL, 0, 0, id), 0);
	assert_int_equal(id->cntrltype, NVME_CTRL_TYPE_IO);
	field_str(s, sizeof(s), id->subnqn, sizeof(id->subnqn));
	assert_string_equal(s, tgt.nqn);
	field_str(mn, sizeof(mn), id->mn, sizeof(id->mn));
	field_str(s, sizeof(s), id->sn, sizeof(id->sn));
	assert_true(s[0]);
	field_str(s, sizeof(s), id->fr, sizeof(id->fr));
	print_message("  cntlid %u mn '%s' fr '%s' ver 0x%x mdts %u ioccsz %u kas %u ctratt 0x%x\n",
		      id->cntlid, mn, s, id->ver, id->mdts, id->ioccsz, id->kas, id->ctratt);
	assert_string_equal(mn, tgt.model);
	/* nvmet puts the kernel release into FR: "6.1.0-56", "6.12.57+" */
	if (tgt.kernel) {
		size_t n = strlen(tgt.kernel);

		assert_memory_equal(s, tgt.kernel, n);
		assert_true(s[n] == '.' || s[n] == '-' || s[n] == '+' || s[n] == '\0');
	}
	assert_int_equal(id->cntlid, nvmf_host_ctrl_cntlid(ctrl));
	assert_memory_equal(id->sn, cached->sn, sizeof(id->sn));
	assert_memory_equal(id->subnqn, cached->subnqn, sizeof(id->subnqn));
	assert_true(id->ver >= 0x10300);
	assert_int_equal(id->ver, ctrl->vs);
	assert_int_equal(id->sqes, 0x66);
	assert_int_equal(id->cqes, 0x44);
	assert_true(id->nn >= 1);
	assert_true(id->sgls & 1);
	assert_int_equal(id->iorcsz, 1);
	/* room for 4 KiB inside the capsule: that size goes in-capsule below */
	assert_true(id->ioccsz >= 4 + 4096 / 16);
	assert_true(ctrl->ioq[1]->icd_max >= 4096);

	/* the active namespace list: NSID 1, then the zero that ends it */
	assert_int_equal(nvmf_host_identify(ctrl, NVME_ID_CNS_NS_ACTIVE_LIST, 0, 0, list), 0);
	assert_int_equal(list[0], NSID);
	assert_int_equal(list[1], 0);
	assert_int_equal(nvmf_host_ns_list(ctrl, info, 4), 1);
	assert_int_equal(info[0].nsid, NSID);

	assert_int_equal(nvmf_host_identify(ctrl, NVME_ID_CNS_NS, NSID, 0, ns), 0);
	ds = ns->lbaf[ns->flbas & 0xf].ds;
	print_message("  ns %u: nsze %llu ncap %llu nuse %llu lba %u bytes\n", NSID,
		      (unsigned long long)ns->nsze, (unsigned long long)ns->ncap,
		      (unsigned long long)ns->nuse, 1u << ds);
	assert_true(ns->nsze > 0);
	assert_true(ns->ncap > 0 && ns->ncap <= ns->nsze);
	assert_true(ns->nuse <= ns->ncap);
	assert_true(ds >= 9 && ds <= 16);
	assert_int_equal(info[0].nsze, ns->nsze);
	assert_int_equal(info[0].lba_shift, ds);
	free(list);
	free(ns);
	free(id);
}

static void connect_identify(bool threaded)
{
	struct nvmf_host_ctrl *ctrl = connect_subsys(threaded, 0, NULL, NULL);
	uint32_t kato = 0;

	assert_true(nvmf_host_ctrl_nr_io_queues(ctrl) >= 1);
	assert_true(nvmf_host_ctrl_cntlid(ctrl) != 0 &&
		    nvmf_host_ctrl_cntlid(ctrl) < NVME_CNTLID_DYNAMIC);
	check_identify(ctrl);
	/* the default KATO (5 s, as Linux) went out in Connect and nvmet took it */
	assert_int_equal(nvmf_host_get_feature(ctrl, NVME_FEAT_KATO, 0, 0, 0, NULL, 0, &kato), 0);
	assert_int_equal(kato, 5000);
	roundtrip(ctrl, 64, 128 * 1024, threaded ? 21 : 22);
	nvmf_host_ctrl_delete(ctrl);
}

static void test_connect_identify_polled(void **state)
{
	(void)state;
	connect_identify(false);
}

static void test_connect_identify_threaded(void **state)
{
	(void)state;
	connect_identify(true);
}

/* ------------------------------------------------------------------------------------------
 * I/O with verification
 */

static void test_io_verify(void **state)
{
	static const uint32_t sizes[] = { 4096, 128 * 1024, 1024 * 1024 };
	struct nvmf_host_ctrl *ctrl = connect_subsys(false, 0, NULL, NULL);
	const struct nvme_id_ctrl *id = nvmf_host_ctrl_id(ctrl);
	uint64_t cap = nvmf_host_ctrl_cap(ctrl), nsze, max_xfer;
	uint8_t shift = ns_lba_shift(ctrl, &nsze);
	unsigned int mpsmin = (unsigned int)((cap >> 48) & 0xf);
	uint32_t seed = 1;
	uint8_t *buf, *rbuf;
	int ret;

	/* MDTS is in units of the minimum memory page size, CAP.MPSMIN (4 KiB << MPSMIN) */
	max_xfer = id->mdts ? (4096ull << mpsmin) << id->mdts : UINT64_MAX;
	print_message("  mdts %u mpsmin %u: max transfer %llu, nsze %llu, lba %u bytes\n", id->mdts,
		      mpsmin, (unsigned long long)max_xfer, (unsigned long long)nsze, 1u << shift);
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t nlb = sizes[i] >> shift;
		/* the start, the middle and the very end of the namespace */
		uint64_t lbas[3] = { i * 4096, nsze / 2 + i * 4096, nsze - nlb };

		if (sizes[i] > max_xfer) {
			print_message("  %u bytes exceed MDTS: not sent\n", sizes[i]);
			continue;
		}
		for (unsigned int j = 0; j < 3; j++)
			roundtrip(ctrl, lbas[j], sizes[i], seed++);
	}
	assert_true(max_xfer >= 1024 * 1024 || id->mdts);

	assert_int_equal(nvmf_host_flush(ctrl, NSID), 0);

	/* Write Zeroes over a written pattern: zeros, or nvmet's answer for ramfs, unchanged */
	buf = zalloc_aligned(64 * 1024);
	rbuf = zalloc_aligned(64 * 1024);
	fill(buf, 64 * 1024, 77);
	assert_int_equal(nvmf_host_write(ctrl, NSID, 12288, (64 * 1024) >> shift, buf, false), 0);
	ret = nvmf_host_write_zeroes(ctrl, NSID, 12288, (64 * 1024) >> shift, false);
	assert_int_equal(nvmf_host_read(ctrl, NSID, 12288, (64 * 1024) >> shift, rbuf), 0);
	if (ret == 0) {
		memset(buf, 0, 64 * 1024);
		assert_memory_equal(rbuf, buf, 64 * 1024);
	} else {
		print_message("  write zeroes: status 0x%x (file namespace without "
			      "FALLOC_FL_ZERO_RANGE)\n",
			      ret);
		assert_true(
			ret == (NVMET_SC_ONCS_NOT_SUPPORTED_OLD | NVME_STATUS_DNR | NVMET_MORE) ||
			ret == (NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR | NVMET_MORE));
		assert_memory_equal(rbuf, buf, 64 * 1024);
	}

	/*
	 * Past the end. nvmet's file backend checks the byte range, not the LBA range, and
	 * answers -ENOSPC through errno_to_nvme_status(): Capacity Exceeded, not the LBA Out
	 * of Range the NVM Command Set asks for (io-cmd-file.c, nvmet_file_execute_io()).
	 */
	assert_int_equal(nvmf_host_read(ctrl, NSID, nsze, 1, rbuf),
			 NVME_SC_CAP_EXCEEDED | NVME_STATUS_DNR | NVMET_MORE);
	/* and the controller goes on */
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	roundtrip(ctrl, 100, 4096, 99);
	free(buf);
	free(rbuf);
	nvmf_host_ctrl_delete(ctrl);
}

/*
 * Header and data digests (NVMe/TCP 1.0c 3.6.2.2): the connect succeeds only if nvmet's
 * ICResp grants both (the library refuses any other answer), and the data reads back.
 */
static void test_io_digests(void **state)
{
	struct nvmf_host_opts o;
	struct nvmf_host_ctrl *ctrl = NULL;
	int ret;

	(void)state;
	opts_init(&o, false, tgt.nqn, true);
	o.hdgst = o.ddgst = true;
	ret = nvmf_host_ctrl_connect(&o, &ctrl);
	if (ret)
		fail_msg("connect with digests: %d", ret);
	roundtrip(ctrl, 600, 4096, 51);
	roundtrip(ctrl, 700, 128 * 1024, 52);
	roundtrip(ctrl, 1000, 1024 * 1024, 53);
	nvmf_host_ctrl_delete(ctrl);
}

/* ------------------------------------------------------------------------------------------
 * Keep-alive
 */

struct states {
	_Atomic int n;
	enum nvmf_host_ctrl_state from[64], to[64];
};

static void state_cb(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state old,
		     enum nvmf_host_ctrl_state state, void *arg)
{
	struct states *s = arg;
	int n = atomic_load(&s->n);

	(void)ctrl;
	if (n < 64) {
		s->from[n] = old;
		s->to[n] = state;
		atomic_store(&s->n, n + 1);
	}
}

/* @from -> @to among the state changes from the @since-th on */
static bool saw(struct states *s, int since, enum nvmf_host_ctrl_state from,
		enum nvmf_host_ctrl_state to)
{
	int n = atomic_load(&s->n);

	for (int i = since; i < n; i++)
		if (s->from[i] == from && s->to[i] == to)
			return true;
	return false;
}

/*
 * KATO 2 s; 6.5 s (more than 3 x KATO) of nothing but polling: the library's keep-alives
 * keep the association, the same cntlid, LIVE at every poll, and I/O works afterwards.
 */
static void test_keep_alive(void **state)
{
	struct states st = { 0 };
	struct nvmf_host_ctrl *ctrl;
	uint32_t kato = 0;
	uint16_t cntlid;
	uint64_t deadline;
	int base;

	(void)state;
	ctrl = connect_subsys(false, KATO_MS, state_cb, &st);
	cntlid = nvmf_host_ctrl_cntlid(ctrl);
	assert_int_equal(nvmf_host_get_feature(ctrl, NVME_FEAT_KATO, 0, 0, 0, NULL, 0, &kato), 0);
	assert_int_equal(kato, KATO_MS);
	assert_true(ctrl->ka_interval_ms > 0 && ctrl->ka_interval_ms <= KATO_MS / 2);
	base = atomic_load(&st.n);
	deadline = now_ms() + 3 * KATO_MS + 500;
	while (now_ms() < deadline) {
		assert_int_equal(nvmf_host_poll(ctrl, 20), 0);
		assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	}
	assert_int_equal(atomic_load(&st.n), base);
	assert_int_equal(nvmf_host_ctrl_cntlid(ctrl), cntlid);
	/* the same controller on the target: Identify reports the cntlid of the Connect */
	{
		struct nvme_id_ctrl *id = zalloc_aligned(sizeof(*id));

		assert_int_equal(nvmf_host_identify(ctrl, NVME_ID_CNS_CTRL, 0, 0, id), 0);
		assert_int_equal(id->cntlid, cntlid);
		free(id);
	}
	roundtrip(ctrl, 300, 4096, 31);
	roundtrip(ctrl, 400, 128 * 1024, 32);
	assert_int_equal(atomic_load(&st.n), base);
	nvmf_host_ctrl_delete(ctrl);
}

/*
 * The control of the case above: the same controller not polled (no keep-alive goes out)
 * for 3 x KATO is dropped by nvmet, which the host finds at its next poll and recovers
 * from by a reset and a new association.
 */
static void test_keep_alive_silent_host_dropped(void **state)
{
	struct states st = { 0 };
	struct nvmf_host_ctrl *ctrl;
	struct timespec ts = { .tv_sec = 3 * KATO_MS / 1000, .tv_nsec = 500000000 };
	uint64_t deadline;
	int base;

	(void)state;
	ctrl = connect_subsys(false, KATO_MS, state_cb, &st);
	base = atomic_load(&st.n);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	deadline = now_ms() + 30000;
	while (now_ms() < deadline && !(saw(&st, base, NVMF_CTRL_CONNECTING, NVMF_CTRL_LIVE) &&
					nvmf_host_ctrl_get_state(ctrl) == NVMF_CTRL_LIVE))
		nvmf_host_poll(ctrl, 20);
	assert_true(saw(&st, base, NVMF_CTRL_LIVE, NVMF_CTRL_RESETTING));
	assert_true(saw(&st, base, NVMF_CTRL_RESETTING, NVMF_CTRL_CONNECTING));
	assert_true(saw(&st, base, NVMF_CTRL_CONNECTING, NVMF_CTRL_LIVE));
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	roundtrip(ctrl, 500, 4096, 41);
	nvmf_host_ctrl_delete(ctrl);
}

/* ------------------------------------------------------------------------------------------
 * Reset under I/O
 */

struct async_ctx {
	_Atomic int calls;
	_Atomic int status;
};

static void async_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct async_ctx *c = arg;

	(void)cqe;
	atomic_store(&c->status, status);
	atomic_fetch_add(&c->calls, 1);
}

/* Commands the transport holds on the I/O queues (run on the reactor thread) */
static int io_in_flight(struct nvmf_host_ctrl *ctrl)
{
	int n = 0;

	for (unsigned int q = 1; q <= ctrl->nr_io_queues; q++)
		n += (int)ctrl->ioq[q]->nr_sent;
	return n;
}

/*
 * 32 writes (4 KiB in-capsule, 64 KiB and 128 KiB through R2T) in flight on a threaded
 * controller when nvmf_host_ctrl_reset() comes: each callback runs once, with status 0
 * (the library parks what the reset cut off and sends it again on the new association),
 * the controller is LIVE again, and every write reads back.
 */
static void test_reset_under_io(void **state)
{
	enum { NR = 32 };
	static const uint32_t sizes[] = { 4096, 65536, 131072 };
	struct states st = { 0 };
	struct async_ctx c[NR];
	uint8_t *w[NR];
	struct nvmf_host_ctrl *ctrl;
	unsigned int nq;
	uint8_t shift;
	uint64_t deadline;
	int base, done_before = 0, in_flight;
	bool all;

	(void)state;
	ctrl = connect_subsys(true, 0, state_cb, &st);
	base = atomic_load(&st.n);
	nq = nvmf_host_ctrl_nr_io_queues(ctrl);
	shift = ns_lba_shift(ctrl, NULL);
	for (int i = 0; i < NR; i++) {
		uint32_t len = sizes[i % 3];
		uint64_t slba = 16384 + (uint64_t)i * (131072 >> shift);
		struct nvme_sqe cmd = { .opcode = nvme_cmd_write, .nsid = NSID };

		atomic_init(&c[i].calls, 0);
		atomic_init(&c[i].status, -1);
		w[i] = zalloc_aligned(len);
		fill(w[i], len, 1000 + (uint32_t)i);
		cmd.cdw10 = (uint32_t)slba;
		cmd.cdw11 = (uint32_t)(slba >> 32);
		cmd.cdw12 = (len >> shift) - 1;
		assert_int_equal(nvmf_host_submit_io(ctrl, (uint16_t)(1 + i % nq), &cmd, w[i], len,
						     async_cb, &c[i]),
				 0);
	}
	/* the first completions in, the rest on the wire: reset now */
	deadline = now_ms() + 5000;
	while (!atomic_load(&c[0].calls) && now_ms() < deadline)
		usleep(1000);
	in_flight = nvmf_host_call(ctrl, io_in_flight);
	assert_int_equal(nvmf_host_ctrl_reset(ctrl), 0);
	for (int i = 0; i < NR; i++)
		done_before += atomic_load(&c[i].calls) > 0;
	print_message("  reset with %d of %d writes on the wire, %d completed\n", in_flight, NR,
		      done_before);
	/* else nothing was cut off by the reset, and the case proves nothing */
	assert_true(in_flight > 0);
	assert_true(done_before < NR);

	deadline = now_ms() + 60000;
	do {
		all = nvmf_host_ctrl_get_state(ctrl) == NVMF_CTRL_LIVE;
		for (int i = 0; i < NR && all; i++)
			all = atomic_load(&c[i].calls) > 0;
		if (!all)
			usleep(10000);
	} while (!all && now_ms() < deadline);
	/* exactly once: nothing more comes later */
	usleep(500000);
	for (int i = 0; i < NR; i++) {
		if (atomic_load(&c[i].calls) != 1 || atomic_load(&c[i].status) != 0)
			fail_msg("write %d: %d callbacks, status %d", i, atomic_load(&c[i].calls),
				 atomic_load(&c[i].status));
	}
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	assert_true(saw(&st, base, NVMF_CTRL_LIVE, NVMF_CTRL_RESETTING));
	assert_true(saw(&st, base, NVMF_CTRL_RESETTING, NVMF_CTRL_CONNECTING));
	assert_true(saw(&st, base, NVMF_CTRL_CONNECTING, NVMF_CTRL_LIVE));

	for (int i = 0; i < NR; i++) {
		uint32_t len = sizes[i % 3];
		uint64_t slba = 16384 + (uint64_t)i * (131072 >> shift);
		uint8_t *r = zalloc_aligned(len);

		assert_int_equal(nvmf_host_read(ctrl, NSID, slba, len >> shift, r), 0);
		assert_memory_equal(w[i], r, len);
		free(r);
		free(w[i]);
	}
	nvmf_host_ctrl_delete(ctrl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discovery_disc_port),
		cmocka_unit_test(test_discovery_io_port),
		cmocka_unit_test(test_connect_identify_polled),
		cmocka_unit_test(test_connect_identify_threaded),
		cmocka_unit_test(test_io_verify),
		cmocka_unit_test(test_io_digests),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_keep_alive_silent_host_dropped),
		cmocka_unit_test(test_reset_under_io),
	};
	const char *io = getenv("NVMF_LINUX_TARGET"), *disc = getenv("NVMF_LINUX_DISC");

	if (!split_addr(io, tgt.addr, sizeof(tgt.addr), tgt.port, sizeof(tgt.port)) ||
	    !split_addr(disc, tgt.daddr, sizeof(tgt.daddr), tgt.dport, sizeof(tgt.dport))) {
		fprintf(stderr,
			"test_host_linux: FAILED: NVMF_LINUX_TARGET='%s' NVMF_LINUX_DISC='%s': "
			"both "
			"must be HOST:PORT of a Linux nvmet (run tests/interop/host-linux.sh)\n",
			io ? io : "", disc ? disc : "");
		return 1;
	}
	tgt.nqn = getenv("NVMF_LINUX_NQN") && *getenv("NVMF_LINUX_NQN") ? getenv("NVMF_LINUX_NQN")
									: DEFAULT_NQN;
	tgt.model = getenv("NVMF_LINUX_MODEL") && *getenv("NVMF_LINUX_MODEL")
			    ? getenv("NVMF_LINUX_MODEL")
			    : DEFAULT_MODEL;
	tgt.kernel = getenv("NVMF_LINUX_KERNEL") && *getenv("NVMF_LINUX_KERNEL")
			     ? getenv("NVMF_LINUX_KERNEL")
			     : NULL;
	fprintf(stderr, "test_host_linux: %s at %s:%s, discovery at %s:%s\n", tgt.nqn, tgt.addr,
		tgt.port, tgt.daddr, tgt.dport);
	return cmocka_run_group_tests_name("host against Linux nvmet-tcp", tests, NULL, NULL);
}
