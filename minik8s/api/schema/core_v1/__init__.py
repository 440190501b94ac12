"""core/v1 (the legacy group, apiVersion `v1`), split by topic: common references and
selectors, volumes, containers, pods, nodes, services and the smaller kinds."""
