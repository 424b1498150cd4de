/*
 * nvmf-tgt configuration loader: nvmetcli's JSON (see config.h for the format) into
 * struct nvmf_cfg, with every value checked and every error naming its JSON path. This file
 * is the schema; the JSON plumbing it stands on (path tracking, error formatting, typed
 * getters, reading and tokenizing the file) is config-json.c.
 *
 * Parsing walks the document once. Each parse_*() function keeps ctx->path pointing at the
 * value it is looking at, so an error is formatted where it is found and then returned
 * unchanged to the caller; the first error ends the load.
 */
#include "config.h"
#include "config-json.h"

#include "common/ana.h"
#include "common/cpumask.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFG_NSID_BROADCAST 0xffffffffu
#define CFG_CNTLID_MAX 0xffefu /* NVMe Base 2.0c: CNTLID FFF0h..FFFFh are reserved */

static const struct cfg_name_map trtype_names[] = {
	{ "rdma", NVMF_CFG_TRTYPE_RDMA },
	{ "fc", NVMF_CFG_TRTYPE_FC },
	{ "tcp", NVMF_CFG_TRTYPE_TCP },
	{ "loop", NVMF_CFG_TRTYPE_LOOP },
	{ "vfio-user", NVMF_CFG_TRTYPE_VFIO_USER },
	{ NULL, 0 },
};

/* Spelled as Linux nvmet shows them in configfs, which is what nvmetcli saves. */
static const struct cfg_name_map adrfam_names[] = {
	{ "pcie", NVMF_CFG_ADRFAM_PCI },
	{ "ipv4", NVMF_CFG_ADRFAM_IPV4 },
	{ "ipv6", NVMF_CFG_ADRFAM_IPV6 },
	{ "ib", NVMF_CFG_ADRFAM_IB },
	{ "fc", NVMF_CFG_ADRFAM_FC },
	{ "loop", NVMF_CFG_ADRFAM_LOOP },
	{ NULL, 0 },
};

static const struct cfg_name_map treq_names[] = {
	{ "not specified", NVMF_CFG_TREQ_NOT_SPECIFIED },
	{ "required", NVMF_CFG_TREQ_REQUIRED },
	{ "not required", NVMF_CFG_TREQ_NOT_REQUIRED },
	{ NULL, 0 },
};

static const struct cfg_name_map backend_names[] = {
	{ "file", NVMF_CFG_BACKEND_FILE },
	{ "null", NVMF_CFG_BACKEND_NULL },
	{ "mem", NVMF_CFG_BACKEND_MEM },
	{ NULL, 0 },
};

/* ------------------------------------------------------------------------------------ */
/* "nvmf_" extension keys                                                               */

static bool in_list(const char *const *list, const char *s)
{
	for (; list && *list; list++) {
		if (!strcmp(*list, s))
			return true;
	}
	return false;
}

/*
 * nvmetcli never writes keys starting with "nvmf_": such a key that is not one of ours at
 * this level is a typo, and silently ignoring it would silently ignore the user's intent.
 */
static int check_nvmf_keys(struct cfg_ctx *ctx, struct json_object *obj, const char *const *known,
			   const char *hint)
{
	struct json_object_iterator it = json_object_iter_begin(obj);
	struct json_object_iterator end = json_object_iter_end(obj);

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);

		if (strncmp(key, "nvmf_", 5) || in_list(known, key))
			continue;
		return cfg_err_key(ctx, key, -EINVAL, "unknown nvmf extension key%s%s",
				   hint ? "; known here: " : "", hint ? hint : "");
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Value formats                                                                        */

/*
 * NVMe Base 2.0c 4.5 defines NQNs as "nqn." followed by a date and reverse domain, or the
 * UUID form; but Linux nvmet accepts any name (nvmetcli's own examples use "testnqn"), and a
 * saved nvmetcli file must load unchanged. So, like nvmet, we only require a non-empty
 * printable string of at most 223 bytes.
 */
static int check_nqn(struct cfg_ctx *ctx, const char *nqn)
{
	size_t len = strlen(nqn);
	const char *p;

	if (!len)
		return cfg_err(ctx, -EINVAL, "empty NQN");
	if (len > NVMF_CFG_NQN_SIZE - 1)
		return cfg_err(ctx, -EINVAL, "NQN is %zu bytes long, at most %d allowed", len,
			       NVMF_CFG_NQN_SIZE - 1);
	for (p = nqn; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return cfg_err(ctx, -EINVAL, "NQN contains a control character");
	}
	return 0;
}

/* Member @key of @obj: a valid NQN, copied to @nqn. */
static int get_nqn(struct cfg_ctx *ctx, struct json_object *obj, const char *key,
		   char nqn[NVMF_CFG_NQN_SIZE])
{
	const char *s;
	size_t old;
	int ret;

	ret = cfg_get_str(ctx, obj, key, true, &s);
	if (ret < 0)
		return ret;
	old = cfg_path_push(ctx, key);
	ret = check_nqn(ctx, s);
	cfg_path_pop(ctx, old);
	if (!ret)
		memcpy(nqn, s, strlen(s) + 1);
	return ret;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	while (len--) {
		if (*p++)
			return false;
	}
	return true;
}

/* "M.m" or "M.m.t" as nvmet's attr_version takes it, into the VS register encoding. */
static bool parse_version(const char *s, uint32_t *out)
{
	uint32_t part[3] = { 0, 0, 0 };
	int n = 0;

	for (;;) {
		uint32_t v = 0;

		if (*s < '0' || *s > '9')
			return false;
		for (; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (uint32_t)(*s - '0');
			if (v > 0xffff)
				return false;
		}
		part[n++] = v;
		if (!*s)
			break;
		if (*s != '.' || n == 3)
			return false;
		s++;
	}
	if (n < 2 || !part[0] || part[1] > 0xff || part[2] > 0xff)
		return false;
	*out = part[0] << 16 | part[1] << 8 | part[2];
	return true;
}

/* A decimal TCP port number 1..65535. */
static bool parse_port_number(const char *s)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; *s; s++, n++) {
		if (*s < '0' || *s > '9' || n >= 5)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	return n && v >= 1 && v <= 65535;
}

static bool parse_ip(const char *s, uint8_t adrfam)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char addr[sizeof(struct in6_addr)];
	const char *scope;
	size_t len;

	if (adrfam == NVMF_CFG_ADRFAM_IPV4)
		return inet_pton(AF_INET, s, addr) == 1;
	/* A link-local IPv6 address needs its %interface, as nvmet-tcp accepts it. */
	scope = strchr(s, '%');
	len = scope ? (size_t)(scope - s) : strlen(s);
	if (len >= sizeof(buf) || (scope && !scope[1]))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

/*
 * Relative namespace paths are resolved now, against the config file's directory: the
 * daemon may chdir() later, and a config should not mean different files depending on
 * where the daemon was started from.
 */
