/*
 * JSON plumbing of the nvmf-tgt configuration loader (see config-json.h): the JSON path of
 * the value being parsed and errors that name it, typed getters that take the strings
 * nvmetcli saves as well as JSON numbers and booleans, and reading and tokenizing the file.
 * Nothing here knows the nvmetcli schema; that is config.c.
 */
#include "config-json.h"
#include "common/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------ */
/* JSON path and error reporting                                                        */

static size_t path_append(struct cfg_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static size_t path_append(struct cfg_ctx *ctx, const char *fmt, ...)
{
	size_t old = ctx->path_len;
	size_t room = sizeof(ctx->path) - old;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ctx->path + old, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		ctx->path[old] = '\0';
	else
		ctx->path_len = (size_t)n < room ? old + (size_t)n : sizeof(ctx->path) - 1;
	return old;
}

size_t cfg_path_push(struct cfg_ctx *ctx, const char *key)
{
	return path_append(ctx, "%s%s", ctx->path_len ? "." : "", key);
}

size_t cfg_path_push_idx(struct cfg_ctx *ctx, size_t idx)
{
	return path_append(ctx, "[%zu]", idx);
}

void cfg_path_pop(struct cfg_ctx *ctx, size_t old)
{
	ctx->path_len = old;
	ctx->path[old] = '\0';
}

static void err_append(struct cfg_ctx *ctx, size_t *off, const char *fmt, va_list ap)
{
	int n;

	if (*off >= ctx->errlen - 1)
		return;
	n = vsnprintf(ctx->errbuf + *off, ctx->errlen - *off, fmt, ap);
	if (n > 0)
		*off += (size_t)n;
}

static void err_appendf(struct cfg_ctx *ctx, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err_appendf(struct cfg_ctx *ctx, size_t *off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_append(ctx, off, fmt, ap);
	va_end(ap);
}

static int cfg_verr(struct cfg_ctx *ctx, int err, const char *fmt, va_list ap)
{
	size_t off = 0;

	if (!ctx->errbuf || !ctx->errlen)
		return err;
	ctx->errbuf[0] = '\0';
	if (ctx->prefix)
		err_appendf(ctx, &off, "%s: ", ctx->prefix);
	if (ctx->path_len)
		err_appendf(ctx, &off, "%s: ", ctx->path);
	err_append(ctx, &off, fmt, ap);
	return err;
}

int cfg_err(struct cfg_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verr(ctx, err, fmt, ap);
	va_end(ap);
	return err;
}

int cfg_err_key(struct cfg_ctx *ctx, const char *key, int err, const char *fmt, ...)
{
	size_t old = cfg_path_push(ctx, key);
	va_list ap;

	va_start(ap, fmt);
	cfg_verr(ctx, err, fmt, ap);
	va_end(ap);
	cfg_path_pop(ctx, old);
	return err;
}

int cfg_enomem(struct cfg_ctx *ctx)
{
	return cfg_err(ctx, -ENOMEM, "out of memory");
}

void *cfg_calloc(struct cfg_ctx *ctx, size_t n, size_t size, int *ret)
{
	void *p = calloc(n, size);

	*ret = p ? 0 : cfg_enomem(ctx);
	return p;
}

/* ------------------------------------------------------------------------------------ */
/* Scalars: nvmetcli saves configfs attributes as strings, a few things as JSON numbers  */

/*
 * Decimal or 0x-prefixed hexadecimal with an optional '-', and nothing else: no spaces, no
 * octal (unlike kstrtoint(..., 0, ...), "010" is ten). Returns 0, -EINVAL or -ERANGE.
 */
static int parse_int_str(const char *s, int64_t *out)
{
	uint64_t val = 0, limit = INT64_MAX;
	unsigned int base = 10;
	bool neg = false;

	if (*s == '-') {
		neg = true;
		limit = (uint64_t)INT64_MAX + 1;
		s++;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		int d = nvmf_hex_digit(*s);

		if (d < 0 || (unsigned int)d >= base)
			return -EINVAL;
		if (val > (limit - (uint64_t)d) / base)
			return -ERANGE;
		val = val * base + (uint64_t)d;
	}
	if (!neg)
		*out = (int64_t)val;
	else if (val == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)val;
	return 0;
}

struct json_object *cfg_member(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

int cfg_value_string(struct cfg_ctx *ctx, struct json_object *v, const char **out)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return cfg_err(ctx, -EINVAL, "expected a string, got %s",
			       json_type_to_name(json_object_get_type(v)));
	s = json_object_get_string(v);
	/* Every consumer of these strings is C: an embedded NUL would silently cut them. */
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return cfg_err(ctx, -EINVAL, "string contains a NUL character");
	*out = s;
	return 0;
}

static int value_int(struct cfg_ctx *ctx, struct json_object *v, int64_t min, int64_t max,
		     int64_t *out)
{
	const char *s;
	int64_t val;
	int ret;

	switch (json_object_get_type(v)) {
	case json_type_int:
		/* json-c saturates out-of-range literals to INT64_MIN/MAX; ranges exclude them. */
		val = json_object_get_int64(v);
		break;
	case json_type_string:
		ret = cfg_value_string(ctx, v, &s);
		if (ret)
			return ret;
		ret = parse_int_str(s, &val);
		if (ret == -ERANGE)
			return cfg_err(ctx, -EINVAL,
				       "\"%.*s\" is out of range [%" PRId64 ", %" PRId64 "]",
				       CFG_VALUE_QUOTE_MAX, s, min, max);
		if (ret)
			return cfg_err(ctx, -EINVAL, "\"%.*s\" is not an integer",
				       CFG_VALUE_QUOTE_MAX, s);
		break;
	default:
		return cfg_err(ctx, -EINVAL, "expected an integer, got %s",
			       json_type_to_name(json_object_get_type(v)));
	}
	if (val < min || val > max)
		return cfg_err(ctx, -EINVAL,
			       "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", val, min,
			       max);
	*out = val;
	return 0;
}

static int value_bool(struct cfg_ctx *ctx, struct json_object *v, bool *out)
{
	/* The spellings kstrtobool() accepts in configfs that a person would write. */
	static const char *const truthy[] = { "1", "y", "yes", "true", "on", NULL };
	static const char *const falsy[] = { "0", "n", "no", "false", "off", NULL };
	const char *s;
	int i, ret;

	switch (json_object_get_type(v)) {
	case json_type_boolean:
		*out = json_object_get_boolean(v);
		return 0;
	case json_type_int:
		if (json_object_get_int64(v) != 0 && json_object_get_int64(v) != 1)
			return cfg_err(ctx, -EINVAL, "%" PRId64 " is not a boolean (0 or 1)",
				       json_object_get_int64(v));
		*out = json_object_get_int64(v);
		return 0;
	case json_type_string:
		ret = cfg_value_string(ctx, v, &s);
		if (ret)
			return ret;
		for (i = 0; truthy[i]; i++) {
			if (!strcasecmp(s, truthy[i])) {
				*out = true;
				return 0;
			}
		}
		for (i = 0; falsy[i]; i++) {
			if (!strcasecmp(s, falsy[i])) {
				*out = false;
				return 0;
			}
		}
		return cfg_err(ctx, -EINVAL, "\"%.*s\" is not a boolean", CFG_VALUE_QUOTE_MAX, s);
	default:
		return cfg_err(ctx, -EINVAL, "expected a boolean, got %s",
			       json_type_to_name(json_object_get_type(v)));
	}
}

int cfg_get_int(struct cfg_ctx *ctx, struct json_object *obj, const char *key, bool required,
		int64_t min, int64_t max, int64_t *out)
{
	struct json_object *v = cfg_member(obj, key);
	size_t old = cfg_path_push(ctx, key);
	int ret;

	if (!v)
		ret = required ? cfg_err(ctx, -EINVAL, "missing") : 0;
	else
		ret = value_int(ctx, v, min, max, out) == 0 ? 1 : -EINVAL;
	cfg_path_pop(ctx, old);
	return ret;
}

int cfg_get_bool(struct cfg_ctx *ctx, struct json_object *obj, const char *key, bool *out)
{
	struct json_object *v = cfg_member(obj, key);
	size_t old;
	int ret;

	if (!v)
		return 0;
	old = cfg_path_push(ctx, key);
	ret = value_bool(ctx, v, out) == 0 ? 1 : -EINVAL;
	cfg_path_pop(ctx, old);
	return ret;
}

int cfg_get_str(struct cfg_ctx *ctx, struct json_object *obj, const char *key, bool required,
		const char **out)
{
	struct json_object *v = cfg_member(obj, key);
	size_t old = cfg_path_push(ctx, key);
	int ret;

	if (!v)
		ret = required ? cfg_err(ctx, -EINVAL, "missing") : 0;
	else
		ret = cfg_value_string(ctx, v, out) == 0 ? 1 : -EINVAL;
	cfg_path_pop(ctx, old);
	return ret;
}

static int get_typed(struct cfg_ctx *ctx, struct json_object *obj, const char *key, bool required,
		     enum json_type type, struct json_object **out)
{
	struct json_object *v = cfg_member(obj, key);
	size_t old = cfg_path_push(ctx, key);
	int ret = 1;

	*out = NULL;
	if (!v)
		ret = required ? cfg_err(ctx, -EINVAL, "missing") : 0;
	else if (!json_object_is_type(v, type))
		ret = cfg_err(ctx, -EINVAL, "expected an %s, got %s", json_type_to_name(type),
			      json_type_to_name(json_object_get_type(v)));
	else
		*out = v;
	cfg_path_pop(ctx, old);
	return ret;
}

int cfg_get_obj(struct cfg_ctx *ctx, struct json_object *obj, const char *key, bool required,
		struct json_object **out)
{
	return get_typed(ctx, obj, key, required, json_type_object, out);
}

int cfg_get_array(struct cfg_ctx *ctx, struct json_object *obj, const char *key,
		  struct json_object **out, size_t *nr)
{
	int ret = get_typed(ctx, obj, key, false, json_type_array, out);

	*nr = ret > 0 ? json_object_array_length(*out) : 0;
	return ret;
}

int cfg_copy_str(struct cfg_ctx *ctx, const char *key, const char *s, char *buf, size_t size)
{
	size_t len = strlen(s);

	if (len >= size)
		return cfg_err_key(ctx, key, -EINVAL, "%zu bytes long, at most %zu allowed", len,
				   size - 1);
	memcpy(buf, s, len + 1);
	return 0;
}

int cfg_for_each_elem(struct cfg_ctx *ctx, const char *key, struct json_object *arr,
		      enum json_type type, cfg_elem_fn fn, void *arg)
{
	size_t i, n = json_object_array_length(arr);
	size_t old_key = cfg_path_push(ctx, key);
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		struct json_object *elem = json_object_array_get_idx(arr, i);
		size_t old_idx = cfg_path_push_idx(ctx, i);

		if (!json_object_is_type(elem, type))
			ret = cfg_err(ctx, -EINVAL, "expected %s %s, got %s",
				      type == json_type_object ? "an" : "a",
				      json_type_to_name(type),
				      json_type_to_name(json_object_get_type(elem)));
		else
			ret = fn(ctx, elem, i, arg);
		cfg_path_pop(ctx, old_idx);
	}
	cfg_path_pop(ctx, old_key);
	return ret;
}

int cfg_get_size(struct cfg_ctx *ctx, struct json_object *obj, const char *key, uint64_t *out)
{
	struct json_object *v = cfg_member(obj, key);
	char num[32];
	unsigned int shift = 0;
	const char *s;
	size_t old, len;
	int64_t val;
	int ret;

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		ret = cfg_get_int(ctx, obj, key, true, 0, INT64_MAX - 1, &val);
		if (ret > 0)
			*out = (uint64_t)val;
		return ret;
	}
	old = cfg_path_push(ctx, key);
	ret = cfg_value_string(ctx, v, &s);
	if (ret)
		goto out;
	len = strlen(s);
	if (len) {
		switch (s[len - 1]) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		case 't':
		case 'T':
			shift = 40;
			break;
		}
	}
	if (shift)
		len--;
	if (!len || len >= sizeof(num)) {
		ret = cfg_err(ctx, -EINVAL,
			      "\"%.*s\" is not a size (bytes, or a number with K, "
			      "M, G or T)",
			      CFG_VALUE_QUOTE_MAX, s);
		goto out;
	}
	memcpy(num, s, len);
	num[len] = '\0';
	ret = parse_int_str(num, &val);
	if (ret || val < 0) {
		ret = cfg_err(ctx, -EINVAL,
			      "\"%.*s\" is not a size (bytes, or a number with K, "
			      "M, G or T)",
			      CFG_VALUE_QUOTE_MAX, s);
		goto out;
	}
	if ((uint64_t)val > ((uint64_t)INT64_MAX >> shift)) {
		ret = cfg_err(ctx, -EINVAL, "\"%.*s\" is too large", CFG_VALUE_QUOTE_MAX, s);
		goto out;
	}
	*out = (uint64_t)val << shift;
	ret = 1;
