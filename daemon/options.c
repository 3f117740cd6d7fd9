#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/macros.h"
#include "common/util.h"
#include "daemon/options.h"

#define DEFAULT_SOCKET "/run/containd/containd.sock"
#define DEFAULT_ROOT "/var/lib/containd"
#define DEFAULT_HANDSHAKE_TIMEOUT 10
#define DEFAULT_REQUEST_TIMEOUT 10
#define DEFAULT_IDLE_TIMEOUT 300
#define MAX_TIMEOUT 86400
#define DEFAULT_CONFIG "/etc/containd/daemon.json"
#define CONFIG_MAX (1u << 20)
#define CONFIG_LIST_MAX 256
#define DEFAULT_NFT_TABLE "containd"
#define NAME_MAX_IFNAME 15
#define NAME_MAX_NFT_TABLE 64

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: containd [OPTIONS]\n"
		"\n"
		"The containd container engine daemon.\n"
		"\n"
		"  --socket PATH      listen on PATH (default " DEFAULT_SOCKET ")\n"
		"  --root DIR         persistent data: images and containers (default " DEFAULT_ROOT ")\n"
		"  --state DIR        runtime state (default " DAEMON_DEFAULT_STATE ")\n"
		"  --group NAME       also let members of group NAME use the socket\n"
		"  --userns-remap[=USER]  run every container in a user namespace of its own, its root an\n"
		"                     unprivileged host uid from USER's ranges in /etc/subuid and /etc/subgid\n"
		"                     (default user: containd); --userns=host opts a container out\n"
		"  --prepared N       keep N container processes prepared while idle: faster starts, N idle\n"
		"                     processes (default 2, 0 to 8); more, up to 8, while runs find none\n"
		"  --live-restore[=BOOL]  keep containers running while the daemon is down or restarting,\n"
		"                     and take them over when it is back (default true); systemctl stop\n"
		"                     still stops them\n"
		"  --shutdown-timeout SECS  when containers stop with the daemon: each gets its stop signal,\n"
		"                     then SIGKILL after SECS (default 15)\n"
		"  --log-driver NAME  where detached containers' output goes by default: file (default),\n"
		"                     journald or none\n"
		"  --log-opt KEY=VALUE  default options of the file driver: max-size=SIZE (rotate at SIZE),\n"
		"                     max-file=N (keep N files); repeatable\n"
		"  --bridge NAME|none  the default network's bridge, created if missing (default containd0);\n"
		"                     none: no default network, containers default to --network none\n"
		"  --bip CIDR         the default bridge's address and prefix, e.g. 172.18.0.1/16 (default:\n"
		"                     a subnet clear of the host's routes)\n"
		"  --ip-forward[=BOOL]  turn IPv4 forwarding on if it is off, then only for containd's\n"
		"                     bridges (default true)\n"
		"  --ip-masq[=BOOL]   masquerade the bridges' outbound traffic (default true)\n"
		"  --nft-table NAME   containd's own nftables table, family ip (default " DEFAULT_NFT_TABLE ")\n"
		"  --config FILE      daemon settings in Docker's daemon.json keys: insecure-registries,\n"
		"                     registry-mirrors, bridge, bip, ip-forward, ip-masq, nft-table\n"
		"                     (default " DEFAULT_CONFIG ", if it exists)\n"
		"  --resolv-conf FILE the host's resolv.conf, which containers' are made from\n"
		"                     (default /etc/resolv.conf)\n"
		"  --log-level LEVEL  error, warning, info (default) or debug\n"
		"  --foreground       stay in the foreground (the only mode; accepted for scripts)\n"
		"  --version          print the version and exit\n"
		"  --help             print this help and exit\n");
}