static int resolve_path(struct cfg_ctx *ctx, const char *key, const char *in, char out[PATH_MAX])
{
	char cwd[PATH_MAX];
	const char *base = ctx->base_dir;
	int n, err;

	if (in[0] == '/') {
		base = NULL;
	} else if (!base) {
		if (!getcwd(cwd, sizeof(cwd))) {
			err = errno;
			return cfg_err_key(ctx, key, -err, "getcwd: %s", strerror(err));
		}
		base = cwd;
	}
	n = snprintf(out, PATH_MAX, "%s%s%s", base ? base : "",
		     base && strcmp(base, "/") ? "/" : "", in);
	if (n < 0 || n >= PATH_MAX)
		return cfg_err_key(ctx, key, -ENAMETOOLONG, "path longer than %d bytes",
				   PATH_MAX - 1);
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Defaults, shared by the loader and nvmf_cfg_default()                               */

/* FNV-1a, then the murmur3 finaliser so that similar NQNs get unrelated serials. */
static void derive_serial(const char *nqn, char serial[NVMF_CFG_SERIAL_SIZE])
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *nqn; nqn++) {
		h ^= (unsigned char)*nqn;
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	snprintf(serial, NVMF_CFG_SERIAL_SIZE, "%016" PRIx64, h);
}

static void subsys_init(struct nvmf_cfg_subsys *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->model, NVMF_CFG_DEFAULT_MODEL);
	strcpy(s->firmware, NVMF_CFG_DEFAULT_FIRMWARE);
	s->version = NVMF_CFG_DEFAULT_VERSION;
	s->cntlid_min = 1;
	s->cntlid_max = CFG_CNTLID_MAX;
	s->qid_max = NVMF_CFG_DEFAULT_QID_MAX;
}

static void ns_init(struct nvmf_cfg_ns *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns->enable = true;
	ns->anagrpid = 1;
	ns->backend = NVMF_CFG_BACKEND_FILE;
	ns->block_size = 512;
}

static void port_init(struct nvmf_cfg_port *p)
{
	memset(p, 0, sizeof(*p));
	p->inline_data_size = -1;
	p->max_queue_size = -1;
}

/* ------------------------------------------------------------------------------------ */
/* hosts[]                                                                              */

static int parse_host(struct cfg_ctx *ctx, struct json_object *obj, size_t idx, void *arg)
{
	static const char *const secret_keys[] = { "key", "ctrl_key", NULL };
	struct nvmf_cfg *cfg = arg;
	struct nvmf_cfg_host *h = &cfg->hosts[idx];
	struct json_object *dhchap = NULL;
	size_t i, old;
	int ret;

	ret = get_nqn(ctx, obj, "nqn", h->nqn);
	if (ret)
		return ret;
	for (i = 0; i < idx; i++) {
		if (!strcmp(cfg->hosts[i].nqn, h->nqn))
			return cfg_err_key(ctx, "nqn", -EINVAL,
					   "duplicate host NQN (also hosts[%zu])", i);
	}

	/* nvmetcli saves dhchap{} with empty keys for every host; only a set key matters. */
	ret = cfg_get_obj(ctx, obj, "dhchap", false, &dhchap);
	if (ret > 0) {
		old = cfg_path_push(ctx, "dhchap");
		for (i = 0, ret = 0; secret_keys[i] && ret >= 0; i++) {
			const char *s;

			ret = cfg_get_str(ctx, dhchap, secret_keys[i], false, &s);
			if (ret > 0 && s[0])
				ret = cfg_err_key(ctx, secret_keys[i], -EOPNOTSUPP,
						  "DH-HMAC-CHAP authentication is not supported");
		}
		cfg_path_pop(ctx, old);
	}
	if (ret < 0)
		return ret;
	return check_nvmf_keys(ctx, obj, NULL, NULL);
}

static int parse_hosts(struct cfg_ctx *ctx, struct json_object *root, struct nvmf_cfg *cfg)
{
	struct json_object *arr = NULL;
	size_t n;
	int ret;

	ret = cfg_get_array(ctx, root, "hosts", &arr, &n);
	if (ret <= 0 || !n)
		return ret < 0 ? ret : 0;
	cfg->hosts = cfg_calloc(ctx, n, sizeof(*cfg->hosts), &ret);
	if (ret)
		return ret;
	cfg->nr_hosts = n;
	return cfg_for_each_elem(ctx, "hosts", arr, json_type_object, parse_host, cfg);
}

/* ------------------------------------------------------------------------------------ */
/* subsystems[].namespaces[]                                                            */

static int check_backing_file(struct cfg_ctx *ctx, const struct nvmf_cfg_ns *ns)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;
	int err;

	if (!stat(ns->path, &st)) {
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
			return cfg_err_key(ctx, "path", -EINVAL,
					   "not a regular file or block device: %s", ns->path);
		return 0;
	}
	err = errno;
	if (err != ENOENT || !ns->size_bytes)
		return cfg_err_key(ctx, "path", -err, "%s: %s", strerror(err), ns->path);

	/*
	 * The daemon will create the file, so its directory has to exist. (A parent that is
	 * not a directory already failed above, with ENOTDIR.)
	 */
	memcpy(dir, ns->path, strlen(ns->path) + 1);
	slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0'; /* resolve_path() made it absolute */
	if (stat(dir, &st)) {
		err = errno;
		return cfg_err_key(ctx, "path", -err, "directory %s: %s", dir, strerror(err));
	}
	return 0;
}

