/* SPDX-License-Identifier: MIT */
#ifndef NVMF_COMMON_CPUMASK_H
#define NVMF_COMMON_CPUMASK_H

#include <pthread.h>
#include <sched.h>
#include <stddef.h>

/*
 * CPU masks as SPDK's -m takes them, for the programs' --cpumask: one thread per CPU of the
 * mask, thread i pinned to the i-th lowest CPU.
 */

/**
 * nvmf_cpumask_parse() - read a CPU mask
 * @str: one of two forms, as SPDK's -m:
 *	a hexadecimal bit mask, bit N for CPU N, with or without "0x" ("0x3", "3": CPUs 0 and 1;
 *	"10": CPU 4), any number of digits;
 *	or a list of decimal CPU numbers and inclusive ranges, in brackets or, when it holds a
 *	',' or a '-', without ("[0,2-3]", "0,2-3", "[5]"). No spaces, no empty item.
 * @set: receives the CPUs; left unspecified on error
 *
 * Return: 0, or -EINVAL if @str is NULL or empty, is not in either form, names no CPU, has
 * a range whose end is below its start, or names a CPU >= CPU_SETSIZE.
 */
int nvmf_cpumask_parse(const char *str, cpu_set_t *set);

/**
 * nvmf_cpumask_check() - whether the calling thread may run on every CPU of @set
 * @set: CPUs
 * @bad_cpu: on -EINVAL, the lowest CPU of @set that is offline or outside the calling
 *	thread's affinity (sched_getaffinity(2): at program start, the process's); else -1.
 *	May be NULL.
 *
 * Return: 0; -EINVAL as above; or the -errno of sched_getaffinity().
 */
int nvmf_cpumask_check(const cpu_set_t *set, int *bad_cpu);

/**
 * nvmf_cpumask_allowed() - the CPUs the calling thread may run on
 * @set: receives them (sched_getaffinity(2), which leaves out offline CPUs)
 *
 * Return: 0 or the -errno of sched_getaffinity().
 */
int nvmf_cpumask_allowed(cpu_set_t *set);

/**
 * nvmf_cpumask_parse_usable() - nvmf_cpumask_parse(), then nvmf_cpumask_check()
 * @str: as nvmf_cpumask_parse()
 * @set: as nvmf_cpumask_parse()
 * @why: on error, receives the reason, to follow the caller's "<option or key>: " in a
 *	message: "\"x\" is not a CPU mask (...)" or "CPU 7 is not available (this process may
 *	run on 0-1)"; NUL-terminated, truncated to @len bytes
 * @len: size of @why in bytes, > 0
 *
 * Return: 0; -EINVAL if @str is not a mask or names a CPU not available; or the -errno of
 * sched_getaffinity().
 */
int nvmf_cpumask_parse_usable(const char *str, cpu_set_t *set, char *why, size_t len);

/**
 * nvmf_cpumask_to_array() - the CPUs of @set in ascending order
 * @set: CPUs
 * @cpus: receives up to @max CPU numbers; may be NULL when @max is 0
 * @max: entries in @cpus
 *
 * Return: the number of CPUs in @set (which may exceed @max; only @max are stored).
 */
unsigned int nvmf_cpumask_to_array(const cpu_set_t *set, int *cpus, unsigned int max);

/**
 * nvmf_cpumask_format() - write @set as a list, as Cpus_allowed_list in /proc shows it
 * @set: CPUs
 * @buf: receives "0-1,4" ("" for an empty set), NUL-terminated; when it does not fit in
 *	@len bytes, only the items that fit whole
 * @len: size of @buf in bytes, > 0
 *
 * Return: @buf.
 */
char *nvmf_cpumask_format(const cpu_set_t *set, char *buf, size_t len);

/**
 * nvmf_thread_create_pinned() - pthread_create(), the new thread pinned to one CPU
 * @thread: receives the thread
 * @cpu: CPU number (as in sched_setaffinity(2)), or -1 for no pinning
 * @fn: thread function
 * @arg: its argument
 *
 * The affinity is set before the thread runs (pthread_attr_setaffinity_np), so it never
 * runs elsewhere. Return: 0 or -errno (-EINVAL: @cpu >= CPU_SETSIZE, or a CPU the process
 * may not run on).
 */
int nvmf_thread_create_pinned(pthread_t *thread, int cpu, void *(*fn)(void *arg), void *arg);

#endif
