#!/usr/bin/env bash
# network-containers.sh again, with the daemon in --userns-remap mode: each container's network
# namespace belongs to its own user namespace, its /etc files to its unprivileged root. The
# parallel part starts 4 containers: the test's subordinate ids make 10 slices.
CONTAIND_TEST_USERNS=1 NETWORK_PARALLEL=4 exec bash "$(dirname "$0")/network-containers.sh"
