#!/usr/bin/env bash
# lifecycle.sh again, with the daemon in --userns-remap mode: a container keeps its slice of
# subordinate ids while it exists, so a restart finds its upper dir owned by its own root, also
# after a daemon restart (which reserves the slice again).
CONTAIND_TEST_USERNS=1 exec bash "$(dirname "$0")/lifecycle.sh"
