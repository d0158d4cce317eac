#!/usr/bin/env bash
# Issue 3, test g: the bulk transfers of t_bulk.sh (200 MiB each way across handoffs, byte-exact)
# over IPv6.  Same topology and assertions; see t_bulk.sh.
TCPMIG_FAMILY=6 exec bash "$(dirname "$0")/t_bulk.sh"
