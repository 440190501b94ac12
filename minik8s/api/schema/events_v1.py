"""events.k8s.io/v1: Event, the newer shape of core/v1 Event, served from the same storage.

Field numbers are those of k8s.io/api/events/v1/generated.proto; descriptions are
minik8s's own. The fields deprecated* carry what core/v1 events call source,
firstTimestamp, lastTimestamp and count.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1
from minik8s.api.schema.core_v1 import common
from minik8s.api.schema.core_v1 import objects

EVENT_SERIES = dsl.Message(
    "io.k8s.api.events.v1.EventSeries",
    "A recurring event, counted rather than repeated.",
    (
        dsl.Field("count", 1, dsl.INT32, "How many times it happened up to lastObservedTime.", required=True),
        dsl.Field("lastObservedTime", 2, dsl.MICRO_TIME, "When it last happened.", required=True),
    ),
)


EVENT = dsl.kind(
    "io.k8s.api.events.v1.Event",
    "A report of something that happened to an object: the events.k8s.io view of the cluster's events (core/v1 "
    "Events are the same objects).",
    dsl.GVK("events.k8s.io", "v1", "Event"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("eventTime", 2, dsl.MICRO_TIME, "When the event was first observed.", required=True),
        dsl.Field("series", 3, EVENT_SERIES, "For recurring events: how often and when last.", pointer=True),
        dsl.Field("reportingController", 4, dsl.STRING, "The controller that reported it, such as "
                  "kubernetes.io/kubelet."),
        dsl.Field("reportingInstance", 5, dsl.STRING, "The reporting controller's instance, such as its node."),
        dsl.Field("action", 6, dsl.STRING, "What was done or failed, such as Binding."),
        dsl.Field("reason", 7, dsl.STRING, "A short CamelCase reason, such as Scheduled, Pulled or BackOff."),
        dsl.Field("regarding", 8, common.OBJECT_REFERENCE, "The object the event is about."),
        dsl.Field("related", 9, common.OBJECT_REFERENCE, "A second object the event involves.", pointer=True),
        dsl.Field("note", 10, dsl.STRING, "A human-readable description, at most 1 kB."),
        dsl.Field("type", 11, dsl.STRING, "Normal or Warning."),
        dsl.Field("deprecatedSource", 12, objects.EVENT_SOURCE, "core/v1's source: the reporting component and "
                  "host."),
        dsl.Field("deprecatedFirstTimestamp", 13, dsl.TIME, "core/v1's firstTimestamp."),
        dsl.Field("deprecatedLastTimestamp", 14, dsl.TIME, "core/v1's lastTimestamp."),
        dsl.Field("deprecatedCount", 15, dsl.INT32, "core/v1's count."),
    ),
)


EVENT_LIST = meta_v1.list_of(EVENT)
