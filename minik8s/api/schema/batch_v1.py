"""batch/v1: Job and CronJob.

Field numbers are those of k8s.io/api/batch/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1
from minik8s.api.schema.core_v1 import common
from minik8s.api.schema.core_v1 import pod

POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT = dsl.Message(
    "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
    "Matches a failed pod by the exit codes of its containers (those that exited 0 are ignored).",
    (
        dsl.Field("containerName", 1, dsl.STRING, "Only look at this container or init container; all of them when "
                  "unset.", pointer=True),
        dsl.Field("operator", 2, dsl.STRING, "In: some exit code is one of values; NotIn: some exit code is none of "
                  "them.", required=True, enum=("In", "NotIn")),
        dsl.Field("values", 3, dsl.INT32, "The exit codes, sorted and without duplicates; 0 is not allowed with In. "
                  "1 to 255 of them.", repeated=True, required=True, list_type="set"),
    ),
)


POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN = dsl.Message(
    "io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern",
    "Matches a failed pod by one of its conditions.",
    (
        dsl.Field("type", 1, dsl.STRING, "The pod condition type to look for, such as DisruptionTarget.",
                  required=True),
        dsl.Field("status", 2, dsl.STRING, "The status the condition must have. Defaults to True."),
    ),
)


POD_FAILURE_POLICY_RULE = dsl.Message(
    "io.k8s.api.batch.v1.PodFailurePolicyRule",
    "What to do with a failed pod that matches onExitCodes or onPodConditions (exactly one of them).",
    (
        dsl.Field("action", 1, dsl.STRING, "FailJob fails the whole Job; FailIndex fails the pod's index; Ignore does "
                  "not count the failure; Count counts it as usual.", required=True,
                  enum=("Count", "FailIndex", "FailJob", "Ignore")),
        dsl.Field("onExitCodes", 2, POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT, "Match on container exit codes.",
                  pointer=True),
        dsl.Field("onPodConditions", 3, POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN, "Match on pod conditions: any "
                  "one pattern matching is enough. At most 20.", repeated=True, list_type="atomic"),
    ),
)


POD_FAILURE_POLICY = dsl.Message(
    "io.k8s.api.batch.v1.PodFailurePolicy",
    "How failed pods count against the Job's backoffLimit.",
    (
        dsl.Field("rules", 1, POD_FAILURE_POLICY_RULE, "Tried in order; the first rule that matches a failed pod "
                  "decides. A failure no rule matches counts as usual. At most 20.", repeated=True, required=True,
                  list_type="atomic"),
    ),
)


SUCCESS_POLICY_RULE = dsl.Message(
    "io.k8s.api.batch.v1.SuccessPolicyRule",
    "One way an Indexed Job can succeed early; needs succeededIndexes, succeededCount or both.",
    (
        dsl.Field("succeededIndexes", 1, dsl.STRING, "Indexes that must all have succeeded, as intervals such as "
                  "\"1,3-5,7\".", pointer=True),
        dsl.Field("succeededCount", 2, dsl.INT32, "How many (of succeededIndexes, if given) must have succeeded.",
                  pointer=True),
    ),
)


SUCCESS_POLICY = dsl.Message(
    "io.k8s.api.batch.v1.SuccessPolicy",
    "When an Indexed Job may be declared succeeded before every index has.",
    (
        dsl.Field("rules", 1, SUCCESS_POLICY_RULE, "Alternatives, tried in order; the first one met adds "
                  "SuccessCriteriaMet and the remaining pods are stopped. At most 20.", repeated=True, required=True,
                  list_type="atomic"),
    ),
)


JOB_SPEC = dsl.Message(
    "io.k8s.api.batch.v1.JobSpec",
    "The desired behaviour of a Job.",
    (
        dsl.Field("parallelism", 1, dsl.INT32, "At most this many pods run at once. Defaults to 1.", pointer=True),
        dsl.Field("completions", 2, dsl.INT32, "How many pods must succeed. Unset: the first success ends the Job "
                  "(a work queue). Defaults to 1 when parallelism is unset too.", pointer=True),
        dsl.Field("activeDeadlineSeconds", 3, dsl.INT64, "Seconds after startTime when the Job fails "
                  "(DeadlineExceeded) and its pods are stopped. Suspension resets the clock.", pointer=True),
        dsl.Field("podFailurePolicy", 11, POD_FAILURE_POLICY, "How failed pods count; not with restartPolicy "
                  "OnFailure.", pointer=True),
        dsl.Field("successPolicy", 16, SUCCESS_POLICY, "When an Indexed Job succeeds before all its indexes did.",
                  pointer=True),
        dsl.Field("backoffLimit", 7, dsl.INT32, "Failures allowed before the Job fails (BackoffLimitExceeded). "
                  "Defaults to 6 (unlimited with backoffLimitPerIndex).", pointer=True),
        dsl.Field("backoffLimitPerIndex", 12, dsl.INT32, "Failures allowed per index of an Indexed Job whose pods "
                  "restart Never. Cannot be changed.", pointer=True),
        dsl.Field("maxFailedIndexes", 13, dsl.INT32, "With backoffLimitPerIndex: the Job fails once more indexes "
                  "than this have failed.", pointer=True),
        dsl.Field("selector", 4, meta_v1.LABEL_SELECTOR, "Which pods belong to the Job. Generated from the Job's uid "
                  "unless manualSelector is true.", pointer=True),
        dsl.Field("manualSelector", 5, dsl.BOOL, "True when the user picks selector and template labels; otherwise "
                  "they are generated, unique to this Job.", pointer=True),
        dsl.Field("template", 6, pod.POD_TEMPLATE_SPEC, "The pods to run; restartPolicy must be Never or OnFailure.",
                  required=True),
        dsl.Field("ttlSecondsAfterFinished", 8, dsl.INT32, "Seconds after the Job finished (Complete or Failed) when "
                  "it is deleted with its pods. Unset: kept.", pointer=True),
        dsl.Field("completionMode", 9, dsl.STRING, "NonIndexed (the default): any completions successes finish the "
                  "Job. Indexed: each pod gets an index 0..completions-1 (annotation "
                  "batch.kubernetes.io/job-completion-index) and each index must succeed once.", pointer=True,
                  enum=("Indexed", "NonIndexed")),
        dsl.Field("suspend", 10, dsl.BOOL, "While true no pods are created and running ones are deleted. Defaults to "
                  "false.", pointer=True),
        dsl.Field("podReplacementPolicy", 14, dsl.STRING, "When a replacement pod is created: TerminatingOrFailed "
                  "(as soon as the old one terminates) or Failed (once it has fully stopped; required with "
                  "podFailurePolicy).", pointer=True, enum=("Failed", "TerminatingOrFailed")),
        dsl.Field("managedBy", 15, dsl.STRING, "The controller that reconciles this Job; unset or "
                  "kubernetes.io/job-controller for the built-in one. Cannot be changed.", pointer=True),
    ),
)


JOB_CONDITION = dsl.Message(
    "io.k8s.api.batch.v1.JobCondition",
    "The state of one aspect of a Job.",
    (
        dsl.Field("type", 1, dsl.STRING, "Complete, Failed, Suspended, FailureTarget or SuccessCriteriaMet.",
                  required=True),
        dsl.Field("status", 2, dsl.STRING, "True, False or Unknown.", required=True),
        dsl.Field("lastProbeTime", 3, dsl.TIME, "When the condition was last checked."),
        dsl.Field("lastTransitionTime", 4, dsl.TIME, "When status last changed."),
        dsl.Field("reason", 5, dsl.STRING, "A machine-readable reason for the last transition."),
        dsl.Field("message", 6, dsl.STRING, "A human-readable explanation of the last transition."),
    ),
)


UNCOUNTED_TERMINATED_PODS = dsl.Message(
    "io.k8s.api.batch.v1.UncountedTerminatedPods",
    "Pods that finished but are not in the Job's counters yet: their uid is recorded here before their tracking "
    "finalizer is removed, then moved into succeeded or failed.",
    (
        dsl.Field("succeeded", 1, dsl.STRING, "Uids of succeeded pods.", repeated=True, list_type="set"),
        dsl.Field("failed", 2, dsl.STRING, "Uids of failed pods.", repeated=True, list_type="set"),
    ),
)


JOB_STATUS = dsl.Message(
    "io.k8s.api.batch.v1.JobStatus",
    "The observed state of a Job.",
    (
        dsl.Field("conditions", 1, JOB_CONDITION, "The latest observations; a finished Job has Complete or Failed "
                  "True.", repeated=True, patch_strategy="merge", merge_key="type", list_type="atomic"),
        dsl.Field("startTime", 2, dsl.TIME, "When the controller started the Job (reset on resume).", pointer=True),
        dsl.Field("completionTime", 3, dsl.TIME, "When the Job completed; set only on success.", pointer=True),
        dsl.Field("active", 4, dsl.INT32, "Pending and running pods not being deleted."),
        dsl.Field("succeeded", 5, dsl.INT32, "Pods that reached phase Succeeded."),
        dsl.Field("failed", 6, dsl.INT32, "Pods that reached phase Failed."),
        dsl.Field("terminating", 11, dsl.INT32, "Pods being deleted that have not stopped yet.", pointer=True),
        dsl.Field("completedIndexes", 7, dsl.STRING, "For Indexed Jobs, the succeeded indexes as intervals: "
                  "\"1,3-5,7\"."),
        dsl.Field("failedIndexes", 10, dsl.STRING, "With backoffLimitPerIndex, the failed indexes in the same form.",
                  pointer=True),
        dsl.Field("uncountedTerminatedPods", 8, UNCOUNTED_TERMINATED_PODS, "Finished pods not counted yet.",
                  pointer=True),
        dsl.Field("ready", 9, dsl.INT32, "Active pods with the Ready condition.", pointer=True),
    ),
)


JOB = dsl.kind(
    "io.k8s.api.batch.v1.Job",
    "Runs pods until a number of them succeed, retrying failures up to a limit.",
    dsl.GVK("batch", "v1", "Job"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, JOB_SPEC, "The desired behaviour: pod template, completions, parallelism and limits."),
        dsl.Field("status", 3, JOB_STATUS, "The observed state, written by the controller. Read-only."),
    ),
)


JOB_LIST = meta_v1.list_of(JOB)


JOB_TEMPLATE_SPEC = dsl.Message(
    "io.k8s.api.batch.v1.JobTemplateSpec",
    "The Job a CronJob creates at each scheduled time.",
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Labels and annotations the Jobs get."),
        dsl.Field("spec", 2, JOB_SPEC, "The Jobs' spec."),
    ),
)


CRON_JOB_SPEC = dsl.Message(
    "io.k8s.api.batch.v1.CronJobSpec",
    "When and how a CronJob creates Jobs.",
    (
        dsl.Field("schedule", 1, dsl.STRING, "The schedule in cron format (\"*/5 * * * *\", \"@hourly\").",
                  required=True),
        dsl.Field("timeZone", 8, dsl.STRING, "An IANA time zone name for the schedule; the controller manager's "
                  "own zone when unset.", pointer=True),
        dsl.Field("startingDeadlineSeconds", 2, dsl.INT64, "A run missed by more than this many seconds is skipped.",
                  pointer=True),
        dsl.Field("concurrencyPolicy", 3, dsl.STRING, "Allow (the default) runs Jobs concurrently; Forbid skips a "
                  "run while the previous one is active; Replace deletes it and starts the new one.",
                  enum=("Allow", "Forbid", "Replace")),
        dsl.Field("suspend", 4, dsl.BOOL, "While true no new Jobs are started. Defaults to false.", pointer=True),
        dsl.Field("jobTemplate", 5, JOB_TEMPLATE_SPEC, "The Job to create at each scheduled time.", required=True),
        dsl.Field("successfulJobsHistoryLimit", 6, dsl.INT32, "How many completed Jobs to keep. Defaults to 3.",
                  pointer=True),
        dsl.Field("failedJobsHistoryLimit", 7, dsl.INT32, "How many failed Jobs to keep. Defaults to 1.",
                  pointer=True),
    ),
)


CRON_JOB_STATUS = dsl.Message(
    "io.k8s.api.batch.v1.CronJobStatus",
    "The observed state of a CronJob.",
    (
        dsl.Field("active", 1, common.OBJECT_REFERENCE, "The Jobs of this CronJob that are running.", repeated=True,
                  list_type="atomic"),
        dsl.Field("lastScheduleTime", 4, dsl.TIME, "When a Job was last scheduled.", pointer=True),
        dsl.Field("lastSuccessfulTime", 5, dsl.TIME, "When a Job last completed successfully.", pointer=True),
    ),
)


CRON_JOB = dsl.kind(
    "io.k8s.api.batch.v1.CronJob",
    "Creates Jobs on a repeating schedule.",
    dsl.GVK("batch", "v1", "CronJob"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, CRON_JOB_SPEC, "The schedule and the Job template."),
        dsl.Field("status", 3, CRON_JOB_STATUS, "The observed state, written by the controller. Read-only."),
    ),
)


CRON_JOB_LIST = meta_v1.list_of(CRON_JOB)
