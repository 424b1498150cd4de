// SPDX-License-Identifier: MIT
/*
 * Host reactions, over the loop transport to an embedded target:
 *  - asynchronous events: an ANA change makes the host re-read the ANA log; a namespace
 *    change makes it rescan (a namespace added on the target appears); both reach aen_cb;
 *  - passthrough filter (seed 003): Set Features KATO through passthrough is sent on a
 *    fabrics controller and the keep-alive follows ceil(cdw11 / 1000) s; on a non-fabrics
 *    controller it is refused with -EOPNOTSUPP and never reaches the controller;
 *  - command timeout: an expired command is aborted, the controller is reset, and the
 *    command completes once with -ETIMEDOUT while the controller comes back LIVE.
 */
#include "target/core.h"

#include "host/host-internal.h"
#include "nvmf/host.h"
#include "nvmf/target.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define SUBNQN "nqn.2024-01.io.nvmf:events"
#define WAIT_NS (30ull * 1000000000ull) /* a bound on waits, never a timing check */

static struct nvmf_tgt *tgt;
static struct nvmf_tgt_subsys *subsys;
static struct nvmf_tgt_port *loop_port;

struct events {
	unsigned int nr_aen;
	uint32_t last_aen;
	unsigned int transitions[NVMF_CTRL_DEAD + 1];
};

static void aen_cb(struct nvmf_host_ctrl *ctrl, uint32_t dw0, void *arg)
{
	struct events *e = arg;

	(void)ctrl;
	e->nr_aen++;
	e->last_aen = dw0;
}

static void state_cb(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state old,
		     enum nvmf_host_ctrl_state state, void *arg)
{
	struct events *e = arg;

	(void)ctrl;
	(void)old;
	e->transitions[state]++;
}

static int setup(void **state)
{
	struct nvmf_tgt_opts topts = { .nr_reactors = 1 };
	struct nvmf_tgt_subsys_params sp = { .nqn = SUBNQN, .allow_any_host = true };
	struct nvmf_tgt_ns_params ns = {
		.nsid = 1, .backend = NVMF_TGT_BACKEND_MEM, .size_bytes = 8 << 20, .enable = true
	};
	struct nvmf_tgt_port_params lp = { .portid = 1,
					   .trtype = NVMF_TRTYPE_LOOP,
					   .adrfam = NVMF_ADRFAM_LOOP };

	(void)state;
	tgt = nvmf_tgt_create(&topts);
	if (!tgt || nvmf_tgt_add_subsys(tgt, &sp, &subsys) || nvmf_tgt_subsys_add_ns(subsys, &ns) ||
	    nvmf_tgt_add_port(tgt, &lp, &loop_port) || nvmf_tgt_port_add_subsys(loop_port, subsys))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nvmf_tgt_destroy(tgt);
	return 0;
}

static struct nvmf_host_ctrl *connect_loop(struct events *e, unsigned int admin_timeout_ms)
{
	struct nvmf_host_opts o = {
		.trtype = "loop",
		.loop_tgt = tgt,
		.subnqn = SUBNQN,
		.aen_cb = aen_cb,
		.state_cb = state_cb,
		.cb_arg = e,
		.admin_timeout_ms = admin_timeout_ms,
		.reconnect_delay_s = 1,
	};
	struct nvmf_host_ctrl *ctrl = NULL;

	assert_int_equal(nvmf_host_ctrl_connect(&o, &ctrl), 0);
	memset(e->transitions, 0, sizeof(e->transitions));
	return ctrl;
}

/* The target-side controller of the (only) association. */
static struct nvmf_tgt_ctrl *target_ctrl(void)
{
	struct nvmf_tgt_ctrl *c;

	pthread_mutex_lock(&subsys->lock);
	c = subsys->ctrls;
	pthread_mutex_unlock(&subsys->lock);
	assert_non_null(c);
	return c;
}

static void poll_until(struct nvmf_host_ctrl *ctrl, const unsigned int *counter, unsigned int want)
{
	uint64_t end = nvmf_now_ns() + WAIT_NS;

	while (*counter < want && nvmf_now_ns() < end)
		nvmf_host_poll(ctrl, 10);
	assert_true(*counter >= want);
}

static uint8_t ana_state_of(struct nvmf_host_ctrl *ctrl, uint32_t nsid)
{
	struct nvmf_host_ns_info ns[8];
	size_t n = nvmf_host_ns_list(ctrl, ns, 8);

	for (size_t i = 0; i < n && i < 8; i++)
		if (ns[i].nsid == nsid)
			return ns[i].ana_state;
	fail_msg("nsid %u not listed", nsid);
	return 0;
}

static void test_aen_ana_change(void **state)
{
	struct events e = { 0 };
	struct nvmf_host_ctrl *ctrl = connect_loop(&e, 0);

	(void)state;
	assert_int_equal(ana_state_of(ctrl, 1), NVME_ANA_OPTIMIZED);
	assert_int_equal(nvmf_tgt_port_set_ana_state(loop_port, 1, NVME_ANA_NONOPTIMIZED), 0);
	nvmf_tgt_ctrl_aen(target_ctrl(), NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA, NVME_LOG_ANA);
	poll_until(ctrl, &e.nr_aen, 1);
	/* CQE dw0: type 2 (notice), info 03h (ANA change), log page 0Ch */
	assert_int_equal(e.last_aen,
			 NVME_AER_TYPE_NOTICE | (NVME_AER_NOTICE_ANA << 8) | (NVME_LOG_ANA << 16));
	/* the host read the ANA log before telling us */
	assert_int_equal(ana_state_of(ctrl, 1), NVME_ANA_NONOPTIMIZED);
	assert_int_equal(nvmf_tgt_port_set_ana_state(loop_port, 1, NVME_ANA_OPTIMIZED), 0);
	nvmf_host_ctrl_delete(ctrl);
}

