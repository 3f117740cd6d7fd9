#!/usr/bin/env bash
# commit.sh again, with the daemon in --userns-remap mode: the layer of a container in a user
# namespace holds its own ids, not the host's shifted ones.
CONTAIND_TEST_USERNS=1 exec bash "$(dirname "$0")/commit.sh"
