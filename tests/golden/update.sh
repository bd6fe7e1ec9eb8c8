#!/bin/bash
# Regenerates the golden files after an intended change of merci's output:
#
#   tests/golden/update.sh [BUILDDIR]     (default: the current directory)
#
# then review `git diff tests/golden/` before committing: every change in it
# must be one you meant. MERCI and MERCID, when set, name the binaries.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
top_builddir=$(cd "${1:-.}" && pwd)
: "${MERCI:=$top_builddir/cli/merci}"
: "${MERCID:=$top_builddir/daemon/mercid}"
export top_srcdir top_builddir MERCI MERCID
GOLDEN_UPDATE=1 exec "$top_srcdir/tests/integration/golden.sh"
