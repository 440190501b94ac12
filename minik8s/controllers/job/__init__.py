"""The Job controller (pkg/controller/job): controller.py holds the sync, util.py its pure rules."""