static int parse_ns_device(struct cfg_ctx *ctx, struct json_object *dev, struct nvmf_cfg_ns *ns)
{
	static const char *const nvmf_keys[] = { "nvmf_backend", "nvmf_size", "nvmf_block_size",
						 "nvmf_buffered", NULL };
	const char *path = NULL, *id;
	bool has_size = false;
	uint8_t backend = NVMF_CFG_BACKEND_FILE;
	int64_t bs = ns->block_size;
	int ret;

	ret = check_nvmf_keys(ctx, dev, nvmf_keys,
			      "nvmf_backend, nvmf_size, nvmf_block_size, nvmf_buffered");
	if (ret)
		return ret;

	ret = cfg_get_name(ctx, dev, "nvmf_backend", backend_names, "backend",
			   "supported: file, null, mem", &backend);
	if (ret < 0)
		return ret;
	ns->backend = backend;

	ret = cfg_get_int(ctx, dev, "nvmf_block_size", false, 0, INT32_MAX, &bs);
	if (ret < 0)
		return ret;
	if (bs < 512 || bs > 65536 || (bs & (bs - 1)))
		return cfg_err_key(ctx, "nvmf_block_size", -EINVAL,
				   "%" PRId64 " is not a power of two from 512 to 65536", bs);
	ns->block_size = (uint32_t)bs;

	ret = cfg_get_size(ctx, dev, "nvmf_size", &ns->size_bytes);
	if (ret < 0)
		return ret;
	has_size = ret > 0;
	if (has_size && !ns->size_bytes)
		return cfg_err_key(ctx, "nvmf_size", -EINVAL, "must be greater than 0");
	if (has_size && ns->size_bytes % ns->block_size)
		return cfg_err_key(ctx, "nvmf_size", -EINVAL,
				   "%" PRIu64 " is not a multiple of nvmf_block_size (%" PRIu32 ")",
				   ns->size_bytes, ns->block_size);

	ret = cfg_get_bool(ctx, dev, "nvmf_buffered", &ns->buffered);
	if (ret < 0)
		return ret;

	/* nvmetcli saves the all-zero value for an identifier that was never set. */
	ret = cfg_get_str(ctx, dev, "uuid", false, &id);
	if (ret > 0 && id[0]) {
		if (!cfg_parse_uuid(id, ns->uuid))
			return cfg_err_key(ctx, "uuid", -EINVAL,
					   "\"%.*s\" is not a UUID "
					   "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
					   CFG_VALUE_QUOTE_MAX, id);
		ns->has_uuid = !all_zero(ns->uuid, sizeof(ns->uuid));
	} else if (ret < 0) {
		return ret;
	}
	ret = cfg_get_str(ctx, dev, "nguid", false, &id);
	if (ret > 0 && id[0]) {
		if (!cfg_parse_hex_id(id, ns->nguid, sizeof(ns->nguid)))
			return cfg_err_key(ctx, "nguid", -EINVAL,
					   "\"%.*s\" is not an NGUID (32 hex digits, optionally "
					   "separated by '-' or ':')",
					   CFG_VALUE_QUOTE_MAX, id);
		ns->has_nguid = !all_zero(ns->nguid, sizeof(ns->nguid));
	} else if (ret < 0) {
		return ret;
	}
	ret = cfg_get_str(ctx, dev, "eui64", false, &id);
	if (ret > 0 && id[0]) {
		if (!cfg_parse_hex_id(id, ns->eui64, sizeof(ns->eui64)))
			return cfg_err_key(ctx, "eui64", -EINVAL,
					   "\"%.*s\" is not an EUI-64 (16 hex digits, optionally "
					   "separated by '-' or ':')",
					   CFG_VALUE_QUOTE_MAX, id);
		ns->has_eui64 = !all_zero(ns->eui64, sizeof(ns->eui64));
	} else if (ret < 0) {
		return ret;
	}

	ret = cfg_get_str(ctx, dev, "path", false, &path);
	if (ret < 0)
		return ret;

	if (ns->backend != NVMF_CFG_BACKEND_FILE) {
		if (!has_size)
			return cfg_err_key(ctx, "nvmf_size", -EINVAL,
					   "missing (required by the %s backend)",
					   cfg_name_of(backend_names, backend));
		return 0;
	}
	if (!path || !path[0]) {
		/* nvmetcli saves "" for a namespace that was created but never set up. */
		if (!ns->enable)
			return 0;
		return cfg_err_key(ctx, "path", -EINVAL, "missing (required by the file backend)");
	}
	ret = resolve_path(ctx, "path", path, ns->path);
	if (ret)
		return ret;
	return ns->enable ? check_backing_file(ctx, ns) : 0;
}

static int parse_ns(struct cfg_ctx *ctx, struct json_object *obj, size_t idx, void *arg)
{
	struct nvmf_cfg_subsys *s = arg;
	struct nvmf_cfg_ns *ns = &s->ns[idx];
	struct json_object *dev = NULL, *ana = NULL;
	int64_t v = 0;
	size_t i, old;
	int ret;

	ns_init(ns);
	ret = cfg_get_int(ctx, obj, "nsid", true, 0, UINT32_MAX, &v);
	if (ret < 0)
		return ret;
	if (v == 0)
		return cfg_err_key(ctx, "nsid", -EINVAL, "0 is not a valid NSID");
	if (v == CFG_NSID_BROADCAST)
		return cfg_err_key(ctx, "nsid", -EINVAL,
				   "0xffffffff is the broadcast NSID, not a valid namespace ID");
	ns->nsid = (uint32_t)v;
	for (i = 0; i < idx; i++) {
		if (s->ns[i].nsid == ns->nsid)
			return cfg_err_key(ctx, "nsid", -EINVAL,
					   "duplicate NSID %" PRIu32 " (also namespaces[%zu])",
					   ns->nsid, i);
	}

	ret = cfg_get_bool(ctx, obj, "enable", &ns->enable);
	if (ret < 0)
		return ret;

	/* nvmetcli saves ana_grpid twice: as "ana_grpid" and in the "ana" attribute group. */
	v = ns->anagrpid;
	ret = cfg_get_int(ctx, obj, "ana_grpid", false, 1, NVMF_CFG_MAX_ANAGRPID, &v);
	if (!ret) {
		ret = cfg_get_obj(ctx, obj, "ana", false, &ana);
		if (ret > 0) {
			old = cfg_path_push(ctx, "ana");
			ret = cfg_get_int(ctx, ana, "grpid", false, 1, NVMF_CFG_MAX_ANAGRPID, &v);
			cfg_path_pop(ctx, old);
		}
	}
	if (ret < 0)
		return ret;
	ns->anagrpid = (uint32_t)v;

	ret = cfg_get_obj(ctx, obj, "device", true, &dev);
	if (ret < 0)
		return ret;
	old = cfg_path_push(ctx, "device");
	ret = parse_ns_device(ctx, dev, ns);
	cfg_path_pop(ctx, old);
	if (ret)
		return ret;
	return check_nvmf_keys(ctx, obj, NULL, NULL);
}

/* ------------------------------------------------------------------------------------ */
/* subsystems[]                                                                         */

struct subsys_arg {
	struct nvmf_cfg *cfg;
	struct nvmf_cfg_subsys *s;
};