static void test_aen_ns_changed(void **state)
{
	struct nvmf_tgt_ns_params ns2 = {
		.nsid = 2, .backend = NVMF_TGT_BACKEND_NULL, .size_bytes = 4 << 20, .enable = true
	};
	struct events e = { 0 };
	struct nvmf_host_ctrl *ctrl = connect_loop(&e, 0);
	struct nvmf_host_ns_info ns[4];

	(void)state;
	assert_int_equal(nvmf_host_ns_list(ctrl, ns, 4), 1);
	/* the target is not started (loop only), so a namespace can still be added */
	assert_int_equal(nvmf_tgt_subsys_add_ns(subsys, &ns2), 0);
	nvmf_tgt_ctrl_aen(target_ctrl(), NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
			  NVME_LOG_CHANGED_NS);
	poll_until(ctrl, &e.nr_aen, 1);
	assert_int_equal(e.last_aen, NVME_AER_TYPE_NOTICE | (NVME_AER_NOTICE_NS_CHANGED << 8) |
					     (NVME_LOG_CHANGED_NS << 16));
	/* rescanned: the new namespace is there, with its size */
	assert_int_equal(nvmf_host_ns_list(ctrl, ns, 4), 2);
	assert_int_equal(ns[1].nsid, 2);
	assert_int_equal(ns[1].nsze, (4u << 20) >> 9);
	/* and the AER is outstanding again: a second event arrives too */
	nvmf_tgt_ctrl_aen(target_ctrl(), NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA, NVME_LOG_ANA);
	poll_until(ctrl, &e.nr_aen, 2);
	nvmf_host_ctrl_delete(ctrl);
}

static void test_passthru_kato_fabrics(void **state)
{
	struct events e = { 0 };
	struct nvmf_host_ctrl *ctrl = connect_loop(&e, 0);
	struct nvme_sqe c = { .opcode = nvme_admin_set_features };

	(void)state;
	assert_int_equal(ctrl->kato_ms, 5000);
	c.cdw10 = NVME_FEAT_KATO;
	c.cdw11 = 2500; /* ms */
	assert_int_equal(nvmf_host_passthru(ctrl, true, &c, NULL, 0, 0, NULL), 0);
	/* the controller took 2500 ms; the host keeps alive for ceil(2500 / 1000) = 3 s */
	assert_int_equal(target_ctrl()->kato_ms, 2500);
	assert_int_equal(ctrl->kato_ms, 3000);
	assert_true(ctrl->ka_interval_ms > 0 && ctrl->ka_interval_ms <= 1500);
	nvmf_host_ctrl_delete(ctrl);
}

static void test_passthru_kato_non_fabrics(void **state)
{
	struct events e = { 0 };
	struct nvmf_host_ctrl *ctrl = connect_loop(&e, 0);
	struct nvmf_host_transport_ops pcie_like = *ctrl->ops;
	const struct nvmf_host_transport_ops *real = ctrl->ops;
	struct nvme_sqe c = { .opcode = nvme_admin_set_features };
	uint32_t target_kato = target_ctrl()->kato_ms;

	(void)state;
	/* the filter decides on the transport's kind: present a non-fabrics one */
	pcie_like.fabrics = false;
	ctrl->ops = &pcie_like;
	c.cdw10 = NVME_FEAT_KATO;
	c.cdw11 = 2500;
	assert_int_equal(nvmf_host_passthru(ctrl, true, &c, NULL, 0, 0, NULL), -EOPNOTSUPP);
	/* refused before sending: neither side changed */
	assert_int_equal(target_ctrl()->kato_ms, target_kato);
	assert_int_equal(ctrl->kato_ms, 5000);
	/* other features still pass */
	c.cdw10 = NVME_FEAT_VOLATILE_WC;
	c.cdw11 = 1;
	assert_int_equal(nvmf_host_passthru(ctrl, true, &c, NULL, 0, 0, NULL), 0);
	ctrl->ops = real;
	nvmf_host_ctrl_delete(ctrl);
}

struct done {
	unsigned int calls;
	int status;
};

static void done_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct done *d = arg;

	(void)cqe;
	d->calls++;
	d->status = status;
}

static void test_command_timeout(void **state)
{
	struct events e = { 0 };
	struct nvmf_host_ctrl *ctrl = connect_loop(&e, 300);
	struct nvme_sqe aer = { .opcode = nvme_admin_async_event };
	struct done d = { 0 };
	uint64_t end;

	(void)state;
	/* an AER completes only on an event: sent as a user command, it can only time out */
	assert_int_equal(nvmf_host_submit_admin(ctrl, &aer, NULL, 0, done_cb, &d), 0);
	poll_until(ctrl, &d.calls, 1);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, -ETIMEDOUT);
	/* the controller was reset and came back */
	poll_until(ctrl, &e.transitions[NVMF_CTRL_LIVE], 1);
	assert_true(e.transitions[NVMF_CTRL_RESETTING] >= 1);
	assert_int_equal(nvmf_host_ctrl_get_state(ctrl), NVMF_CTRL_LIVE);
	/* completed exactly once, also after the reset */
	end = nvmf_now_ns() + 500000000ull;
	while (nvmf_now_ns() < end)
		nvmf_host_poll(ctrl, 10);
	assert_int_equal(d.calls, 1);
	nvmf_host_ctrl_delete(ctrl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aen_ana_change),
		cmocka_unit_test(test_passthru_kato_fabrics),
		cmocka_unit_test(test_passthru_kato_non_fabrics),
		cmocka_unit_test(test_command_timeout),
		cmocka_unit_test(test_aen_ns_changed),
	};

	return cmocka_run_group_tests_name("host events", tests, setup, teardown);
}
