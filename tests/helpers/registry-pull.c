/* registry-pull REF BLOBS_DIR INGEST_DIR [--insecure HOST] [--user U --pass P] [--platform P]:
 * pulls REF's blobs with the registry library alone and prints the manifest digest; progress
 * lines go to stderr. For tests and bench/pull, without a daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/macros.h"
#include "image/registry.h"

static void on_progress(void *userdata, const char *digest, const char *status, uint64_t cur, uint64_t total)
{
	if (strcmp(status, "Downloading") == 0)
		return;
	fprintf(stderr, "%.12s: %s %llu/%llu\n", digest ? digest + 7 : "-", status, (unsigned long long)cur,
		(unsigned long long)total);
}

int main(int argc, char **argv)
{
	struct registry_pull_opts o = { .progress = on_progress };
	struct registry_ref ref = { 0 };
	struct registry_pull_result res;
	char *insecure[2] = { NULL, NULL }, *os = NULL, *arch = NULL, *variant = NULL, *err = NULL;
	int r;

	if (argc < 4) {
		fprintf(stderr, "usage: registry-pull REF BLOBS_DIR INGEST_DIR [--insecure HOST] [--user U --pass P] [--platform P]\n");
		return 2;
	}
	o.blobs_dir = argv[2];
	o.ingest_dir = argv[3];
	for (int i = 4; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--insecure") == 0)
			insecure[0] = argv[i + 1];
		else if (strcmp(argv[i], "--user") == 0)
			o.user = argv[i + 1];
		else if (strcmp(argv[i], "--pass") == 0)
			o.pass = argv[i + 1];
		else if (strcmp(argv[i], "--platform") == 0 &&
			 registry_platform_parse(argv[i + 1], &os, &arch, &variant, &err) < 0) {
			fprintf(stderr, "%s\n", err);
			return 2;
		}
	}
	o.insecure = insecure;
	o.os = os ? os : "linux";
	o.arch = arch ? arch : registry_host_arch();
	o.variant = variant;
	o.backoff_ms = 100;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = registry_ref_parse(argv[1], &ref, &err);
	if (r >= 0)
		r = registry_pull(&ref, &o, &res, &err);
	if (r < 0) {
		fprintf(stderr, "Error: %s\n", err ? err : "failed");
		free(err);
		registry_ref_done(&ref);
		free(os);
		free(arch);
		free(variant);
		curl_global_cleanup();
		return 1;
	}
	printf("%s\n", res.manifest_digest);
	registry_ref_done(&ref);
	free(os);
	free(arch);
	free(variant);
	curl_global_cleanup();
	return 0;
}