out:
	cfg_path_pop(ctx, old);
	return ret;
}

const struct cfg_name_map *cfg_name_lookup(const struct cfg_name_map *map, const char *name)
{
	for (; map->name; map++) {
		if (!strcmp(map->name, name))
			return map;
	}
	return NULL;
}

const char *cfg_name_of(const struct cfg_name_map *map, uint8_t value)
{
	for (; map->name; map++) {
		if (map->value == value)
			return map->name;
	}
	return "?";
}

int cfg_get_name(struct cfg_ctx *ctx, struct json_object *obj, const char *key,
		 const struct cfg_name_map *map, const char *what, const char *choices,
		 uint8_t *out)
{
	const struct cfg_name_map *m;
	const char *s;
	int ret;

	ret = cfg_get_str(ctx, obj, key, false, &s);
	if (ret <= 0)
		return ret;
	m = cfg_name_lookup(map, s);
	if (!m)
		return cfg_err_key(ctx, key, -EINVAL, "unknown %s \"%.*s\" (%s)", what,
				   CFG_VALUE_QUOTE_MAX, s, choices);
	*out = m->value;
	return 1;
}

/* ------------------------------------------------------------------------------------ */
/* Identifiers written as hex                                                           */

/* xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, the only form Linux uuid_parse() takes. */
bool cfg_parse_uuid(const char *s, uint8_t out[16])
{
	size_t i, n = 0;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash_pos != (s[i] == '-'))
			return false;
		if (!dash_pos && nvmf_hex_digit(s[i]) < 0)
			return false;
	}
	for (i = 0; i < 36; i += 2) {
		if (s[i] == '-')
			i++;
		out[n++] = (uint8_t)(nvmf_hex_digit(s[i]) << 4 | nvmf_hex_digit(s[i + 1]));
	}
	return true;
}

