// SPDX-License-Identifier: MIT
/*
 * nvmf-bench-idle: the CPU that idle controllers cost. Connects N controllers over NVMe/TCP
 * through libnvmf (threaded, one I/O queue each, the default KATO so that keep-alive runs),
 * waits a second for the connect bursts to settle, then stays idle for T seconds and
 * reports the CPU time this process used over that window (getrusage) and, with --pid, the
 * CPU time of another process (the target daemon) over the same window, from
 * /proc/PID/stat. Then it deletes the controllers.
 *
 * The result is one JSON object on stdout. This is a benchmark: it prints numbers and
 * never judges them; it exits non-zero only if a controller cannot be connected.
 */
#include <nvmf/host.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define IDLE_SETTLE_MS 1000
/* file descriptors per threaded controller, generously: sockets, reactor, timers */
#define IDLE_FDS_PER_CTRL 16

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * utime + stime of process @pid, seconds (fields 14 and 15 of /proc/PID/stat, proc(5)).
 * Return: the seconds, or a negative value if the file cannot be read.
 */
static double proc_cpu_s(long pid)
{
	unsigned long long utime, stime;
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: fields restart after the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
			 &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static uint64_t keep_alives(struct nvmf_host_ctrl **ctrls, unsigned int n)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct nvmf_host_ctrl_stats st;

		if (!nvmf_host_ctrl_get_stats(ctrls[i], &st))
			sum += st.keep_alives;
	}
	return sum;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: nvmf-bench-idle --traddr ADDR --trsvcid PORT --nqn NQN [OPTIONS]\n"
		   "  -n, --ctrls N       controllers to connect (default 100)\n"
		   "  -t, --seconds S     idle window, seconds (default 20)\n"
		   "  -p, --pid PID       also measure this process's CPU over the window\n"
		   "      --kato-ms MS    Keep Alive Timeout (default: the library's, 5000)\n");
}

int main(int argc, char **argv)
{
	enum { OPT_TRADDR = 256, OPT_TRSVCID, OPT_NQN, OPT_KATO };
	static const struct option longopts[] = {
		{ "traddr", required_argument, NULL, OPT_TRADDR },
		{ "trsvcid", required_argument, NULL, OPT_TRSVCID },
		{ "nqn", required_argument, NULL, OPT_NQN },
		{ "kato-ms", required_argument, NULL, OPT_KATO },
		{ "ctrls", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nvmf_host_opts o = { .trtype = "tcp", .nr_io_queues = 1, .threaded = true };
	unsigned int nr = 100, secs = 20, connected = 0, live = 0;
	struct nvmf_host_ctrl **ctrls;
	double cpu0, cpu1, tcpu0 = -1, tcpu1 = -1, wall;
	uint64_t t0, t1, ka0, ka1, connect_ns;
	struct rlimit rl;
	long pid = 0;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "n:t:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TRADDR:
			o.traddr = optarg;
			break;
		case OPT_TRSVCID:
			o.trsvcid = optarg;
			break;
		case OPT_NQN:
			o.subnqn = optarg;
			break;
		case OPT_KATO:
			o.kato_ms = atoi(optarg);
			break;
		case 'n':
			nr = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			secs = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'p':
			pid = strtol(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !o.traddr || !o.subnqn || !nr || nr > 100000 || !secs) {
		usage(stderr);
		return 2;
	}

	/* each threaded controller holds a few descriptors: lift the soft limit to the hard */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < (rlim_t)nr * IDLE_FDS_PER_CTRL) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ctrls = calloc(nr, sizeof(*ctrls));
	if (!ctrls)
		return 1;
	t0 = now_ns();
	for (; connected < nr; connected++) {
		ret = nvmf_host_ctrl_connect(&o, &ctrls[connected]);
		if (ret) {
			fprintf(stderr, "nvmf-bench-idle: controller %u: connect: %s (%d)\n",
				connected, ret < 0 ? strerror(-ret) : "NVMe status", ret);
			break;
		}
	}
	connect_ns = now_ns() - t0;
	if (ret)
		goto out;

	sleep_ms(IDLE_SETTLE_MS);
	ka0 = keep_alives(ctrls, connected);
	if (pid)
		tcpu0 = proc_cpu_s(pid);
	cpu0 = self_cpu_s();
	t0 = now_ns();
	sleep_ms(secs * 1000);
	t1 = now_ns();
	cpu1 = self_cpu_s();
	if (pid)
		tcpu1 = proc_cpu_s(pid);
	ka1 = keep_alives(ctrls, connected);
	for (unsigned int i = 0; i < connected; i++)
		live += nvmf_host_ctrl_get_state(ctrls[i]) == NVMF_CTRL_LIVE;
	wall = (double)(t1 - t0) / 1e9;

	printf("{ \"ctrls\": %u, \"live\": %u, \"connect_s\": %.3f, \"idle_s\": %.3f, "
	       "\"keep_alives\": %llu,\n"
	       "  \"host_cpu_s\": %.3f, \"host_cpu_pct\": %.3f",
	       connected, live, (double)connect_ns / 1e9, wall, (unsigned long long)(ka1 - ka0),
	       cpu1 - cpu0, (cpu1 - cpu0) / wall * 100);
	if (pid && tcpu0 >= 0 && tcpu1 >= 0)
		printf(", \"target_pid\": %ld, \"target_cpu_s\": %.3f, \"target_cpu_pct\": %.3f",
		       pid, tcpu1 - tcpu0, (tcpu1 - tcpu0) / wall * 100);
	printf(" }\n");
	fflush(stdout);
out:
	for (unsigned int i = 0; i < connected; i++)
		nvmf_host_ctrl_delete(ctrls[i]);
	free(ctrls);
	return ret ? 1 : 0;
}
