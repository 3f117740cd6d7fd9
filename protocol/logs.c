#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/events.h"
#include "protocol/field.h"
#include "protocol/logs.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void proto_base64_encode(const unsigned char *in, size_t len, char *out)
{
	size_t i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = b64[(v >> 6) & 63];
		*out++ = b64[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

long proto_base64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_max)
{
	size_t n = 0;
	if (in_len % 4)
		return -EINVAL;
	for (size_t i = 0; i < in_len; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == in_len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64_value(in[i + k])) < 0)
				return -EINVAL;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		unsigned char bytes[3] = { (unsigned char)(w >> 16), (unsigned char)(w >> 8), (unsigned char)w };
		if (n + (size_t)(3 - pad) > out_max)
			return -EINVAL;
		memcpy(out + n, bytes, (size_t)(3 - pad));
		n += (size_t)(3 - pad);
	}
	return (long)n;
}

int proto_logs_params_decode(json_t *params, struct proto_logs_params *ret, char **reterr)
{
	static const char *const keys[] = { "id", "follow", "tail", "since", "until", "mode", NULL };
	const char *mode = NULL;
	int64_t tail = -1;
	int r;
	memset(ret, 0, sizeof(*ret));
	if ((r = field_check_known(params, keys, NULL, PROTO_M_LOGS " params", reterr)) < 0 ||
	    (r = field_get_string(params, "id", true, &ret->ref, reterr)) < 0 ||
	    (r = field_get_bool(params, "follow", &ret->follow, reterr)) < 0 ||
	    (r = field_get_int(params, "tail", -1, INT64_MAX, &tail, reterr)) < 0 ||
	    (r = proto_events_time_field(params, "since", &ret->has_since, &ret->since_ns, reterr)) < 0 ||
	    (r = proto_events_time_field(params, "until", &ret->has_until, &ret->until_ns, reterr)) < 0 ||
	    (r = field_get_string(params, "mode", false, &mode, reterr)) < 0)
		return r;
	ret->tail = tail;
	if (!mode || strcmp(mode, "json") == 0)
		ret->mode = PROTO_LOGS_JSON;
	else if (strcmp(mode, "fds") == 0)
		ret->mode = PROTO_LOGS_FDS;
	else
		return err_set(reterr, -EINVAL, "parameter \"mode\" must be \"json\" or \"fds\"");
	if (ret->mode == PROTO_LOGS_FDS && ret->follow)
		return err_set(reterr, -EINVAL, "\"follow\" needs \"mode\":\"json\"");
	return 0;
}

json_t *proto_logs_params_encode(const struct proto_logs_params *p, json_t *since, json_t *until)
{
	json_t *o = json_pack("{s:s, s:b, s:I, s:s}", "id", p->ref, "follow", p->follow, "tail", (json_int_t)p->tail,
			      "mode", p->mode == PROTO_LOGS_FDS ? "fds" : "json");
	if (!o)
		return NULL;
	if ((since && json_object_set(o, "since", since) < 0) || (until && json_object_set(o, "until", until) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *proto_logs_result_encode(const struct proto_logs_result *r)
{
	json_t *o = json_pack("{s:s, s:s}", "driver", r->driver, "mode", r->mode == PROTO_LOGS_FDS ? "fds" : "json");
	if (o && r->mode == PROTO_LOGS_FDS)
		json_object_set_new(o, "files", json_integer(r->files));
	if (o && r->identifier)
		json_object_set_new(o, "identifier", json_string(r->identifier));
	return o;
}

int proto_logs_result_decode(json_t *result, struct proto_logs_result *ret, char **reterr)
{
	const char *mode = NULL;
	int64_t files = 0;
	int r;
	memset(ret, 0, sizeof(*ret));
	if ((r = field_get_string(result, "driver", true, &ret->driver, reterr)) < 0 ||
	    (r = field_get_string(result, "mode", true, &mode, reterr)) < 0 ||
	    (r = field_get_int(result, "files", 0, 64, &files, reterr)) < 0 ||
	    (r = field_get_string(result, "identifier", false, &ret->identifier, reterr)) < 0)
		return r;
	ret->mode = strcmp(mode, "fds") == 0 ? PROTO_LOGS_FDS : PROTO_LOGS_JSON;
	ret->files = (unsigned)files;
	return 0;
}

json_t *proto_logs_data_encode(int stream, uint64_t time_ns, const void *data, size_t len)
{
	_cleanup_free_ char *enc = malloc(4 * ((len + 2) / 3) + 1);
	if (!enc)
		return NULL;
	proto_base64_encode(data, len, enc);
	return json_pack("{s:s, s:I, s:s}", "stream", stream == 2 ? "stderr" : "stdout", "time_nano",
			 (json_int_t)time_ns, "data", enc);
}

int proto_logs_data_decode(json_t *params, int *ret_stream, uint64_t *ret_time_ns, void *buf, size_t *len_inout,
			   char **reterr)
{
	const char *stream = NULL, *data = NULL;
	int64_t t = 0;
	int r;
	if ((r = field_get_string(params, "stream", true, &stream, reterr)) < 0 ||
	    (r = field_get_int(params, "time_nano", 0, INT64_MAX, &t, reterr)) < 0 ||
	    (r = field_get_string(params, "data", true, &data, reterr)) < 0)
		return r;
	if (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0)
		return err_set(reterr, -EINVAL, "\"stream\" must be \"stdout\" or \"stderr\"");
	long n = proto_base64_decode(data, strlen(data), buf, *len_inout);
	if (n < 0)
		return err_set(reterr, -EINVAL, "\"data\" is not base64 of at most %zu bytes", *len_inout);
	*ret_stream = stream[3] == 'e' ? 2 : 1;
	*ret_time_ns = (uint64_t)t;
	*len_inout = (size_t)n;
	return 0;
}

int proto_attach_params_decode(json_t *params, struct proto_attach_params *ret, char **reterr)
{
	static const char *const keys[] = { "id", "stdin", "tty_rows", "tty_cols", NULL };
	int64_t rows = 0, cols = 0;
	int r;
	memset(ret, 0, sizeof(*ret));
	if ((r = field_check_known(params, keys, NULL, PROTO_M_ATTACH " params", reterr)) < 0 ||
	    (r = field_get_string(params, "id", true, &ret->ref, reterr)) < 0 ||
	    (r = field_get_bool(params, "stdin", &ret->stdin, reterr)) < 0 ||
	    (r = field_get_int(params, "tty_rows", 0, 65535, &rows, reterr)) < 0 ||
	    (r = field_get_int(params, "tty_cols", 0, 65535, &cols, reterr)) < 0)
		return r;
	ret->tty_rows = (unsigned short)rows;
	ret->tty_cols = (unsigned short)cols;
	return 0;
}

json_t *proto_attach_params_encode(const struct proto_attach_params *p)
{
	json_t *o = json_pack("{s:s, s:b}", "id", p->ref, "stdin", p->stdin);
	if (o && p->tty_rows && p->tty_cols) {
		json_object_set_new(o, "tty_rows", json_integer(p->tty_rows));
		json_object_set_new(o, "tty_cols", json_integer(p->tty_cols));
	}
	return o;
}
