#!/bin/sh
# Every man page passes mandoc -Tlint with no message at all.
set -eu
[ "${MANDOC:-no}" != no ] || { echo "mandoc not installed"; exit 77; }
status=0
for page in "$top_srcdir"/man/*.[1-9]; do
	out=$("$MANDOC" -Tlint -W warning "$page" 2>&1) || true
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		status=1
	fi
done
exit $status
