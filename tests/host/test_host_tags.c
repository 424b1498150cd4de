// SPDX-License-Identifier: MIT
/*
 * Host tag sets (seed 002): the admin queue keeps tag 0 for Connect and tag 1 for Keep
 * Alive, the AER has tag 31 outside the pool, and normal submissions can never take any of
 * them, even when every normal tag is busy. I/O queues reserve tag 0 for Connect.
 */
#include "host/host-internal.h"
#include "host/queue.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static void test_admin_reserved_tags(void **state)
{
	struct nvmf_host_queue q;
	struct nvmf_host_req *req;
	bool seen[NVMF_HOST_AQ_DEPTH] = { false };
	unsigned int n = 0;

	(void)state;
	assert_int_equal(
		nvmf_host_queue_init(NULL, &q, 0, NVMF_HOST_AQ_DEPTH, NVMF_HOST_AQ_RESERVED), 0);
	/* exhaust the normal pool: 32 - 2 reserved - 1 AER = 29 tags, none of them reserved */
	while ((req = nvmf_host_tag_get(&q, false)) != NULL) {
		assert_true(req->tag >= NVMF_HOST_AQ_RESERVED);
		assert_true(req->tag != NVMF_HOST_AER_TAG);
		assert_false(seen[req->tag]);
		seen[req->tag] = true;
		n++;
	}
	assert_int_equal(n, NVMF_HOST_AQ_DEPTH - NVMF_HOST_AQ_RESERVED - 1);
	/* with every normal tag busy, Keep Alive and Connect still get theirs */
	req = nvmf_host_tag_get_fixed(&q, NVMF_HOST_KA_TAG);
	assert_non_null(req);
	assert_int_equal(req->tag, NVMF_HOST_KA_TAG);
	assert_null(nvmf_host_tag_get_fixed(&q, NVMF_HOST_KA_TAG)); /* taken */
	req = nvmf_host_tag_get_fixed(&q, NVMF_HOST_CONNECT_TAG);
	assert_non_null(req);
	assert_int_equal(req->tag, NVMF_HOST_CONNECT_TAG);
	/* the AER tag lives outside both pools */
	req = nvmf_host_tag_get_fixed(&q, NVMF_HOST_AER_TAG);
	assert_non_null(req);
	assert_int_equal(req->tag, NVMF_HOST_AER_TAG);
	/* a normal tag cannot be taken as a fixed one */
	assert_null(nvmf_host_tag_get_fixed(&q, 5));
	assert_null(nvmf_host_tag_get(&q, false));
	nvmf_host_queue_release(&q);
}

static void test_io_reserved_tag(void **state)
{
	struct nvmf_host_queue q;
	struct nvmf_host_req *req;
	unsigned int n = 0;

	(void)state;
	assert_int_equal(nvmf_host_queue_init(NULL, &q, 1, 128, NVMF_HOST_IOQ_RESERVED), 0);
	while ((req = nvmf_host_tag_get(&q, false)) != NULL) {
		assert_int_not_equal(req->tag, NVMF_HOST_CONNECT_TAG);
		n++;
	}
	assert_int_equal(n, 127);
	req = nvmf_host_tag_get_fixed(&q, NVMF_HOST_CONNECT_TAG);
	assert_non_null(req);
	assert_int_equal(req->tag, 0);
	/* an I/O queue has no AER tag: 127 is an ordinary (busy) tag */
	assert_null(nvmf_host_tag_get_fixed(&q, 127));
	nvmf_host_queue_release(&q);
}

static void test_find_req_only_sent(void **state)
{
	struct nvmf_host_queue q;
	struct nvmf_host_req *req;

	(void)state;
	assert_int_equal(nvmf_host_queue_init(NULL, &q, 1, 8, 1), 0);
	req = nvmf_host_tag_get(&q, false);
	assert_non_null(req);
	/* a response for a CID that is not in flight is unknown (hostile or late) */
	assert_null(nvmf_host_find_req(&q, req->tag));
	req->state = NVMF_HREQ_SENT;
	assert_ptr_equal(nvmf_host_find_req(&q, req->tag), req);
	assert_null(nvmf_host_find_req(&q, 8));
	assert_null(nvmf_host_find_req(&q, 0xffff));
	nvmf_host_queue_release(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admin_reserved_tags),
		cmocka_unit_test(test_io_reserved_tag),
		cmocka_unit_test(test_find_req_only_sent),
	};

	return cmocka_run_group_tests_name("host_tags", tests, NULL, NULL);
}