/* @len bytes as hex pairs, each optionally followed by '-' or ':', as nvmet parses NGUIDs. */
bool cfg_parse_hex_id(const char *s, uint8_t *out, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (nvmf_hex_digit(s[0]) < 0 || nvmf_hex_digit(s[1]) < 0)
			return false;
		out[i] = (uint8_t)(nvmf_hex_digit(s[0]) << 4 | nvmf_hex_digit(s[1]));
		s += 2;
		if (*s == '-' || *s == ':')
			s++;
	}
	return *s == '\0';
}

/* ------------------------------------------------------------------------------------ */
/* The document                                                                         */

/* -errno of the call that just failed, never 0 even if that call forgot to set errno. */
static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

int cfg_read_file(const char *path, char **out, size_t *out_len)
{
	size_t len = 0, cap = 4096;
	char *buf, *nbuf;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	buf = malloc(cap + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out_close;
	}
	for (;;) {
		if (len == cap) {
			if (cap > CFG_FILE_MAX_BYTES) {
				ret = -EFBIG;
				goto out_free;
			}
			cap *= 2;
			nbuf = realloc(buf, cap + 1);
			if (!nbuf) {
				ret = -ENOMEM;
				goto out_free;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = neg_errno();
			goto out_free;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (len > CFG_FILE_MAX_BYTES) {
		ret = -EFBIG;
		goto out_free;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	close(fd);
	return 0;

out_free:
	free(buf);
out_close:
	close(fd);
	return ret;
}

static void offset_to_line_col(const char *buf, size_t len, size_t off, size_t *line, size_t *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int cfg_json_parse(struct cfg_ctx *ctx, const char *buf, size_t len, struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	size_t line, col;
	const char *nul;

	*out = NULL;
	if (len >= INT32_MAX)
		return cfg_err(ctx, -EFBIG, "larger than %u bytes", CFG_FILE_MAX_BYTES);
	/* json-c would stop at a NUL and ignore whatever follows. */
	nul = memchr(buf, '\0', len);
	if (nul) {
		offset_to_line_col(buf, len, (size_t)(nul - buf), &line, &col);
		return cfg_err(ctx, -EINVAL, "line %zu, column %zu: NUL byte in input", line, col);
	}
	tok = json_tokener_new();
	if (!tok)
		return cfg_enomem(ctx);
	/* Strict: what we accept, Python's json module (nvmetcli restore) accepts too. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* @buf[@len] is NUL: handing it over tells json-c the input ends there. */
	root = json_tokener_parse_ex(tok, buf, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	if (!root && jerr != json_tokener_success) {
		offset_to_line_col(buf, len, json_tokener_get_parse_end(tok), &line, &col);
		json_tokener_free(tok);
		return cfg_err(ctx, -EINVAL, "line %zu, column %zu: %s", line, col,
			       jerr == json_tokener_continue ? "unexpected end of input"
							     : json_tokener_error_desc(jerr));
	}
	json_tokener_free(tok);
	*out = root;
	return 0;
}

void cfg_ctx_init(struct cfg_ctx *ctx, char *errbuf, size_t errlen)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->errbuf = errbuf;
	ctx->errlen = errlen;
	if (errbuf && errlen)
		errbuf[0] = '\0';
}
