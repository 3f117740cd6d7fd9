#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/macros.h"
#include "protocol/protocol.h"

static int decode_object(const char *line, size_t len, json_t **ret, char **reterr)
{
	json_error_t jerr;
	/* JSON_REJECT_DUPLICATES: a request with two "method" keys is ambiguous, so refuse it. */
	json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson quotes the offending input, which may be half a UTF-8 sequence: an error
		 * reply must itself be valid JSON, so keep only printable ASCII. */
		for (char *p = jerr.text; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
		return err_set(reterr, -EINVAL, "malformed JSON at column %d: %s", jerr.column, jerr.text);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(reterr, -EINVAL, "a message must be a JSON object");
	}
	*ret = root;
	return 0;
}

static int decode_nfds(json_t *root, unsigned *ret, char **reterr)
{
	json_t *v = json_object_get(root, "fds");
	*ret = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > PROTO_MAX_FDS)
		return err_set(reterr, -EINVAL, "\"fds\" must be an integer from 0 to %d", PROTO_MAX_FDS);
	*ret = (unsigned)json_integer_value(v);
	return 0;
}

int proto_request_decode(const char *line, size_t len, struct proto_request *ret, json_t **ret_id,
			 const char **ret_code, char **reterr)
{
	json_t *root;
	memset(ret, 0, sizeof(*ret));
	*ret_id = NULL;
	*ret_code = PROTO_E_PARSE;
	int r = decode_object(line, len, &root, reterr);
	if (r < 0)
		return r;
	ret->root = root;
	*ret_code = PROTO_E_INVALID;

	json_t *id = json_object_get(root, "id");
	if (id && !json_is_integer(id) && !json_is_string(id) && !json_is_null(id))
		return err_set(reterr, -EINVAL, "\"id\" must be an integer, a string or null");
	/* Every reply echoes the id, so a huge one would make every reply too large to send. */
	if (json_is_string(id) && json_string_length(id) > PROTO_MAX_ID)
		return err_set(reterr, -EINVAL, "a string \"id\" may have at most %d bytes", PROTO_MAX_ID);
	ret->id = id ? id : json_null();
	*ret_id = ret->id;

	json_t *v = json_object_get(root, "v");
	if (!v || !json_is_integer(v))
		return err_set(reterr, -EINVAL, "\"v\" (protocol version) must be an integer");
	if (json_integer_value(v) != PROTOCOL_VERSION) {
		*ret_code = PROTO_E_VERSION;
		return err_set(reterr, -EINVAL, "protocol version %lld is not supported (this daemon speaks %d)",
			       (long long)json_integer_value(v), PROTOCOL_VERSION);
	}

	json_t *method = json_object_get(root, "method");
	if (!json_is_string(method))
		return err_set(reterr, -EINVAL, "\"method\" must be a string");
	ret->method = json_string_value(method);

	json_t *params = json_object_get(root, "params");
	if (params && !json_is_object(params))
		return err_set(reterr, -EINVAL, "\"params\" must be an object");
	if (!params) {
		params = json_object();
		if (!params || json_object_set_new(root, "params", params) < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
	}
	ret->params = params;
	r = decode_nfds(root, &ret->nfds, reterr);
	if (r < 0)
		return r;
	*ret_code = NULL;
	return 0;
}

void proto_request_done(struct proto_request *req)
{
	json_decref(req->root);
	memset(req, 0, sizeof(*req));
}

int proto_message_decode(const char *line, size_t len, struct proto_message *ret, char **reterr)
{
	json_t *root;
	memset(ret, 0, sizeof(*ret));
	ret->id = -1;
	int r = decode_object(line, len, &root, reterr);
	if (r < 0)
		return r;
	ret->root = root;
	r = decode_nfds(root, &ret->nfds, reterr);
	if (r < 0)
		return r;
	json_t *event = json_object_get(root, "event");
	if (event) {
		if (!json_is_string(event))
			return err_set(reterr, -EINVAL, "\"event\" must be a string");
		ret->event = json_string_value(event);
		ret->params = json_object_get(root, "params");
		if (!json_is_object(ret->params))
			return err_set(reterr, -EINVAL, "event without params");
		return 0;
	}
	json_t *id = json_object_get(root, "id");
	if (json_is_integer(id))
		ret->id = json_integer_value(id);
	json_t *error = json_object_get(root, "error");
	if (error) {
		json_t *code = json_object_get(error, "code"), *msg = json_object_get(error, "message");
		if (!json_is_string(code) || !json_is_string(msg))
			return err_set(reterr, -EINVAL, "error reply without code and message");
		ret->error_code = json_string_value(code);
		ret->error_message = json_string_value(msg);
		ret->error_data = json_object_get(error, "data");
		return 0;
	}
	ret->result = json_object_get(root, "result");
	if (!json_is_object(ret->result))
		return err_set(reterr, -EINVAL, "reply without result or error");
	return 0;
}

void proto_message_done(struct proto_message *msg)
{
	json_decref(msg->root);
	memset(msg, 0, sizeof(*msg));
	msg->id = -1;
}

json_t *proto_request_new(json_int_t id, const char *method, json_t *params, unsigned nfds)
{
	json_t *m = json_pack("{s:i, s:I, s:s, s:o}", "v", PROTOCOL_VERSION, "id", id, "method", method,
			      "params", params ? params : json_object());
	if (m && nfds > 0)
		json_object_set_new(m, "fds", json_integer(nfds));
	return m;
}

json_t *proto_reply_result(json_t *id, json_t *result, unsigned nfds)
{
	json_t *m = json_pack("{s:i, s:O, s:o}", "v", PROTOCOL_VERSION, "id", id ? id : json_null(),
			      "result", result ? result : json_object());
	if (m && nfds > 0)
		json_object_set_new(m, "fds", json_integer(nfds));
	return m;
}

json_t *proto_reply_error(json_t *id, const char *code, const char *message, json_t *data)
{
	json_t *err = json_pack("{s:s, s:s}", "code", code, "message", message ? message : code);
	if (!err) /* the message was not valid UTF-8: the code alone still says what went wrong */
		err = json_pack("{s:s, s:s}", "code", code, "message", code);
	if (!err) {
		json_decref(data);
		return NULL;
	}
	if (data)
		json_object_set_new(err, "data", data);
	return json_pack("{s:i, s:O, s:o}", "v", PROTOCOL_VERSION, "id", id ? id : json_null(), "error", err);
}

json_t *proto_event_new(const char *event, json_t *params)
{
	return json_pack("{s:i, s:s, s:o}", "v", PROTOCOL_VERSION, "event", event,
			 "params", params ? params : json_object());
}

char *proto_encode(const json_t *msg, size_t *ret_len)
{
	/* JSON_COMPACT never emits a raw newline: newlines inside strings are escaped as \n. */
	char *s = json_dumps(msg, JSON_COMPACT);
	if (!s)
		return NULL;
	size_t len = strlen(s);
	if (len + 1 > PROTO_MAX_MESSAGE) {
		free(s);
		return NULL;
	}
	char *line = realloc(s, len + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	*ret_len = len + 1;
	return line;
}
