/*
 * Unit tests of the nvmf-tgt configuration loader (src/nvmf-tgt/config.c).
 *
 * Fixtures are in <data>/config, where <data> is $NVMF_TEST_DATA_DIR, else the
 * NVMF_TEST_DATA_DIR macro, else tests/unit/data relative to the current directory (as
 * tests/unit/meson.build sets both to tests/unit/data). Set NVMF_TEST_VERBOSE=1 to print
 * the error message of every rejected case.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <cmocka.h>

#include "common/cpumask.h"
#include "config.h"

#define ERRLEN 1024

/* The fixture directory, <data>/config. */
static const char *data_dir(void)
{
	static char dir[PATH_MAX];
	const char *root = getenv("NVMF_TEST_DATA_DIR");
	int n;

	if (dir[0])
		return dir;
	if (!root || !root[0]) {
#ifdef NVMF_TEST_DATA_DIR
		root = NVMF_TEST_DATA_DIR;
#else
		root = "tests/unit/data";
#endif
	}
	n = snprintf(dir, sizeof(dir), "%s/config", root);
	assert_true(n > 0 && n < (int)sizeof(dir));
	return dir;
}

static bool verbose(void)
{
	const char *v = getenv("NVMF_TEST_VERBOSE");

	return v && v[0] && strcmp(v, "0");
}

/* A fresh scratch directory per test, removed with everything in it afterwards. */
struct scratch {
	char dir[PATH_MAX];
};

