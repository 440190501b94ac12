"""The horizontal pod autoscaler controller (Kubernetes' pkg/controller/podautoscaler, ported).

- `replica_calculator.py`: desired replicas from metrics (replica_calculator.go);
- `metrics_client.py`: reading metrics.k8s.io and custom.metrics.k8s.io (metrics/);
- `scale_client.py`: the scale subresource of Deployments, ReplicaSets and ReplicationControllers;
- `horizontal.py`: the controller (horizontal.go): sync, stabilization, behavior, status.
"""
