"""The Service proxy (kube-proxy): iptables and userspace modes. See docs/proxy.md."""
