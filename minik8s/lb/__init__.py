"""A local TCP load balancer in front of the masters' API servers (k3s's agent load balancer),
so kubectl, which reads one `server`, survives the loss of a master. See docs/ha.md."""