/* Identify Controller strings: printable ASCII; trailing spaces are NVMe padding. */
static int get_ascii(struct cfg_ctx *ctx, struct json_object *obj, const char *key, char *buf,
		     size_t size)
{
	const char *s;
	size_t len, i;
	int ret;

	ret = cfg_get_str(ctx, obj, key, false, &s);
	if (ret <= 0)
		return ret;
	len = strlen(s);
	while (len && s[len - 1] == ' ')
		len--;
	if (!len)
		return 0; /* empty keeps the default, as an unset value */
	if (len >= size)
		return cfg_err_key(ctx, key, -EINVAL, "%zu bytes long, at most %zu allowed", len,
				   size - 1);
	for (i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return cfg_err_key(ctx, key, -EINVAL, "must be printable ASCII");
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 1;
}

static int parse_subsys_attr(struct cfg_ctx *ctx, struct json_object *attr,
			     struct nvmf_cfg_subsys *s)
{
	const char *ver;
	int64_t min = s->cntlid_min, max = s->cntlid_max, v;
	int ret;

	ret = cfg_get_bool(ctx, attr, "allow_any_host", &s->allow_any_host);
	if (ret < 0)
		return ret;
	ret = get_ascii(ctx, attr, "serial", s->serial, sizeof(s->serial));
	if (ret < 0)
		return ret;
	ret = get_ascii(ctx, attr, "model", s->model, sizeof(s->model));
	if (ret < 0)
		return ret;
	ret = get_ascii(ctx, attr, "firmware", s->firmware, sizeof(s->firmware));
	if (ret < 0)
		return ret;

	ret = cfg_get_str(ctx, attr, "version", false, &ver);
	if (ret < 0)
		return ret;
	if (ret > 0 && !parse_version(ver, &s->version))
		return cfg_err_key(ctx, "version", -EINVAL,
				   "\"%.*s\" is not a version like \"1.3\""
				   " or \"2.0.1\"",
				   CFG_VALUE_QUOTE_MAX, ver);

	ret = cfg_get_int(ctx, attr, "cntlid_min", false, 1, CFG_CNTLID_MAX, &min);
	if (ret < 0)
		return ret;
	ret = cfg_get_int(ctx, attr, "cntlid_max", false, 1, CFG_CNTLID_MAX, &max);
	if (ret < 0)
		return ret;
	if (min > max)
		return cfg_err_key(ctx, "cntlid_min", -EINVAL,
				   "%" PRId64 " is greater than cntlid_max (%" PRId64 ")", min,
				   max);
	s->cntlid_min = (uint16_t)min;
	s->cntlid_max = (uint16_t)max;

	v = s->ieee_oui;
	ret = cfg_get_int(ctx, attr, "ieee_oui", false, 0, 0xffffff, &v);
	if (ret < 0)
		return ret;
	s->ieee_oui = (uint32_t)v;

	ret = cfg_get_bool(ctx, attr, "pi_enable", &s->pi_enable);
	if (ret < 0)
		return ret;

	v = s->qid_max;
	ret = cfg_get_int(ctx, attr, "qid_max", false, 1, UINT16_MAX, &v);
	if (ret < 0)
		return ret;
	s->qid_max = (uint16_t)v;
	return check_nvmf_keys(ctx, attr, NULL, NULL);
}

static int parse_allowed_host(struct cfg_ctx *ctx, struct json_object *elem, size_t idx, void *arg)
{
	struct subsys_arg *a = arg;
	const char *nqn;
	size_t i;
	int ret;

	ret = cfg_value_string(ctx, elem, &nqn);
	if (!ret)
		ret = check_nqn(ctx, nqn);
	if (ret)
		return ret;
	/* As in nvmet, where allowed_hosts/ holds symlinks into hosts/. */
	for (i = 0; i < a->cfg->nr_hosts; i++) {
		if (!strcmp(a->cfg->hosts[i].nqn, nqn))
			break;
	}
	if (i == a->cfg->nr_hosts)
		return cfg_err(ctx, -EINVAL, "host \"%.*s\" is not listed in hosts[]",
			       CFG_VALUE_QUOTE_MAX, nqn);
	for (i = 0; i < idx; i++) {
		if (!strcmp(a->s->allowed_hosts[i], nqn))
			return cfg_err(ctx, -EINVAL, "duplicate (also allowed_hosts[%zu])", i);
	}
	memcpy(a->s->allowed_hosts[idx], nqn, strlen(nqn) + 1);
	return 0;
}

static int check_passthru_one(struct cfg_ctx *ctx, struct json_object *obj, size_t idx, void *arg)
{
	bool enable = false;
	int ret;

	(void)idx;
	(void)arg;
	ret = cfg_get_bool(ctx, obj, "enable", &enable);
	if (ret < 0)
		return ret;
	if (enable)
		return cfg_err_key(ctx, "enable", -EOPNOTSUPP,
				   "passthru subsystems are not supported");
	return 0;
}

/*
 * nvmetcli saves "passthru": [{...}] for every subsystem when the kernel has passthru
 * support, enabled or not; only an enabled one asks for something we cannot do.
 */
static int check_passthru(struct cfg_ctx *ctx, struct json_object *obj)
{
	struct json_object *v = cfg_member(obj, "passthru");
	size_t old;
	int ret;

	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_array))
		return cfg_for_each_elem(ctx, "passthru", v, json_type_object, check_passthru_one,
					 NULL);
	old = cfg_path_push(ctx, "passthru");
	if (json_object_is_type(v, json_type_object))
		ret = check_passthru_one(ctx, v, 0, NULL);
	else
		ret = cfg_err(ctx, -EINVAL, "expected an array, got %s",
			      json_type_to_name(json_object_get_type(v)));
	cfg_path_pop(ctx, old);
	return ret;
}

static int parse_subsys(struct cfg_ctx *ctx, struct json_object *obj, size_t idx, void *arg)
{
	struct nvmf_cfg *cfg = arg;
	struct nvmf_cfg_subsys *s = &cfg->subsys[idx];
	struct subsys_arg sa = { .cfg = cfg, .s = s };
	struct json_object *attr = NULL, *arr = NULL;
	size_t i, n, old;
	int ret;

	subsys_init(s);
	ret = get_nqn(ctx, obj, "nqn", s->nqn);
	if (ret)
		return ret;
	if (!strcmp(s->nqn, NVMF_CFG_DISC_NQN))
		return cfg_err_key(ctx, "nqn", -EINVAL,
				   "the discovery NQN cannot name an NVM subsystem");
	for (i = 0; i < idx; i++) {
		if (!strcmp(cfg->subsys[i].nqn, s->nqn))
			return cfg_err_key(ctx, "nqn", -EINVAL,
					   "duplicate subsystem NQN (also subsystems[%zu])", i);
	}

	ret = cfg_get_obj(ctx, obj, "attr", false, &attr);
	if (ret > 0) {
		old = cfg_path_push(ctx, "attr");
		ret = parse_subsys_attr(ctx, attr, s);
		cfg_path_pop(ctx, old);
	}
	if (ret < 0)
		return ret;
	if (!s->serial[0])
		derive_serial(s->nqn, s->serial);

	ret = cfg_get_array(ctx, obj, "allowed_hosts", &arr, &n);
	if (ret < 0)
		return ret;
	if (n) {
		s->allowed_hosts = cfg_calloc(ctx, n, sizeof(*s->allowed_hosts), &ret);
		if (ret)
			return ret;
		s->nr_allowed_hosts = n;
		ret = cfg_for_each_elem(ctx, "allowed_hosts", arr, json_type_string,
					parse_allowed_host, &sa);
		if (ret)
			return ret;
		/* nvmet refuses this combination too: the host list would mean nothing. */
		if (s->allow_any_host)
			return cfg_err_key(ctx, "allowed_hosts", -EINVAL,
					   "must be empty when attr.allow_any_host is set");
	}

	ret = cfg_get_array(ctx, obj, "namespaces", &arr, &n);
	if (ret < 0)
		return ret;
	if (n) {
		s->ns = cfg_calloc(ctx, n, sizeof(*s->ns), &ret);
		if (ret)
			return ret;
		s->nr_ns = n;
		ret = cfg_for_each_elem(ctx, "namespaces", arr, json_type_object, parse_ns, s);
		if (ret)
			return ret;
	}

	ret = check_passthru(ctx, obj);
	if (ret)
		return ret;
	return check_nvmf_keys(ctx, obj, NULL, NULL);
}

static int parse_subsystems(struct cfg_ctx *ctx, struct json_object *root, struct nvmf_cfg *cfg)
{
	struct json_object *arr = NULL;
	size_t n;
	int ret;

	ret = cfg_get_array(ctx, root, "subsystems", &arr, &n);
	if (ret <= 0 || !n)
		return ret < 0 ? ret : 0;
	cfg->subsys = cfg_calloc(ctx, n, sizeof(*cfg->subsys), &ret);
	if (ret)
		return ret;
	cfg->nr_subsys = n;
	return cfg_for_each_elem(ctx, "subsystems", arr, json_type_object, parse_subsys, cfg);
}

/* ------------------------------------------------------------------------------------ */
/* ports[]                                                                              */

