#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# check-manpage.sh HVX_RUN MANPAGE: every long option of `hvx-run --help`
# is in the manual page and every one of the manual page is in --help, and
# both pair the same short options with them ("-k, --kernel").
set -eu
# Font escapes out, so that \fB\-k\fR, \fB\-\-kernel\fR reads "-k, --kernel".
page=$(sed 's/\\f[BIRP]//g; s/\\-/-/g' "$2")
help=$("$1" --help)
compare() {
	if [ "$2" != "$3" ]; then
		echo "check-manpage: $1 of --help and $MANPAGE differ:" >&2
		printf '%s\n' "$2" >/tmp/check-manpage.help.$$
		printf '%s\n' "$3" | diff -u /tmp/check-manpage.help.$$ - >&2 || true
		rm -f /tmp/check-manpage.help.$$
		exit 1
	fi
}
MANPAGE=$2
long_help=$(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z-]*' | sort -u)
long_man=$(printf '%s\n' "$page" | grep -o -- '--[a-z][a-z-]*' | sort -u)
compare "long options" "$long_help" "$long_man"
short_help=$(printf '%s\n' "$help" | grep -oE -- '-[A-Za-z], --[a-z][a-z-]*' | sort -u)
short_man=$(printf '%s\n' "$page" | grep -oE -- '-[A-Za-z], --[a-z][a-z-]*' | sort -u)
compare "short options" "$short_help" "$short_man"
echo "check-manpage: --help and $2 list the same $(echo "$long_help" | wc -l) options," \
	"$(echo "$short_help" | wc -l) of them with a short form"
