"""The CronJob controller (pkg/controller/cronjob, v2): controller.py holds the sync, util.py the schedule math."""