/* @obj is an "addr" object: of a port if !@referral (listen address), else of a referral. */
static int parse_addr(struct cfg_ctx *ctx, struct json_object *obj, struct nvmf_cfg_addr *addr,
		      bool referral)
{
	/* A referral only points elsewhere, so any transport nvmet knows may be named. */
	const char *supported =
		referral ? "rdma, fc, tcp, loop" : "supported: tcp, loop, vfio-user";
	const struct cfg_name_map *m;
	const char *s = NULL;
	bool ip;
	int ret;

	ret = cfg_get_str(ctx, obj, "trtype", true, &s);
	if (ret < 0)
		return ret;
	m = cfg_name_lookup(trtype_names, s);
	if (!m)
		return cfg_err_key(ctx, "trtype", -EINVAL, "unknown transport \"%.*s\" (%s)",
				   CFG_VALUE_QUOTE_MAX, s, supported);
	if (referral ? m->value == NVMF_CFG_TRTYPE_VFIO_USER
		     : m->value != NVMF_CFG_TRTYPE_TCP && m->value != NVMF_CFG_TRTYPE_LOOP &&
			       m->value != NVMF_CFG_TRTYPE_VFIO_USER)
		return cfg_err_key(ctx, "trtype", -EOPNOTSUPP,
				   "transport \"%s\" is not supported (%s)", m->name, supported);
	addr->trtype = m->value;

	/* nvmetcli saves "" for a field the kernel never had set, e.g. on loop ports. */
	ret = cfg_get_str(ctx, obj, "adrfam", false, &s);
	if (ret < 0)
		return ret;
	if (ret > 0 && s[0]) {
		m = cfg_name_lookup(adrfam_names, s);
		if (!m)
			return cfg_err_key(ctx, "adrfam", -EINVAL,
					   "unknown address family \"%.*s\" (ipv4, ipv6, ib, fc, "
					   "pcie, loop)",
					   CFG_VALUE_QUOTE_MAX, s);
		addr->adrfam = m->value;
	} else if (addr->trtype == NVMF_CFG_TRTYPE_TCP) {
		return cfg_err_key(ctx, "adrfam", -EINVAL, "missing (ipv4 or ipv6 for tcp)");
	} else if (addr->trtype == NVMF_CFG_TRTYPE_LOOP) {
		addr->adrfam = NVMF_CFG_ADRFAM_LOOP;
	} else if (addr->trtype == NVMF_CFG_TRTYPE_VFIO_USER) {
		addr->adrfam = NVMF_CFG_ADRFAM_PCI;
	}
	ip = addr->adrfam == NVMF_CFG_ADRFAM_IPV4 || addr->adrfam == NVMF_CFG_ADRFAM_IPV6;
	if (addr->trtype == NVMF_CFG_TRTYPE_TCP && !ip)
		return cfg_err_key(ctx, "adrfam", -EINVAL,
				   "\"%s\" is not valid for tcp (ipv4 or "
				   "ipv6)",
				   cfg_name_of(adrfam_names, addr->adrfam));

	ret = cfg_get_name(ctx, obj, "treq", treq_names, "treq",
			   "not specified, required, not required", &addr->treq);
	if (ret < 0)
		return ret;

	s = NULL;
	ret = cfg_get_str(ctx, obj, "traddr", false, &s);
	if (ret < 0)
		return ret;
	if (ip && (!s || !s[0]))
		return cfg_err_key(ctx, "traddr", -EINVAL, "missing (an %s address)",
				   addr->adrfam == NVMF_CFG_ADRFAM_IPV4 ? "IPv4" : "IPv6");
	if (s) {
		ret = cfg_copy_str(ctx, "traddr", s, addr->traddr, sizeof(addr->traddr));
		if (ret)
			return ret;
	}
	if (addr->trtype == NVMF_CFG_TRTYPE_VFIO_USER &&
	    (!addr->traddr[0] || strlen(addr->traddr) > 107))
		return cfg_err_key(ctx, "traddr", -EINVAL,
				   "%s (the UNIX socket path, at most 107 bytes)",
				   addr->traddr[0] ? "too long" : "missing");
	if (ip && !parse_ip(addr->traddr, addr->adrfam))
		return cfg_err_key(ctx, "traddr", -EINVAL, "\"%.*s\" is not a numeric %s address",
				   CFG_VALUE_QUOTE_MAX, addr->traddr,
				   addr->adrfam == NVMF_CFG_ADRFAM_IPV4 ? "IPv4" : "IPv6");

	s = NULL;
	ret = cfg_get_str(ctx, obj, "trsvcid", false, &s);
	if (ret < 0)
		return ret;
	if (ip && (!s || !s[0]))
		return cfg_err_key(ctx, "trsvcid", -EINVAL, "missing (a port number)");
	if (s) {
		ret = cfg_copy_str(ctx, "trsvcid", s, addr->trsvcid, sizeof(addr->trsvcid));
		if (ret)
			return ret;
	}
	if (ip && !parse_port_number(addr->trsvcid))
		return cfg_err_key(ctx, "trsvcid", -EINVAL,
				   "\"%.*s\" is not a port number "
				   "(1-65535)",
				   CFG_VALUE_QUOTE_MAX, addr->trsvcid);

	/* Serving plain TCP where the file asks for TLS would be a silent downgrade. */
	if (!referral && addr->trtype == NVMF_CFG_TRTYPE_TCP) {
		s = NULL;
		ret = cfg_get_str(ctx, obj, "tsas", false, &s);
		if (ret < 0)
			return ret;
		if (s && !strcmp(s, "tls1.3"))
			return cfg_err_key(ctx, "tsas", -EOPNOTSUPP, "TLS is not supported");
		if (s && s[0] && strcmp(s, "none"))
			return cfg_err_key(ctx, "tsas", -EINVAL, "unknown value \"%.*s\" (none)",
					   CFG_VALUE_QUOTE_MAX, s);
	}
	return check_nvmf_keys(ctx, obj, NULL, NULL);
}

struct port_arg {
	const struct nvmf_cfg *cfg;
	struct nvmf_cfg_port *p;
};

static int parse_port_subsys(struct cfg_ctx *ctx, struct json_object *elem, size_t idx, void *arg)
{
	struct port_arg *a = arg;
	struct nvmf_cfg_port *p = a->p;
	const char *nqn;
	size_t i;
	int ret;

	ret = cfg_value_string(ctx, elem, &nqn);
	if (ret)
		return ret;
	for (i = 0; i < a->cfg->nr_subsys; i++) {
		if (!strcmp(a->cfg->subsys[i].nqn, nqn))
			break;
	}
	if (i == a->cfg->nr_subsys)
		return cfg_err(ctx, -EINVAL, "subsystem \"%.*s\" is not defined in subsystems[]",
			       CFG_VALUE_QUOTE_MAX, nqn);
	p->subsys_idx[idx] = i;
	for (i = 0; i < idx; i++) {
		if (p->subsys_idx[i] == p->subsys_idx[idx])
			return cfg_err(ctx, -EINVAL, "duplicate (also subsystems[%zu])", i);
	}
	return 0;
}

