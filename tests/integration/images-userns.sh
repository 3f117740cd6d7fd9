#!/usr/bin/env bash
# images.sh again, with the daemon in --userns-remap mode: every container in a user namespace of its
# own, its root an unprivileged host uid, the image layers shared through idmapped mounts.
CONTAIND_TEST_USERNS=1 exec bash "$(dirname "$0")/images.sh"
