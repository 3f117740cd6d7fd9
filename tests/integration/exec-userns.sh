#!/usr/bin/env bash
# exec.sh again, with the daemon in --userns-remap mode: every container (and every exec) in a
# user namespace of its own.
CONTAIND_TEST_USERNS=1 exec bash "$(dirname "$0")/exec.sh"
