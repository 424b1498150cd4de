// SPDX-License-Identifier: MIT
#include "cpumask.h"
#include "hex.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int parse_hex(const char *s, size_t len, cpu_set_t *set)
{
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (!len)
		return -EINVAL;
	/* the last digit holds CPUs 0-3, the one before it 4-7, ... */
	for (size_t k = 0; k < len; k++) {
		int d = nvmf_hex_digit(s[len - 1 - k]);

		if (d < 0)
			return -EINVAL;
		for (unsigned int b = 0; b < 4; b++) {
			if (!(d & (1 << b)))
				continue;
			if (k >= CPU_SETSIZE / 4)
				return -EINVAL;
			CPU_SET(k * 4 + b, set);
		}
	}
	return 0;
}

/* A decimal CPU number at *@s, below CPU_SETSIZE; advances *@s past it. */
static int parse_cpu(const char **s, const char *end, unsigned int *cpu)
{
	const char *p = *s;
	unsigned int v = 0;

	if (p == end || *p < '0' || *p > '9')
		return -EINVAL;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned int)(*p - '0');
		if (v >= CPU_SETSIZE)
			return -EINVAL;
	}
	*s = p;
	*cpu = v;
	return 0;
}

static int parse_list(const char *s, const char *end, cpu_set_t *set)
{
	for (;;) {
		unsigned int first, last;

		if (parse_cpu(&s, end, &first))
			return -EINVAL;
		last = first;
		if (s < end && *s == '-') {
			s++;
			if (parse_cpu(&s, end, &last) || last < first)
				return -EINVAL;
		}
		for (unsigned int c = first; c <= last; c++)
			CPU_SET(c, set);
		if (s == end)
			return 0;
		if (*s++ != ',')
			return -EINVAL;
	}
}

int nvmf_cpumask_parse(const char *str, cpu_set_t *set)
{
	size_t len;
	int ret;

	if (!str || !*str)
		return -EINVAL;
	len = strlen(str);
	CPU_ZERO(set);
	if (str[0] == '[') {
		if (len < 2 || str[len - 1] != ']')
			return -EINVAL;
		ret = parse_list(str + 1, str + len - 1, set);
	} else if (strpbrk(str, ",-")) {
		/* not SPDK's: a list without brackets, as taskset -c and /proc write it */
		ret = parse_list(str, str + len, set);
	} else {
		ret = parse_hex(str, len, set);
	}
	if (ret)
		return ret;
	return CPU_COUNT(set) ? 0 : -EINVAL;
}

int nvmf_cpumask_allowed(cpu_set_t *set)
{
	CPU_ZERO(set);
	return sched_getaffinity(0, sizeof(*set), set) < 0 ? -errno : 0;
}

int nvmf_cpumask_check(const cpu_set_t *set, int *bad_cpu)
{
	cpu_set_t allowed;
	int ret;

	if (bad_cpu)
		*bad_cpu = -1;
	ret = nvmf_cpumask_allowed(&allowed);
	if (ret)
		return ret;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, set) && !CPU_ISSET(c, &allowed)) {
			if (bad_cpu)
				*bad_cpu = c;
			return -EINVAL;
		}
	}
	return 0;
}

int nvmf_cpumask_parse_usable(const char *str, cpu_set_t *set, char *why, size_t len)
{
	char list[256];
	cpu_set_t allowed;
	int ret, bad;

	ret = nvmf_cpumask_parse(str, set);
	if (ret) {
		snprintf(why, len,
			 "\"%s\" is not a CPU mask (a hex mask as \"0x3\", or a list as "
			 "\"[0,2-3]\"; CPUs below %d)",
			 str ? str : "", CPU_SETSIZE);
		return ret;
	}
	ret = nvmf_cpumask_check(set, &bad);
	if (ret == -EINVAL) {
		if (nvmf_cpumask_allowed(&allowed))
			CPU_ZERO(&allowed);
		snprintf(why, len, "CPU %d is not available (this process may run on %s)", bad,
			 nvmf_cpumask_format(&allowed, list, sizeof(list)));
	} else if (ret) {
		snprintf(why, len, "sched_getaffinity: %s", strerror(-ret));
	}
	return ret;
}

unsigned int nvmf_cpumask_to_array(const cpu_set_t *set, int *cpus, unsigned int max)
{
	unsigned int n = 0;

	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, set))
			continue;
		if (n < max)
			cpus[n] = c;
		n++;
	}
	return n;
}

char *nvmf_cpumask_format(const cpu_set_t *set, char *buf, size_t len)
{
	size_t off = 0;
	bool first = true;

	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE; c++) {
		int last = c;
		int n;

		if (!CPU_ISSET(c, set))
			continue;
		while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set))
			last++;
		if (last == c)
			n = snprintf(buf + off, len - off, "%s%d", first ? "" : ",", c);
		else
			n = snprintf(buf + off, len - off, "%s%d-%d", first ? "" : ",", c, last);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0'; /* no partial number: "1" of "12" would mislead */
			break;
		}
		off += (size_t)n;
		first = false;
		c = last;
	}
	return buf;
}

int nvmf_thread_create_pinned(pthread_t *thread, int cpu, void *(*fn)(void *arg), void *arg)
{
	pthread_attr_t attr;
	int ret = pthread_attr_init(&attr);

	if (ret)
		return -ret;
	if (cpu >= 0) {
		cpu_set_t set;

		if (cpu >= CPU_SETSIZE) {
			pthread_attr_destroy(&attr);
			return -EINVAL;
		}
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		ret = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (!ret)
		ret = pthread_create(thread, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return -ret;
}
