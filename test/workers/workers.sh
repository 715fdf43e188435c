#!/bin/sh
# Real sshd test workers on loopback, each in a private mount namespace (needs root and
# openssh-server; run `npm run build` first).
#   test/workers/workers.sh start N DIR    |    test/workers/workers.sh stop DIR
here=$(cd "$(dirname "$0")" && pwd)
exec node "$here/../../dist/test/workers/cli.js" "$@"
