"""The pod garbage collector (pkg/controller/podgc)."""
