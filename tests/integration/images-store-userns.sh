#!/usr/bin/env bash
# images-store.sh again, with the daemon in --userns-remap mode: the layers, their whiteouts and opaque
# directories seen through idmapped mounts and an overlay mounted with userxattr.
CONTAIND_TEST_USERNS=1 exec bash "$(dirname "$0")/images-store.sh"