/* A timeout in whole seconds, 0 (none) to a day. */
static int set_timeout(unsigned *dst, const char *src, const char *what)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(src, &end, 10);
	if (errno != 0 || end == src || *end != '\0' || src[0] == '-' || v > MAX_TIMEOUT) {
		fprintf(stderr, "containd: %s takes whole seconds from 0 (none) to %d: %s\n", what, MAX_TIMEOUT, src);
		return -EINVAL;
	}
	*dst = (unsigned)v;
	return 0;
}

static int set_path(char **dst, const char *src, const char *what)
{
	if (src[0] != '/') {
		fprintf(stderr, "containd: %s must be an absolute path: %s\n", what, src);
		return -EINVAL;
	}
	free(*dst);
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* A list of strings of the config file (absent: empty). */
static int config_strv(json_t *o, const char *key, const char *path, char ***ret)
{
	json_t *a = json_object_get(o, key), *v;
	size_t i;
	char **l;

	if (a && !json_is_array(a)) {
		fprintf(stderr, "containd: %s: \"%s\" must be an array of strings\n", path, key);
		return -EINVAL;
	}
	if (json_array_size(a) > CONFIG_LIST_MAX) {
		fprintf(stderr, "containd: %s: \"%s\" has more than %d entries\n", path, key, CONFIG_LIST_MAX);
		return -EINVAL;
	}
	l = calloc(json_array_size(a) + 1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	json_array_foreach (a, i, v) {
		const char *str = json_string_value(v);
		bool mirror = strcmp(key, "registry-mirrors") == 0;
		bool valid = str && *str && !strpbrk(str, " \t\r\n") &&
			     (mirror ? str_startswith(str, "https://") || str_startswith(str, "http://") : !strchr(str, '/'));
		if (!valid) {
			fprintf(stderr, "containd: %s: \"%s\" entry %zu is not %s\n", path, key, i,
				mirror ? "an http:// or https:// URL" : "a host[:port]");
			strv_free(l);
			return -EINVAL;
		}
		if (!(l[i] = strdup(str))) {
			strv_free(l);
			return -ENOMEM;
		}
	}
	strv_free(*ret);
	*ret = l;
	return 0;
}

/* A boolean option's value: absent (a bare --flag), true/1 or false/0. */
static int set_bool(bool *dst, const char *src, const char *what)
{
	if (!src || strcmp(src, "true") == 0 || strcmp(src, "1") == 0)
		*dst = true;
	else if (strcmp(src, "false") == 0 || strcmp(src, "0") == 0)
		*dst = false;
	else {
		fprintf(stderr, "containd: %s takes true or false: %s\n", what, src);
		return -EINVAL;
	}
	return 0;
}

/* --bridge: "none" or an interface name the kernel takes (1 to 15 bytes, no '/', ':' or
 * space); --nft-table: letters, digits, '_' and '-' (it goes into an nft script). */
static int set_name(char **dst, const char *src, const char *what)
{
	bool table = strcmp(what, "--nft-table") == 0;
	size_t len = strlen(src), max = table ? NAME_MAX_NFT_TABLE : NAME_MAX_IFNAME;
	bool ok = len > 0 && len <= max && strcmp(src, ".") != 0 && strcmp(src, "..") != 0;
	for (const char *p = src; ok && *p; p++)
		ok = table ? (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
				     *p == '_' || *p == '-'
			   : *p > ' ' && *p < 0x7f && *p != '/' && *p != ':';
	if (!ok) {
		fprintf(stderr, "containd: %s: not a valid %s name: %s\n", what, table ? "nftables table" : "interface",
			src);
		return -EINVAL;
	}
	free(*dst);
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* The networking settings of the config file. A key the command line also set is an error, as
 * Docker says: which one should win is not obvious. */
static int config_network(json_t *root, const char *path, const bool *flags_set, struct daemon_options *o)
{
	static const char *const keys[] = { "bridge", "bip", "ip-forward", "ip-masq", "nft-table" };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(root, keys[i]);
		int r;
		if (!v)
			continue;
		if (flags_set[i]) {
			fprintf(stderr, "containd: \"%s\" is set both as a flag and in %s\n", keys[i], path);
			return -EINVAL;
		}
		if (i >= 2 && i <= 3) {
			if (!json_is_boolean(v)) {
				fprintf(stderr, "containd: %s: \"%s\" must be true or false\n", path, keys[i]);
				return -EINVAL;
			}
			*(i == 2 ? &o->ip_forward : &o->ip_masq) = json_is_true(v);
			continue;
		}
		const char *str = json_string_value(v);
		if (!str) {
			fprintf(stderr, "containd: %s: \"%s\" must be a string\n", path, keys[i]);
			return -EINVAL;
		}
		if (i == 1) {
			free(o->bip);
			r = (o->bip = strdup(str)) ? 0 : -ENOMEM;
		} else {
			r = set_name(i == 0 ? &o->bridge : &o->nft_table, str, i == 0 ? "--bridge" : "--nft-table");
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads the daemon's config file: --config's must exist, the default one may be absent. Keys
 * it does not know are an error, as in Docker: a misspelt setting must not be ignored. */
static int options_load_config(struct daemon_options *o, const bool *net_flags_set)
{
	static const char *const known[] = { "insecure-registries", "registry-mirrors", "bridge", "bip",
					     "ip-forward", "ip-masq", "nft-table" };
	const char *path = o->config_file ? o->config_file : DEFAULT_CONFIG;
	_cleanup_free_ char *buf = NULL;
	json_auto_t *root = NULL;
	json_error_t jerr;
	const char *key;
	json_t *v;
	size_t len;
	int r;

	if (!o->insecure_registries && !(o->insecure_registries = calloc(1, sizeof(char *))))
		return -ENOMEM;
	if (!o->registry_mirrors && !(o->registry_mirrors = calloc(1, sizeof(char *))))
		return -ENOMEM;
	r = read_file(path, CONFIG_MAX, &buf, &len);
	if (r == -ENOENT && !o->config_file)
		return 0;
	if (r < 0) {
		fprintf(stderr, "containd: reading the config file %s: %s\n", path, strerror(-r));
		return -EINVAL;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		fprintf(stderr, "containd: %s: not a JSON object (%s)\n", path, root ? "wrong type" : jerr.text);
		return -EINVAL;
	}
	json_object_foreach (root, key, v) {
		bool ok = false;
		for (size_t i = 0; i < ARRAY_SIZE(known); i++)
			ok |= strcmp(key, known[i]) == 0;
		if (!ok) {
			fprintf(stderr, "containd: %s: unknown setting \"%s\"\n", path, key);
			return -EINVAL;
		}
	}
	if ((r = config_strv(root, "insecure-registries", path, &o->insecure_registries)) < 0 ||
	    (r = config_strv(root, "registry-mirrors", path, &o->registry_mirrors)) < 0 ||
	    (r = config_network(root, path, net_flags_set, o)) < 0)
		return r == -ENOMEM ? r : -EINVAL;
	return 0;
}

int options_parse(int argc, char **argv, struct daemon_options *ret)
{
	enum { OPT_SOCKET = 256, OPT_ROOT, OPT_STATE, OPT_GROUP, OPT_LOG_LEVEL, OPT_FOREGROUND, OPT_VERSION,
	       OPT_HANDSHAKE_TIMEOUT, OPT_REQUEST_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_USERNS_REMAP, OPT_SUBUID_FILE,
	       OPT_SUBGID_FILE, OPT_PREPARED, OPT_LIVE_RESTORE, OPT_SHUTDOWN_TIMEOUT, OPT_LOG_DRIVER, OPT_LOG_OPT,
	       OPT_CONFIG, OPT_BRIDGE, OPT_BIP, OPT_IP_FORWARD, OPT_IP_MASQ, OPT_NFT_TABLE,
	       OPT_RESOLV_CONF };
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "foreground", no_argument, NULL, OPT_FOREGROUND },
		{ "userns-remap", optional_argument, NULL, OPT_USERNS_REMAP },
		{ "prepared", required_argument, NULL, OPT_PREPARED },
		{ "live-restore", optional_argument, NULL, OPT_LIVE_RESTORE },
		{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
		{ "log-driver", required_argument, NULL, OPT_LOG_DRIVER },
		{ "log-opt", required_argument, NULL, OPT_LOG_OPT },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "bridge", required_argument, NULL, OPT_BRIDGE },
		{ "bip", required_argument, NULL, OPT_BIP },
		{ "ip-forward", optional_argument, NULL, OPT_IP_FORWARD },
		{ "ip-masq", optional_argument, NULL, OPT_IP_MASQ },
		{ "nft-table", required_argument, NULL, OPT_NFT_TABLE },
		{ "resolv-conf", required_argument, NULL, OPT_RESOLV_CONF },
		{ "subuid-file", required_argument, NULL, OPT_SUBUID_FILE },
		{ "subgid-file", required_argument, NULL, OPT_SUBGID_FILE },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		/* Hidden: the defaults suit every client we know; tests shorten them. */
		{ "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT },
		{ "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
		{},
	};
	int r = 0, c;
	/* Which networking settings the command line gave (bridge, bip, ip-forward, ip-masq,
	 * nft-table), for the config file's conflict check. */
	bool net_set[5] = { false };

	memset(ret, 0, sizeof(*ret));
	ret->ip_forward = true;
	ret->ip_masq = true;
	ret->log_level = LOG_LEVEL_INFO;
	ret->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
	ret->request_timeout = DEFAULT_REQUEST_TIMEOUT;
	ret->idle_timeout = DEFAULT_IDLE_TIMEOUT;
	ret->prepared = 2;
	ret->live_restore = true;
	ret->shutdown_timeout = 15;
	ret->socket_path = strdup(DEFAULT_SOCKET);
	ret->root = strdup(DEFAULT_ROOT);
	ret->state = strdup(DAEMON_DEFAULT_STATE);
	ret->userns_user = strdup("containd");
	ret->nft_table = strdup(DEFAULT_NFT_TABLE);
	if (!ret->socket_path || !ret->root || !ret->state || !ret->userns_user || !ret->nft_table)
		return -ENOMEM;

	while (r == 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
		switch (c) {
		case OPT_SOCKET: r = set_path(&ret->socket_path, optarg, "--socket"); break;
		case OPT_ROOT: r = set_path(&ret->root, optarg, "--root"); break;
		case OPT_STATE: r = set_path(&ret->state, optarg, "--state"); break;
		case OPT_GROUP:
			free(ret->group);
			ret->group = strdup(optarg);
			r = ret->group ? 0 : -ENOMEM;
			break;
		case OPT_LOG_LEVEL:
			ret->log_level = log_level_from_string(optarg);
			if (ret->log_level < 0) {
				fprintf(stderr, "containd: unknown log level: %s\n", optarg);
				r = -EINVAL;
			}
			break;
		case OPT_FOREGROUND: ret->foreground = true; break;
		case OPT_LOG_DRIVER:
			free(ret->log_driver);
			ret->log_driver = strdup(optarg);
			r = ret->log_driver ? 0 : -ENOMEM;
			break;
		case OPT_LOG_OPT: {
			size_t n = 0;
			while (ret->log_opts && ret->log_opts[n])
				n++;
			char **v = n < 64 ? reallocarray(ret->log_opts, n + 2, sizeof(char *)) : NULL;
			if (!v) {
				fprintf(stderr, "containd: too many --log-opt\n");
				r = -EINVAL;
				break;
			}
			ret->log_opts = v;
			v[n] = strdup(optarg);
			v[n + 1] = NULL;
			r = v[n] ? 0 : -ENOMEM;
			break;
		}
		case OPT_USERNS_REMAP:
			ret->userns_remap = true;
			/* "default" is Docker's word for its own remap user; ours is containd. */
			if (optarg && *optarg && strcmp(optarg, "default") != 0) {
				free(ret->userns_user);
				ret->userns_user = strdup(optarg);
				r = ret->userns_user ? 0 : -ENOMEM;
			}
			break;
		case OPT_PREPARED: {
			char *end;
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || v > 8) {
				fprintf(stderr, "containd: --prepared takes a number from 0 to 8: %s\n", optarg);
				r = -EINVAL;
			}
			ret->prepared = (unsigned)v;
			break;
		}
		case OPT_LIVE_RESTORE:
			if (!optarg || strcmp(optarg, "true") == 0 || strcmp(optarg, "1") == 0) {
				ret->live_restore = true;
			} else if (strcmp(optarg, "false") == 0 || strcmp(optarg, "0") == 0) {
				ret->live_restore = false;
			} else {
				fprintf(stderr, "containd: --live-restore takes true or false: %s\n", optarg);
				r = -EINVAL;
			}
			break;
		case OPT_SHUTDOWN_TIMEOUT: r = set_timeout(&ret->shutdown_timeout, optarg, "--shutdown-timeout"); break;
		case OPT_CONFIG: r = set_path(&ret->config_file, optarg, "--config"); break;
		case OPT_BRIDGE:
			r = set_name(&ret->bridge, optarg, "--bridge");
			net_set[0] = true;
			break;
		case OPT_BIP:
			free(ret->bip);
			r = (ret->bip = strdup(optarg)) ? 0 : -ENOMEM;
			net_set[1] = true;
			break;
		case OPT_IP_FORWARD:
			r = set_bool(&ret->ip_forward, optarg, "--ip-forward");
			net_set[2] = true;
			break;
		case OPT_IP_MASQ:
			r = set_bool(&ret->ip_masq, optarg, "--ip-masq");
			net_set[3] = true;
			break;
		case OPT_NFT_TABLE:
			r = set_name(&ret->nft_table, optarg, "--nft-table");
			net_set[4] = true;
			break;
		case OPT_RESOLV_CONF: r = set_path(&ret->resolv_conf, optarg, "--resolv-conf"); break;
		case OPT_SUBUID_FILE: r = set_path(&ret->subuid_file, optarg, "--subuid-file"); break;
		case OPT_SUBGID_FILE: r = set_path(&ret->subgid_file, optarg, "--subgid-file"); break;
		case OPT_HANDSHAKE_TIMEOUT: r = set_timeout(&ret->handshake_timeout, optarg, "--handshake-timeout"); break;
		case OPT_REQUEST_TIMEOUT: r = set_timeout(&ret->request_timeout, optarg, "--request-timeout"); break;
		case OPT_IDLE_TIMEOUT: r = set_timeout(&ret->idle_timeout, optarg, "--idle-timeout"); break;
		case OPT_VERSION: printf("containd %s\n", CONTAIND_VERSION); return 1;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -EINVAL;
		}
	}
	if (r == 0 && optind < argc) {
		fprintf(stderr, "containd: unexpected argument: %s\n", argv[optind]);
		r = -EINVAL;
	}
	if (r == 0)
		r = options_load_config(ret, net_set);
	if (r == 0 && ret->bip && ret->bridge && strcmp(ret->bridge, "none") == 0) {
		fprintf(stderr, "containd: --bip and --bridge none do not go together: there is no default bridge\n");
		r = -EINVAL;
	}
	return r;
}

void options_done(struct daemon_options *o)
{
	free(o->socket_path);
	free(o->root);
	free(o->state);
	free(o->group);
	free(o->userns_user);
	free(o->subuid_file);
	free(o->subgid_file);
	free(o->log_driver);
	strv_free(o->log_opts);
	free(o->config_file);
	strv_free(o->insecure_registries);
	strv_free(o->registry_mirrors);
	free(o->bridge);
	free(o->bip);
	free(o->nft_table);
	free(o->resolv_conf);
	memset(o, 0, sizeof(*o));
}
