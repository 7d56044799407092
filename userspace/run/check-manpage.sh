#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# check-manpage.sh HVX_RUN MANPAGE: every long option of `hvx-run --help`
# is in the manual page and every one of the manual page is in --help.
set -eu
help=$("$1" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
man=$(sed 's/\\-/-/g' "$2" | grep -o -- '--[a-z][a-z-]*' | sort -u)
if [ "$help" != "$man" ]; then
	echo "check-manpage: options of --help and $2 differ:" >&2
	printf '%s\n' "$help" >/tmp/check-manpage.help.$$
	printf '%s\n' "$man" | diff -u /tmp/check-manpage.help.$$ - >&2 || true
	rm -f /tmp/check-manpage.help.$$
	exit 1
fi
echo "check-manpage: --help and $2 list the same $(echo "$help" | wc -l) options"
