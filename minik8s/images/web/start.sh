#!/bin/sh
# httpd as PID 1 has no SIGTERM handler, and the kernel drops unhandled signals to
# PID 1, so `docker stop` would wait out its kill timeout. This shell stays PID 1,
# forwards the signal and exits 0.
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0' TERM INT
httpd -f -v -p "${PORT:-80}" -h /www &
child=$!
wait "$child"
