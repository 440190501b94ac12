"""The DaemonSet controller (pkg/controller/daemon): controller.py holds the sync, util.py its pure rules."""
