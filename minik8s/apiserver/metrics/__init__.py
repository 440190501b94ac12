"""The metrics APIs: metrics.k8s.io (kubectl top, HPA Resource metrics) and custom.metrics.k8s.io.

Kubernetes serves these from separate components behind the API server's aggregation
layer (metrics-server; an adapter such as prometheus-adapter). minik8s serves them from
the API server itself, with a scraper running in it:

- **No extra process.** A Python process costs ~40 MB before it does anything; the
  budget to compare with is metrics-server's ~2 MB per node. Here the cost is the stores
  below: two readings per container, node and counter series, a few hundred bytes per
  container (measured in bench/hpa.py), nothing kept for what no longer runs.
- **No aggregation layer, no second set of credentials.** The API server already talks
  to every kubelet (logs, exec) with its kubelet client certificate, and knows the nodes, pods and
  Endpoints the metrics must be matched with. An APIService proxy would need front-proxy
  authentication and its own TLS set-up for the same result.
- The cost of the choice: with several API servers each would scrape every node (minik8s
  runs one), and a scraping bug runs in the API server's process. The scraper is bounded
  (timeouts, a concurrency limit, capped bodies) and its failures only age data out.

Modules: `scraper.py` collects every `--metric-resolution` (15 s, as metrics-server):
each node's kubelet `/metrics/resource` and `/metrics/pods` and its proxy's `/metrics`;
`resource_store.py` turns kubelet readings into NodeMetrics/PodMetrics; `custom_store.py`
turns counters into per-second rates (custom metrics); `api.py` serves both groups and
their discovery.
"""
