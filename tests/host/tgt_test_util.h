/* SPDX-License-Identifier: MIT */
/*
 * What the tests of the host library read back from an embedded target (test_seed.c,
 * test_vfio_user.c): its controllers and fault rules as nvmf_tgt_ctrl_list() and
 * nvmf_tgt_fault_list() give them, the host controller's counters, and waiting on a
 * controller. Static inline: each test binary takes what it uses. Include after <cmocka.h>
 * and host_test_util.h (now_ms()).
 */
#ifndef NVMF_TGT_TEST_UTIL_H
#define NVMF_TGT_TEST_UTIL_H

#include "nvmf/host.h"
#include "nvmf/target.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

/* Run @cond until it holds or @ms passed, polling @pc (a polled controller) or sleeping. */
#define WAIT_FOR(pc, ms, cond)                                                                     \
	do {                                                                                       \
		uint64_t until_ = now_ms() + (ms);                                                 \
		while (!(cond) && now_ms() < until_) {                                             \
			if (pc)                                                                    \
				nvmf_host_poll((pc), 5);                                           \
			else                                                                       \
				usleep(1000);                                                      \
		}                                                                                  \
	} while (0)

/* Poll @pc (or sleep, for a threaded controller) for @ms. */
static inline void pass_time(struct nvmf_host_ctrl *pc, uint64_t ms)
{
	uint64_t until = now_ms() + ms;

	while (now_ms() < until) {
		if (pc)
			nvmf_host_poll(pc, 5);
		else
			usleep(5000);
	}
}

/* The target's view of controller @cntlid of subsystem @nqn; false if it has none. */
static inline bool tgt_ctrl(struct nvmf_tgt *t, const char *nqn, uint16_t cntlid,
			    struct nvmf_tgt_ctrl_info *out)
{
	struct nvmf_tgt_ctrl_info info[16];
	size_t n = nvmf_tgt_ctrl_list(t, nqn, info, 16);

	for (size_t i = 0; i < n && i < 16; i++) {
		if (info[i].cntlid == cntlid) {
			*out = info[i];
			return true;
		}
	}
	return false;
}

/* Keep Alive commands the target received from controller @cntlid of @nqn (it must exist) */
static inline uint64_t tgt_ka_count(struct nvmf_tgt *t, const char *nqn, uint16_t cntlid)
{
	struct nvmf_tgt_ctrl_info i = { 0 };

	assert_true(tgt_ctrl(t, nqn, cntlid, &i));
	return i.keep_alive_count;
}

/* The target's KATO of controller @cntlid of @nqn, ms (it must exist) */
static inline uint32_t tgt_kato(struct nvmf_tgt *t, const char *nqn, uint16_t cntlid)
{
	struct nvmf_tgt_ctrl_info i = { 0 };

	assert_true(tgt_ctrl(t, nqn, cntlid, &i));
	return i.kato_ms;
}

/* Controllers of the whole target, the discovery subsystem included. */
static inline size_t tgt_nr_ctrls(struct nvmf_tgt *t)
{
	struct nvmf_tgt_ctrl_info info[4];

	return nvmf_tgt_ctrl_list(t, NULL, info, 4);
}

/* Fault rule @id as the target lists it; false if there is none. */
static inline bool fault_info(struct nvmf_tgt *t, uint32_t id, struct nvmf_tgt_fault_info *out)
{
	struct nvmf_tgt_fault_info info[16];
	size_t n = nvmf_tgt_fault_list(t, info, 16);

	for (size_t i = 0; i < n && i < 16; i++) {
		if (info[i].id == id) {
			*out = info[i];
			return true;
		}
	}
	return false;
}

/* Commands rule @id holds now (UINT32_MAX: no such rule) */
static inline uint32_t fault_held(struct nvmf_tgt *t, uint32_t id)
{
	struct nvmf_tgt_fault_info i = { 0 };

	return fault_info(t, id, &i) ? i.held : UINT32_MAX;
}

/* Commands rule @id matched so far (UINT64_MAX: no such rule) */
static inline uint64_t fault_hits(struct nvmf_tgt *t, uint32_t id)
{
	struct nvmf_tgt_fault_info i = { 0 };

	return fault_info(t, id, &i) ? i.hits : UINT64_MAX;
}

/* The host controller's counters (nvmf_host_ctrl_get_stats() must succeed) */
static inline struct nvmf_host_ctrl_stats host_stats(struct nvmf_host_ctrl *ctrl)
{
	struct nvmf_host_ctrl_stats st;

	assert_int_equal(nvmf_host_ctrl_get_stats(ctrl, &st), 0);
	return st;
}

#endif