static int scratch_setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	snprintf(s->dir, sizeof(s->dir), "%s/nvmf-test-config-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(s->dir)) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static void rm_tree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!lstat(path, &st) && S_ISDIR(st.st_mode))
			rm_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int scratch_teardown(void **state)
{
	struct scratch *s = *state;

	rm_tree(s->dir);
	free(s);
	return 0;
}

/* @dir/@name into @out; a test path never needs truncating. */
static void join(char out[PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	assert_true(n > 0 && n < PATH_MAX);
}

static void make_sparse(const char *path, off_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static void copy_file(const char *from, const char *to)
{
	char buf[4096];
	ssize_t n;
	int in = open(from, O_RDONLY);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(in >= 0);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

static void assert_bytes(const uint8_t *got, const char *hex)
{
	size_t i, n = strlen(hex) / 2;
	char want[64], have[64];

	for (i = 0; i < n; i++)
		snprintf(have + 2 * i, sizeof(have) - 2 * i, "%02x", got[i]);
	snprintf(want, sizeof(want), "%s", hex);
	assert_string_equal(have, want);
}

/*
 * JSON in C literals with ' for ", so the cases stay readable; @DATA@ is the fixture
 * directory, @NQN223@ / @NQN224@ NQNs of exactly that many bytes.
 */
static char *json_of(const char *tmpl)
{
	char nqn223[224], nqn224[225];
	size_t cap = strlen(tmpl) + 4096, len = 0;
	char *out = malloc(cap);
	const char *p;

	assert_non_null(out);
	memset(nqn223, 'a', sizeof(nqn223));
	memcpy(nqn223, "nqn.", 4);
	nqn223[223] = '\0';
	memset(nqn224, 'a', sizeof(nqn224));
	memcpy(nqn224, "nqn.", 4);
	nqn224[224] = '\0';
	for (p = tmpl; *p;) {
		const char *sub = NULL;
		size_t skip = 1;

		if (!strncmp(p, "@DATA@", 6)) {
			sub = data_dir();
			skip = 6;
		} else if (!strncmp(p, "@NQN223@", 8)) {
			sub = nqn223;
			skip = 8;
		} else if (!strncmp(p, "@NQN224@", 8)) {
			sub = nqn224;
			skip = 8;
		}
		if (sub) {
			assert_true(len + strlen(sub) < cap);
			memcpy(out + len, sub, strlen(sub));
			len += strlen(sub);
		} else {
			assert_true(len + 1 < cap);
			out[len++] = *p == '\'' ? '"' : *p;
		}
		p += skip;
	}
	out[len] = '\0';
	return out;
}

static struct nvmf_cfg *load_ok(const char *tmpl)
{
	struct nvmf_cfg *cfg = NULL;
	char err[ERRLEN];
	char *json = json_of(tmpl);
	int rc = nvmf_cfg_load_string(json, &cfg, err, sizeof(err));

	if (rc)
		print_error("unexpected error %d: %s\n", rc, err);
	assert_int_equal(rc, 0);
	assert_non_null(cfg);
	assert_string_equal(err, "");
	free(json);
	return cfg;
}

/* ------------------------------------------------------------------------------------ */

static void test_nvmetcli_full(void **state)
{
	struct scratch *s = *state;
	char from[PATH_MAX], path[PATH_MAX], want[PATH_MAX], err[ERRLEN];
	struct nvmf_cfg *cfg = NULL;
	const struct nvmf_cfg_subsys *sub;
	const struct nvmf_cfg_port *p;
	const struct nvmf_cfg_ns *ns;
	int rc;

	/* Relative device paths resolve against the file's directory: copy it next to them. */
	join(from, data_dir(), "nvmetcli-full.json");
	join(path, s->dir, "config.json");
	copy_file(from, path);
	join(want, s->dir, "disk1.img");
	make_sparse(want, 8 << 20);
	join(want, s->dir, "new");
	assert_int_equal(mkdir(want, 0700), 0);

	rc = nvmf_cfg_load_file(path, &cfg, err, sizeof(err));
	if (rc)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	assert_string_equal(err, "");

	assert_int_equal(cfg->reactors, 4);
	assert_int_equal(cfg->kato_default_ms, 15000);

	assert_int_equal(cfg->nr_hosts, 2);
	assert_string_equal(cfg->hosts[0].nqn,
			    "nqn.2014-08.org.nvmexpress:uuid:0c9f2a3e-6a55-4b1e-9f55-1d0c3a7b9e01");
	assert_string_equal(cfg->hosts[1].nqn, "nqn.2024-01.io.example:host-b");

	assert_int_equal(cfg->nr_subsys, 2);
	sub = &cfg->subsys[0];
	assert_string_equal(sub->nqn,
			    "nqn.2014-08.org.nvmexpress:uuid:d592cdf3-5d1c-44e0-8412-3fcf7d99df27");
	assert_false(sub->allow_any_host);
	assert_string_equal(sub->serial, "6a3f0e1b2c4d5e6f");
	assert_string_equal(sub->model, "Linux");
	assert_string_equal(sub->firmware, "6.1.0-13");
	assert_int_equal(sub->version, 0x00010300);
	assert_int_equal(sub->cntlid_min, 1);
	assert_int_equal(sub->cntlid_max, 65519);
	assert_int_equal(sub->ieee_oui, 0);
	assert_false(sub->pi_enable);
	assert_int_equal(sub->qid_max, 128);
	assert_int_equal(sub->nr_allowed_hosts, 2);
	assert_string_equal(sub->allowed_hosts[0], cfg->hosts[0].nqn);
	assert_string_equal(sub->allowed_hosts[1], cfg->hosts[1].nqn);
	assert_int_equal(sub->nr_ns, 2);

	ns = &sub->ns[0];
	assert_int_equal(ns->nsid, 1);
	assert_true(ns->enable);
	assert_int_equal(ns->anagrpid, 1);
	join(want, s->dir, "disk1.img");
	assert_string_equal(ns->path, want);
	assert_true(ns->has_uuid);
	assert_bytes(ns->uuid, "d592cdf35d1c44e084123fcf7d99df27");
	assert_false(ns->has_nguid); /* all zero: never set */
	assert_false(ns->has_eui64);
	assert_int_equal(ns->backend, NVMF_CFG_BACKEND_FILE);
	assert_int_equal(ns->size_bytes, 0);
	assert_int_equal(ns->block_size, 512);
	assert_false(ns->buffered);

	/* Disabled: loaded although /dev/nvme9n1 does not exist. */
	ns = &sub->ns[1];
	assert_int_equal(ns->nsid, 2);
	assert_false(ns->enable);
	assert_int_equal(ns->anagrpid, 2);
	assert_string_equal(ns->path, "/dev/nvme9n1");
	assert_false(ns->has_uuid);
	assert_true(ns->has_nguid);
	assert_bytes(ns->nguid, "ef90689c6c46d44c89c14067801309a8");

	sub = &cfg->subsys[1];
	assert_string_equal(sub->nqn, "nqn.2024-01.io.example:scratch");
	assert_true(sub->allow_any_host);
	assert_string_equal(sub->serial, "72433e3c5258c3f4"); /* derived from the NQN */
	assert_string_equal(sub->model, "nvmf scratch");      /* NVMe space padding dropped */
	assert_string_equal(sub->firmware, NVMF_CFG_DEFAULT_FIRMWARE);
	assert_int_equal(sub->version, 0x00020001);
	assert_int_equal(sub->cntlid_min, 1000);
	assert_int_equal(sub->cntlid_max, 2000);
	assert_int_equal(sub->qid_max, NVMF_CFG_DEFAULT_QID_MAX);
	assert_int_equal(sub->nr_allowed_hosts, 0);
	assert_int_equal(sub->nr_ns, 3);

	ns = &sub->ns[0];
	assert_int_equal(ns->nsid, 10);
	assert_int_equal(ns->backend, NVMF_CFG_BACKEND_NULL);
	assert_int_equal(ns->size_bytes, 4ull << 30);
	assert_int_equal(ns->block_size, 4096);
	assert_string_equal(ns->path, "");
	assert_true(ns->has_eui64);
	assert_bytes(ns->eui64, "002538b571d24e01");
	assert_true(ns->has_nguid);
	assert_bytes(ns->nguid, "3aa1e2c5c8a8409abbc7d3e9f8a2b4c6");
	assert_false(ns->has_uuid);

	ns = &sub->ns[1];
	assert_int_equal(ns->nsid, 11);
	assert_true(ns->enable); /* absent means enabled */
	assert_int_equal(ns->anagrpid, 2);
	assert_int_equal(ns->backend, NVMF_CFG_BACKEND_MEM);
	assert_int_equal(ns->size_bytes, 64 << 20);
	assert_int_equal(ns->block_size, 512);

	/* Does not exist yet: nvmf_size given, so the daemon creates it. */
	ns = &sub->ns[2];
	assert_int_equal(ns->nsid, 0xfffffffe);
	assert_true(ns->enable);
	assert_int_equal(ns->backend, NVMF_CFG_BACKEND_FILE);
	join(want, s->dir, "new/created.img");
	assert_string_equal(ns->path, want);
	assert_int_equal(ns->size_bytes, 1ull << 30);
	assert_true(ns->buffered);

	assert_int_equal(cfg->nr_ports, 3);
	p = &cfg->ports[0];
	assert_int_equal(p->portid, 1);
	assert_int_equal(p->addr.trtype, NVMF_CFG_TRTYPE_TCP);
	assert_int_equal(p->addr.adrfam, NVMF_CFG_ADRFAM_IPV4);
	assert_int_equal(p->addr.treq, NVMF_CFG_TREQ_NOT_SPECIFIED);
	assert_string_equal(p->addr.traddr, "192.168.122.33");
	assert_string_equal(p->addr.trsvcid, "4420");
	assert_int_equal(p->inline_data_size, 16384);
	assert_int_equal(p->max_queue_size, -1);
	assert_false(p->pi_enable);
	assert_int_equal(p->nr_subsys, 2);
	assert_int_equal(p->subsys_idx[0], 0);
	assert_int_equal(p->subsys_idx[1], 1);
	assert_int_equal(p->nr_ana_groups, 2);
	assert_int_equal(p->ana_groups[0].grpid, 1);
	assert_int_equal(p->ana_groups[0].state, NVMF_CFG_ANA_OPTIMIZED);
	assert_int_equal(p->ana_groups[1].grpid, 2);
	assert_int_equal(p->ana_groups[1].state, NVMF_CFG_ANA_NONOPTIMIZED);
	assert_int_equal(p->nr_referrals, 2);
	assert_string_equal(p->referrals[0].name, "peer-a");
	assert_true(p->referrals[0].enable);
	assert_int_equal(p->referrals[0].portid, 7);
	assert_int_equal(p->referrals[0].addr.trtype, NVMF_CFG_TRTYPE_TCP);
	assert_int_equal(p->referrals[0].addr.adrfam, NVMF_CFG_ADRFAM_IPV4);
	assert_string_equal(p->referrals[0].addr.traddr, "192.168.122.34");
	assert_string_equal(p->referrals[0].addr.trsvcid, "8009");
	assert_string_equal(p->referrals[1].name, "peer-rdma");
	assert_false(p->referrals[1].enable);
	assert_int_equal(p->referrals[1].portid, 0);
	assert_int_equal(p->referrals[1].addr.trtype, NVMF_CFG_TRTYPE_RDMA);
	assert_int_equal(p->referrals[1].addr.treq, NVMF_CFG_TREQ_REQUIRED);
	assert_string_equal(p->referrals[1].addr.traddr, "10.0.0.9");

	p = &cfg->ports[1];
	assert_int_equal(p->portid, 2);
	assert_int_equal(p->addr.adrfam, NVMF_CFG_ADRFAM_IPV6);
	assert_int_equal(p->addr.treq, NVMF_CFG_TREQ_NOT_REQUIRED);
	assert_string_equal(p->addr.traddr, "fe80::5054:ff:fe12:3456%eth0");
	assert_string_equal(p->addr.trsvcid, "4421");
	assert_int_equal(p->inline_data_size, -1);
	assert_int_equal(p->max_queue_size, 128);
	assert_int_equal(p->nr_subsys, 1);
	assert_int_equal(p->subsys_idx[0], 0);
	assert_int_equal(p->nr_referrals, 0);
	/* Group 2 as listed, then nvmet's implicit group 1. */
	assert_int_equal(p->nr_ana_groups, 2);
	assert_int_equal(p->ana_groups[0].grpid, 2);
	assert_int_equal(p->ana_groups[0].state, NVMF_CFG_ANA_INACCESSIBLE);
	assert_int_equal(p->ana_groups[1].grpid, 1);
	assert_int_equal(p->ana_groups[1].state, NVMF_CFG_ANA_OPTIMIZED);

	p = &cfg->ports[2];
	assert_int_equal(p->portid, 3);
	assert_int_equal(p->addr.trtype, NVMF_CFG_TRTYPE_LOOP);
	assert_int_equal(p->addr.adrfam, NVMF_CFG_ADRFAM_LOOP);
	assert_string_equal(p->addr.traddr, "");
	assert_string_equal(p->addr.trsvcid, "");
	assert_int_equal(p->nr_subsys, 1);
	assert_int_equal(p->subsys_idx[0], 1);
	assert_int_equal(p->nr_ana_groups, 1);

	nvmf_cfg_free(cfg);
}

static void test_default(void **state)
{
	struct nvmf_cfg *cfg = NULL;
	const struct nvmf_cfg_subsys *sub;
	const struct nvmf_cfg_port *p;
	char cwd[PATH_MAX], want[PATH_MAX];

	(void)state;
	assert_int_equal(nvmf_cfg_default("/var/lib/nvmf", &cfg), 0);
	assert_int_equal(cfg->nr_hosts, 0);
	assert_int_equal(cfg->reactors, 0);
	assert_int_equal(cfg->nr_subsys, 1);
	sub = &cfg->subsys[0];
	assert_string_equal(sub->nqn, "nqn.2014-08.org.nvmexpress:nvmf-default");
	assert_true(sub->allow_any_host);
	/*
	 * Hosts cache the serial: if this value changes, every existing `make run` target
	 * looks like a different device. Change the derivation only on purpose.
	 */
	assert_string_equal(sub->serial, "5147b71e331e0804");
	assert_string_equal(sub->model, "nvmf");
	assert_string_equal(sub->firmware, "0.1");
	assert_int_equal(sub->version, 0x00010300);
	assert_int_equal(sub->cntlid_min, 1);
	assert_int_equal(sub->cntlid_max, 0xffef);
	assert_int_equal(sub->nr_allowed_hosts, 0);
	assert_int_equal(sub->nr_ns, 1);
	assert_int_equal(sub->ns[0].nsid, 1);
	assert_true(sub->ns[0].enable);
	assert_int_equal(sub->ns[0].anagrpid, 1);
	assert_int_equal(sub->ns[0].backend, NVMF_CFG_BACKEND_FILE);
	assert_string_equal(sub->ns[0].path, "/var/lib/nvmf/nvmf-default.img");
	assert_int_equal(sub->ns[0].size_bytes, 1ull << 30);
	assert_int_equal(sub->ns[0].block_size, 512);

	assert_int_equal(cfg->nr_ports, 2);
	p = &cfg->ports[0];
	assert_int_equal(p->portid, 1);
	assert_int_equal(p->addr.trtype, NVMF_CFG_TRTYPE_TCP);
	assert_int_equal(p->addr.adrfam, NVMF_CFG_ADRFAM_IPV4);
	assert_string_equal(p->addr.traddr, "127.0.0.1");
	assert_string_equal(p->addr.trsvcid, "4420");
	assert_int_equal(p->nr_subsys, 1);
	assert_int_equal(p->subsys_idx[0], 0);
	assert_int_equal(p->nr_ana_groups, 1);
	assert_int_equal(p->ana_groups[0].grpid, 1);
	assert_int_equal(p->ana_groups[0].state, NVMF_CFG_ANA_OPTIMIZED);
	assert_int_equal(p->inline_data_size, -1);
	p = &cfg->ports[1];
	assert_int_equal(p->portid, 2);
	assert_string_equal(p->addr.traddr, "127.0.0.1");
	assert_string_equal(p->addr.trsvcid, "8009");
	assert_int_equal(p->nr_subsys, 0);
	nvmf_cfg_free(cfg);

	/* Relative directories become absolute; a trailing slash is not doubled. */
	assert_int_equal(nvmf_cfg_default("var", &cfg), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	join(want, strcmp(cwd, "/") ? cwd : "", "var/nvmf-default.img");
	assert_string_equal(cfg->subsys[0].ns[0].path, want);
	nvmf_cfg_free(cfg);
	assert_int_equal(nvmf_cfg_default("/srv/", &cfg), 0);
	assert_string_equal(cfg->subsys[0].ns[0].path, "/srv/nvmf-default.img");
	nvmf_cfg_free(cfg);

	cfg = (struct nvmf_cfg *)sub; /* any non-NULL value: must be reset */
	assert_int_equal(nvmf_cfg_default("", &cfg), -EINVAL);
	assert_null(cfg);
}

/* Spellings nvmetcli and people write that must all load to the same values. */
static void test_accepted_variants(void **state)
{
	struct nvmf_cfg *cfg;

	(void)state;
	/* Numbers as JSON numbers or strings, decimal or hex; booleans spelled many ways. */
	cfg = load_ok("{'subsystems':[{'nqn':'nqn.2024-01.io.example:a',"
		      "'attr':{'allow_any_host':true,'cntlid_min':'0x10','cntlid_max':32,"
		      "'ieee_oui':'0xabcdef','pi_enable':'yes','qid_max':'64','version':'1.4.1',"
		      "'serial':'SN 1','firmware':'12345678'},"
		      "'namespaces':[{'nsid':'7','enable':'on','device':{'nvmf_backend':'mem',"
		      "'nvmf_size':'2048K','nvmf_buffered':'1','nvmf_block_size':'0x1000'}},"
		      "{'nsid':8,'enable':false,'device':{'path':''}},"
		      "{'nsid':9,'enable':true,'device':{'nvmf_backend':'null','nvmf_size':'3T',"
		      "'uuid':'D592CDF3-5D1C-44E0-8412-3FCF7D99DF27',"
		      "'nguid':'EF:90:68:9C:6C:46:D4:4C:89:C1:40:67:80:13:09:A8',"
		      "'eui64':'0011223344556677'}}]}]}");
	assert_true(cfg->subsys[0].allow_any_host);
	assert_int_equal(cfg->subsys[0].cntlid_min, 16);
	assert_int_equal(cfg->subsys[0].cntlid_max, 32);
	assert_int_equal(cfg->subsys[0].ieee_oui, 0xabcdef);
	assert_true(cfg->subsys[0].pi_enable);
	assert_int_equal(cfg->subsys[0].qid_max, 64);
	assert_int_equal(cfg->subsys[0].version, 0x00010401);
	assert_string_equal(cfg->subsys[0].serial, "SN 1");
	assert_string_equal(cfg->subsys[0].firmware, "12345678");
	assert_int_equal(cfg->subsys[0].ns[0].nsid, 7);
	assert_true(cfg->subsys[0].ns[0].enable);
	assert_int_equal(cfg->subsys[0].ns[0].size_bytes, 2 << 20);
	assert_true(cfg->subsys[0].ns[0].buffered);
	assert_int_equal(cfg->subsys[0].ns[0].block_size, 4096);
	assert_false(cfg->subsys[0].ns[1].enable);
	assert_string_equal(cfg->subsys[0].ns[1].path, "");
	assert_int_equal(cfg->subsys[0].ns[2].size_bytes, 3ull << 40);
	assert_true(cfg->subsys[0].ns[2].has_uuid);
	assert_bytes(cfg->subsys[0].ns[2].uuid, "d592cdf35d1c44e084123fcf7d99df27");
	assert_bytes(cfg->subsys[0].ns[2].nguid, "ef90689c6c46d44c89c14067801309a8");
	assert_bytes(cfg->subsys[0].ns[2].eui64, "0011223344556677");
	nvmf_cfg_free(cfg);

	/* Unknown keys nvmetcli (or a newer kernel) may save are ignored; null = absent. */
	cfg = load_ok("{'discovery':{'nqn':'nqn.2014-08.org.nvmexpress.discovery'},"
		      "'future_key':[1,2],'hosts':[{'nqn':'nqn.2024-01.io.example:h','x':1}],"
		      "'subsystems':[{'nqn':'@NQN223@','attr':{'allow_any_host':'1','offload':'0',"
		      "'model':null},'namespaces':[{'nsid':1,'p2pmem':'auto','resv':{'enable':'1'},"
		      "'device':{'nvmf_backend':'null','nvmf_size':4096,'p2p':1}}]}],"
		      "'ports':[{'portid':'0x10','addr':{'trtype':'tcp','adrfam':'ipv6',"
		      "'traddr':'::','trsvcid':'04420','tsas':''},'whatever':{},"
		      "'param':{'new_param':'1'},"
		      "'subsystems':['@NQN223@']}],'nvmf':{}}");
	assert_int_equal(strlen(cfg->subsys[0].nqn), 223);
	assert_string_equal(cfg->subsys[0].model, NVMF_CFG_DEFAULT_MODEL);
	assert_int_equal(cfg->ports[0].portid, 16);
	assert_string_equal(cfg->ports[0].addr.traddr, "::");
	assert_false(cfg->ports[0].disabled); /* "enabled" absent: in service */
	assert_int_equal(cfg->reactors, 0);
	assert_int_equal(cfg->kato_default_ms, 0);
	nvmf_cfg_free(cfg);

	/*
	 * What save_config writes: "enabled" on every port (false after disable_port), and
	 * every ANA state name of lib/common/ana.h.
	 */
	cfg = load_ok("{'ports':[{'portid':1,'enabled':false,'addr':{'trtype':'tcp','adrfam':"
		      "'ipv4','traddr':'127.0.0.1','trsvcid':'4420'},'ana_groups':["
		      "{'grpid':1,'ana':{'state':'change'}},{'grpid':3,'ana':{'state':"
		      "'persistent-loss'}},{'grpid':128,'ana':{'state':'non-optimized'}}]},"
		      "{'portid':2,'enabled':'1','addr':{'trtype':'loop'}}]}");
	assert_true(cfg->ports[0].disabled);
	assert_false(cfg->ports[1].disabled);
	assert_int_equal(cfg->ports[0].nr_ana_groups, 3);
	assert_int_equal(cfg->ports[0].ana_groups[0].state, NVMF_CFG_ANA_CHANGE);
	assert_int_equal(cfg->ports[0].ana_groups[1].grpid, 3);
	assert_int_equal(cfg->ports[0].ana_groups[1].state, NVMF_CFG_ANA_PERSISTENT_LOSS);
	assert_int_equal(cfg->ports[0].ana_groups[2].grpid, 128);
	assert_int_equal(cfg->ports[0].ana_groups[2].state, NVMF_CFG_ANA_NONOPTIMIZED);
	nvmf_cfg_free(cfg);

	/* Names without "nqn.", as in nvmetcli's own examples: Linux nvmet takes them. */
	cfg = load_ok("{'hosts':[{'nqn':'hostnqn'}],'subsystems':[{'nqn':'testnqn',"
		      "'allowed_hosts':['hostnqn'],'attr':{'allow_any_host':'0'}}]}");
	assert_string_equal(cfg->subsys[0].nqn, "testnqn");
	assert_string_equal(cfg->subsys[0].allowed_hosts[0], "hostnqn");
	nvmf_cfg_free(cfg);

	/* An empty document is an empty target. */
	cfg = load_ok("{}");
	assert_int_equal(cfg->nr_hosts + cfg->nr_subsys + cfg->nr_ports, 0);
	nvmf_cfg_free(cfg);

	/* An existing file through an absolute path, no nvmf_size needed. */
	cfg = load_ok("{'subsystems':[{'nqn':'nqn.2024-01.io.example:f','namespaces':[{'nsid':1,"
		      "'device':{'path':'@DATA@/nvmetcli-full.json'}}]}]}");
	assert_int_equal(cfg->subsys[0].ns[0].size_bytes, 0);
	nvmf_cfg_free(cfg);
}

/* Relative paths in a string resolve against the current directory, made absolute. */
static void test_relative_path_cwd(void **state)
{
	struct scratch *s = *state;
	char old[PATH_MAX], want[PATH_MAX];
	struct nvmf_cfg *cfg;

	assert_non_null(getcwd(old, sizeof(old)));
	assert_int_equal(chdir(s->dir), 0);
	make_sparse("rel.img", 1 << 20);
	cfg = load_ok("{'subsystems':[{'nqn':'nqn.2024-01.io.example:r','namespaces':[{'nsid':1,"
		      "'device':{'path':'rel.img'}}]}]}");
	assert_int_equal(chdir(old), 0);
	join(want, s->dir, "rel.img");
	assert_string_equal(cfg->subsys[0].ns[0].path, want);
	nvmf_cfg_free(cfg);
}

static void test_syntax_error_file(void **state)
{
	struct nvmf_cfg *cfg = NULL;
	char path[PATH_MAX], want[PATH_MAX + 64], err[ERRLEN];

	(void)state;
	join(path, data_dir(), "syntax-error.json");
	assert_int_equal(nvmf_cfg_load_file(path, &cfg, err, sizeof(err)), -EINVAL);
	assert_null(cfg);
	/* Line 6 column 7 is where a ',' is missing before "namespaces". */
	snprintf(want, sizeof(want), "%s: line 6, column 7: ", path);
	if (verbose())
		print_message("  %s\n", err);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
}

static void test_file_errors(void **state)
{
	struct scratch *s = *state;
	struct nvmf_cfg *cfg = NULL;
	char path[PATH_MAX], want[PATH_MAX + 64], err[ERRLEN];
	int fd;

	join(path, s->dir, "absent.json");
	assert_int_equal(nvmf_cfg_load_file(path, &cfg, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	assert_null(cfg);

	assert_int_equal(nvmf_cfg_load_file(s->dir, &cfg, err, sizeof(err)), -EISDIR);

	/* An error deep in a file names the file first, then the JSON path. */
	join(path, s->dir, "bad.json");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	dprintf(fd, "{\"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": "
		    "\"ipv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"iscsi\"}}]}\n");
	close(fd);
	assert_int_equal(nvmf_cfg_load_file(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: ports[0].addr.trsvcid: \"iscsi\" is not a port number",
		 path);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);

	/* json-c stops at a NUL; what follows must not be silently dropped. */
	join(path, s->dir, "nul.json");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{}\n\0{\"ports\": 1}", 17), 17);
	close(fd);
	assert_int_equal(nvmf_cfg_load_file(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: line 2, column 1: NUL byte in input", path);
	assert_string_equal(err, want);

	/* Larger than the 16 MiB limit. */
	join(path, s->dir, "huge.json");
	make_sparse(path, (16 << 20) + 1);
	assert_int_equal(nvmf_cfg_load_file(path, &cfg, err, sizeof(err)), -EFBIG);
	assert_null(cfg);
}

/* Load @json, which must fail with -EINVAL, and return the message. */
static const char *load_err(const char *tmpl)
{
	static char err[ERRLEN];
	struct nvmf_cfg *cfg = NULL;
	char *json = json_of(tmpl);

	assert_int_equal(nvmf_cfg_load_string(json, &cfg, err, sizeof(err)), -EINVAL);
	assert_null(cfg);
	if (verbose())
		print_message("  %s: %s\n", json, err);
	free(json);
	return err;
}

/*
 * nvmf.cpumask names CPUs of this machine, so the documents are made from this process's
 * affinity: its lowest CPU, and the lowest one it may not run on.
 */
static void test_cpumask(void **state)
{
	char json[256], want[256];
	struct nvmf_cfg *cfg;
	cpu_set_t allowed;
	int on = -1, off = -1;

	(void)state;
	assert_int_equal(nvmf_cpumask_allowed(&allowed), 0);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &allowed) && on < 0)
			on = c;
		if (!CPU_ISSET(c, &allowed) && off < 0)
			off = c;
	}
	assert_true(on >= 0);

	/* absent: no pinning */
	cfg = load_ok("{'nvmf':{'reactors':2}}");
	assert_null(cfg->cpus);
	assert_int_equal(cfg->nr_cpus, 0);
	nvmf_cfg_free(cfg);

	/* a list, alone and with a reactor count that agrees */
	snprintf(json, sizeof(json), "{'nvmf':{'cpumask':'[%d]'}}", on);
	cfg = load_ok(json);
	assert_int_equal(cfg->nr_cpus, 1);
	assert_int_equal(cfg->cpus[0], on);
	assert_int_equal(cfg->reactors, 0);
	nvmf_cfg_free(cfg);
	snprintf(json, sizeof(json), "{'nvmf':{'reactors':1,'cpumask':'[%d]'}}", on);
	cfg = load_ok(json);
	assert_int_equal(cfg->nr_cpus, 1);
	assert_int_equal(cfg->cpus[0], on);
	assert_int_equal(cfg->reactors, 1);
	nvmf_cfg_free(cfg);

	/* every CPU this process may use, as a list: in ascending order */
	if (CPU_COUNT(&allowed) > 1) {
		char list[200];
		int prev = -1;

		nvmf_cpumask_format(&allowed, list, sizeof(list));
		snprintf(json, sizeof(json), "{'nvmf':{'cpumask':'[%s]'}}", list);
		cfg = load_ok(json);
		assert_int_equal(cfg->nr_cpus, CPU_COUNT(&allowed));
		for (unsigned int i = 0; i < cfg->nr_cpus; i++) {
			assert_true(cfg->cpus[i] > prev);
			assert_true(CPU_ISSET(cfg->cpus[i], &allowed));
			prev = cfg->cpus[i];
		}
		nvmf_cfg_free(cfg);
	}

	/* a reactor count that disagrees with the mask */
	snprintf(json, sizeof(json), "{'nvmf':{'reactors':3,'cpumask':'[%d]'}}", on);
	assert_string_equal(load_err(json), "nvmf.cpumask: 1 CPU(s), but nvmf.reactors is 3 (one "
					    "reactor runs on each CPU of the mask)");

	/* a CPU this process may not run on */
	if (off < 0)
		skip();
	snprintf(json, sizeof(json), "{'nvmf':{'cpumask':'[%d]'}}", off);
	snprintf(want, sizeof(want),
		 "nvmf.cpumask: CPU %d is not available (this process may run on ", off);
	assert_memory_equal(load_err(json), want, strlen(want));
}

/* errbuf is optional, and a short one is truncated, never overrun. */
static void test_errbuf(void **state)
{
	struct nvmf_cfg *cfg = NULL;
	char small[10];

	(void)state;
	assert_int_equal(nvmf_cfg_load_string("{\"hosts\": 1}", &cfg, NULL, 0), -EINVAL);
	assert_null(cfg);
	memset(small, 'x', sizeof(small));
	assert_int_equal(nvmf_cfg_load_string("{\"hosts\": 1}", &cfg, small, 9), -EINVAL);
	assert_string_equal(small, "hosts: e");
	assert_int_equal(small[9], 'x');
	memset(small, 'x', sizeof(small));
	assert_int_equal(nvmf_cfg_load_string("{\"hosts\": 1}", &cfg, small, 1), -EINVAL);
	assert_int_equal(small[0], '\0');
	assert_int_equal(small[1], 'x');
}

/* ------------------------------------------------------------------------------------ */
/* Rejected documents: return code and the exact start of the message                  */

struct bad_case {
	const char *name;
	const char *json;
	int rc;
	const char *prefix;
};

#define S "'nqn':'nqn.2024-01.io.example:s'"
#define SUBSYS(body) "{'subsystems':[{" S "," body "}]}"
#define NS(list) SUBSYS("'namespaces':[" list "]")
#define NULLDEV "'device':{'nvmf_backend':'null','nvmf_size':'1M'}"
#define DEV(body) "{'nsid':1,'device':{" body "}}"
#define TCP(traddr, trsvcid)                                                                       \
	"'addr':{'trtype':'tcp','adrfam':'ipv4','traddr':'" traddr "','trsvcid':'" trsvcid "'}"
#define PORTS(list) "{'subsystems':[{" S "}],'ports':[" list "]}"
#define ADDR(body) PORTS("{'portid':1,'addr':{" body "}}")
#define NS0 "subsystems[0].namespaces[0]."

static const struct bad_case bad_cases[] = {
	/* JSON syntax */
	{ "syntax_truncated", "{'hosts': [", -EINVAL, "line 1, column 12: unexpected end of data" },
	{ "syntax_trailing_garbage", "{} x", -EINVAL, "line 1, column 4: " },
	{ "syntax_trailing_comma", "{'hosts': [],\n}", -EINVAL, "line 2, column 1: " },
	{ "syntax_comment", "{/* c */}", -EINVAL, "line 1, column 2: " },
	{ "syntax_bad_utf8", "{'hosts': [{'nqn': 'nqn.\xff'}]}", -EINVAL, "line 1, column " },
	{ "empty_input", "", -EINVAL, "line 1, column 1: unexpected end of data" },
	{ "top_level_array", "[1]", -EINVAL, "expected a JSON object at the top level, got array" },
	{ "top_level_null", "null", -EINVAL, "expected a JSON object at the top level, got null" },

	/* hosts */
	{ "hosts_not_array", "{'hosts':{}}", -EINVAL, "hosts: expected an array, got object" },
	{ "host_not_object", "{'hosts':['nqn.2024-01.io.example:h']}", -EINVAL,
	  "hosts[0]: expected an object, got string" },
	{ "host_nqn_missing", "{'hosts':[{}]}", -EINVAL, "hosts[0].nqn: missing" },
	{ "host_nqn_control_char", "{'hosts':[{'nqn':'nqn.a\\u0001b'}]}", -EINVAL,
	  "hosts[0].nqn: NQN contains a control character" },
	{ "host_nqn_nul", "{'hosts':[{'nqn':'nqn.a\\u0000b'}]}", -EINVAL,
	  "hosts[0].nqn: string contains a NUL character" },
	{ "host_duplicate",
	  "{'hosts':[{'nqn':'nqn.2024-01.io.example:h'},"
	  "{'nqn':'nqn.2024-01.io.example:h'}]}",
	  -EINVAL, "hosts[1].nqn: duplicate host NQN (also hosts[0])" },
	{ "host_dhchap_key",
	  "{'hosts':[{'nqn':'nqn.2024-01.io.example:h','dhchap':{'key':"
	  "'DHHC-1:00:abc:','ctrl_key':''}}]}",
	  -EOPNOTSUPP, "hosts[0].dhchap.key: DH-HMAC-CHAP authentication is not supported" },
	{ "host_dhchap_ctrl_key",
	  "{'hosts':[{'nqn':'nqn.2024-01.io.example:h','dhchap':{'key':'',"
	  "'ctrl_key':'DHHC-1:00:abc:'}}]}",
	  -EOPNOTSUPP, "hosts[0].dhchap.ctrl_key: DH-HMAC-CHAP authentication is not supported" },

	/* subsystems */
	{ "subsys_nqn_missing", "{'subsystems':[{" S "},{'attr':{}}]}", -EINVAL,
	  "subsystems[1].nqn: missing" },
	{ "subsys_nqn_not_string", "{'subsystems':[{'nqn':5}]}", -EINVAL,
	  "subsystems[0].nqn: expected a string, got int" },
	{ "subsys_nqn_too_long", "{'subsystems':[{'nqn':'@NQN224@'}]}", -EINVAL,
	  "subsystems[0].nqn: NQN is 224 bytes long, at most 223 allowed" },
	{ "subsys_nqn_discovery", "{'subsystems':[{'nqn':'nqn.2014-08.org.nvmexpress.discovery'}]}",
	  -EINVAL, "subsystems[0].nqn: the discovery NQN cannot name an NVM subsystem" },
	{ "subsys_duplicate", "{'subsystems':[{" S "},{" S "}]}", -EINVAL,
	  "subsystems[1].nqn: duplicate subsystem NQN (also subsystems[0])" },
	{ "subsys_not_object", "{'subsystems':['x']}", -EINVAL,
	  "subsystems[0]: expected an object, got string" },
	{ "allowed_host_unknown", SUBSYS("'allowed_hosts':['nqn.2024-01.io.example:h']"), -EINVAL,
	  "subsystems[0].allowed_hosts[0]: host \"nqn.2024-01.io.example:h\" is not listed in "
	  "hosts[]" },
	{ "allowed_host_with_any",
	  "{'hosts':[{'nqn':'nqn.2024-01.io.example:h'}],'subsystems':[{" S
	  ",'attr':{'allow_any_host':'1'},'allowed_hosts':['nqn.2024-01.io.example:h']}]}",
	  -EINVAL, "subsystems[0].allowed_hosts: must be empty when attr.allow_any_host is set" },
	{ "allowed_host_duplicate",
	  "{'hosts':[{'nqn':'nqn.2024-01.io.example:h'}],'subsystems':[{" S
	  ",'allowed_hosts':['nqn.2024-01.io.example:h','nqn.2024-01.io.example:h']}]}",
	  -EINVAL, "subsystems[0].allowed_hosts[1]: duplicate (also allowed_hosts[0])" },
	{ "attr_not_object", SUBSYS("'attr':[]"), -EINVAL,
	  "subsystems[0].attr: expected an object, got array" },
	{ "cntlid_min_gt_max", SUBSYS("'attr':{'cntlid_min':'100','cntlid_max':'10'}"), -EINVAL,
	  "subsystems[0].attr.cntlid_min: 100 is greater than cntlid_max (10)" },
	{ "cntlid_max_reserved", SUBSYS("'attr':{'cntlid_max':'65520'}"), -EINVAL,
	  "subsystems[0].attr.cntlid_max: 65520 is out of range [1, 65519]" },
	{ "cntlid_min_zero", SUBSYS("'attr':{'cntlid_min':0}"), -EINVAL,
	  "subsystems[0].attr.cntlid_min: 0 is out of range [1, 65519]" },
	{ "cntlid_not_number", SUBSYS("'attr':{'cntlid_min':'abc'}"), -EINVAL,
	  "subsystems[0].attr.cntlid_min: \"abc\" is not an integer" },
	{ "cntlid_huge", SUBSYS("'attr':{'cntlid_min':'99999999999999999999'}"), -EINVAL,
	  "subsystems[0].attr.cntlid_min: \"99999999999999999999\" is out of range" },
	{ "version_bad", SUBSYS("'attr':{'version':'1'}"), -EINVAL,
	  "subsystems[0].attr.version: \"1\" is not a version" },
	{ "version_number", SUBSYS("'attr':{'version':1.3}"), -EINVAL,
	  "subsystems[0].attr.version: expected a string, got double" },
	{ "serial_too_long", SUBSYS("'attr':{'serial':'123456789012345678901'}"), -EINVAL,
	  "subsystems[0].attr.serial: 21 bytes long, at most 20 allowed" },
	{ "model_not_ascii", SUBSYS("'attr':{'model':'caf\\u00e9'}"), -EINVAL,
	  "subsystems[0].attr.model: must be printable ASCII" },
	{ "firmware_too_long", SUBSYS("'attr':{'firmware':'123456789'}"), -EINVAL,
	  "subsystems[0].attr.firmware: 9 bytes long, at most 8 allowed" },
	{ "ieee_oui_too_big", SUBSYS("'attr':{'ieee_oui':'0x1000000'}"), -EINVAL,
	  "subsystems[0].attr.ieee_oui: 16777216 is out of range [0, 16777215]" },
	{ "allow_any_host_bad", SUBSYS("'attr':{'allow_any_host':'maybe'}"), -EINVAL,
	  "subsystems[0].attr.allow_any_host: \"maybe\" is not a boolean" },
	{ "passthru_enabled", SUBSYS("'passthru':[{'enable':1,'device':{'path':'/dev/nvme0'}}]"),
	  -EOPNOTSUPP, "subsystems[0].passthru[0].enable: passthru subsystems are not supported" },
	{ "passthru_object_enabled", SUBSYS("'passthru':{'enable':'1'}"), -EOPNOTSUPP,
	  "subsystems[0].passthru.enable: passthru subsystems are not supported" },
	{ "subsys_nvmf_key", SUBSYS("'nvmf_serial':'x'"), -EINVAL,
	  "subsystems[0].nvmf_serial: unknown nvmf extension key" },

	/* namespaces */
	{ "namespaces_not_array", SUBSYS("'namespaces':{}"), -EINVAL,
	  "subsystems[0].namespaces: expected an array, got object" },
	{ "nsid_missing", NS("{" NULLDEV "}"), -EINVAL, NS0 "nsid: missing" },
	{ "nsid_zero", NS("{'nsid':0," NULLDEV "}"), -EINVAL, NS0 "nsid: 0 is not a valid NSID" },
	{ "nsid_broadcast", NS("{'nsid':4294967295," NULLDEV "}"), -EINVAL,
	  NS0 "nsid: 0xffffffff is the broadcast NSID" },
	{ "nsid_broadcast_hex_string", NS("{'nsid':'0xffffffff'," NULLDEV "}"), -EINVAL,
	  NS0 "nsid: 0xffffffff is the broadcast NSID" },
	{ "nsid_too_big", NS("{'nsid':4294967296," NULLDEV "}"), -EINVAL,
	  NS0 "nsid: 4294967296 is out of range [0, 4294967295]" },
	{ "nsid_negative", NS("{'nsid':-1," NULLDEV "}"), -EINVAL, NS0 "nsid: -1 is out of range" },
	{ "nsid_float", NS("{'nsid':1.5," NULLDEV "}"), -EINVAL,
	  NS0 "nsid: expected an integer, got double" },
	{ "nsid_duplicate",
	  NS("{'nsid':1," NULLDEV "},{'nsid':2," NULLDEV "},{'nsid':1," NULLDEV "}"), -EINVAL,
	  "subsystems[0].namespaces[2].nsid: duplicate NSID 1 (also namespaces[0])" },
	{ "ns_device_missing", NS("{'nsid':1}"), -EINVAL, NS0 "device: missing" },
	{ "ns_device_not_object", NS("{'nsid':1,'device':'/dev/sda'}"), -EINVAL,
	  NS0 "device: expected an object, got string" },
	{ "ns_enable_bad", NS("{'nsid':1,'enable':2," NULLDEV "}"), -EINVAL,
	  NS0 "enable: 2 is not a boolean (0 or 1)" },
	{ "ns_ana_grpid_zero", NS("{'nsid':1,'ana_grpid':0," NULLDEV "}"), -EINVAL,
	  NS0 "ana_grpid: 0 is out of range [1, 128]" },
	{ "ns_ana_group_grpid_big", NS("{'nsid':1,'ana':{'grpid':'129'}," NULLDEV "}"), -EINVAL,
	  NS0 "ana.grpid: 129 is out of range [1, 128]" },
	{ "ns_nvmf_key_misplaced", NS("{'nsid':1,'nvmf_size':'1G'," NULLDEV "}"), -EINVAL,
	  NS0 "nvmf_size: unknown nvmf extension key" },
	{ "file_enoent",
	  NS("{'nsid':1," NULLDEV "},{'nsid':2,'device':{'path':"
	     "'/nonexistent-nvmf-test/disk.img'}}"),
	  -ENOENT, "subsystems[0].namespaces[1].device.path: No such file or directory" },
	{ "file_enoent_no_dir",
	  NS(DEV("'path':'/nonexistent-nvmf-test/disk.img','nvmf_size':'1M'")), -ENOENT,
	  NS0 "device.path: directory /nonexistent-nvmf-test: No such file or directory" },
	{ "file_dir_not_dir", NS(DEV("'path':'@DATA@/nvmetcli-full.json/x.img','nvmf_size':'1M'")),
	  -ENOTDIR, NS0 "device.path: " },
	{ "file_is_directory", NS(DEV("'path':'@DATA@'")), -EINVAL,
	  NS0 "device.path: not a regular file or block device: " },
	{ "file_path_missing", NS(DEV("")), -EINVAL,
	  NS0 "device.path: missing (required by the file backend)" },
	{ "file_path_empty", NS(DEV("'path':''")), -EINVAL,
	  NS0 "device.path: missing (required by the file backend)" },
	{ "file_path_not_string", NS(DEV("'path':['a']")), -EINVAL,
	  NS0 "device.path: expected a string, got array" },
	{ "backend_unknown", NS(DEV("'nvmf_backend':'rbd'")), -EINVAL,
	  NS0 "device.nvmf_backend: unknown backend \"rbd\" (supported: file, null, mem)" },
	{ "null_size_missing", NS(DEV("'nvmf_backend':'null'")), -EINVAL,
	  NS0 "device.nvmf_size: missing (required by the null backend)" },
	{ "mem_size_missing", NS(DEV("'nvmf_backend':'mem','path':'/x'")), -EINVAL,
	  NS0 "device.nvmf_size: missing (required by the mem backend)" },
	{ "size_zero", NS(DEV("'nvmf_backend':'mem','nvmf_size':0")), -EINVAL,
	  NS0 "device.nvmf_size: must be greater than 0" },
	{ "size_not_multiple", NS(DEV("'nvmf_backend':'null','nvmf_size':1000")), -EINVAL,
	  NS0 "device.nvmf_size: 1000 is not a multiple of nvmf_block_size (512)" },
	{ "size_not_multiple_4k",
	  NS(DEV("'nvmf_backend':'null','nvmf_size':'2K',"
		 "'nvmf_block_size':4096")),
	  -EINVAL, NS0 "device.nvmf_size: 2048 is not a multiple of nvmf_block_size (4096)" },
	{ "size_bad_suffix", NS(DEV("'nvmf_backend':'null','nvmf_size':'1X'")), -EINVAL,
	  NS0 "device.nvmf_size: \"1X\" is not a size" },
	{ "size_suffix_only", NS(DEV("'nvmf_backend':'null','nvmf_size':'G'")), -EINVAL,
	  NS0 "device.nvmf_size: \"G\" is not a size" },
	{ "size_negative_string", NS(DEV("'nvmf_backend':'null','nvmf_size':'-1G'")), -EINVAL,
	  NS0 "device.nvmf_size: \"-1G\" is not a size" },
	{ "size_negative_int", NS(DEV("'nvmf_backend':'null','nvmf_size':-512")), -EINVAL,
	  NS0 "device.nvmf_size: -512 is out of range" },
	{ "size_overflow", NS(DEV("'nvmf_backend':'null','nvmf_size':'99999999T'")), -EINVAL,
	  NS0 "device.nvmf_size: \"99999999T\" is too large" },
	{ "size_float", NS(DEV("'nvmf_backend':'null','nvmf_size':1.5")), -EINVAL,
	  NS0 "device.nvmf_size: expected an integer, got double" },
	{ "block_size_1000",
	  NS(DEV("'nvmf_backend':'null','nvmf_size':'1M','nvmf_block_size':1000")), -EINVAL,
	  NS0 "device.nvmf_block_size: 1000 is not a power of two from 512 to 65536" },
	{ "block_size_256", NS(DEV("'nvmf_backend':'null','nvmf_size':'1M','nvmf_block_size':256")),
	  -EINVAL, NS0 "device.nvmf_block_size: 256 is not a power of two from 512 to 65536" },
	{ "block_size_128k",
	  NS(DEV("'nvmf_backend':'null','nvmf_size':'1M',"
		 "'nvmf_block_size':'131072'")),
	  -EINVAL, NS0 "device.nvmf_block_size: 131072 is not a power of two from 512 to 65536" },
	{ "buffered_bad", NS(DEV("'nvmf_backend':'null','nvmf_size':'1M','nvmf_buffered':'often'")),
	  -EINVAL, NS0 "device.nvmf_buffered: \"often\" is not a boolean" },
	{ "device_nvmf_typo", NS(DEV("'nvmf_backend':'null','nvmf_sise':'1M'")), -EINVAL,
	  NS0 "device.nvmf_sise: unknown nvmf extension key; known here: nvmf_backend, nvmf_size, "
	      "nvmf_block_size, nvmf_buffered" },
	{ "uuid_short", NS(DEV("'nvmf_backend':'null','nvmf_size':'1M','uuid':'1234'")), -EINVAL,
	  NS0 "device.uuid: \"1234\" is not a UUID" },
	{ "uuid_dashes_misplaced",
	  NS(DEV("'nvmf_backend':'null','nvmf_size':'1M',"
		 "'uuid':'d592cdf35-d1c-44e0-8412-3fcf7d99df27'")),
	  -EINVAL, NS0 "device.uuid: \"d592cdf35-d1c-44e0-8412-3fcf7d99df27\" is not a UUID" },
	{ "uuid_not_hex",
	  NS(DEV("'nvmf_backend':'null','nvmf_size':'1M',"
		 "'uuid':'g592cdf3-5d1c-44e0-8412-3fcf7d99df27'")),
	  -EINVAL, NS0 "device.uuid: " },
	{ "nguid_not_hex",
	  NS(DEV("'nvmf_backend':'null','nvmf_size':'1M',"
		 "'nguid':'zz90689c-6c46-d44c-89c1-4067801309a8'")),
	  -EINVAL, NS0 "device.nguid: \"zz90689c-6c46-d44c-89c1-4067801309a8\" is not an NGUID" },
	{ "nguid_short",
	  NS(DEV("'nvmf_backend':'null','nvmf_size':'1M',"
		 "'nguid':'ef90689c6c46d44c89c14067801309'")),
	  -EINVAL, NS0 "device.nguid: " },
	{ "nguid_long",
	  NS(DEV("'nvmf_backend':'null','nvmf_size':'1M',"
		 "'nguid':'ef90689c6c46d44c89c14067801309a8ff'")),
	  -EINVAL, NS0 "device.nguid: " },
	{ "eui64_bad", NS(DEV("'nvmf_backend':'null','nvmf_size':'1M','eui64':'0025:38'")), -EINVAL,
	  NS0 "device.eui64: \"0025:38\" is not an EUI-64" },

	/* ports */
	{ "ports_not_array", "{'ports':1}", -EINVAL, "ports: expected an array, got int" },
	{ "port_portid_missing", PORTS("{" TCP("127.0.0.1", "4420") "}"), -EINVAL,
	  "ports[0].portid: missing" },
	{ "port_portid_range", PORTS("{'portid':65536," TCP("127.0.0.1", "4420") "}"), -EINVAL,
	  "ports[0].portid: 65536 is out of range [0, 65535]" },
	{ "port_portid_duplicate",
	  PORTS("{'portid':1," TCP("127.0.0.1", "4420") "},{'portid':1," TCP("127.0.0.1",
									     "4421") "}"),
	  -EINVAL,
	  "ports[1].portid: duplicate port ID 1 (also "
	  "ports[0])" },
	{ "port_same_address",
	  PORTS("{'portid':1," TCP("127.0.0.1", "4420") "},{'portid':2," TCP("127.0.0.1",
									     "4420") "}"),
	  -EINVAL, "ports[1].addr: same address as ports[0]" },
	{ "port_addr_missing", PORTS("{'portid':1}"), -EINVAL, "ports[0].addr: missing" },
	{ "port_trtype_missing", ADDR("'adrfam':'ipv4'"), -EINVAL,
	  "ports[0].addr.trtype: missing" },
	{ "port_trtype_rdma",
	  ADDR("'trtype':'rdma','adrfam':'ipv4','traddr':'10.0.0.1',"
	       "'trsvcid':'4420'"),
	  -EOPNOTSUPP,
	  "ports[0].addr.trtype: transport \"rdma\" is not supported (supported: tcp, loop, "
	  "vfio-user)" },
	{ "port_trtype_fc", ADDR("'trtype':'fc','adrfam':'fc','traddr':'nn-0x1:pn-0x2'"),
	  -EOPNOTSUPP,
	  "ports[0].addr.trtype: transport \"fc\" is not supported (supported: tcp, "
	  "loop, vfio-user)" },
	{ "port_trtype_unknown", ADDR("'trtype':'quic'"), -EINVAL,
	  "ports[0].addr.trtype: unknown transport \"quic\" (supported: tcp, loop, vfio-user)" },
	{ "port_adrfam_missing", ADDR("'trtype':'tcp','traddr':'127.0.0.1','trsvcid':'4420'"),
	  -EINVAL, "ports[0].addr.adrfam: missing (ipv4 or ipv6 for tcp)" },
	{ "port_adrfam_ib",
	  ADDR("'trtype':'tcp','adrfam':'ib','traddr':'127.0.0.1',"
	       "'trsvcid':'4420'"),
	  -EINVAL, "ports[0].addr.adrfam: \"ib\" is not valid for tcp" },
	{ "port_adrfam_unknown", ADDR("'trtype':'tcp','adrfam':'ipv5'"), -EINVAL,
	  "ports[0].addr.adrfam: unknown address family \"ipv5\"" },
	{ "port_traddr_missing", ADDR("'trtype':'tcp','adrfam':'ipv4','trsvcid':'4420'"), -EINVAL,
	  "ports[0].addr.traddr: missing (an IPv4 address)" },
	{ "port_traddr_bad_ipv4", PORTS("{'portid':1," TCP("300.1.1.1", "4420") "}"), -EINVAL,
	  "ports[0].addr.traddr: \"300.1.1.1\" is not a numeric IPv4 address" },
	{ "port_traddr_hostname", PORTS("{'portid':1," TCP("localhost", "4420") "}"), -EINVAL,
	  "ports[0].addr.traddr: \"localhost\" is not a numeric IPv4 address" },
	{ "port_traddr_ipv6_as_ipv4", PORTS("{'portid':1," TCP("::1", "4420") "}"), -EINVAL,
	  "ports[0].addr.traddr: \"::1\" is not a numeric IPv4 address" },
	{ "port_traddr_bad_ipv6",
	  ADDR("'trtype':'tcp','adrfam':'ipv6','traddr':'fe80::1%',"
	       "'trsvcid':'4420'"),
	  -EINVAL, "ports[0].addr.traddr: \"fe80::1%\" is not a numeric IPv6 address" },
	{ "port_trsvcid_missing", ADDR("'trtype':'tcp','adrfam':'ipv4','traddr':'127.0.0.1'"),
	  -EINVAL, "ports[0].addr.trsvcid: missing (a port number)" },
	{ "port_trsvcid_text", PORTS("{'portid':1," TCP("127.0.0.1", "http") "}"), -EINVAL,
	  "ports[0].addr.trsvcid: \"http\" is not a port number (1-65535)" },
	{ "port_trsvcid_zero", PORTS("{'portid':1," TCP("127.0.0.1", "0") "}"), -EINVAL,
	  "ports[0].addr.trsvcid: \"0\" is not a port number (1-65535)" },
	{ "port_trsvcid_70000", PORTS("{'portid':1," TCP("127.0.0.1", "70000") "}"), -EINVAL,
	  "ports[0].addr.trsvcid: \"70000\" is not a port number (1-65535)" },
	{ "port_trsvcid_number",
	  ADDR("'trtype':'tcp','adrfam':'ipv4','traddr':'127.0.0.1',"
	       "'trsvcid':4420"),
	  -EINVAL, "ports[0].addr.trsvcid: expected a string, got int" },
	{ "port_treq_bad", ADDR("'trtype':'loop','treq':'sometimes'"), -EINVAL,
	  "ports[0].addr.treq: unknown treq \"sometimes\"" },
	{ "port_tsas_tls",
	  ADDR("'trtype':'tcp','adrfam':'ipv4','traddr':'127.0.0.1',"
	       "'trsvcid':'4420','treq':'required','tsas':'tls1.3'"),
	  -EOPNOTSUPP, "ports[0].addr.tsas: TLS is not supported" },
	{ "port_unknown_subsys",
	  "{'subsystems':[{" S "}],'ports':[{'portid':1," TCP(
		  "127.0.0.1", "4420") ",'subsystems':['nqn.2024-01.io.example:nope']}]}",
	  -EINVAL,
	  "ports[0].subsystems[0]: subsystem \"nqn.2024-01.io.example:nope\" is not defined in "
	  "subsystems[]" },
	{ "port_subsys_duplicate",
	  "{'subsystems':[{" S "}],'ports':[{'portid':1," TCP(
		  "127.0.0.1", "4420") ",'subsystems':['nqn.2024-01.io.example:s',"
				       "'nqn.2024-01.io.example:s']}]}",
	  -EINVAL, "ports[0].subsystems[1]: duplicate (also subsystems[0])" },
	{ "port_subsys_not_string",
	  PORTS("{'portid':1," TCP("127.0.0.1", "4420") ",'subsystems':[1]}"), -EINVAL,
	  "ports[0].subsystems[0]: expected a string, got int" },
	{ "port_inline_data_size",
	  PORTS("{'portid':1," TCP("127.0.0.1", "4420") ",'param':{'inline_data_size':'-2'}}"),
	  -EINVAL, "ports[0].param.inline_data_size: -2 is out of range [-1, 2147483647]" },
	{ "port_max_queue_size",
	  PORTS("{'portid':1," TCP("127.0.0.1", "4420") ",'param':{'max_queue_size':'1'}}"),
	  -EINVAL, "ports[0].param.max_queue_size: 1 is too small" },
	{ "port_pi_enable_bad",
	  PORTS("{'portid':1," TCP("127.0.0.1", "4420") ",'param':{'pi_enable':'2'}}"), -EINVAL,
	  "ports[0].param.pi_enable: \"2\" is not a boolean" },
	{ "ana_grpid_missing",
	  PORTS("{'portid':1," TCP("127.0.0.1",
				   "4420") ",'ana_groups':[{'ana':{'state':'optimized'}}]}"),
	  -EINVAL, "ports[0].ana_groups[0].grpid: missing" },
	{ "ana_grpid_zero",
	  PORTS("{'portid':1," TCP("127.0.0.1", "4420") ",'ana_groups':[{'grpid':0}]}"), -EINVAL,
	  "ports[0].ana_groups[0].grpid: 0 is out of range [1, 128]" },
	{ "ana_grpid_duplicate",
	  PORTS("{'portid':1," TCP("127.0.0.1",
				   "4420") ",'ana_groups':[{'grpid':1},{'grpid':'1'}]}"),
	  -EINVAL, "ports[0].ana_groups[1].grpid: duplicate ANA group 1 (also ana_groups[0])" },
	{ "ana_state_bad",
	  PORTS("{'portid':1," TCP("127.0.0.1",
				   "4420") ",'ana_groups':[{'grpid':2,'ana':{'state':'great'}}]}"),
	  -EINVAL, "ports[0].ana_groups[0].ana.state: unknown ANA state \"great\"" },
	{ "ana_state_unknown_name",
	  PORTS("{'portid':1," TCP(
		  "127.0.0.1", "4420") ",'ana_groups':[{'grpid':2,'ana':{'state':'unknown'}}]}"),
	  -EINVAL,
	  "ports[0].ana_groups[0].ana.state: unknown ANA state \"unknown\" (optimized, "
	  "non-optimized, inaccessible, persistent-loss, change)" },
	{ "ana_state_case",
	  PORTS("{'portid':1," TCP(
		  "127.0.0.1", "4420") ",'ana_groups':[{'grpid':2,'ana':{'state':'Optimized'}}]}"),
	  -EINVAL, "ports[0].ana_groups[0].ana.state: unknown ANA state \"Optimized\"" },
	{ "ana_state_number",
	  PORTS("{'portid':1," TCP("127.0.0.1",
				   "4420") ",'ana_groups':[{'grpid':2,'ana':{'state':1}}]}"),
	  -EINVAL, "ports[0].ana_groups[0].ana.state: " },
	{ "ana_grpid_big",
	  PORTS("{'portid':1," TCP("127.0.0.1", "4420") ",'ana_groups':[{'grpid':'129'}]}"),
	  -EINVAL, "ports[0].ana_groups[0].grpid: 129 is out of range [1, 128]" },
	{ "port_enabled_bad", PORTS("{'portid':1," TCP("127.0.0.1", "4420") ",'enabled':'maybe'}"),
	  -EINVAL, "ports[0].enabled: \"maybe\" is not a boolean" },
	{ "referral_addr_missing",
	  PORTS("{'portid':1," TCP("127.0.0.1", "4420") ",'referrals':[{'name':'r'}]}"), -EINVAL,
	  "ports[0].referrals[0].addr: missing" },
	{ "referral_trtype_unknown",
	  PORTS("{'portid':1," TCP("127.0.0.1",
				   "4420") ",'referrals':[{'addr':{'trtype':'foo'}}]}"),
	  -EINVAL,
	  "ports[0].referrals[0].addr.trtype: unknown transport \"foo\" (rdma, fc, tcp, loop)" },
	{ "referral_traddr_bad",
	  PORTS("{'portid':1," TCP(
		  "127.0.0.1",
		  "4420") ",'referrals':[{'addr':{'trtype':'rdma','adrfam':'ipv4','traddr':'x',"
			  "'trsvcid':'4420'}}]}"),
	  -EINVAL, "ports[0].referrals[0].addr.traddr: \"x\" is not a numeric IPv4 address" },
	{ "referral_portid_bad",
	  PORTS("{'portid':1," TCP(
		  "127.0.0.1",
		  "4420") ",'referrals':[{'addr':{'trtype':'loop','portid':'70000'}}]}"),
	  -EINVAL, "ports[0].referrals[0].addr.portid: 70000 is out of range [0, 65535]" },

	/* nvmf{} and the top level */
	{ "nvmf_not_object", "{'nvmf':4}", -EINVAL, "nvmf: expected an object, got int" },
	{ "nvmf_reactors_negative", "{'nvmf':{'reactors':-1}}", -EINVAL,
	  "nvmf.reactors: -1 is out of range [0, 1024]" },
	{ "nvmf_reactors_text", "{'nvmf':{'reactors':'many'}}", -EINVAL,
	  "nvmf.reactors: \"many\" is not an integer" },
	{ "nvmf_kato_negative", "{'nvmf':{'kato_default_ms':-5}}", -EINVAL,
	  "nvmf.kato_default_ms: -5 is out of range" },
	{ "nvmf_unknown_key", "{'nvmf':{'reactor':2}}", -EINVAL,
	  "nvmf.reactor: unknown key (known: reactors, cpumask, kato_default_ms, rpc_socket)" },
	{ "nvmf_cpumask_number", "{'nvmf':{'cpumask':3}}", -EINVAL, "nvmf.cpumask: " },
	{ "nvmf_cpumask_empty", "{'nvmf':{'cpumask':''}}", -EINVAL,
	  "nvmf.cpumask: \"\" is not a CPU mask (a hex mask as \"0x3\", or a list as "
	  "\"[0,2-3]\"; CPUs below 1024)" },
	{ "nvmf_cpumask_0x", "{'nvmf':{'cpumask':'0x'}}", -EINVAL,
	  "nvmf.cpumask: \"0x\" is not a CPU mask" },
	{ "nvmf_cpumask_zero", "{'nvmf':{'cpumask':'0x0'}}", -EINVAL,
	  "nvmf.cpumask: \"0x0\" is not a CPU mask" },
	{ "nvmf_cpumask_range_down", "{'nvmf':{'cpumask':'2-1'}}", -EINVAL,
	  "nvmf.cpumask: \"2-1\" is not a CPU mask" },
	{ "nvmf_cpumask_too_high", "{'nvmf':{'cpumask':'[1024]'}}", -EINVAL,
	  "nvmf.cpumask: \"[1024]\" is not a CPU mask" },
	{ "nvmf_rpc_socket_empty", "{'nvmf':{'rpc_socket':''}}", -EINVAL,
	  "nvmf.rpc_socket: not a Unix socket path" },
	{ "nvmf_rpc_socket_number", "{'nvmf':{'rpc_socket':5}}", -EINVAL, "nvmf.rpc_socket: " },
	{ "root_nvmf_typo", "{'nvmf_reactors':2}", -EINVAL,
	  "nvmf_reactors: unknown nvmf extension key" },
};

static void test_bad_case(void **state)
{
	static struct nvmf_cfg sentinel;
	const struct bad_case *c = *state;
	struct nvmf_cfg *cfg = &sentinel;
	char err[ERRLEN], got[ERRLEN];
	char *json = json_of(c->json);
	int rc;

	memset(err, 'x', sizeof(err));
	rc = nvmf_cfg_load_string(json, &cfg, err, sizeof(err));
	free(json);
	if (verbose() || rc != c->rc)
		print_message("  [%s] rc %d: %s\n", c->name, rc, err);
	assert_int_equal(rc, c->rc);
	assert_null(cfg);
	snprintf(got, strlen(c->prefix) + 1, "%s", err);
	assert_string_equal(got, c->prefix);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nvmetcli_full, scratch_setup,
						scratch_teardown),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_accepted_variants),
		cmocka_unit_test_setup_teardown(test_relative_path_cwd, scratch_setup,
						scratch_teardown),
		cmocka_unit_test(test_syntax_error_file),
		cmocka_unit_test_setup_teardown(test_file_errors, scratch_setup, scratch_teardown),
		cmocka_unit_test(test_errbuf),
		cmocka_unit_test(test_cpumask),
	};
	size_t i, n = sizeof(bad_cases) / sizeof(bad_cases[0]);
	struct CMUnitTest *bad = calloc(n, sizeof(*bad));
	int failed;

	if (!bad)
		return 1;
	for (i = 0; i < n; i++) {
		bad[i].name = bad_cases[i].name;
		bad[i].test_func = test_bad_case;
		bad[i].initial_state = (void *)&bad_cases[i];
	}
	failed = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	failed += _cmocka_run_group_tests("config_rejected", bad, n, NULL, NULL);
	free(bad);
	return failed ? 1 : 0;
}
