#!/usr/bin/env bash
# cp.sh again, with the daemon in --userns-remap mode: owners are shifted into and out of each
# container's slice of ids, and the copy worker (root on the host) still never leaves its root.
CONTAIND_TEST_USERNS=1 exec bash "$(dirname "$0")/cp.sh"
