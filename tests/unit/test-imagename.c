/* Image reference parsing and normalization (Docker's rules). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/imagename.h"
#include "tests/tap.h"

static void valid(const char *ref, const char *want)
{
	char *got = NULL, *err = NULL;
	int r = image_name_normalize(ref, &got, &err);

	is_int(r, 0, "\"%s\" is valid", ref);
	if (r < 0)
		printf("#   error: %s\n", err ? err : "(none)");
	is_str(got, want, "\"%s\" normalizes to \"%s\"", ref, want);
	free(got);
	free(err);
}

static void invalid(const char *ref, const char *msg_part)
{
	char *got = NULL, *err = NULL;
	int r = image_name_normalize(ref, &got, &err);

	is_int(r, -EINVAL, "\"%.60s\" is refused", ref);
	ok(err && strstr(err, msg_part), "message for \"%.60s\" mentions \"%s\"", ref, msg_part);
	if (!err || !strstr(err, msg_part))
		printf("#   message: %s\n", err ? err : "(none)");
	ok(!got, "nothing returned for \"%.60s\"", ref);
	free(got);
	free(err);
}

int main(void)
{
	char buf[600], want[620];

	/* Docker Hub names and their short forms. */
	valid("alpine", "alpine:latest");
	valid("alpine:3.20", "alpine:3.20");
	valid("alpine:latest", "alpine:latest");
	valid("library/alpine", "alpine:latest");
	valid("docker.io/alpine", "alpine:latest");
	valid("docker.io/library/alpine", "alpine:latest");
	valid("docker.io/library/alpine:3.20.3", "alpine:3.20.3");
	valid("index.docker.io/library/alpine", "alpine:latest");
	valid("docker.io/library/foo/bar", "library/foo/bar:latest");
	/* docker.io/ stays where the next component would read as a registry (found by fuzzing). */
	valid("docker.io/my.org/app", "docker.io/my.org/app:latest");
	valid("docker.io/docker.io/x", "docker.io/docker.io/x:latest");
	valid("docker.io/my.org/app:latest", "docker.io/my.org/app:latest");
	valid("user/repo", "user/repo:latest");
	valid("docker.io/user/repo:v1", "user/repo:v1");
	valid("a/b/c/d", "a/b/c/d:latest");
	valid("docker.io", "docker.io:latest");
	valid("localhost", "localhost:latest");

	/* Registries. */
	valid("localhost/foo", "localhost/foo:latest");
	valid("localhost:5000/foo", "localhost:5000/foo:latest");
	valid("localhost:5000/foo:tag", "localhost:5000/foo:tag");
	valid("localhost:5000", "localhost:5000");
	valid("127.0.0.1:5000/library/alpine:3.20", "127.0.0.1:5000/library/alpine:3.20");
	valid("registry.example.com/team/app:1.0", "registry.example.com/team/app:1.0");
	valid("Registry.Example.com/app", "Registry.Example.com/app:latest");
	valid("my-registry.io:443/a", "my-registry.io:443/a:latest");
	valid("[::1]:5000/foo", "[::1]:5000/foo:latest");
	valid("[2001:db8::1]/foo:bar", "[2001:db8::1]/foo:bar");
	valid("quay.io/library/alpine", "quay.io/library/alpine:latest");

	/* Component separators. */
	valid("a.b", "a.b:latest");
	valid("a_b", "a_b:latest");
	valid("a__b", "a__b:latest");
	valid("a-b", "a-b:latest");
	valid("a---b", "a---b:latest");
	valid("a.b-c_d__e", "a.b-c_d__e:latest");
	valid("0", "0:latest");

	/* Tags. */
	valid("foo:_tag", "foo:_tag");
	valid("foo:Tag.With-Dots_1", "foo:Tag.With-Dots_1");
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "foo:");
	memset(buf + 4, 'x', 128);
	valid(buf, buf);

	/* Malformed. */
	invalid("", "empty");
	invalid("Alpine", "repository name must be lowercase");
	invalid("library/Alpine", "repository name must be lowercase");
	invalid("docker.io/Library/alpine", "repository name must be lowercase");
	invalid("alpine@sha256:d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c", "digest");
	invalid("alpine:3.20@sha256:abcd", "digest");
	invalid("alpine:", "invalid tag");
	invalid("alpine:.tag", "invalid tag");
	invalid("alpine:-tag", "invalid tag");
	invalid("alpine:ta/g", "invalid");
	invalid("alpine:t!", "invalid tag");
	invalid(":tag", "empty repository name");
	invalid("/alpine", "invalid repository name");
	invalid("alpine/", "invalid repository name");
	invalid("a//b", "invalid repository name");
	invalid("-alpine", "invalid repository name");
	invalid("alpine-", "invalid repository name");
	invalid("a..b", "invalid repository name");
	invalid("a___b", "invalid repository name");
	invalid("a._b", "invalid repository name");
	invalid("a-.b", "invalid repository name");
	invalid("_a", "invalid repository name");
	invalid("a b", "invalid repository name");
	invalid("a\tb", "invalid repository name");
	invalid("ünicode", "invalid repository name");
	invalid("localhost:port/foo", "invalid registry");
	invalid("localhost:/foo", "invalid registry");
	invalid("-bad.example.com/foo", "invalid registry");
	invalid("bad-.example.com/foo", "invalid registry");
	invalid("a..example.com/foo", "invalid registry");
	invalid("[::1/foo", "invalid registry");
	invalid("[]:5000/foo", "invalid registry");
	invalid("[::g]/foo", "invalid registry");
	invalid("example.com/", "invalid repository name");
	invalid("d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c", "reserved for image ids");

	/* Length limits: 255 for the fully qualified name, 128 for the tag. */
	memset(buf, 0, sizeof(buf));
	memset(buf, 'a', 129);
	strcpy(buf + 129, ":");
	memset(buf + 130, 'x', 129);
	invalid(buf, "invalid tag");
	memset(buf, 0, sizeof(buf));
	memset(buf, 'a', 255 - strlen("docker.io/library/"));
	snprintf(want, sizeof(want), "%s:latest", buf);
	valid(buf, want);
	memset(buf, 0, sizeof(buf));
	memset(buf, 'a', 256 - strlen("docker.io/library/"));
	invalid(buf, "must not be more than 255 characters");
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "example.com/");
	memset(buf + strlen(buf), 'b', 255 - strlen("example.com/") + 1);
	invalid(buf, "must not be more than 255 characters");
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	invalid(buf, "longer than");

	return tap_done();
}