static int parse_referral(struct cfg_ctx *ctx, struct json_object *obj, size_t idx, void *arg)
{
	struct nvmf_cfg_port *p = arg;
	struct nvmf_cfg_referral *r = &p->referrals[idx];
	struct json_object *addr = NULL;
	const char *name;
	int64_t portid = 0;
	size_t old;
	int ret;

	r->enable = true;
	ret = cfg_get_str(ctx, obj, "name", false, &name);
	if (ret > 0)
		ret = cfg_copy_str(ctx, "name", name, r->name, sizeof(r->name));
	if (ret < 0)
		return ret;
	ret = cfg_get_bool(ctx, obj, "enable", &r->enable);
	if (ret < 0)
		return ret;
	ret = cfg_get_int(ctx, obj, "portid", false, 0, UINT16_MAX, &portid);
	if (ret < 0)
		return ret;
	ret = cfg_get_obj(ctx, obj, "addr", true, &addr);
	if (ret < 0)
		return ret;
	old = cfg_path_push(ctx, "addr");
	/* nvmetcli saves a referral's port ID as the configfs attribute addr_portid. */
	ret = cfg_get_int(ctx, addr, "portid", false, 0, UINT16_MAX, &portid);
	if (ret >= 0)
		ret = parse_addr(ctx, addr, &r->addr, true);
	cfg_path_pop(ctx, old);
	if (ret)
		return ret;
	r->portid = (uint16_t)portid;
	return check_nvmf_keys(ctx, obj, NULL, NULL);
}

/* "state": the names of lib/common/ana.h, which are nvmet's configfs ana_state values */
static int parse_ana_state(struct cfg_ctx *ctx, struct json_object *ana, uint8_t *out)
{
	const char *s;
	int ret, state;

	ret = cfg_get_str(ctx, ana, "state", false, &s);
	if (ret <= 0)
		return ret;
	state = nvmf_ana_state_parse(s);
	if (state < 0)
		return cfg_err_key(
			ctx, "state", -EINVAL, "unknown ANA state \"%.*s\" (%s)",
			CFG_VALUE_QUOTE_MAX, s,
			"optimized, non-optimized, inaccessible, persistent-loss, change");
	*out = (uint8_t)state;
	return 1;
}

static int parse_ana_group(struct cfg_ctx *ctx, struct json_object *obj, size_t idx, void *arg)
{
	struct nvmf_cfg_port *p = arg;
	struct nvmf_cfg_ana_group *g = &p->ana_groups[idx];
	struct json_object *ana = NULL;
	int64_t grpid = 0;
	size_t i, old;
	int ret;

	ret = cfg_get_int(ctx, obj, "grpid", true, 1, NVMF_CFG_MAX_ANAGRPID, &grpid);
	if (ret < 0)
		return ret;
	g->grpid = (uint32_t)grpid;
	for (i = 0; i < idx; i++) {
		if (p->ana_groups[i].grpid == g->grpid)
			return cfg_err_key(ctx, "grpid", -EINVAL,
					   "duplicate ANA group %" PRIu32 " (also ana_groups[%zu])",
					   g->grpid, i);
	}
	g->state = NVMF_CFG_ANA_OPTIMIZED;
	ret = cfg_get_obj(ctx, obj, "ana", false, &ana);
	if (ret > 0) {
		old = cfg_path_push(ctx, "ana");
		ret = parse_ana_state(ctx, ana, &g->state);
		cfg_path_pop(ctx, old);
	}
	if (ret < 0)
		return ret;
	return check_nvmf_keys(ctx, obj, NULL, NULL);
}

static int parse_port_param(struct cfg_ctx *ctx, struct json_object *param, struct nvmf_cfg_port *p)
{
	int64_t v = p->inline_data_size;
	int ret;

	ret = cfg_get_int(ctx, param, "inline_data_size", false, -1, INT32_MAX, &v);
	if (ret < 0)
		return ret;
	p->inline_data_size = (int32_t)v;

	v = p->max_queue_size;
	ret = cfg_get_int(ctx, param, "max_queue_size", false, -1, 65536, &v);
	if (ret < 0)
		return ret;
	if (v == 0 || v == 1)
		return cfg_err_key(ctx, "max_queue_size", -EINVAL,
				   "%" PRId64 " is too small (-1 for the default, or 2-65536)", v);
	p->max_queue_size = (int32_t)v;

	ret = cfg_get_bool(ctx, param, "pi_enable", &p->pi_enable);
	return ret < 0 ? ret : check_nvmf_keys(ctx, param, NULL, NULL);
}

/* "vfio_user": the exported PCIe controller's options (struct nvmf_tgt_vfio_user_params) */
static int parse_port_vfio_user(struct cfg_ctx *ctx, struct json_object *o, struct nvmf_cfg_port *p)
{
	static const char *const keys[] = { "kas", "accept_kato", "max_io_queues", "max_queue_size",
					    NULL };
	struct json_object_iterator it = json_object_iter_begin(o);
	struct json_object_iterator end = json_object_iter_end(o);
	struct nvmf_tgt_vfio_user_params *v = &p->vfio_user;
	int64_t n = 0;
	bool b = false;
	int ret;

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);

		if (!in_list(keys, key))
			return cfg_err_key(ctx, key, -EINVAL,
					   "unknown key (kas, accept_kato, max_io_queues, "
					   "max_queue_size)");
	}
	ret = cfg_get_int(ctx, o, "kas", false, 0, UINT16_MAX, &n);
	if (ret < 0)
		return ret;
	v->kas = (uint16_t)n;
	ret = cfg_get_bool(ctx, o, "accept_kato", &b);
	if (ret < 0)
		return ret;
	if (ret > 0)
		v->accept_kato = b ? NVMF_TGT_VFU_KATO_ACCEPT : NVMF_TGT_VFU_KATO_REFUSE;
	n = 0;
	ret = cfg_get_int(ctx, o, "max_io_queues", false, 1, NVMF_TGT_MAX_IO_QUEUES_CFG, &n);
	if (ret < 0)
		return ret;
	v->max_io_queues = (uint16_t)n;
	n = 0;
	ret = cfg_get_int(ctx, o, "max_queue_size", false, 2, NVMF_TGT_VFU_MAX_QUEUE_SIZE, &n);
	if (ret < 0)
		return ret;
	v->max_queue_size = (uint16_t)n;
	return 0;
}

