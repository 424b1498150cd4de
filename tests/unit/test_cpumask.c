// SPDX-License-Identifier: MIT
/*
 * CPU masks (lib/common/cpumask.c): SPDK's -m forms parsed into the CPUs they name, the
 * availability check against this process's affinity, and the list format of the messages.
 */
#include "common/cpumask.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Parse @str, which must succeed, and return its CPUs as "0-1,4". */
static const char *parsed(const char *str)
{
	static char buf[4096];
	cpu_set_t set;

	assert_int_equal(nvmf_cpumask_parse(str, &set), 0);
	return nvmf_cpumask_format(&set, buf, sizeof(buf));
}

static void test_hex(void **state)
{
	char big[CPU_SETSIZE / 4 + 2];

	assert_string_equal(parsed("0x3"), "0-1");
	assert_string_equal(parsed("3"), "0-1");
	assert_string_equal(parsed("0x1"), "0");
	assert_string_equal(parsed("1"), "0");
	assert_string_equal(parsed("0X10"), "4");
	assert_string_equal(parsed("10"), "4");
	assert_string_equal(parsed("0xf0"), "4-7");
	assert_string_equal(parsed("0xA5"), "0,2,5,7");
	assert_string_equal(parsed("0x0001"), "0");
	assert_string_equal(parsed("0x100000000"), "32");

	/* the highest CPU a cpu_set_t holds, in the last of CPU_SETSIZE / 4 digits */
	memset(big, '0', sizeof(big));
	big[0] = '8';
	big[CPU_SETSIZE / 4] = '\0';
	assert_string_equal(parsed(big), "1023");
	/* leading zeros beyond it are only zeros */
	big[0] = '0';
	big[CPU_SETSIZE / 4 - 1] = '1';
	big[CPU_SETSIZE / 4] = '0';
	big[CPU_SETSIZE / 4 + 1] = '\0';
	assert_string_equal(parsed(big), "4");
}

static void test_list(void **state)
{
	assert_string_equal(parsed("[0,2-3]"), "0,2-3");
	assert_string_equal(parsed("0,2-3"), "0,2-3");
	assert_string_equal(parsed("[5]"), "5");
	assert_string_equal(parsed("[0]"), "0");
	assert_string_equal(parsed("1-1"), "1");
	assert_string_equal(parsed("0-7"), "0-7");
	assert_string_equal(parsed("3,1"), "1,3");
	assert_string_equal(parsed("1,1-2,2"), "1-2");
	assert_string_equal(parsed("[10,12-13]"), "10,12-13");
	assert_string_equal(parsed("[1023]"), "1023");
	assert_string_equal(parsed("1020-1023"), "1020-1023");
	/* a leading zero is not octal: decimal, as taskset -c reads it */
	assert_string_equal(parsed("[010]"), "10");
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
		"",	  "0x",	       "0X",	"x",	  "0x1g",
		"g",	  "0x0",       "0",	"00",	  "2-1",
		"[]",	  "[",	       "]",	"[0",	  "0]",
		"[0]x",	  "0,",	       ",0",	"0,,1",	  "1-",
		"-1",	  "1--2",      "1-2-3", "[0x1]",  " 1",
		"1 ",	  "[0, 1]",    "0x1,2", "[1024]", "1024,0",
		"0-1024", "1023-1024", "+1",	"[-1]",	  "[99999999999999999999]",
	};
	char big[CPU_SETSIZE / 4 + 2];
	cpu_set_t set;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = nvmf_cpumask_parse(bad[i], &set);

		if (rc != -EINVAL)
			print_message("  \"%s\": %d\n", bad[i], rc);
		assert_int_equal(rc, -EINVAL);
	}
	assert_int_equal(nvmf_cpumask_parse(NULL, &set), -EINVAL);

	/* one bit past the highest CPU: CPU_SETSIZE */
	memset(big, '0', sizeof(big));
	big[0] = '1';
	big[CPU_SETSIZE / 4 + 1] = '\0';
	assert_int_equal(nvmf_cpumask_parse(big, &set), -EINVAL);
}

static void test_to_array(void **state)
{
	int cpus[4] = { -1, -1, -1, -1 };
	cpu_set_t set;

	assert_int_equal(nvmf_cpumask_parse("[7,1,3-4]", &set), 0);
	assert_int_equal(nvmf_cpumask_to_array(&set, NULL, 0), 4);
	assert_int_equal(nvmf_cpumask_to_array(&set, cpus, 4), 4);
	assert_int_equal(cpus[0], 1);
	assert_int_equal(cpus[1], 3);
	assert_int_equal(cpus[2], 4);
	assert_int_equal(cpus[3], 7);
	/* more CPUs than room: the count says so, only the room is written */
	memset(cpus, 0xff, sizeof(cpus));
	assert_int_equal(nvmf_cpumask_to_array(&set, cpus, 2), 4);
	assert_int_equal(cpus[0], 1);
	assert_int_equal(cpus[1], 3);
	assert_int_equal(cpus[2], -1);
}

static void test_format(void **state)
{
	char buf[8];
	cpu_set_t set;

	CPU_ZERO(&set);
	assert_string_equal(nvmf_cpumask_format(&set, buf, sizeof(buf)), "");
	assert_int_equal(nvmf_cpumask_parse("0,2-3,9,10,11", &set), 0);
	/* "0,2-3,9-11" does not fit in 8 bytes: whole items only */
	assert_string_equal(nvmf_cpumask_format(&set, buf, sizeof(buf)), "0,2-3");
	assert_string_equal(parsed("0,2-3,9,10,11"), "0,2-3,9-11");
}

static void test_check(void **state)
{
	cpu_set_t allowed, set;
	char why[256], list[4096];
	int bad = 0, off = -1;

	assert_int_equal(nvmf_cpumask_allowed(&allowed), 0);
	assert_true(CPU_COUNT(&allowed) > 0);
	assert_int_equal(nvmf_cpumask_check(&allowed, &bad), 0);
	assert_int_equal(bad, -1);

	for (int c = 0; c < CPU_SETSIZE && off < 0; c++)
		if (!CPU_ISSET(c, &allowed))
			off = c;
	if (off < 0)
		skip(); /* a machine that lets us run on every one of 1024 CPUs */
	CPU_ZERO(&set);
	CPU_SET(off, &set);
	assert_int_equal(nvmf_cpumask_check(&set, &bad), -EINVAL);
	assert_int_equal(bad, off);

	/* the message names the CPU and what the process may use */
	snprintf(list, sizeof(list), "[%d]", off);
	assert_int_equal(nvmf_cpumask_parse_usable(list, &set, why, sizeof(why)), -EINVAL);
	snprintf(list, sizeof(list), "CPU %d is not available (this process may run on ", off);
	assert_memory_equal(why, list, strlen(list));
	assert_int_equal(nvmf_cpumask_parse_usable("0x", &set, why, sizeof(why)), -EINVAL);
	assert_memory_equal(why, "\"0x\" is not a CPU mask", strlen("\"0x\" is not a CPU mask"));
	/* in brackets: a lone "5" would be a hex mask */
	list[0] = '[';
	nvmf_cpumask_format(&allowed, list + 1, sizeof(list) - 2);
	strcat(list, "]");
	assert_int_equal(nvmf_cpumask_parse_usable(list, &set, why, sizeof(why)), 0);
	assert_true(CPU_EQUAL(&set, &allowed));
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),    cmocka_unit_test(test_list),
		cmocka_unit_test(test_bad),    cmocka_unit_test(test_to_array),
		cmocka_unit_test(test_format), cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests_name("cpumask", tests, NULL, NULL);
}
