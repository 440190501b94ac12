"""The container images minik8s runs, built offline from the sources in this package.

No registry is reachable where minik8s runs, so every image is built locally from
scratch: `pause/` (the pod sandbox), `busybox/` (the host's static busybox) and `web/`
(a demo/test web server on busybox httpd). `build.py` builds them with docker-py.
"""
