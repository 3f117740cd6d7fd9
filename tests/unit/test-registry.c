/* The registry client's parsers: references by Docker's rules, WWW-Authenticate challenges,
 * manifests and indexes (caps, digests, platform choice), config.json credentials. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macros.h"
#include "image/registry.h"
#include "tests/tap.h"

#define D1 "sha256:d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c"
#define D2 "sha256:af9d14307a8764227443d34213ea78fd695ca3ef4dbd32a565dac0644cfe0acf"

static void check_ref(const char *in, const char *domain, const char *path, const char *tag, const char *digest,
		      const char *name)
{
	struct registry_ref ref = { 0 };
	char *err = NULL;
	int r = registry_ref_parse(in, &ref, &err);
	is_int(r, 0, "parse %s (%s)", in, err ? err : "ok");
	is_str(ref.domain, domain, "%s: domain", in);
	is_str(ref.path, path, "%s: path", in);
	is_str(ref.tag, tag, "%s: tag", in);
	is_str(ref.digest, digest, "%s: digest", in);
	is_str(ref.name, name, "%s: local name", in);
	registry_ref_done(&ref);
	free(err);
}

static void check_ref_bad(const char *in)
{
	struct registry_ref ref = { 0 };
	char *err = NULL;
	int r = registry_ref_parse(in, &ref, &err);
	is_int(r, -EINVAL, "refused: %s (%s)", in, err ? err : "no message");
	registry_ref_done(&ref);
	free(err);
}

static void test_refs(void)
{
	check_ref("alpine", "docker.io", "library/alpine", "latest", NULL, "alpine:latest");
	check_ref("alpine:3.20", "docker.io", "library/alpine", "3.20", NULL, "alpine:3.20");
	check_ref("index.docker.io/library/alpine", "docker.io", "library/alpine", "latest", NULL, "alpine:latest");
	check_ref("docker.io/foo/bar:1", "docker.io", "foo/bar", "1", NULL, "foo/bar:1");
	check_ref("127.0.0.1:5000/library/alpine:3.20", "127.0.0.1:5000", "library/alpine", "3.20", NULL,
		  "127.0.0.1:5000/library/alpine:3.20");
	check_ref("localhost/x", "localhost", "x", "latest", NULL, "localhost/x:latest");
	check_ref("alpine@" D1, "docker.io", "library/alpine", NULL, D1, NULL);
	check_ref("alpine:3.20@" D1, "docker.io", "library/alpine", "3.20", D1, "alpine:3.20");
	is_str(registry_ref_api_host(&(struct registry_ref){ .domain = "docker.io" }), "registry-1.docker.io",
	       "docker.io is spoken to at registry-1.docker.io");
	check_ref_bad("");
	check_ref_bad("Alpine");
	check_ref_bad("alpine@sha256:abc");
	check_ref_bad("alpine@md5:d41d8cd98f00b204e9800998ecf8427e");
	check_ref_bad("a//b");
	check_ref_bad("alpine:-x");
}

static void test_challenges(void)
{
	struct registry_challenge c = { 0 };
	int r = registry_challenge_parse(
		"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\"",
		&c);
	is_int(r, 0, "Bearer challenge parses");
	is_int(c.scheme, REGISTRY_AUTH_BEARER, "scheme Bearer");
	is_str(c.realm, "https://auth.docker.io/token", "realm");
	is_str(c.service, "registry.docker.io", "service");
	is_str(c.scope, "repository:library/alpine:pull", "scope");
	registry_challenge_done(&c);

	r = registry_challenge_parse("Basic realm=\"Registry Realm\"", &c);
	is_int(r, 0, "Basic challenge parses");
	is_int(c.scheme, REGISTRY_AUTH_BASIC, "scheme Basic");
	is_str(c.realm, "Registry Realm", "quoted realm with a space");
	registry_challenge_done(&c);

	r = registry_challenge_parse("bearer  realm=tok , service=\"a\\\"b\"", &c);
	is_int(r, 0, "case-insensitive scheme, token value, escaped quote");
	is_str(c.realm, "tok", "token realm");
	is_str(c.service, "a\"b", "escaped quote kept");
	registry_challenge_done(&c);

	is_int(registry_challenge_parse("Negotiate abc", &c), -EINVAL, "unknown scheme refused");
	is_int(registry_challenge_parse("Bearer service=\"x\"", &c), -EINVAL, "Bearer without realm refused");
	is_int(registry_challenge_parse("Bearer realm=\"unterminated", &c), -EINVAL, "unterminated quote refused");
	is_int(registry_challenge_parse("Bearer realm=\"a\" junk", &c), -EINVAL, "trailing junk refused");
}

static const char oci_manifest[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D2 "\",\"size\":530},"
	"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D1
	"\",\"size\":3490290}]}";

static const char index_json[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":["
	"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D1
	"\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
	"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D2
	"\",\"size\":2,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
	"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D1
	"\",\"size\":3,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}]}";

static void test_manifests(void)
{
	struct registry_manifest m = { 0 };
	const struct registry_desc *e = NULL;
	char *err = NULL;
	int r = registry_manifest_parse(NULL, oci_manifest, strlen(oci_manifest), &m, &err);
	is_int(r, 0, "OCI manifest parses (%s)", err ? err : "ok");
	ok(!m.is_index, "an image manifest");
	is_str(m.config.digest, D2, "config digest");
	is_int(m.nlayers, 1, "one layer");
	is_int(m.layers[0].size, 3490290, "layer size");
	registry_manifest_done(&m);

	r = registry_manifest_parse("application/json", index_json, strlen(index_json), &m, &err);
	is_int(r, 0, "manifest list parses");
	ok(m.is_index, "an index");
	r = registry_manifest_select(&m, "linux", "amd64", NULL, &e, &err);
	is_int(r, 0, "amd64 found");
	is_int(e ? e->size : 0, 2, "the amd64 entry");
	r = registry_manifest_select(&m, "linux", "arm", "v7", &e, &err);
	is_int(e ? e->size : 0, 1, "arm/v7 entry");
	r = registry_manifest_select(&m, "linux", "arm64", NULL, &e, &err);
	is_int(e ? e->size : 0, 3, "arm64 without a variant takes v8");
	free(err);
	err = NULL;
	r = registry_manifest_select(&m, "linux", "s390x", NULL, &e, &err);
	is_int(r, -ENOENT, "no s390x: %s", err ? err : "");
	free(err);
	err = NULL;
	registry_manifest_done(&m);

	static const char *const bad[] = {
		"{\"schemaVersion\":1}",
		"[]",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:00\",\"size\":1},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":-1},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":99999999},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1
		"\",\"size\":1},\"layers\":[{\"mediaType\":\"text/plain\",\"digest\":\"" D1 "\",\"size\":1}]}",
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		r = registry_manifest_parse(NULL, bad[i], strlen(bad[i]), &m, &err);
		ok(r < 0, "malformed manifest %zu refused (%s)", i, err ? err : "no message");
		free(err);
		err = NULL;
	}
}

static void test_platform(void)
{
	char *os = NULL, *arch = NULL, *var = NULL, *err = NULL;
	is_int(registry_platform_parse("linux/arm/v7", &os, &arch, &var, &err), 0, "linux/arm/v7");
	is_str(var, "v7", "variant");
	free(os), free(arch), free(var);
	is_int(registry_platform_parse("linux", &os, &arch, &var, &err), -EINVAL, "linux alone refused");
	free(err);
	err = NULL;
	is_int(registry_platform_parse("linux/amd64/", &os, &arch, &var, &err), -EINVAL, "trailing slash refused");
	free(err);
}

static void test_auth_file(void)
{
	char dir[] = "/tmp/test-registry-XXXXXX";
	_cleanup_free_ char *path = NULL, *user = NULL, *pass = NULL, *err = NULL;
	struct stat st;

	ok(mkdtemp(dir) != NULL, "temp dir");
	ok(asprintf(&path, "%s/sub/auth.json", dir) > 0, "path");
	is_int(registry_auth_load(path, "127.0.0.1:5000", &user, &pass, &err), 0, "no file: no credentials");
	ok(!user && !pass, "none");
	is_int(registry_auth_store(path, "127.0.0.1:5000", "alice", "s3:cr:t", &err), 0, "stored");
	is_int(registry_auth_store(path, "docker.io", "bob", "pw", &err), 0, "stored for docker.io");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "file mode 0600 (%o)", st.st_mode & 0777);
	is_int(registry_auth_load(path, "127.0.0.1:5000", &user, &pass, &err), 0, "loaded");
	is_str(user, "alice", "user");
	is_str(pass, "s3:cr:t", "password with colons");
	free(user), free(pass);
	user = pass = NULL;
	is_int(registry_auth_load(path, "index.docker.io", &user, &pass, &err), 0, "docker.io under Docker's key");
	is_str(user, "bob", "docker.io user");
	free(user), free(pass);
	user = pass = NULL;
	is_int(registry_auth_store(path, "127.0.0.1:5000", NULL, NULL, &err), 0, "erased");
	is_int(registry_auth_load(path, "127.0.0.1:5000", &user, &pass, &err), 0, "load after erase");
	ok(!user, "gone");
	free(err);
	err = NULL;
	is_int(registry_auth_store(path, "127.0.0.1:5000", NULL, NULL, &err), -ENOENT, "erase again: not logged in");
	_cleanup_free_ char *b64 = registry_auth_encode("u", "p");
	is_str(b64, "dTpw", "base64 of u:p");
	is_int(registry_auth_decode("dTpw", &user, &pass), 0, "decoded");
	is_str(pass, "p", "password back");
	is_int(registry_auth_decode("!!!!", &user, &pass), -EINVAL, "bad base64 refused");
	ok(registry_is_insecure("127.0.0.1:5000", NULL), "loopback is insecure-allowed");
	ok(registry_is_insecure("localhost:5000", NULL), "localhost too");
	ok(!registry_is_insecure("example.com:5000", NULL), "others are not");
	char *list[] = { "example.com", NULL };
	ok(registry_is_insecure("example.com:5000", list), "listed host, any port");
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ok(system(cmd) == 0, "cleaned up");
}

int main(void)
{
	test_refs();
	test_challenges();
	test_manifests();
	test_platform();
	test_auth_file();
	return tap_done();
}