static int parse_port(struct cfg_ctx *ctx, struct json_object *obj, size_t idx, void *arg)
{
	struct nvmf_cfg *cfg = arg;
	struct nvmf_cfg_port *p = &cfg->ports[idx];
	struct port_arg pa = { .cfg = cfg, .p = p };
	struct json_object *addr = NULL, *param = NULL, *arr = NULL;
	int64_t portid = 0;
	bool enabled;
	size_t i, n, old;
	int ret;

	port_init(p);
	ret = cfg_get_int(ctx, obj, "portid", true, 0, UINT16_MAX, &portid);
	if (ret < 0)
		return ret;
	p->portid = (uint16_t)portid;
	for (i = 0; i < idx; i++) {
		if (cfg->ports[i].portid == p->portid)
			return cfg_err_key(ctx, "portid", -EINVAL,
					   "duplicate port ID %" PRIu16 " (also ports[%zu])",
					   p->portid, i);
	}

	ret = cfg_get_obj(ctx, obj, "addr", true, &addr);
	if (ret < 0)
		return ret;
	old = cfg_path_push(ctx, "addr");
	ret = parse_addr(ctx, addr, &p->addr, false);
	cfg_path_pop(ctx, old);
	if (ret)
		return ret;
	for (i = 0; i < idx && p->addr.trtype == NVMF_CFG_TRTYPE_VFIO_USER; i++) {
		const struct nvmf_cfg_addr *o = &cfg->ports[i].addr;

		if (o->trtype == p->addr.trtype && !strcmp(o->traddr, p->addr.traddr))
			return cfg_err_key(ctx, "addr", -EINVAL, "same socket as ports[%zu]", i);
	}
	if (p->addr.trtype == NVMF_CFG_TRTYPE_VFIO_USER) {
		struct json_object *vu = NULL;

		ret = cfg_get_obj(ctx, obj, "vfio_user", false, &vu);
		if (ret > 0) {
			old = cfg_path_push(ctx, "vfio_user");
			ret = parse_port_vfio_user(ctx, vu, p);
			cfg_path_pop(ctx, old);
		}
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < idx && p->addr.trtype == NVMF_CFG_TRTYPE_TCP; i++) {
		const struct nvmf_cfg_addr *o = &cfg->ports[i].addr;

		if (o->trtype == p->addr.trtype && o->adrfam == p->addr.adrfam &&
		    !strcmp(o->traddr, p->addr.traddr) && !strcmp(o->trsvcid, p->addr.trsvcid))
			return cfg_err_key(ctx, "addr", -EINVAL, "same address as ports[%zu]", i);
	}

	ret = cfg_get_obj(ctx, obj, "param", false, &param);
	if (ret > 0) {
		old = cfg_path_push(ctx, "param");
		ret = parse_port_param(ctx, param, p);
		cfg_path_pop(ctx, old);
	}
	if (ret < 0)
		return ret;

	ret = cfg_get_array(ctx, obj, "subsystems", &arr, &n);
	if (ret < 0)
		return ret;
	if (n) {
		p->subsys_idx = cfg_calloc(ctx, n, sizeof(*p->subsys_idx), &ret);
		if (ret)
			return ret;
		p->nr_subsys = n;
		ret = cfg_for_each_elem(ctx, "subsystems", arr, json_type_string, parse_port_subsys,
					&pa);
		if (ret)
			return ret;
	}

	ret = cfg_get_array(ctx, obj, "referrals", &arr, &n);
	if (ret < 0)
		return ret;
	if (n) {
		p->referrals = cfg_calloc(ctx, n, sizeof(*p->referrals), &ret);
		if (ret)
			return ret;
		p->nr_referrals = n;
		ret = cfg_for_each_elem(ctx, "referrals", arr, json_type_object, parse_referral, p);
		if (ret)
			return ret;
	}

	/* One spare slot: nvmet's default group 1 exists on every port, listed or not. */
	ret = cfg_get_array(ctx, obj, "ana_groups", &arr, &n);
	if (ret < 0)
		return ret;
	p->ana_groups = cfg_calloc(ctx, n + 1, sizeof(*p->ana_groups), &ret);
	if (ret)
		return ret;
	p->nr_ana_groups = n;
	if (n) {
		ret = cfg_for_each_elem(ctx, "ana_groups", arr, json_type_object, parse_ana_group,
					p);
		if (ret)
			return ret;
	}
	for (i = 0; i < n && p->ana_groups[i].grpid != 1; i++)
		;
	if (i == n) {
		p->ana_groups[n].grpid = 1;
		p->ana_groups[n].state = NVMF_CFG_ANA_OPTIMIZED;
		p->nr_ana_groups++;
	}
	enabled = true;
	ret = cfg_get_bool(ctx, obj, "enabled", &enabled);
	if (ret < 0)
		return ret;
	p->disabled = !enabled;
	return check_nvmf_keys(ctx, obj, NULL, NULL);
}

static int parse_ports(struct cfg_ctx *ctx, struct json_object *root, struct nvmf_cfg *cfg)
{
	struct json_object *arr = NULL;
	size_t n;
	int ret;

	ret = cfg_get_array(ctx, root, "ports", &arr, &n);
	if (ret <= 0 || !n)
		return ret < 0 ? ret : 0;
	cfg->ports = cfg_calloc(ctx, n, sizeof(*cfg->ports), &ret);
	if (ret)
		return ret;
	cfg->nr_ports = n;
	return cfg_for_each_elem(ctx, "ports", arr, json_type_object, parse_port, cfg);
}

/* ------------------------------------------------------------------------------------ */
/* nvmf{} and the document                                                              */

/* "nvmf.cpumask", once "nvmf.reactors" is read: the CPUs, each one this process may use. */
static int parse_cpumask(struct cfg_ctx *ctx, struct json_object *obj, struct nvmf_cfg *cfg)
{
	const char *str;
	char why[512];
	cpu_set_t set;
	unsigned int n;
	int ret;

	ret = cfg_get_str(ctx, obj, "cpumask", false, &str);
	if (ret <= 0)
		return ret;
	ret = nvmf_cpumask_parse_usable(str, &set, why, sizeof(why));
	if (ret)
		return cfg_err_key(ctx, "cpumask", ret, "%s", why);
	n = nvmf_cpumask_to_array(&set, NULL, 0);
	if (cfg->reactors && cfg->reactors != n)
		return cfg_err_key(ctx, "cpumask", -EINVAL,
				   "%u CPU(s), but nvmf.reactors is %u (one reactor runs on each "
				   "CPU of the mask)",
				   n, cfg->reactors);
	cfg->cpus = cfg_calloc(ctx, n, sizeof(*cfg->cpus), &ret);
	if (ret)
		return ret;
	cfg->nr_cpus = nvmf_cpumask_to_array(&set, cfg->cpus, n);
	return 0;
}

static int parse_nvmf(struct cfg_ctx *ctx, struct json_object *root, struct nvmf_cfg *cfg)
{
	static const char *const known[] = { "reactors", "cpumask", "kato_default_ms", "rpc_socket",
					     NULL };
	const char *sock;
	struct json_object_iterator it, end;
	struct json_object *obj = NULL;
	int64_t v;
	size_t old;
	int ret;

	ret = cfg_get_obj(ctx, root, "nvmf", false, &obj);
	if (ret <= 0)
		return ret;
	old = cfg_path_push(ctx, "nvmf");
	/* Every key here is ours, so any other is a typo. */
	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);

		if (!in_list(known, key)) {
			ret = cfg_err_key(ctx, key, -EINVAL,
					  "unknown key (known: reactors, cpumask, "
					  "kato_default_ms, rpc_socket)");
			goto out;
		}
	}
	v = cfg->reactors;
	ret = cfg_get_int(ctx, obj, "reactors", false, 0, NVMF_CFG_MAX_REACTORS, &v);
	if (ret < 0)
		goto out;
	cfg->reactors = (unsigned int)v;
	ret = parse_cpumask(ctx, obj, cfg);
	if (ret < 0)
		goto out;
	v = cfg->kato_default_ms;
	ret = cfg_get_int(ctx, obj, "kato_default_ms", false, 0, UINT32_MAX, &v);
	if (ret < 0)
		goto out;
	cfg->kato_default_ms = (uint32_t)v;
	ret = cfg_get_str(ctx, obj, "rpc_socket", false, &sock);
	if (ret < 0)
		goto out;
	if (ret > 0) {
		if (!*sock || strlen(sock) >= sizeof(cfg->rpc_socket)) {
			ret = cfg_err_key(ctx, "rpc_socket", -EINVAL,
					  "not a Unix socket path (1..107 bytes)");
			goto out;
		}
		memcpy(cfg->rpc_socket, sock, strlen(sock) + 1);
	}
	ret = 0;
