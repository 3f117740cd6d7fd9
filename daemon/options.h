/* Command-line options of containd. */
#pragma once

#include <stdbool.h>

/* --state's default; also the directory whose containers' scope gets the plain name (scope.c). */
#define DAEMON_DEFAULT_STATE "/run/containd"

struct daemon_options {
	char *socket_path;  /* --socket */
	char *root;         /* --root: images, layers, container upper dirs */
	char *state;        /* --state: runtime state (pid file, per-container runtime dirs) */
	char *group;        /* --group: socket group allowed to connect (default: root only) */
	int log_level;      /* --log-level */
	bool foreground;    /* --foreground: do not daemonize */
	/* Peer deadlines in seconds, 0 for none (hidden options, for tests and odd setups). */
	unsigned handshake_timeout; /* --handshake-timeout: first request complete after connecting */
	unsigned request_timeout;   /* --request-timeout: a started message complete; replies read */
	unsigned idle_timeout;      /* --idle-timeout: no request, nothing owed, no bytes */
	/* User namespaces: --userns-remap[=USER] makes one the default for every container; USER
	 * (default "containd") names the subordinate ids to use, also for --userns=auto. */
	/* --live-restore (default): containers outlive the daemon (SIGTERM, SIGKILL, a crash) under
	 * containd-keeper and the next daemon takes them over; except when systemd stops the unit (not
	 * restart), see main.c. --live-restore=false: they are stopped with the daemon. */
	bool live_restore;
	unsigned shutdown_timeout; /* --shutdown-timeout: grace of each container when they are stopped */
	unsigned prepared; /* --prepared: container processes kept ready while idle */
	bool userns_remap;
	char *userns_user;
	char *subuid_file, *subgid_file; /* hidden: other files than /etc/subuid and /etc/subgid */
	char *log_driver; /* --log-driver: the default of containers (NULL: file) */
	char **log_opts;  /* --log-opt KEY=VALUE, repeatable: the default options of that driver */
	/* From the config file (--config, default /etc/containd/daemon.json if it exists), in
	 * Docker's daemon.json keys: "insecure-registries" (host[:port], spoken to over http) and
	 * "registry-mirrors" (URLs tried before docker.io). NULL-terminated, never NULL. */
	char *config_file;
	char **insecure_registries;
	char **registry_mirrors;
	/* Networking (docs/networking.md), also daemon.json's "bridge", "bip", "ip-forward",
	 * "ip-masq" and "nft-table" (a setting in both places is an error, as in Docker). */
	char *bridge;	 /* --bridge: the default network's bridge; NULL: containd0; "none": no default network */
	char *bip;	 /* --bip GATEWAY/PREFIX of the default bridge; NULL: picked clear of the host's routes */
	bool ip_forward; /* --ip-forward (default true): turn net.ipv4.ip_forward on if it is off */
	bool ip_masq;	 /* --ip-masq (default true): masquerade the bridges' outbound traffic */
	char *nft_table; /* --nft-table: containd's own nftables table (family ip; default "containd") */
	/* --resolv-conf: the host's resolv.conf that containers' are made from (default
	 * /etc/resolv.conf; tests give their own). */
	char *resolv_conf;
};

/* Returns 0 to run, 1 when the caller should exit successfully (--help, --version), or -EINVAL
 * after printing a usage error. */
int options_parse(int argc, char **argv, struct daemon_options *ret);
void options_done(struct daemon_options *o);
