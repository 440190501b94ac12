"""`minik8s apiserver`: the aiohttp application, its start-up and its shutdown.

Start-up order matters: etcd must answer, the watch caches start (so any list
revision a client sees is inside their windows), the bootstrap objects exist
(system namespaces, the `kubernetes` Service), and only then the port opens.

The port speaks HTTPS only, and every request is authenticated and authorized
(minik8s.apiserver.authn); there is no plain listener and no option for one.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import ssl
import time
from typing import Any

from aiohttp import http_exceptions
from aiohttp import web

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver import allocators
from minik8s.apiserver import discovery
from minik8s.apiserver import etcdclient
from minik8s.apiserver import fencing
from minik8s.apiserver import handlers
from minik8s.apiserver import healthz
from minik8s.apiserver import kubeletclient
from minik8s.apiserver import masterleases
from minik8s.apiserver import nodeproxy
from minik8s.apiserver import openapi
from minik8s.apiserver import registry as registry_mod
from minik8s.apiserver import serviceaccounts
from minik8s.apiserver import storage as storage_mod
from minik8s.apiserver import watchcache
from minik8s.apiserver.authn import bootstrap as bootstrap_authn
from minik8s.apiserver.authn import middleware as authn_middleware
from minik8s.apiserver.authn import selfsubjectreview
from minik8s.apiserver.authn import serviceaccount
from minik8s.apiserver.authn import tls as tls_mod
from minik8s.apiserver.authn import x509 as x509_authn
from minik8s.apiserver.authz import service as authz_service
from minik8s.apiserver.metrics import service as metrics_service
from minik8s.util import pki

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Config:
    etcd_endpoints: list[str] = dataclasses.field(default_factory=lambda: ["http://127.0.0.1:2379"])
    etcd_prefix: str = "/registry"
    etcd_timeout: float = 5.0
    # kube-apiserver's --etcd-readycheck-timeout: the /readyz etcd check's deadline.
    etcd_readycheck_timeout: float = 2.0
    # kube-apiserver's --etcd-cafile, --etcd-certfile, --etcd-keyfile: how https:// etcd
    # endpoints (an external etcd cluster) are trusted and who this server is to them.
    etcd_cafile: str = ""
    etcd_certfile: str = ""
    etcd_keyfile: str = ""
    bind_address: str = "0.0.0.0"
    port: int = 6443
    advertise_address: str = "127.0.0.1"
    service_cluster_ip_range: str = "10.96.0.0/12"
    service_node_port_range: tuple[int, int] = (30000, 32767)
    # How this server calls kubelets (logs, exec, attach, port-forward, metrics): HTTPS with
    # this client certificate; their serving certificates checked against this CA ("": the
    # client CA). See minik8s/apiserver/kubeletclient.py.
    kubelet_client_certificate: str = ""
    kubelet_client_key: str = ""
    kubelet_certificate_authority: str = ""
    # TLS and authentication (required: the server refuses to start without them).
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    client_ca_file: str = ""
    service_account_key_files: list[str] = dataclasses.field(default_factory=list)
    service_account_issuer: str = serviceaccount.DEFAULT_ISSUER
    # The private key TokenRequest signs ServiceAccount tokens with (kube-apiserver's
    # --service-account-signing-key-file); without it serviceaccounts/token is a 503.
    service_account_signing_key_file: str = ""
    api_audiences: list[str] = dataclasses.field(default_factory=list)
    watch_window: int = 5000
    # Seconds between BOOKMARK events on a quiet watch that asked for them: they carry the
    # newest resourceVersion and are the heartbeat that lets a client detect a hung or
    # cut-off server (rest.Client's watch_idle_timeout is a few of these).
    watch_bookmark_interval: float = 10.0
    # DefaultTolerationSeconds admission: how long new pods tolerate a
    # not-ready/unreachable node before the node lifecycle controller evicts them.
    default_toleration_seconds: int = 300
    # Events live this long after their last write (kube-apiserver --event-ttl); 0: forever.
    event_ttl: int = 3600
    # etcd history older than this is compacted (--etcd-compaction-interval); 0: never.
    etcd_compaction_interval: float = 300.0
    # The metrics APIs (minik8s/apiserver/metrics): seconds between scrapes of every node's
    # kubelet and proxy, and the proxies' metrics port. 0 (the default of a bare API
    # server) serves the APIs without scraping: a server holding simulated nodes (hollow
    # nodes, tests) must not send traffic to addresses nobody runs; the cluster configs
    # (minik8s/cluster/config.py) turn it on at 15 s, metrics-server's resolution.
    metric_resolution: float = 0.0
    # The `kubernetes` Endpoints lists the API servers whose master lease (this many
    # seconds, renewed every interval) is alive: minik8s/apiserver/masterleases.py.
    endpoint_reconciler_ttl: int = masterleases.DEFAULT_TTL
    endpoint_reconciler_interval: float = masterleases.DEFAULT_INTERVAL
    proxy_metrics_port: int = 10249


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.StatusError as e:
        if e.code >= 500:
            log.warning("%s %s: %s", request.method, request.path_qs, e.message)
        return handlers.status_response(e, request)
    except web.HTTPRequestEntityTooLarge:
        return handlers.status_response(errors.RequestEntityTooLarge(
            f"the request body is too large (limit {handlers.MAX_BODY} bytes)"), request)
    except web.HTTPException as e:
        if e.status == 404:
            return handlers.status_response(handlers.not_found_path())
        if e.status == 405:
            return handlers.status_response(errors.MethodNotAllowed(f"{request.method} is not allowed here"))
        raise
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception as e:
        log.exception("%s %s failed", request.method, request.path_qs)
        return handlers.status_response(errors.InternalError(f"{type(e).__name__}: {e}"))


SECRETS = resources.must("", "v1", "secrets")
PODS = resources.must("", "v1", "pods")
SERVICE_ACCOUNTS = resources.must("", "v1", "serviceaccounts")


class ProtocolErrorFilter(logging.Filter):
    """One warning line, not a traceback, for a request aiohttp's HTTP parser refuses.

    aiohttp logs each of those (a request line or header over 8 KiB, a malformed header)
    with `logger.exception`, as if the server had failed; the client has its 400 and the
    server is fine, so the traceback only buries real faults in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, http_exceptions.HttpProcessingError):
            record.msg = f"{record.getMessage()}: {exc.code} {exc.message}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_PROTOCOL_ERRORS = ProtocolErrorFilter()