out:
	cfg_path_pop(ctx, old);
	return ret;
}

static int cfg_parse(struct cfg_ctx *ctx, const char *buf, size_t len, struct nvmf_cfg **out)
{
	struct json_object *root = NULL;
	struct nvmf_cfg *cfg;
	int ret;

	*out = NULL;
	ret = cfg_json_parse(ctx, buf, len, &root);
	if (ret)
		return ret;
	if (!json_object_is_type(root, json_type_object)) {
		ret = cfg_err(ctx, -EINVAL, "expected a JSON object at the top level, got %s",
			      json_type_to_name(json_object_get_type(root)));
		json_object_put(root);
		return ret;
	}

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		json_object_put(root);
		return cfg_enomem(ctx);
	}
	/* hosts before subsystems before ports: each refers to the ones before it. */
	ret = parse_hosts(ctx, root, cfg);
	if (!ret)
		ret = parse_subsystems(ctx, root, cfg);
	if (!ret)
		ret = parse_ports(ctx, root, cfg);
	if (!ret)
		ret = parse_nvmf(ctx, root, cfg);
	if (!ret)
		ret = check_nvmf_keys(ctx, root, NULL, NULL);
	json_object_put(root);
	if (ret) {
		nvmf_cfg_free(cfg);
		return ret;
	}
	*out = cfg;
	return 0;
}

int nvmf_cfg_load_string(const char *json, struct nvmf_cfg **out, char *errbuf, size_t errlen)
{
	struct cfg_ctx ctx;

	cfg_ctx_init(&ctx, errbuf, errlen);
	return cfg_parse(&ctx, json, strlen(json), out);
}

int nvmf_cfg_load_file(const char *path, struct nvmf_cfg **out, char *errbuf, size_t errlen)
{
	char base[PATH_MAX];
	struct cfg_ctx ctx;
	const char *slash;
	size_t len = 0;
	char *buf = NULL;
	int ret, n;

	*out = NULL;
	cfg_ctx_init(&ctx, errbuf, errlen);
	ctx.prefix = path;

	ret = cfg_read_file(path, &buf, &len);
	if (ret == -EFBIG)
		return cfg_err(&ctx, ret, "larger than %u bytes", CFG_FILE_MAX_BYTES);
	if (ret)
		return cfg_err(&ctx, ret, "%s", strerror(-ret));

	/* Namespace paths are relative to the file's directory, made absolute now. */
	slash = strrchr(path, '/');
	if (slash == path) {
		n = snprintf(base, sizeof(base), "/");
	} else if (slash && path[0] == '/') {
		n = snprintf(base, sizeof(base), "%.*s", (int)(slash - path), path);
	} else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd))) {
			ret = cfg_err(&ctx, -errno, "getcwd: %s", strerror(errno));
			goto out;
		}
		if (slash)
			n = snprintf(base, sizeof(base), "%s/%.*s", cwd, (int)(slash - path), path);
		else
			n = snprintf(base, sizeof(base), "%s", cwd);
	}
	if (n < 0 || (size_t)n >= sizeof(base)) {
		ret = cfg_err(&ctx, -ENAMETOOLONG, "directory name longer than %d bytes",
			      PATH_MAX - 1);
		goto out;
	}
	ctx.base_dir = base;
	ret = cfg_parse(&ctx, buf, len, out);
out:
	free(buf);
	return ret;
}

/* ------------------------------------------------------------------------------------ */
/* The built-in default target                                                         */

static void default_port(struct nvmf_cfg_port *p, uint16_t portid, const char *trsvcid)
{
	port_init(p);
	p->portid = portid;
	p->addr.trtype = NVMF_CFG_TRTYPE_TCP;
	p->addr.adrfam = NVMF_CFG_ADRFAM_IPV4;
	p->addr.treq = NVMF_CFG_TREQ_NOT_SPECIFIED;
	strcpy(p->addr.traddr, "127.0.0.1");
	strcpy(p->addr.trsvcid, trsvcid);
}

int nvmf_cfg_default(const char *var_dir, struct nvmf_cfg **out)
{
	char img[PATH_MAX];
	struct nvmf_cfg_subsys *s;
	struct nvmf_cfg_ns *ns;
	struct nvmf_cfg *cfg;
	struct cfg_ctx ctx;
	size_t i, len;
	int ret;

	*out = NULL;
	len = strlen(var_dir);
	if (!len)
		return -EINVAL;
	ret = snprintf(img, sizeof(img), "%s%snvmf-default.img", var_dir,
		       var_dir[len - 1] == '/' ? "" : "/");
	if (ret < 0 || (size_t)ret >= sizeof(img))
		return -ENAMETOOLONG;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	ret = -ENOMEM;
	cfg->subsys = calloc(1, sizeof(*cfg->subsys));
	if (!cfg->subsys)
		goto out_free;
	cfg->nr_subsys = 1;
	cfg->ports = calloc(2, sizeof(*cfg->ports));
	if (!cfg->ports)
		goto out_free;
	cfg->nr_ports = 2;

	s = &cfg->subsys[0];
	subsys_init(s);
	strcpy(s->nqn, NVMF_CFG_DEFAULT_NQN);
	s->allow_any_host = true;
	derive_serial(s->nqn, s->serial);
	s->ns = calloc(1, sizeof(*s->ns));
	if (!s->ns)
		goto out_free;
	s->nr_ns = 1;
	ns = &s->ns[0];
	ns_init(ns);
	ns->nsid = 1;
	ns->size_bytes = 1ull << 30;
	cfg_ctx_init(&ctx, NULL, 0);
	ret = resolve_path(&ctx, "path", img, ns->path);
	if (ret)
		goto out_free;

	ret = -ENOMEM;
	default_port(&cfg->ports[0], 1, "4420");
	default_port(&cfg->ports[1], 2, "8009");
	for (i = 0; i < cfg->nr_ports; i++) {
		struct nvmf_cfg_port *p = &cfg->ports[i];

		p->ana_groups = calloc(1, sizeof(*p->ana_groups));
		if (!p->ana_groups)
			goto out_free;
		p->ana_groups[0].grpid = 1;
		p->ana_groups[0].state = NVMF_CFG_ANA_OPTIMIZED;
		p->nr_ana_groups = 1;
	}
	cfg->ports[0].subsys_idx = calloc(1, sizeof(*cfg->ports[0].subsys_idx));
	if (!cfg->ports[0].subsys_idx)
		goto out_free;
	cfg->ports[0].subsys_idx[0] = 0;
	cfg->ports[0].nr_subsys = 1;

	*out = cfg;
	return 0;

out_free:
	nvmf_cfg_free(cfg);
	return ret;
}

void nvmf_cfg_free(struct nvmf_cfg *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->nr_subsys; i++) {
		free(cfg->subsys[i].allowed_hosts);
		free(cfg->subsys[i].ns);
	}
	for (i = 0; i < cfg->nr_ports; i++) {
		free(cfg->ports[i].subsys_idx);
		free(cfg->ports[i].referrals);
		free(cfg->ports[i].ana_groups);
	}
	free(cfg->subsys);
	free(cfg->ports);
	free(cfg->hosts);
	free(cfg->cpus);
	free(cfg);
}