class ApiServer:
    def __init__(self, config: Config) -> None:
        self.config = config
        etcd_tls = etcdclient.TLS(config.etcd_cafile, config.etcd_certfile, config.etcd_keyfile)
        try:
            etcd_tls.check(config.etcd_endpoints)
        except etcdclient.ConfigError as e:
            raise RuntimeError(f"the etcd client options are unusable: {e}") from None
        self.store = storage_mod.Storage(config.etcd_endpoints, prefix=config.etcd_prefix,
                                         timeout=config.etcd_timeout, tls=etcd_tls,
                                         ttls={"events": config.event_ttl} if config.event_ttl else None)
        self.allocator = allocators.ServiceAllocator(self.store, config.service_cluster_ip_range,
                                                     config.service_node_port_range)
        self.caches = watchcache.WatchCaches(self.store, window=config.watch_window)
        self.registry = registry_mod.Registry(self.store, self.allocator,
                                              toleration_seconds=config.default_toleration_seconds,
                                              caches=self.caches)
        self.authz = authz_service.AuthorizationService(self.caches)
        self.registry.write_admission = self.authz.admission
        # Authentication (x509, bootstrap tokens, ServiceAccount JWTs) attaches the user to
        # each request at authz.filters.USER_KEY; authorization (self.authz) judges it.
        self.authenticators = self._authentication()
        self.authentication: Any = authn_middleware.authentication_middleware(self.authenticators)
        # ServiceAccount admission of new pods and the serviceaccounts/token subresource.
        self.registry.pod_admission = serviceaccounts.PodAdmission(self._get_cached).admit
        self.token_requests = self._token_requests()
        try:
            kubelet_tls = kubeletclient.KubeletClientConfig(
                config.kubelet_client_certificate, config.kubelet_client_key,
                config.kubelet_certificate_authority or config.client_ca_file).ssl_context()
        except (OSError, ValueError) as e:  # client.tls.TLSError is a ValueError
            raise RuntimeError(f"the kubelet client credentials are unusable: {e}") from None
        self.resources = handlers.ResourceHandlers(
            self.store, self.registry, self.caches,
            node_proxy=nodeproxy.make_node_proxy(self.store, kubelet_tls),
            bookmark_interval=config.watch_bookmark_interval,
            token_requests=self.token_requests.answer if self.token_requests is not None else None)
        self.metrics = metrics_service.MetricsService(self.store, kubelet_tls=kubelet_tls,
                                                      resolution=config.metric_resolution,
                                                      proxy_port=config.proxy_metrics_port)
        self.openapi = openapi.OpenAPI(discovery.version_info()["gitVersion"])
        self.shutting_down = False
        etcd = healthz.Check("etcd", healthz.etcd_check(self.store.revision, config.etcd_readycheck_timeout))
        ping = healthz.Check("ping", healthz.ping)
        self.health = healthz.Health({"healthz": [ping, etcd], "livez": [ping],
                                      "readyz": [ping, etcd, healthz.Check("shutdown", self._not_shutting_down)]})
        self.runner: web.AppRunner | None = None
        self._mirror_task: asyncio.Task[None] | None = None
        self._compactor: asyncio.Task[None] | None = None
        self.master_leases = masterleases.MasterLeases(
            self.store, self.registry, self.config.advertise_address, self.config.port,
            ttl=self.config.endpoint_reconciler_ttl, interval=self.config.endpoint_reconciler_interval)
        self.started = time.time()

    def _authentication(self) -> authn_middleware.Authentication:
        c = self.config
        certificates = x509_authn.CertificateAuthenticator.from_file(c.client_ca_file) if c.client_ca_file else None
        tokens: list[authn_middleware.TokenAuthenticator] = [
            bootstrap_authn.BootstrapTokenAuthenticator(
                lambda name: self._get_cached(SECRETS, "kube-system", name))]
        if c.service_account_key_files:
            tokens.append(serviceaccount.ServiceAccountAuthenticator.from_files(
                c.service_account_key_files, issuer=c.service_account_issuer,
                audiences=c.api_audiences or [c.service_account_issuer],
                get_pod=lambda ns, name: self._get_cached(PODS, ns, name),
                get_service_account=lambda ns, name: self._get_cached(SERVICE_ACCOUNTS, ns, name)))
        return authn_middleware.Authentication(certificates, tokens)

    def _token_requests(self) -> serviceaccounts.TokenRequests | None:
        c = self.config
        if not c.service_account_signing_key_file:
            return None
        with open(c.service_account_signing_key_file, "rb") as f:
            key = pki.load_key(f.read())
        return serviceaccounts.TokenRequests(key, self._get_cached, issuer=c.service_account_issuer,
                                             audiences=c.api_audiences or [c.service_account_issuer])

    async def _get_cached(self, res: resources.Resource, namespace: str, name: str) -> dict[str, Any] | None:
        """The watch cache's copy (a dict lookup), else etcd's (an object too new for the cache)."""
        cache = self.caches.caches.get(res.plural)
        found = cache.peek(self.store.key(res, namespace, name)) if cache is not None else None
        return found or await self.store.get_or_none(res, namespace, name)

    def app(self) -> web.Application:
        # fencing after authorization: a deposed leader's write is refused only if it was allowed at all.
        return self.build_app([error_middleware, self.authentication, self.authz.middleware,
                               fencing.middleware(self.store)])

    def build_app(self, middlewares: list[Any]) -> web.Application:
        """The routes behind `middlewares` (app() is the only production caller; bench/api.py
        also serves them without TLS and authentication, in its own process, to price both)."""
        app = web.Application(middlewares=middlewares, client_max_size=handlers.MAX_BODY)
        r = app.router
        r.add_get("/version", self.version)
        r.add_get("/version/", self.version)
        self.health.add_routes(r)
        r.add_get("/api", self.api_root)
        r.add_get("/api/", self.api_root)
        r.add_get("/apis", self.apis_root)
        r.add_get("/apis/", self.apis_root)
        r.add_get("/openapi/v2", self.openapi.serve_v2)
        r.add_get("/openapi/v3", self.openapi.serve_v3_root)
        r.add_get("/openapi/v3/{tail:.*}", self.openapi.serve_v3)
        # Before the catch-all: SelfSubjectReview is answered, never stored.
        r.add_route("*", selfsubjectreview.PATH, selfsubjectreview.create)
        self.authz.add_routes(r)  # before /apis/{tail}: the review resources are answered, not stored
        self.metrics.add_routes(r)  # before the catch-all /apis route below
        r.add_route("*", "/api/{tail:.+}", self.resources.handle_core)
        r.add_route("*", "/apis/{tail:.+}", self.resources.handle_group)
        return app

    # -- small endpoints --------------------------------------------------------

    async def version(self, request: web.Request) -> web.Response:
        return handlers.respond(discovery.version_info())

    async def _not_shutting_down(self) -> None:
        if self.shutting_down:
            raise RuntimeError("the server is shutting down")

    async def api_root(self, request: web.Request) -> web.Response:
        ct = discovery.wants_aggregated(request.headers.get("Accept", ""))
        if ct:
            return handlers.respond(discovery.aggregated(True, ct), content_type=ct)
        return handlers.respond(discovery.api_versions(f"{self.config.advertise_address}:{self.config.port}"))

    async def apis_root(self, request: web.Request) -> web.Response:
        ct = discovery.wants_aggregated(request.headers.get("Accept", ""))
        if ct:
            return handlers.respond(discovery.aggregated(False, ct), content_type=ct)
        return handlers.respond(discovery.api_group_list())

    # -- lifecycle -----------------------------------------------------------------

    async def wait_for_etcd(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self.store.revision()
                return
            except errors.StatusError as e:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"etcd at {self.config.etcd_endpoints} did not answer: {e.message}") from e
                log.info("waiting for etcd at %s: %s", self.config.etcd_endpoints, e.message)
                await asyncio.sleep(0.5)

    async def bootstrap(self) -> None:
        """System namespaces and the `kubernetes` Service, as kube-apiserver's bootstrap controller."""
        ns_res = resources.must("", "v1", "namespaces")
        svc_res = resources.must("", "v1", "services")
        for name in registry_mod.SYSTEM_NAMESPACES:
            await self.registry.ensure(ns_res, None, {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": name}})
        await self.registry.ensure(svc_res, "default", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": self.allocator.first_ip,
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": self.config.port}]},
        })
        await self.master_leases.start()

    def ssl_context(self) -> ssl.SSLContext:
        c = self.config
        missing = [flag for flag, value in (("--tls-cert-file", c.tls_cert_file),
                                            ("--tls-private-key-file", c.tls_private_key_file),
                                            ("--client-ca-file", c.client_ca_file)) if not value]
        if missing:
            raise RuntimeError(f"the API server serves HTTPS only: {', '.join(missing)} required "
                               "(`minik8s init` or `minik8s up` make them)")
        return tls_mod.server_context(c.tls_cert_file, c.tls_private_key_file, c.client_ca_file)

    async def prepare(self) -> None:
        """Everything before the port opens: etcd answering, watch caches, bootstrap objects."""
        await self.wait_for_etcd()
        await self.caches.start_all()
        self._mirror_task = asyncio.get_running_loop().create_task(self.registry.namespaces.run(self.caches))
        if self.config.etcd_compaction_interval > 0:
            self._compactor = asyncio.get_running_loop().create_task(
                self.store.compact_forever(self.config.etcd_compaction_interval))
        await self.bootstrap()
        await self.authz.start(self.registry)

    async def start(self) -> None:
        ssl_context = self.ssl_context()
        await self.prepare()
        logging.getLogger("aiohttp.server").addFilter(_PROTOCOL_ERRORS)  # a set: adding twice is a no-op
        self.runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.config.bind_address, self.config.port, reuse_address=True,
                           ssl_context=ssl_context)
        await site.start()
        self.metrics.start()
        log.info("minik8s apiserver listening on https://%s:%d (etcd %s)", self.config.bind_address,
                 self.config.port, ",".join(self.config.etcd_endpoints))

    async def stop(self) -> None:
        self.shutting_down = True
        # Closing the caches ends every open watch stream, so the runner's
        # shutdown does not wait on them.
        if self._mirror_task is not None:
            self._mirror_task.cancel()
        if self._compactor is not None:
            self._compactor.cancel()
        await self.master_leases.stop()
        await self.authz.stop()
        await self.metrics.stop()
        await self.caches.stop()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        proxy = self.resources.node_proxy
        if proxy is not None and hasattr(proxy, "close"):
            await proxy.close()
        await self.store.close()


async def serve(config: Config) -> None:
    server = ApiServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    try:
        await stop.wait()
    finally:
        log.info("apiserver shutting down")
        await server.stop()
